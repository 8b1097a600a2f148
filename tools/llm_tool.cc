#include "tools/llm_tool.h"

#include <cstdlib>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "graph/template.h"
#include "tools/http_client.h"
#include "tools/http_tool.h"

namespace switchyard::tools {
namespace {

constexpr std::size_t kReasonChars = 200;

// A parsed output_schema, shared by every call of the tool (valijson schemas are immutable once
// parsed and safe to read from several threads).
struct CompiledSchema {
  nlohmann::json document;
  valijson::Schema schema;
};

std::shared_ptr<const CompiledSchema> compile(const nlohmann::json& document) {
  auto compiled = std::make_shared<CompiledSchema>();
  compiled->document = document;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter adapter(compiled->document);
  parser.populateSchema(adapter, compiled->schema);
  return compiled;
}

// The first violation, for the reason; empty when `value` satisfies the schema.
std::string violation(const CompiledSchema& s, const nlohmann::json& value) {
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(value);
  if (validator.validate(s.schema, adapter, &results)) return "";
  valijson::ValidationResults::Error error;
  std::string out = "does not satisfy output_schema";
  if (results.popError(error)) {
    std::string where;
    for (const auto& c : error.context) where += c;
    out += ": " + where + ": " + error.description;
  }
  return out;
}

struct CallSpec {
  std::string id;
  ModelTier tier;
  std::shared_ptr<const CompiledSchema> schema;
};

Outcome answer_of(const CallSpec& c, HttpResponse r) {
  const std::string where = c.id + " (" + c.tier.name + ": " + c.tier.model + ")";
  Outcome o;
  if (r.failure != FailureKind::kNone) {
    o = Outcome::failed(r.failure, where + ": " + r.error);
  } else if (r.status == 429) {
    o = Outcome::failed(FailureKind::kRateLimited, where + ": HTTP 429 (rate limited)");
  } else if (r.status < 200 || r.status >= 300) {
    o = Outcome::failed(FailureKind::kHttpStatus, where + ": HTTP " + std::to_string(r.status) +
                                                      ": " + r.body.substr(0, kReasonChars));
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
      o = Outcome::failed(FailureKind::kRefusal,
                          where + ": refused: " + (*message)["refusal"].get<std::string>().substr(0, kReasonChars));
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
        } else if (std::string v = violation(*c.schema, value); !v.empty()) {
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
  o.llm_call = true;
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
      : id_(std::move(id)), spec_(std::move(spec)), timeout_(timeout), models_(models),
        tier_(tier), prompt_(*graph::parse_template(spec_.prompt)) {
    if (!spec_.system.empty()) system_ = *graph::parse_template(spec_.system);
    if (spec_.output_schema) schema_ = compile(*spec_.output_schema);
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
    const ModelTier& tier = call.tier >= 0 && static_cast<std::size_t>(call.tier) < models_.tiers.size()
                                ? models_.tiers[static_cast<std::size_t>(call.tier)]
                                : tier_;
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
      request.headers.emplace_back("Authorization", std::string("Bearer ") + key);
    }
    nlohmann::json messages = nlohmann::json::array();
    if (!system.empty()) messages.push_back({{"role", "system"}, {"content", system}});
    messages.push_back({{"role", "user"}, {"content", *prompt}});
    nlohmann::json body = {{"model", tier.model}, {"messages", messages}, {"max_tokens", spec_.max_tokens}};
    if (schema_) {
      body["response_format"] = {
          {"type", "json_schema"},
          {"json_schema", {{"name", "output"}, {"schema", schema_->document}, {"strict", true}}}};
    }
    request.body = body.dump();
    http_perform(std::move(request), call.cancel,
                 [spec = CallSpec{id_, tier, schema_}, done = std::move(done)](HttpResponse r) {
                   done(answer_of(spec, std::move(r)));
                 });
  }

 private:
  std::string id_;
  graph::LlmTool spec_;
  std::chrono::milliseconds timeout_;
  const Models& models_;
  const ModelTier& tier_;
  graph::Template prompt_;
  std::optional<graph::Template> system_;
  std::shared_ptr<const CompiledSchema> schema_;
};

}  // namespace

std::int64_t prompt_token_bound(const std::string& system, const std::string& prompt) {
  return static_cast<std::int64_t>(system.size() + prompt.size()) + 16;  // + message framing
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
