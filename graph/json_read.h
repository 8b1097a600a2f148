#pragma once
// Reading JSON that comes from outside the process: tool and provider replies, files, journal
// rows, requests. Nothing here throws, recurses on the document or trusts a value's type.
//
//   auto doc = parse_untrusted(body, limits);          // size and depth checked first
//   if (!doc.ok()) return bad_output(doc.status());
//   JsonView reply(*doc);
//   auto tokens = reply.integer_at("/usage/prompt_tokens");
//   if (!tokens.ok()) ...  // "/usage/prompt_tokens: expected an integer, got null"
//
// nlohmann's own accessors (`value(key, default)`, `get<T>()`, `at()`, `operator[]`) throw or
// assert when a present key has the wrong type, so code must not call them on such data; it reads
// through a JsonView instead. Every error is a kInvalidArgument Status whose message starts with
// the RFC 6901 pointer of the offending value ("" is the document) and says what was expected.
// Thread-safe: pure functions and views over caller-owned values.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "graph/status.h"

namespace switchyard {

// Limits on one document from outside the process; each caller documents the limits it applies.
struct JsonLimits {
  // Nesting of arrays and objects; deeper documents are refused before they are parsed.
  // Default 128.
  std::size_t max_depth = 128;
  // Size of the text in bytes. Default 16 MiB.
  std::size_t max_bytes = std::size_t{16} << 20;
  // What the limit applies to, for messages: "tool output", "provider reply", "request body".
  std::string_view what = "document";
};

// `text` parsed, or kInvalidArgument naming the limit that was passed ("provider reply: 20000000
// bytes, over the limit of 16777216 (max_bytes)"; "tool output: nested deeper than 128
// arrays/objects (max_depth)") or where the text stops being JSON. The depth is checked by a scan
// of the text before the (iterative) parser runs, so no input can exhaust the stack.
Result<nlohmann::json> parse_untrusted(std::string_view text, const JsonLimits& limits = {});

// The nesting depth of `text` (0 for a scalar), scanning at most until it passes `stop_above`.
std::size_t json_text_depth(std::string_view text, std::size_t stop_above);

// `base` + "/" + `token`, with `~` and `/` escaped (RFC 6901).
std::string pointer_join(const std::string& base, std::string_view token);
std::string pointer_join(const std::string& base, std::size_t index);

// A short description of a value for messages: `number -1`, `string "x"`, `an object`.
std::string describe(const nlohmann::json& value);

// `text` with every invalid UTF-8 sequence replaced by U+FFFD: safe to put into a JSON string
// (nlohmann's dump() throws on invalid UTF-8) and to print.
std::string valid_utf8(std::string_view text);

// `text` cut to at most `max_bytes` (on a character boundary, "..." appended when cut), with
// newlines and tabs flattened to spaces: for one-line messages that quote outside text.
std::string excerpt(std::string_view text, std::size_t max_bytes = 200);

// A read-only view of one untrusted value and its pointer. Cheap to copy; the value must outlive
// the view.
class JsonView {
 public:
  explicit JsonView(const nlohmann::json& value, std::string pointer = "")
      : value_(&value), pointer_(std::move(pointer)) {}

  const nlohmann::json& json() const { return *value_; }
  const std::string& pointer() const { return pointer_; }
  bool is_null() const { return value_->is_null(); }
  bool is_object() const { return value_->is_object(); }
  bool is_array() const { return value_->is_array(); }
  bool is_string() const { return value_->is_string(); }
  // Elements of an array, members of an object, 0 otherwise.
  std::size_t size() const;

  // This value as a type; an error naming the pointer and what it is instead.
  Result<std::string> string() const;
  Result<std::int64_t> integer() const;  // an integral number that fits in int64
  Result<double> number() const;         // any finite number
  Result<bool> boolean() const;
  Status expect_object() const;
  Status expect_array() const;

