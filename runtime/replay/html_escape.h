#pragma once
// Escaping text for HTML and XML (and Graphviz's HTML-like labels). Pure; thread-safe.

#include <string>
#include <string_view>

namespace switchyard::runtime {

// `text` with &, <, > and " replaced by their entities: safe as element content and inside a
// double-quoted attribute value.
std::string html_escape(std::string_view text);

}  // namespace switchyard::runtime
