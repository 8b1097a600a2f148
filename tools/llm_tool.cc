#include "tools/llm_tool.h"

#include <cstdlib>

#include "graph/json_read.h"
#include "graph/template.h"
#include "tools/http_client.h"
#include "tools/http_tool.h"
#include "tools/output.h"

namespace switchyard::tools {
namespace {

constexpr std::size_t kReasonChars = 200;
// The most tokens one call may report in each count: more is not a usage but garbage (and would
// overflow the sums).
constexpr std::int64_t kMaxReportedTokens = 1'000'000'000'000;

// `text` with the API key (if the provider echoed it back) replaced.
std::string redact(std::string text, const std::string& key) {
  if (key.empty()) return text;
  for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
    text.replace(at, key.size(), "[redacted]");
  }
  return text;
}

Outcome bad_output(const std::string& where, const std::string& message) {
  return Outcome::failed(FailureKind::kBadOutput,
                         where + ": " + excerpt(message, 2 * kReasonChars));
}

// One of usage's counts: an integer in [0, kMaxReportedTokens].
Result<std::int64_t> token_count(const JsonView& usage, std::string_view key) {
  SWITCHYARD_ASSIGN_OR_RETURN(const JsonView count, usage.field(key));
  SWITCHYARD_ASSIGN_OR_RETURN(const std::int64_t n, count.integer());
  if (n < 0 || n > kMaxReportedTokens) {
    return invalid_argument(count.pointer() + ": expected an integer >= 0 and <= " +
                            std::to_string(kMaxReportedTokens) + ", got " + describe(count.json()));
  }
  return n;
}

struct Usage {
  bool known = false;  // the reply had a usage (absent or null: unknown)
  std::int64_t prompt = 0;
  std::int64_t completion = 0;
};

Result<Usage> read_usage(const JsonView& reply) {
  Usage u;
  SWITCHYARD_ASSIGN_OR_RETURN(const std::optional<JsonView> usage, reply.optional_field("usage"));
  if (!usage) return u;
  SWITCHYARD_RETURN_IF_ERROR(usage->expect_object());
  SWITCHYARD_ASSIGN_OR_RETURN(u.prompt, token_count(*usage, "prompt_tokens"));
  SWITCHYARD_ASSIGN_OR_RETURN(u.completion, token_count(*usage, "completion_tokens"));
  u.known = true;
  return u;
}

// The answer of a readable reply: the output, a refusal, or why the reply is no chat completion.
Outcome read_answer(const ChatCall& c, const std::string& where, const JsonView& reply) {
  auto message = reply.at("/choices/0/message");
  if (message.ok()) {
    if (Status s = message->expect_object(); !s.ok()) message = s;
  }
  if (!message.ok()) return bad_output(where, "provider reply: " + message.status().message());
  auto refusal = message->optional_field("refusal");
  if (refusal.ok() && refusal->has_value()) {
    auto text = (*refusal)->string();
    if (!text.ok()) return bad_output(where, "provider reply: " + text.status().message());
    return Outcome::failed(FailureKind::kRefusal,
                           where + ": refused: " + excerpt(*text, kReasonChars));
  }
  auto content = message->string_or("content", "");
  if (!content.ok()) return bad_output(where, "provider reply: " + content.status().message());
  if (!c.schema) return Outcome::success({{"text", std::move(content).value()}});
  auto value = parse_output(*content, c.answer_limits, "answer");
  if (!value.ok()) return bad_output(where, value.status().message());
  if (std::string v = c.schema->violation(*value); !v.empty()) {
    return Outcome::failed(FailureKind::kSchemaInvalid,
                           where + ": the answer " + excerpt(v, 2 * kReasonChars));
  }
  return Outcome::success(std::move(value).value());
}

// A 2xx reply: its answer, charged by its usage; `usage_known` false when the reply had none
// that could be read.
Outcome read_reply(const ChatCall& c, const std::string& where, const std::string& body,
                   bool& usage_known) {
  usage_known = false;
  auto doc = parse_output(body, c.reply_limits, "provider reply");
  if (!doc.ok()) return bad_output(where, doc.status().message());
  const JsonView reply(*doc);
  // Tokens are spent (and paid) whatever the answer was worth; a usage that cannot be read makes
  // the reply unusable (it is the bill), the answer notwithstanding.
  auto usage = read_usage(reply);
  Outcome o = usage.ok() ? read_answer(c, where, reply)
                         : bad_output(where, "provider reply: " + usage.status().message());
  if (usage.ok() && usage->known) {
    usage_known = true;
    o.tokens = usage->prompt + usage->completion;
    o.cost_usd = c.tier.cost_usd(usage->prompt, usage->completion);
  }
  return o;
}

}  // namespace

