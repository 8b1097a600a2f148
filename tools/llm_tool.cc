#include "tools/llm_tool.h"

#include <cstdlib>

#include "graph/template.h"
#include "tools/http_client.h"
#include "tools/http_tool.h"

namespace switchyard::tools {
namespace {

constexpr std::size_t kReasonChars = 200;

struct CallSpec {
  std::string id;
  ModelTier tier;
  int tier_index = -1;
  std::optional<graph::JsonSchema> schema;
  std::string api_key;  // scrubbed from anything the provider sends back
};

// `text` with the API key (if the provider echoed it back) replaced.
std::string redact(std::string text, const std::string& key) {
  if (key.empty()) return text;
  for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
    text.replace(at, key.size(), "[redacted]");
  }
  return text;
}

// The provider's text as part of a reason: redacted, then cut (so no part of a key survives).
std::string scrubbed(const std::string& text, const std::string& key) {
  return redact(text, key).substr(0, kReasonChars);
}

Outcome answer_of(const CallSpec& c, HttpResponse r) {
  const std::string where = c.id + " (" + c.tier.name + ": " + c.tier.model + ")";
  Outcome o;
  if (r.failure != FailureKind::kNone) {
    o = Outcome::failed(r.failure, where + ": " + scrubbed(r.error, c.api_key));
  } else if (r.status == 429) {
    o = Outcome::failed(FailureKind::kRateLimited, where + ": HTTP 429 (rate limited)");
  } else if (r.status < 200 || r.status >= 300) {
    o = Outcome::failed(FailureKind::kHttpStatus, where + ": HTTP " + std::to_string(r.status) +
                                                      ": " + scrubbed(r.body, c.api_key));
  } else {
    auto doc = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    const nlohmann::json* message = nullptr;
    if (doc.is_object() && doc.contains("choices") && doc["choices"].is_array() &&
        !doc["choices"].empty() && doc["choices"][0].is_object() &&
        doc["choices"][0].contains("message") && doc["choices"][0]["message"].is_object()) {
      message = &doc["choices"][0]["message"];
    }
    if (message == nullptr) {
      o = Outcome::failed(FailureKind::kBadOutput, where + ": the answer is not a chat completion");
    } else if (message->contains("refusal") && (*message)["refusal"].is_string()) {
      o = Outcome::failed(
          FailureKind::kRefusal,
          where + ": refused: " + scrubbed((*message)["refusal"].get<std::string>(), c.api_key));
    } else {
      const std::string content =
          message->contains("content") && (*message)["content"].is_string()
              ? (*message)["content"].get<std::string>()
              : "";
      if (!c.schema) {
        o = Outcome::success({{"text", content}});
      } else {
        auto value = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
        if (value.is_discarded()) {
          o = Outcome::failed(FailureKind::kBadOutput, where + ": the answer is not JSON");
        } else if (std::string v = c.schema->violation(value); !v.empty()) {
          o = Outcome::failed(FailureKind::kSchemaInvalid, where + ": the answer " + v);
        } else {
          o = Outcome::success(std::move(value));
        }
      }
    }
    // Tokens are spent (and paid) whatever the answer was worth.
    if (doc.is_object() && doc.contains("usage") && doc["usage"].is_object()) {
      const auto in = doc["usage"].value("prompt_tokens", std::int64_t{0});
      const auto out = doc["usage"].value("completion_tokens", std::int64_t{0});
      o.tokens = in + out;
      o.cost_usd = c.tier.cost_usd(in, out);
    }
  }
  o.reason = redact(std::move(o.reason), c.api_key);
  o.llm_call = true;
  o.tier = c.tier_index;
  o.http_status = r.status;
  o.latency = r.latency;
  for (const auto& [name, value] : r.headers) {
    if (strcasecmp(name.c_str(), "retry-after") == 0) {
      set_retry_after(o, value);
    }
  }
  o.headers = redact_headers(std::move(r.headers));
  return o;
}

class LlmToolAdapter final : public Tool {
 public:
  LlmToolAdapter(std::string id, graph::LlmTool spec, std::chrono::milliseconds timeout,
                 const Models& models, const ModelTier& tier)
      : id_(std::move(id)),
        spec_(std::move(spec)),
        timeout_(timeout),
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
        return done(Outcome::failed(FailureKind::kUnavailable,
                                    id_ + ": the API key of tier " + tier.name +
                                        " is not set (environment variable " + tier.api_key_env + ")"));
      }
      api_key = key;
      request.headers.emplace_back("Authorization", "Bearer " + api_key);
    }
    nlohmann::json messages = nlohmann::json::array();
    if (!system.empty()) messages.push_back({{"role", "system"}, {"content", system}});
    messages.push_back({{"role", "user"}, {"content", *prompt}});
    nlohmann::json body = {{"model", tier.model}, {"messages", messages}, {"max_tokens", spec_.max_tokens}};
    if (spec_.output_schema) {
      body["response_format"] = {
          {"type", "json_schema"},
          {"json_schema",
           {{"name", "output"}, {"schema", spec_.output_schema->document()}, {"strict", true}}}};
    }
    request.body = body.dump();
    http_perform(std::move(request), call.cancel,
                 [spec = CallSpec{id_, tier, chosen ? call.tier : tier_index_, spec_.output_schema,
                                  std::move(api_key)},
                  done = std::move(done)](HttpResponse r) { done(answer_of(spec, std::move(r))); });
  }

 private:
  std::string id_;
  graph::LlmTool spec_;
  std::chrono::milliseconds timeout_;
  const Models& models_;
  const ModelTier& tier_;
  int tier_index_;  // of tier_ in models_
  graph::Template prompt_;
  std::optional<graph::Template> system_;
};

}  // namespace

std::int64_t prompt_token_bound(const graph::LlmTool& spec, const std::string& system,
                                const std::string& prompt) {
  std::size_t bytes = system.size() + prompt.size();
  if (spec.output_schema) bytes += spec.output_schema->document().dump().size();
  const std::int64_t messages = system.empty() ? 1 : 2;
  return static_cast<std::int64_t>(bytes) + messages * kFramingTokensPerMessage +
         kFramingTokensPerRequest;
}

Result<std::unique_ptr<Tool>> make_llm_tool(std::string id, graph::LlmTool spec,
                                            std::chrono::milliseconds timeout,
                                            const Models& models) {
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
  return std::unique_ptr<Tool>(
      std::make_unique<LlmToolAdapter>(std::move(id), std::move(spec), timeout, models, *tier));
}

}  // namespace switchyard::tools
