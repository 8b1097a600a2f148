#include "tools/models.h"

#include <fstream>
#include <set>
#include <sstream>

namespace switchyard::tools {
namespace {

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
  std::vector<graph::Diagnostic> errors;

 private:
  std::string file_;
};

std::string describe(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::object: return "an object";
    default: return "a number";
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

ModelsResult load_models(std::string_view text, std::string_view file_name) {
  ModelsResult result;
  Checker check{std::string(file_name)};
  auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    check.error("", "not valid JSON");
    result.errors = std::move(check.errors);
    return result;
  }
  if (!doc.is_object() || !doc.contains("tiers")) {
    check.error("/tiers", "required field 'tiers' is missing: expected an array of tiers");
  } else if (!doc["tiers"].is_array() || doc["tiers"].empty()) {
    check.error("/tiers", "expected a non-empty array of tiers, cheapest first, got " +
                              describe(doc["tiers"]));
  } else {
    std::set<std::string> names;
    for (std::size_t i = 0; i < doc["tiers"].size(); ++i) {
      const auto& t = doc["tiers"][i];
      const std::string p = "/tiers/" + std::to_string(i);
      if (!t.is_object()) {
        check.error(p, "expected an object, got " + describe(t));
        continue;
      }
      ModelTier tier;
      auto text_field = [&](const char* key, std::string& out, bool required) {
        auto it = t.find(key);
        if (it == t.end()) {
          if (required) check.error(p + "/" + key, std::string("required field '") + key + "' is missing");
        } else if (!it->is_string() || it->get<std::string>().empty()) {
          check.error(p + "/" + key, "expected a non-empty string, got " + describe(*it));
        } else {
          out = it->get<std::string>();
        }
      };
      auto number_field = [&](const char* key, double& out, bool required) {
        auto it = t.find(key);
        if (it == t.end()) {
          if (required) check.error(p + "/" + key, std::string("required field '") + key + "' is missing");
        } else if (!it->is_number() || it->get<double>() < 0) {
          check.error(p + "/" + key, "expected a number >= 0, got " + describe(*it));
        } else {
          out = it->get<double>();
        }
      };
      text_field("name", tier.name, true);
      text_field("model", tier.model, true);
      text_field("base_url", tier.base_url, true);
      text_field("api_key_env", tier.api_key_env, false);
      number_field("input_usd_per_mtok", tier.input_usd_per_mtok, true);
      number_field("output_usd_per_mtok", tier.output_usd_per_mtok, true);
      double window = 0, timeout = 60000;
      number_field("context_window", window, false);
      number_field("timeout_ms", timeout, false);
      tier.context_window = static_cast<int>(window);
      tier.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(timeout));
      if (auto key = t.find("api_key"); key != t.end()) {
        check.error(p + "/api_key", "a models file never holds a key: name the environment "
                                    "variable that does, in 'api_key_env'");
      }
      for (const auto& [key, value] : t.items()) {
        static const std::set<std::string> known = {
            "name", "model", "base_url", "api_key_env", "input_usd_per_mtok",
            "output_usd_per_mtok", "context_window", "timeout_ms", "api_key"};
        if (!known.count(key)) check.error(p + "/" + key, "unknown field '" + key + "'");
      }
      if (!tier.name.empty() && !names.insert(tier.name).second) {
        check.error(p + "/name", "duplicate tier name '" + tier.name + "'");
      }
      result.models.tiers.push_back(std::move(tier));
    }
  }
  result.errors = std::move(check.errors);
  return result;
}

ModelsResult load_models_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ModelsResult r;
    graph::Diagnostic d;
    d.file = path;
    d.message = "cannot read the models file";
    r.errors.push_back(std::move(d));
    return r;
  }
  std::stringstream text;
  text << in.rdbuf();
  return load_models(text.str(), path);
}

}  // namespace switchyard::tools
