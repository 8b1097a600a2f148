#include "tools/models.h"

#include <fstream>
#include <set>

#include "graph/json_read.h"

namespace switchyard::tools {
namespace {

constexpr std::int64_t kMaxTimeoutMs = 24LL * 3600 * 1000;
constexpr std::int64_t kMaxContextWindow = 1'000'000'000;

class Checker {
 public:
  explicit Checker(std::string file) : file_(std::move(file)) {}
  void error(const std::string& pointer, std::string message) {
    graph::Diagnostic d;
    d.file = file_;
    d.pointer = pointer;
    d.message = std::move(message);
    errors.push_back(std::move(d));
  }
  // A JsonView error ("<pointer>: <message>") as a diagnostic at `pointer`.
  void error(const std::string& pointer, const Status& status) {
    std::string m = status.message();
    if (m.rfind(pointer + ": ", 0) == 0) m.erase(0, pointer.size() + 2);
    error(pointer, std::move(m));
  }
  std::vector<graph::Diagnostic> errors;

 private:
  std::string file_;
};

// Member `key` of the object `object` (at `pointer`), or nullopt when it is absent; an error
// when it is absent and `required`.
std::optional<JsonView> member(Checker& check, const JsonView& object, const std::string& key,
                               bool required) {
  const auto& fields = object.json().get_ref<const nlohmann::json::object_t&>();
  auto it = fields.find(key);
  if (it == fields.end()) {
    if (required) {
      check.error(pointer_join(object.pointer(), key), "required field '" + key + "' is missing");
    }
    return std::nullopt;
  }
  return JsonView(it->second, pointer_join(object.pointer(), key));
}

void text_field(Checker& check, const JsonView& tier, const std::string& key, std::string& out,
                bool required) {
  auto v = member(check, tier, key, required);
  if (!v) return;
  auto text = v->string();
  if (!text.ok() || text->empty()) {
    check.error(v->pointer(), "expected a non-empty string, got " + describe(v->json()));
    return;
  }
  out = std::move(text).value();
}

void number_field(Checker& check, const JsonView& tier, const std::string& key, double& out,
                  bool required) {
  auto v = member(check, tier, key, required);
  if (!v) return;
  auto n = v->number();
  static_assert(kMaxUsdPerMtok == 1e6, "the message below spells the limit");
  if (!n.ok() || *n < 0 || *n > kMaxUsdPerMtok) {
    check.error(v->pointer(), "expected a number >= 0 and <= 1000000, got " + describe(v->json()));
    return;
  }
  out = *n;
}

// An integer in [min, max]; nullopt when absent or wrong (with an error).
std::optional<std::int64_t> integer_field(Checker& check, const JsonView& object,
                                          const std::string& key, std::int64_t min,
                                          std::int64_t max) {
  auto v = member(check, object, key, false);
  if (!v) return std::nullopt;
  auto n = v->integer();
  if (!n.ok() || *n < min || *n > max) {
    check.error(v->pointer(), "expected an integer >= " + std::to_string(min) + " and <= " +
                                  std::to_string(max) + ", got " + describe(v->json()));
    return std::nullopt;
  }
  return *n;
}

ModelTier load_tier(Checker& check, const JsonView& t, std::set<std::string>& names) {
  ModelTier tier;
  text_field(check, t, "name", tier.name, true);
  text_field(check, t, "model", tier.model, true);
  text_field(check, t, "base_url", tier.base_url, true);
  text_field(check, t, "api_key_env", tier.api_key_env, false);
  number_field(check, t, "input_usd_per_mtok", tier.input_usd_per_mtok, true);
  number_field(check, t, "output_usd_per_mtok", tier.output_usd_per_mtok, true);
  if (auto w = integer_field(check, t, "context_window", 0, kMaxContextWindow)) {
    tier.context_window = static_cast<int>(*w);
  }
  if (auto ms = integer_field(check, t, "timeout_ms", 1, kMaxTimeoutMs)) {
    tier.timeout = std::chrono::milliseconds(*ms);
  }
  static const std::set<std::string> known = {"name",
                                              "model",
                                              "base_url",
                                              "api_key_env",
                                              "input_usd_per_mtok",
                                              "output_usd_per_mtok",
                                              "context_window",
                                              "timeout_ms",
                                              "api_key"};
  for (const auto& [key, value] : t.json().items()) {
    if (key == "api_key") {
      // Never quoted: the value is a key.
      check.error(pointer_join(t.pointer(), key),
                  "a models file never holds a key: name the environment variable that does, "
                  "in 'api_key_env'");
    } else if (!known.count(key)) {
      check.error(pointer_join(t.pointer(), key), "unknown field '" + valid_utf8(key) + "'");
    }
  }
  if (!tier.name.empty() && !names.insert(tier.name).second) {
    check.error(pointer_join(t.pointer(), "name"), "duplicate tier name '" + tier.name + "'");
  }
  return tier;
}

void load_limits(Checker& check, const JsonView& root, Models& models) {
  auto limits = member(check, root, "limits", false);
  if (!limits) return;
  if (Status s = limits->expect_object(); !s.ok()) return check.error(limits->pointer(), s);
  models.reply_max_output_bytes =
      integer_field(check, *limits, "max_output_bytes", 1,
                    static_cast<std::int64_t>(graph::kMaxOutputBytesLimit));
  models.reply_max_json_depth = integer_field(check, *limits, "max_json_depth", 1,
                                              static_cast<std::int64_t>(graph::kMaxJsonDepthLimit));
  for (const auto& [key, value] : limits->json().items()) {
    if (key != "max_output_bytes" && key != "max_json_depth") {
      check.error(pointer_join(limits->pointer(), key), "unknown field '" + valid_utf8(key) + "'");
    }
  }
}

}  // namespace

double ModelTier::worst_case_usd(std::int64_t prompt_tokens, std::int64_t max_tokens) const {
  return cost_usd(prompt_tokens, max_tokens);
}

double ModelTier::cost_usd(std::int64_t input_tokens, std::int64_t output_tokens) const {
  return static_cast<double>(input_tokens) * input_usd_per_mtok / 1e6 +
         static_cast<double>(output_tokens) * output_usd_per_mtok / 1e6;
}

const ModelTier* Models::find(const std::string& name) const {
  for (const auto& t : tiers) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

graph::OutputLimits Models::reply_limits(const graph::OutputLimits& tool_limits) const {
  graph::OutputLimits l = tool_limits;
  if (reply_max_output_bytes) l.max_output_bytes = *reply_max_output_bytes;
  if (reply_max_json_depth) l.max_json_depth = *reply_max_json_depth;
  return l;
}

ModelsResult load_models(std::string_view text, std::string_view file_name) {
  ModelsResult result;
  Checker check{std::string(file_name)};
  auto doc = parse_untrusted(text, JsonLimits{.max_depth = kMaxModelsFileDepth,
                                              .max_bytes = kMaxModelsFileBytes,
                                              .what = "models file"});
  if (!doc.ok()) {
    check.error("", excerpt(doc.status().message(), 300));
    result.errors = std::move(check.errors);
    return result;
  }
  const JsonView root(*doc);
  if (!root.is_object()) {
    check.error("", "expected an object with 'tiers', got " + describe(root.json()));
    result.errors = std::move(check.errors);
    return result;
  }
  auto tiers = member(check, root, "tiers", false);
  if (!tiers) {
    check.error("/tiers", "required field 'tiers' is missing: expected an array of tiers");
  } else if (!tiers->is_array() || tiers->size() == 0) {
    check.error("/tiers", "expected a non-empty array of tiers, cheapest first, got " +
                              describe(tiers->json()));
  } else {
    std::set<std::string> names;
    for (std::size_t i = 0; i < tiers->size(); ++i) {
      auto t = tiers->element(i);
      if (!t.ok()) continue;  // cannot happen: i < size()
      if (Status s = t->expect_object(); !s.ok()) {
        check.error(t->pointer(), s);
        continue;
      }
      result.models.tiers.push_back(load_tier(check, *t, names));
    }
  }
  load_limits(check, root, result.models);
  result.errors = std::move(check.errors);
  return result;
}

ModelsResult load_models_file(const std::string& path) {
  auto fail = [&](std::string message) {
    ModelsResult r;
    graph::Diagnostic d;
    d.file = path;
    d.message = std::move(message);
    r.errors.push_back(std::move(d));
    return r;
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read the models file");
  // Read at most one byte past the limit: enough for load_models to name the limit, never a
  // huge file in memory.
  std::string text(kMaxModelsFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return fail("cannot read the models file");
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxModelsFileBytes) {
    return fail("larger than " + std::to_string(kMaxModelsFileBytes) +
                " bytes, the most a models file may be");
  }
  return load_models(text, path);
}

}  // namespace switchyard::tools
