#include "graph/json_read.h"

#include <cmath>
#include <limits>
#include <utility>

namespace switchyard {
namespace {

Status limit_error(const JsonLimits& limits, std::string message) {
  return invalid_argument(std::string(limits.what) + ": " + std::move(message));
}

// The length of the valid UTF-8 sequence starting at `s[i]`, or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n;
  std::uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are invalid.
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

std::size_t json_text_depth(std::string_view text, std::size_t stop_above) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character cannot end the string
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > stop_above) return deepest;
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

Result<nlohmann::json> parse_untrusted(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return limit_error(limits, std::to_string(text.size()) + " bytes, over the limit of " +
                                   std::to_string(limits.max_bytes) + " (max_bytes)");
  }
  if (json_text_depth(text, limits.max_depth) > limits.max_depth) {
    return limit_error(limits, "nested deeper than " + std::to_string(limits.max_depth) +
                                   " arrays/objects (max_depth)");
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    // nlohmann's messages read "[json.exception.parse_error.101] parse error at line 1, ...".
    std::string message = e.what();
    if (auto at = message.find("] "); at != std::string::npos) message.erase(0, at + 2);
    return limit_error(limits, "not JSON: " + valid_utf8(message));
  }
}

std::string pointer_join(const std::string& base, std::string_view token) {
  std::string out = base + "/";
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string pointer_join(const std::string& base, std::size_t index) {
  return base + "/" + std::to_string(index);
}

std::string describe(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return value.get_ref<const bool&>() ? "boolean true" : "boolean false";
    case nlohmann::json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      return "string \"" + excerpt(s, 37) + "\"";
    }
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "number " + value.dump();
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    default:
      return "a value of another type";
  }
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_sequence(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string excerpt(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 3);
  std::size_t i = 0;
  bool space = false;
  while (i < text.size()) {
    std::size_t n = utf8_sequence(text, i);
    std::string_view piece = n == 0 ? std::string_view("\xEF\xBF\xBD") : text.substr(i, n);
    if (n == 0) n = 1;
    const bool blank = piece == "\n" || piece == "\r" || piece == "\t" || piece == " ";
    if (blank) {
      if (!space && !out.empty())
        piece = " ";
      else
        piece = {};
      space = true;
    } else {
      space = false;
    }
    if (out.size() + piece.size() > max_bytes) {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      return out + "...";
    }
    out.append(piece);
    i += n;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::size_t JsonView::size() const {
  return value_->is_array() || value_->is_object() ? value_->size() : 0;
}

Status JsonView::expected(std::string_view what) const {
  return invalid_argument((pointer_.empty() ? std::string("(document)") : pointer_) +
                          ": expected " + std::string(what) + ", got " + describe(*value_));
}

Result<std::string> JsonView::string() const {
  if (!value_->is_string()) return expected("a string");
  return value_->get_ref<const std::string&>();
}

Result<std::int64_t> JsonView::integer() const {
  using Limits = std::numeric_limits<std::int64_t>;
  switch (value_->type()) {
    case nlohmann::json::value_t::number_integer:
      return value_->get_ref<const nlohmann::json::number_integer_t&>();
    case nlohmann::json::value_t::number_unsigned: {
      const auto u = value_->get_ref<const nlohmann::json::number_unsigned_t&>();
      if (u <= static_cast<std::uint64_t>(Limits::max())) return static_cast<std::int64_t>(u);
      break;
    }
    case nlohmann::json::value_t::number_float: {
      const double d = value_->get_ref<const nlohmann::json::number_float_t&>();
      // Integral values written as floats (12.0) are integers; 2^63 is out of range.
      if (std::isfinite(d) && d == std::trunc(d) && d >= -9.2233720368547758e18 &&
          d < 9.2233720368547758e18) {
        return static_cast<std::int64_t>(d);
      }
      break;
    }
    default:
      break;
  }
  return expected("an integer");
}

Result<double> JsonView::number() const {
  if (!value_->is_number()) return expected("a number");
  double d = 0;
  if (value_->is_number_float()) {
    d = value_->get_ref<const nlohmann::json::number_float_t&>();
  } else if (value_->is_number_unsigned()) {
    d = static_cast<double>(value_->get_ref<const nlohmann::json::number_unsigned_t&>());
  } else {
    d = static_cast<double>(value_->get_ref<const nlohmann::json::number_integer_t&>());
  }
  if (!std::isfinite(d)) return expected("a finite number");
  return d;
}

Result<bool> JsonView::boolean() const {
  if (!value_->is_boolean()) return expected("true or false");
  return value_->get_ref<const bool&>();
}

Status JsonView::expect_object() const {
  return value_->is_object() ? Status() : expected("an object");
}

Status JsonView::expect_array() const {
  return value_->is_array() ? Status() : expected("an array");
}

Result<JsonView> JsonView::field(std::string_view key) const {
  if (!value_->is_object()) return expected("an object");
  const auto& object = value_->get_ref<const nlohmann::json::object_t&>();
  auto it = object.find(std::string(key));  // nlohmann 3.11's object_t has no transparent find
  if (it == object.end()) {
    return invalid_argument(pointer_join(pointer_, key) + ": missing (required)");
  }
  return JsonView(it->second, pointer_join(pointer_, key));
}

Result<std::optional<JsonView>> JsonView::optional_field(std::string_view key) const {
  if (!value_->is_object()) return expected("an object");
  const auto& object = value_->get_ref<const nlohmann::json::object_t&>();
  auto it = object.find(std::string(key));
  if (it == object.end() || it->second.is_null()) return std::optional<JsonView>();
  return std::optional<JsonView>(JsonView(it->second, pointer_join(pointer_, key)));
}

Result<JsonView> JsonView::element(std::size_t index) const {
  if (!value_->is_array()) return expected("an array");
  const auto& array = value_->get_ref<const nlohmann::json::array_t&>();
  if (index >= array.size()) {
    return invalid_argument(pointer_join(pointer_, index) + ": missing (the array has " +
                            std::to_string(array.size()) + " elements)");
  }
  return JsonView(array[index], pointer_join(pointer_, index));
}

namespace {

// The reference token of `pointer` that starts at `pos` (a '/'), unescaped (~0 ~, ~1 /); `pos`
// moves to the next token's '/', or the end.
std::string next_token(std::string_view pointer, std::size_t& pos) {
  const std::size_t next = std::min(pointer.find('/', pos + 1), pointer.size());
  std::string token;
  for (std::size_t i = pos + 1; i < next; ++i) {
    if (pointer[i] == '~' && i + 1 < next && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
      token += pointer[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      token += pointer[i];
    }
  }
  pos = next;
  return token;
}

// An array index token: digits only, fewer than 10 of them.
std::optional<std::size_t> index_token(const std::string& token) {
  if (token.empty() || token.size() >= 10) return std::nullopt;
  std::size_t index = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + static_cast<std::size_t>(c - '0');
  }
  return index;
}

Status not_a_pointer(std::string_view pointer) {
  return invalid_argument("'" + std::string(pointer) + "' is not a JSON pointer");
}

}  // namespace

// The walk of at() and find(): a step that is missing ends it with nullopt, or, when
// `missing_is_error`, with the error field() or element() gives for it.
Result<std::optional<JsonView>> JsonView::walk(std::string_view pointer,
                                               bool missing_is_error) const {
  if (!pointer.empty() && pointer.front() != '/') return not_a_pointer(pointer);
  JsonView here = *this;
  std::size_t pos = 0;
  while (pos < pointer.size()) {
    const std::string token = next_token(pointer, pos);
    if (here.is_array()) {
      auto index = index_token(token);
      if (!index) return here.expected("an object");
      if (*index >= here.size()) {
        if (!missing_is_error) return std::optional<JsonView>();
        return here.element(*index).status();  // its "missing" error
      }
      here = JsonView((*here.value_)[*index], pointer_join(here.pointer_, *index));
    } else if (here.is_object()) {
      const auto& object = here.value_->get_ref<const nlohmann::json::object_t&>();
      auto it = object.find(token);
      if (it == object.end()) {
        if (!missing_is_error) return std::optional<JsonView>();
        return here.field(token).status();  // its "missing" error
      }
      here = JsonView(it->second, pointer_join(here.pointer_, token));
    } else {
      return here.expected("an object");
    }
  }
  return std::optional<JsonView>(here);
}

Result<std::optional<JsonView>> JsonView::find(std::string_view pointer) const {
  return walk(pointer, false);
}

Result<JsonView> JsonView::at(std::string_view pointer) const {
  auto found = walk(pointer, true);
  if (!found.ok()) return found.status();
  return **found;
}

Result<std::string> JsonView::string(std::string_view key) const {
  auto v = field(key);
  if (!v.ok()) return v.status();
  return v->string();
}

Result<std::int64_t> JsonView::integer(std::string_view key) const {
  auto v = field(key);
  if (!v.ok()) return v.status();
  return v->integer();
}

Result<double> JsonView::number(std::string_view key) const {
  auto v = field(key);
  if (!v.ok()) return v.status();
  return v->number();
}

Result<bool> JsonView::boolean(std::string_view key) const {
  auto v = field(key);
  if (!v.ok()) return v.status();
  return v->boolean();
}

Result<JsonView> JsonView::object(std::string_view key) const {
  auto v = field(key);
  if (!v.ok()) return v.status();
  if (Status s = v->expect_object(); !s.ok()) return s;
  return v;
}

Result<JsonView> JsonView::array(std::string_view key) const {
  auto v = field(key);
  if (!v.ok()) return v.status();
  if (Status s = v->expect_array(); !s.ok()) return s;
  return v;
}

namespace {

// The optional member `key` of `view` read by `read`, or `fallback` when absent or null.
template <typename T, typename Read>
Result<T> member_or(const JsonView& view, std::string_view key, T fallback, Read read) {
  auto v = view.optional_field(key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return fallback;
  return read(**v);
}

}  // namespace

Result<std::string> JsonView::string_or(std::string_view key, std::string fallback) const {
  return member_or<std::string>(*this, key, std::move(fallback),
                                [](const JsonView& v) { return v.string(); });
}

Result<std::int64_t> JsonView::integer_or(std::string_view key, std::int64_t fallback) const {
  return member_or<std::int64_t>(*this, key, fallback,
                                 [](const JsonView& v) { return v.integer(); });
}

Result<double> JsonView::number_or(std::string_view key, double fallback) const {
  return member_or<double>(*this, key, fallback, [](const JsonView& v) { return v.number(); });
}

Result<bool> JsonView::boolean_or(std::string_view key, bool fallback) const {
  return member_or<bool>(*this, key, fallback, [](const JsonView& v) { return v.boolean(); });
}

Result<std::string> JsonView::string_at(std::string_view pointer) const {
  auto v = at(pointer);
  if (!v.ok()) return v.status();
  return v->string();
}

Result<std::int64_t> JsonView::integer_at(std::string_view pointer) const {
  auto v = at(pointer);
  if (!v.ok()) return v.status();
  return v->integer();
}

Result<double> JsonView::number_at(std::string_view pointer) const {
  auto v = at(pointer);
  if (!v.ok()) return v.status();
  return v->number();
}

std::string lenient_string(const nlohmann::json& doc, std::string_view key, std::string fallback) {
  auto v = JsonView(doc).string_or(key, fallback);
  return v.ok() ? std::move(v).value() : std::move(fallback);
}

double lenient_number(const nlohmann::json& doc, std::string_view key, double fallback) {
  auto v = JsonView(doc).number_or(key, fallback);
  return v.ok() ? *v : fallback;
}

std::int64_t lenient_integer(const nlohmann::json& doc, std::string_view key,
                             std::int64_t fallback) {
  auto v = JsonView(doc).integer_or(key, fallback);
  return v.ok() ? *v : fallback;
}

const nlohmann::json& lenient_member(const nlohmann::json& doc, std::string_view key) {
  static const nlohmann::json kNull;
  auto field = JsonView(doc).optional_field(key);
  return field.ok() && *field ? (*field)->json() : kNull;
}

bool lenient_boolean(const nlohmann::json& doc, std::string_view key, bool fallback) {
  auto v = JsonView(doc).boolean_or(key, fallback);
  return v.ok() ? *v : fallback;
}

}  // namespace switchyard
