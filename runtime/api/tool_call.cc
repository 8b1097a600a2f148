// api::ToolCall: what a builtin that takes the whole call sees, and its typed reads.

#include <switchyard/runtime.h>

#include "graph/json_read.h"
#include "runtime/api/internal.h"

namespace switchyard::api {
namespace {

// The value at `pointer` ("/args/..." in the call's args, any other in its context), converted
// by `as` (a JsonView getter); errors as ToolCall documents them.
template <typename T, typename As>
Result<T> read_at(const tools::BuiltinCall& call, std::string_view pointer, const char* expected,
                  As as) {
  constexpr std::string_view kArgs = "/args";
  const bool in_args = pointer.substr(0, kArgs.size()) == kArgs &&
                       (pointer.size() == kArgs.size() || pointer[kArgs.size()] == '/');
  const JsonView root = in_args ? JsonView(call.args, std::string(kArgs)) : JsonView(call.context);
  auto found = root.find(in_args ? pointer.substr(kArgs.size()) : pointer);
  if (!found.ok()) return to_api(found.status());
  if (!*found) {
    return Status(StatusCode::kNotFound,
                  std::string(pointer) + ": missing (expected " + expected + ")");
  }
  auto value = as(**found);
  if (!value.ok()) return to_api(value.status());
  return std::move(*value);
}

}  // namespace

const std::string& ToolCall::tool() const { return impl_->call.tool; }
const nlohmann::json& ToolCall::args() const { return impl_->call.args; }
const nlohmann::json& ToolCall::context() const { return impl_->call.context; }

Result<std::string> ToolCall::string_at(std::string_view pointer) const {
  return read_at<std::string>(impl_->call, pointer, "a string",
                              [](const JsonView& v) { return v.string(); });
}

Result<double> ToolCall::number_at(std::string_view pointer) const {
  return read_at<double>(impl_->call, pointer, "a number",
                         [](const JsonView& v) { return v.number(); });
}

Result<std::int64_t> ToolCall::integer_at(std::string_view pointer) const {
  return read_at<std::int64_t>(impl_->call, pointer, "an integer",
                               [](const JsonView& v) { return v.integer(); });
}

Result<bool> ToolCall::boolean_at(std::string_view pointer) const {
  return read_at<bool>(impl_->call, pointer, "a boolean",
                       [](const JsonView& v) { return v.boolean(); });
}

Result<nlohmann::json> ToolCall::value_at(std::string_view pointer) const {
  return read_at<nlohmann::json>(
      impl_->call, pointer, "a value",
      [](const JsonView& v) -> switchyard::Result<nlohmann::json> { return v.json(); });
}

}  // namespace switchyard::api