  // Member `key`: this must be an object and have it (else an error).
  Result<JsonView> field(std::string_view key) const;
  // Member `key`, or nullopt when it is absent or null; an error only when this is not an object.
  Result<std::optional<JsonView>> optional_field(std::string_view key) const;
  // Element `index` of an array (else an error).
  Result<JsonView> element(std::size_t index) const;
  // The value at an RFC 6901 pointer relative to this one ("/usage/prompt_tokens"); an error
  // names the first step that is missing or of the wrong type.
  Result<JsonView> at(std::string_view pointer) const;
  // The same, but nullopt when nothing is there (a member or an element missing along the way);
  // an error when a step is neither an object nor an array, or the pointer is malformed. A null
  // value is there.
  Result<std::optional<JsonView>> find(std::string_view pointer) const;

  // Required members of a type.
  Result<std::string> string(std::string_view key) const;
  Result<std::int64_t> integer(std::string_view key) const;
  Result<double> number(std::string_view key) const;
  Result<bool> boolean(std::string_view key) const;
  Result<JsonView> object(std::string_view key) const;
  Result<JsonView> array(std::string_view key) const;

  // Optional members: absent or null -> `fallback`; present with another type -> an error.
  Result<std::string> string_or(std::string_view key, std::string fallback) const;
  Result<std::int64_t> integer_or(std::string_view key, std::int64_t fallback) const;
  Result<double> number_or(std::string_view key, double fallback) const;
  Result<bool> boolean_or(std::string_view key, bool fallback) const;

  // Values at a pointer of a type (see at()).
  Result<std::string> string_at(std::string_view pointer) const;
  Result<std::int64_t> integer_at(std::string_view pointer) const;
  Result<double> number_at(std::string_view pointer) const;

 private:
  Status expected(std::string_view what) const;
  Result<std::optional<JsonView>> walk(std::string_view pointer, bool missing_is_error) const;

  const nlohmann::json* value_;
  std::string pointer_;
};

// Lenient reads, for showing and summing what was already accepted from outside (journal rows
// that replay re-enacts or `budget` adds up): doc[key] when present and of the type, else
// `fallback` (absent, null, another type, or `doc` no object). Never throws. Where a wrong type
// is an error to report, use JsonView's getters instead.
std::string lenient_string(const nlohmann::json& doc, std::string_view key,
                           std::string fallback = "");
double lenient_number(const nlohmann::json& doc, std::string_view key, double fallback = 0);
std::int64_t lenient_integer(const nlohmann::json& doc, std::string_view key,
                             std::int64_t fallback = 0);
bool lenient_boolean(const nlohmann::json& doc, std::string_view key, bool fallback = false);
// doc[key] of any type when present, else a null (absent, or `doc` no object); the reference
// stays valid as long as `doc` does.
const nlohmann::json& lenient_member(const nlohmann::json& doc, std::string_view key);

}  // namespace switchyard

// Evaluates `expr` (a Result<T>); returns its Status from the enclosing function when it failed,
// else moves its value into `lhs` (a declaration or an lvalue).
//   SWITCHYARD_ASSIGN_OR_RETURN(auto tokens, reply.integer_at("/usage/total_tokens"));
#define SWITCHYARD_ASSIGN_OR_RETURN(lhs, expr) \
  SWITCHYARD_ASSIGN_OR_RETURN_IMPL(SWITCHYARD_CONCAT(sy_result_, __LINE__), lhs, expr)
#define SWITCHYARD_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                     \
  if (!tmp.ok()) return tmp.status();                    \
  lhs = std::move(tmp).value()
#define SWITCHYARD_CONCAT(a, b) SWITCHYARD_CONCAT_IMPL(a, b)
#define SWITCHYARD_CONCAT_IMPL(a, b) a##b

// Evaluates `expr` (a Status); returns it from the enclosing function when it is not OK.
#define SWITCHYARD_RETURN_IF_ERROR(expr)      \
  do {                                        \
    ::switchyard::Status sy_status_ = (expr); \
    if (!sy_status_.ok()) return sy_status_;  \
  } while (false)
