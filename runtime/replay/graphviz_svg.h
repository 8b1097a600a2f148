#pragma once
// Lays out a Graphviz DOT graph and renders it to SVG in memory with Graphviz's own library
// (libgvc, `dot` layout): the same picture as `dot -Tsvg`, without a subprocess or a file.
//
// Thread-safe: Graphviz keeps global state, so calls are serialized internally.

#include <string>
#include <string_view>

#include "graph/status.h"

namespace switchyard::runtime {

// The SVG document (an XML prolog, then <svg>…</svg>) for `dot`.
// Errors: kInvalidArgument when Graphviz cannot parse `dot` (its message included); kInternal
// when layout or rendering fails (a missing Graphviz plugin, for one).
Result<std::string> render_svg(std::string_view dot);

}  // namespace switchyard::runtime
