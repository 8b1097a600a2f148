#include "graph/json_schema.h"

#include "graph/json_read.h"

// valijson reports what it cannot parse by throwing (with this set) or by abort() (without it):
// this is the only file that includes it, and it turns every exception into a Status.
#define VALIJSON_USE_EXCEPTIONS 1

#include <exception>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace switchyard::graph {

struct JsonSchema::Impl {
  nlohmann::json document;
  valijson::Schema schema;
};

Result<JsonSchema> JsonSchema::compile(nlohmann::json document) {
  auto impl = std::make_shared<Impl>();
  impl->document = std::move(document);
  try {
    valijson::SchemaParser parser;
    valijson::adapters::NlohmannJsonAdapter adapter(impl->document);
    parser.populateSchema(adapter, impl->schema);
  } catch (const std::exception& e) {
    return invalid_argument(std::string("not a usable JSON Schema: ") + e.what());
  }
  return JsonSchema(std::move(impl));
}

std::string JsonSchema::violation(const nlohmann::json& value) const {
  valijson::ValidationResults results;
  try {
    valijson::Validator validator;
    valijson::adapters::NlohmannJsonAdapter adapter(value);
    if (validator.validate(impl_->schema, adapter, &results)) return "";
  } catch (const std::exception& e) {
    return std::string("cannot be checked against output_schema: ") + e.what();
  }
  std::string out = "does not satisfy output_schema";
  valijson::ValidationResults::Error error;
  if (results.popError(error)) {
    std::string where;
    for (const auto& c : error.context) where += c;
    out += ": " + where + ": " + error.description;
  }
  return out;
}

std::optional<JsonSchema::Violation> JsonSchema::first_violation(
    const nlohmann::json& value) const {
  valijson::ValidationResults results;
  try {
    valijson::Validator validator;
    valijson::adapters::NlohmannJsonAdapter adapter(value);
    if (validator.validate(impl_->schema, adapter, &results)) return std::nullopt;
  } catch (const std::exception& e) {
    return Violation{"", std::string("cannot be checked: ") + e.what()};
  }
  Violation v;
  valijson::ValidationResults::Error error;
  if (!results.popError(error)) return Violation{"", "does not satisfy the schema"};
  // valijson's context: "<root>", then "[key]" or "[index]" per step.
  for (const auto& c : error.context) {
    if (c.size() >= 2 && c.front() == '[' && c.back() == ']') {
      v.pointer = pointer_join(v.pointer, std::string_view(c).substr(1, c.size() - 2));
    }
  }
  v.what = error.description;
  return v;
}

const nlohmann::json& JsonSchema::document() const { return impl_->document; }

}  // namespace switchyard::graph