Outcome parse_chat_completion(const ChatCall& c, HttpResponse r) {
  const std::string where = c.tool_id + " (" + c.tier.name + ": " + c.tier.model + ")";
  // The key is scrubbed from what the provider sent before anything is read: an echo of it can
  // reach no reason, output or journal row, whole or cut.
  r.body = redact(std::move(r.body), c.api_key);
  Outcome o;
  bool billed_unread = false;  // the provider answered (and bills) but its usage is unknown
  if (r.failure != FailureKind::kNone) {
    o = Outcome::failed(r.failure,
                        where + ": " + excerpt(redact(r.error, c.api_key), kReasonChars));
  } else if (r.status == 429) {
    o = Outcome::failed(FailureKind::kRateLimited, where + ": HTTP 429 (rate limited)");
  } else if (r.status < 200 || r.status >= 300) {
    o = Outcome::failed(FailureKind::kHttpStatus, where + ": HTTP " + std::to_string(r.status) +
                                                      ": " + excerpt(r.body, kReasonChars));
  } else if (r.truncated) {
    o = bad_output(where, over_output_limit("provider reply", c.reply_limits.max_output_bytes));
    billed_unread = true;
  } else {
    bool usage_known = false;
    o = read_reply(c, where, r.body, usage_known);
    billed_unread = !usage_known;
  }
  if (billed_unread) {
    o.usage_unknown = true;
    o.tokens = c.prompt_tokens_bound + c.max_tokens;
    o.cost_usd = c.tier.worst_case_usd(c.prompt_tokens_bound, c.max_tokens);
  }
  o.reason = redact(std::move(o.reason), c.api_key);
  o.llm_call = true;
  o.tier = c.tier_index;
  keep_response_meta(o, r);
  return o;
}

namespace {

class LlmToolAdapter final : public Tool {
 public:
  LlmToolAdapter(std::string id, graph::LlmTool spec, std::chrono::milliseconds timeout,
                 const Models& models, const ModelTier& tier, graph::OutputLimits limits)
      : id_(std::move(id)),
        spec_(std::move(spec)),
        timeout_(timeout),
        limits_(limits),
        models_(models),
        tier_(tier),
        tier_index_(static_cast<int>(&tier - models.tiers.data())),
        prompt_(*graph::parse_template(spec_.prompt)) {
    if (!spec_.system.empty()) system_ = *graph::parse_template(spec_.system);
  }

