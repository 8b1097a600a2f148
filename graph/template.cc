#include "graph/template.h"

#include <array>
#include <cstdlib>

namespace switchyard::graph {
namespace {

constexpr std::array<std::string_view, 6> kRoots = {"input",   "steps",   "goal",
                                                    "blocked", "options", "run"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Result<TemplatePart> parse_reference(std::string_view inner, std::size_t offset) {
  TemplatePart part;
  part.is_ref = true;
  part.text = std::string(trim(inner));
  if (part.text.empty()) {
    return invalid_argument("empty reference '{{}}' at offset " + std::to_string(offset));
  }
  std::string_view rest = part.text;
  while (true) {
    const auto dot = rest.find('.');
    const std::string_view segment = rest.substr(0, dot);
    if (segment.empty()) {
      return invalid_argument("reference '{{" + part.text + "}}' has an empty segment");
    }
    part.path.emplace_back(segment);
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  bool known = false;
  for (auto root : kRoots) known = known || part.path[0] == root;
  if (!known) {
    return invalid_argument("reference '{{" + part.text + "}}' has unknown root '" + part.path[0] +
                            "' (expected input, steps, goal, blocked, options or run)");
  }
  if (part.path[0] == "steps" && part.path.size() < 2) {
    return invalid_argument("reference '{{" + part.text + "}}' must name a step: steps.<tool>...");
  }
  return part;
}

}  // namespace

bool Template::has_refs() const {
  for (const auto& p : parts) {
    if (p.is_ref) return true;
  }
  return false;
}

Result<Template> parse_template(std::string_view text) {
  Template t;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      t.parts.push_back({false, std::string(text.substr(pos)), {}});
      break;
    }
    if (open > pos) t.parts.push_back({false, std::string(text.substr(pos, open - pos)), {}});
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return invalid_argument("unclosed '{{' at offset " + std::to_string(open));
    }
    auto part = parse_reference(text.substr(open + 2, close - open - 2), open);
    if (!part.ok()) return part.status();
    t.parts.push_back(std::move(*part));
    pos = close + 2;
  }
  return t;
}

const nlohmann::json* resolve_path(const nlohmann::json& context,
                                   const std::vector<std::string>& path) {
  const nlohmann::json* at = &context;
  for (const auto& segment : path) {
    if (at->is_object()) {
      auto it = at->find(segment);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array()) {
      char* end = nullptr;
      const unsigned long index = std::strtoul(segment.c_str(), &end, 10);
      if (segment.empty() || *end != '\0' || index >= at->size()) return nullptr;
      at = &(*at)[index];
    } else {
      return nullptr;
    }
  }
  return at;
}

Result<std::string> render_template(const Template& t, const nlohmann::json& context) {
  std::string out;
  for (const auto& part : t.parts) {
    if (!part.is_ref) {
      out += part.text;
      continue;
    }
    const nlohmann::json* value = resolve_path(context, part.path);
    if (value == nullptr) {
      return invalid_argument("template reference '{{" + part.text + "}}' has no value");
    }
    out += value->is_string() ? value->get<std::string>() : value->dump();
  }
  return out;
}

namespace {

Status collect_strings(const nlohmann::json& v, std::vector<Template>& out) {
  if (v.is_string()) {
    auto t = parse_template(v.get_ref<const std::string&>());
    if (!t.ok()) return t.status();
    out.push_back(std::move(*t));
  } else if (v.is_structured()) {
    for (const auto& item : v) {
      if (Status s = collect_strings(item, out); !s.ok()) return s;
    }
  }
  return Status();
}

// Renders `v` in place, consuming templates in the pre-order collect_strings() met them.
Status render_strings(nlohmann::json& v, const std::vector<Template>& strings, std::size_t& next,
                      const nlohmann::json& context) {
  if (v.is_string()) {
    const Template& t = strings[next++];
    if (t.parts.size() == 1 && t.parts[0].is_ref) {  // exactly one reference: the value itself
      const nlohmann::json* value = resolve_path(context, t.parts[0].path);
      if (value == nullptr) {
        return invalid_argument("template '{{" + t.parts[0].text + "}}': no such value");
      }
      v = *value;
      return Status();
    }
    auto s = render_template(t, context);
    if (!s.ok()) return s.status();
    v = std::move(*s);
  } else if (v.is_structured()) {
    for (auto& item : v) {
      if (Status s = render_strings(item, strings, next, context); !s.ok()) return s;
    }
  }
  return Status();
}

}  // namespace

Result<JsonTemplate> parse_json_template(const nlohmann::json& value) {
  JsonTemplate t;
  t.shape = value;
  if (Status s = collect_strings(t.shape, t.strings); !s.ok()) return s;
  return t;
}

Result<nlohmann::json> render_json_template(const JsonTemplate& t, const nlohmann::json& context) {
  nlohmann::json out = t.shape;
  std::size_t next = 0;
  if (Status s = render_strings(out, t.strings, next, context); !s.ok()) return s;
  return out;
}

}  // namespace switchyard::graph
