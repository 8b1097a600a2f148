#include "runtime/replay/graphviz_svg.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <memory>
#include <mutex>

namespace switchyard::runtime {
namespace {

// Graphviz reports problems through one process-wide callback; render_svg holds graphviz_mutex
// while it is installed, so the messages collected belong to the call in progress.
std::mutex graphviz_mutex;
std::string* collected = nullptr;

int collect_message(char* message) {
  if (collected != nullptr && message != nullptr) *collected += message;
  return 0;
}

struct GraphDeleter {
  void operator()(Agraph_t* g) const { agclose(g); }
};

// One context for the process, made on first use (under graphviz_mutex) and kept: it loads the
// plugins once, and what Graphviz caches in it stays reachable rather than leaked.
GVC_t* context() {
  static GVC_t* gvc = gvContext();
  return gvc;
}

std::string with_reason(std::string what, const std::string& messages) {
  if (messages.empty()) return what;
  std::string reason = messages;
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
  return what + ": " + reason;
}

}  // namespace

Result<std::string> render_svg(std::string_view dot) {
  std::lock_guard lock(graphviz_mutex);
  std::string messages;
  collected = &messages;
  const agusererrf previous = agseterrf(collect_message);
  struct Restore {
    agusererrf previous;
    ~Restore() {
      agseterrf(previous);
      collected = nullptr;
    }
  } restore{previous};

  GVC_t* gvc = context();
  if (gvc == nullptr) return internal_error("graphviz: cannot create a context");
  const std::string text(dot);  // agmemread needs a terminated string
  std::unique_ptr<Agraph_t, GraphDeleter> graph(agmemread(text.c_str()));
  if (!graph) return invalid_argument(with_reason("graphviz cannot parse the DOT text", messages));
  if (gvLayout(gvc, graph.get(), "dot") != 0) {
    return internal_error(with_reason("graphviz cannot lay out the graph", messages));
  }
  char* data = nullptr;
  unsigned int length = 0;
  const int rendered = gvRenderData(gvc, graph.get(), "svg", &data, &length);
  std::string svg = data != nullptr ? std::string(data, length) : std::string();
  if (data != nullptr) gvFreeRenderData(data);
  gvFreeLayout(gvc, graph.get());
  if (rendered != 0 || svg.empty()) {
    return internal_error(with_reason("graphviz cannot render SVG", messages));
  }
  return svg;
}

}  // namespace switchyard::runtime