  void invoke(const Invocation& call, Done done) override {
    auto prompt = graph::render_template(prompt_, *call.context);
    if (!prompt.ok()) {
      return done(Outcome::failed(FailureKind::kTemplate, id_ + ": " + prompt.status().message()));
    }
    std::string system;
    if (system_) {
      auto s = graph::render_template(*system_, *call.context);
      if (!s.ok()) {
        return done(Outcome::failed(FailureKind::kTemplate, id_ + ": " + s.status().message()));
      }
      system = std::move(*s);
    }
    const bool chosen =
        call.tier >= 0 && static_cast<std::size_t>(call.tier) < models_.tiers.size();
    const ModelTier& tier = chosen ? models_.tiers[static_cast<std::size_t>(call.tier)] : tier_;
    std::string api_key;
    HttpRequest request;
    request.method = "POST";
    request.url = tier.base_url + "/chat/completions";
    request.timeout = timeout_.count() > 0 ? timeout_ : tier.timeout;
    if (!tier.api_key_env.empty()) {
      const char* key = std::getenv(tier.api_key_env.c_str());
      if (key == nullptr || *key == '\0') {
        return done(
            Outcome::failed(FailureKind::kUnavailable, id_ + ": the API key of tier " + tier.name +
                                                           " is not set (environment variable " +
                                                           tier.api_key_env + ")"));
      }
      api_key = key;
      request.headers.emplace_back("Authorization", "Bearer " + api_key);
    }
    nlohmann::json messages = nlohmann::json::array();
    if (!system.empty()) messages.push_back({{"role", "system"}, {"content", system}});
    messages.push_back({{"role", "user"}, {"content", *prompt}});
    nlohmann::json body = {
        {"model", tier.model}, {"messages", messages}, {"max_tokens", spec_.max_tokens}};
    if (spec_.output_schema) {
      body["response_format"] = {
          {"type", "json_schema"},
          {"json_schema",
           {{"name", "output"}, {"schema", spec_.output_schema->document()}, {"strict", true}}}};
    }
    request.body = body.dump();
    ChatCall answer;
    answer.tool_id = id_;
    answer.tier = tier;
    answer.tier_index = chosen ? call.tier : tier_index_;
    answer.schema = spec_.output_schema;
    answer.api_key = std::move(api_key);
    answer.reply_limits = models_.reply_limits(limits_);
    answer.answer_limits = limits_;
    // What the budget controller reserved for this call (runtime/machine: the same bound).
    answer.prompt_tokens_bound = prompt_token_bound(spec_, system, *prompt);
    answer.max_tokens = spec_.max_tokens;
    request.max_body_bytes = answer.reply_limits.max_output_bytes;
    http_perform(std::move(request), call.cancel,
                 [answer = std::move(answer), done = std::move(done)](HttpResponse r) {
                   done(parse_chat_completion(answer, std::move(r)));
                 });
  }

 private:
  std::string id_;
  graph::LlmTool spec_;
  std::chrono::milliseconds timeout_;
  graph::OutputLimits limits_;
  const Models& models_;
  const ModelTier& tier_;
  int tier_index_;  // of tier_ in models_
  graph::Template prompt_;
  std::optional<graph::Template> system_;
};

}  // namespace

Result<Advice> parse_advice(const nlohmann::json& output) {
  nlohmann::json parsed;
  const nlohmann::json* answer = &output;
  if (output.is_string()) {
    auto p = parse_untrusted(output.get_ref<const std::string&>(), {.what = "the answer"});
    if (!p.ok()) return invalid_argument(excerpt(p.status().message(), 2 * kReasonChars));
    parsed = std::move(p).value();
    answer = &parsed;
  }
  const JsonView view(*answer);
  Advice a;
  SWITCHYARD_ASSIGN_OR_RETURN(a.action, view.string_or("action", ""));
  SWITCHYARD_ASSIGN_OR_RETURN(a.goal, view.string_or("goal", ""));
  SWITCHYARD_ASSIGN_OR_RETURN(a.message, view.string_or("message", ""));
  return a;
}

std::int64_t prompt_token_bound(const graph::LlmTool& spec, const std::string& system,
                                const std::string& prompt) {
  std::size_t bytes = system.size() + prompt.size();
  if (spec.output_schema) bytes += spec.output_schema->document().dump().size();
  const std::int64_t messages = system.empty() ? 1 : 2;
  return static_cast<std::int64_t>(bytes) + messages * kFramingTokensPerMessage +
         kFramingTokensPerRequest;
}

Result<std::unique_ptr<Tool>> make_llm_tool(std::string id, graph::LlmTool spec,
                                            std::chrono::milliseconds timeout, const Models& models,
                                            graph::OutputLimits limits) {
  if (models.tiers.empty()) {
    return invalid_argument("tool '" + id + "': an llm tool needs a models file (--models)");
  }
  const ModelTier* tier = &models.tiers.front();
  if (!spec.tier.empty()) {
    tier = models.find(spec.tier);
    if (tier == nullptr) {
      return invalid_argument("tool '" + id + "': tier '" + spec.tier +
                              "' is not in the models file");
    }
  }
  return std::unique_ptr<Tool>(std::make_unique<LlmToolAdapter>(std::move(id), std::move(spec),
                                                                timeout, models, *tier, limits));
}

}  // namespace switchyard::tools
