// The router: the table of endpoints (routes.h) and Service::Impl::route, which dispatches a
// request to its handler, 404 for an unknown path, 405 with `Allow` for a known path with
// another method.

#include "runtime/service/routes.h"

#include <functional>

#include "runtime/service/service_impl.h"

namespace switchyard::service {
namespace {

// A path's segments: "/v1/runs/ID/events" -> {"v1", "runs", "ID", "events"}, each decoded.
std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) out.push_back(url_decode(path.substr(start, slash - start)));
    start = slash + 1;
  }
  return out;
}

using Params = std::vector<std::string>;  // the values of a path's {placeholders}, in order
using Handler =
    std::function<HttpResponse(Service::Impl&, const HttpRequest&, const Caller&, const Params&)>;

struct Route {
  RouteInfo info;
  std::vector<std::string> pattern;  // segments(info.path)
  Handler handler;                   // null for the probes (Service::Impl::handle answers them)
};

const std::vector<Route>& routes() {
  static const std::vector<Route> table = [] {
    std::vector<Route> t;
    auto add = [&t](const char* method, const char* path, Handler h) {
      t.push_back({{method, path, h == nullptr}, segments(path), std::move(h)});
    };
    add("GET", "/healthz", nullptr);
    add("GET", "/readyz", nullptr);
    // The web console's files: public (Service::Impl::handle serves a GET before the token
    // check); another method reaches the router, which answers 405.
    auto add_public = [&t](const char* method, const char* path, Handler h) {
      t.push_back({{method, path, true}, segments(path), std::move(h)});
    };
    add_public("GET", "/",
               [](auto& s, auto&, auto&, auto&) { return s.console_file("index.html"); });
    add_public("GET", "/console/{file}",
               [](auto& s, auto&, auto&, auto& p) { return s.console_file(p[0]); });
    add("GET", "/metrics", [](auto& s, auto&, auto&, auto&) { return s.metrics_text(); });
    add("GET", "/v1/health", [](auto& s, auto&, auto&, auto&) { return s.health_json(); });
    add("GET", "/v1/workflows", [](auto& s, auto&, auto&, auto&) { return s.list_workflows(); });
    add("POST", "/v1/workflows",
        [](auto& s, auto& req, auto&, auto&) { return s.post_workflow(req); });
    add("GET", "/v1/workflows/{name}",
        [](auto& s, auto&, auto&, auto& p) { return s.get_workflow(p[0]); });
    add("GET", "/v1/workflows/{name}/graph",
        [](auto& s, auto&, auto&, auto& p) { return s.workflow_graph(p[0]); });
    add("GET", "/v1/budget", [](auto& s, auto& req, auto&, auto&) { return s.budget(req); });
    add("GET", "/v1/runs", [](auto& s, auto& req, auto&, auto&) { return s.list_runs(req); });
    add("POST", "/v1/runs",
        [](auto& s, auto& req, auto& caller, auto&) { return s.post_run(req, caller); });
    add("GET", "/v1/runs/{id}", [](auto& s, auto&, auto&, auto& p) { return s.get_run(p[0]); });
    add("POST", "/v1/runs/{id}/cancel",
        [](auto& s, auto&, auto& caller, auto& p) { return s.cancel_run(caller, p[0]); });
    add("GET", "/v1/runs/{id}/replay",
        [](auto& s, auto& req, auto&, auto& p) { return s.replay(req, p[0]); });
    add("GET", "/v1/runs/{id}/events",
        [](auto& s, auto& req, auto&, auto& p) { return s.events(req, p[0]); });
    // Waits (routes_waits.cc, docs/waits.md).
    add("GET", "/v1/waits", [](auto& s, auto& req, auto&, auto&) { return s.list_waits(req); });
    add("POST", "/v1/runs/{id}/waits/{wait}", [](auto& s, auto& req, auto& caller, auto& p) {
      return s.resolve_wait(req, caller, p[0], p[1], false);
    });
    add("POST", "/v1/runs/{id}/signals/{name}", [](auto& s, auto& req, auto& caller, auto& p) {
      return s.resolve_wait(req, caller, p[0], p[1], true);
    });
    return t;
  }();
  return table;
}

// Whether `s` fits `pattern`; the placeholders' values are added to `params`.
bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& s,
             Params* params) {
  if (pattern.size() != s.size()) return false;
  Params out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (pattern[i].front() == '{') {
      out.push_back(s[i]);
    } else if (pattern[i] != s[i]) {
      return false;
    }
  }
  *params = std::move(out);
  return true;
}

}  // namespace

const std::vector<RouteInfo>& route_table() {
  static const std::vector<RouteInfo> table = [] {
    std::vector<RouteInfo> t;
    for (const auto& r : routes()) t.push_back(r.info);
    return t;
  }();
  return table;
}

HttpResponse Service::Impl::route(const HttpRequest& req, const Caller& caller) {
  const auto s = segments(req.path);
  std::string allow;
  for (const auto& r : routes()) {
    Params params;
    if (r.handler == nullptr || !matches(r.pattern, s, &params)) continue;
    if (r.info.method == req.method) return r.handler(*this, req, caller, params);
    allow += (allow.empty() ? "" : ", ") + r.info.method;
  }
  if (!allow.empty()) {
    HttpResponse out = error_response(405, "method_not_allowed", "use " + allow);
    out.headers.emplace_back("Allow", allow);
    return out;
  }
  return error_response(404, "not_found", "no such endpoint: " + req.path);
}

}  // namespace switchyard::service
