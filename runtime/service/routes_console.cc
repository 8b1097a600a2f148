// The web console (docs/console.md): its static files at / and /console/{file}, and the
// endpoints only its pages need: GET /v1/workflows/{name}/graph and GET /v1/budget.

#include <map>
#include <optional>
#include <tuple>

#include "graph/load.h"
#include "graph/router.h"
#include "runtime/journal/text.h"
#include "runtime/replay/graphviz_svg.h"
#include "runtime/replay/render.h"
#include "runtime/service/console_assets.h"
#include "runtime/service/service_impl.h"

namespace switchyard::service {
namespace {

std::string content_type_of(std::string_view name) {
  auto ends_with = [name](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".js")) return "text/javascript; charset=utf-8";
  if (ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

// A number, integer or string member of an object from the journal, or the fallback when it is
// absent or of another type (a reader of totals skips what it cannot read).
double number_of(const nlohmann::json& doc, const char* key) {
  auto n = JsonView(doc).number_or(key, 0);
  return n.ok() ? *n : 0;
}
std::int64_t integer_of(const nlohmann::json& doc, const char* key) {
  auto n = JsonView(doc).integer_or(key, 0);
  return n.ok() ? *n : 0;
}
std::string string_of(const nlohmann::json& doc, const char* key) {
  auto s = JsonView(doc).string_or(key, "");
  return s.ok() ? *s : "";
}

struct Spend {
  int runs = 0;
  std::int64_t calls = 0;
  std::int64_t tokens = 0;
  double usd = 0;
};

}  // namespace

std::optional<std::string> console_file_name(const HttpRequest& req) {
  if (req.method != "GET") return std::nullopt;
  if (req.path == "/") return "index.html";
  constexpr std::string_view kPrefix = "/console/";
  if (req.path.rfind(kPrefix, 0) != 0) return std::nullopt;
  return url_decode(req.path.substr(kPrefix.size()));
}

// The static files' headers: a strict Content-Security-Policy (only this origin's scripts, styles
// and connections; no inline script or style, no frames, no plugins), no sniffing, no referrer.
namespace {
void add_console_headers(HttpResponse* r) {
  r->headers.emplace_back("Content-Security-Policy",
                          "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                          "form-action 'none'; frame-ancestors 'none'");
  r->headers.emplace_back("X-Content-Type-Options", "nosniff");
  r->headers.emplace_back("Referrer-Policy", "no-referrer");
  r->headers.emplace_back("Cache-Control", "no-cache");
}
}  // namespace

HttpResponse Service::Impl::console_file(const std::string& name) {
  for (const auto& asset : console_assets()) {
    if (asset.name != name) continue;
    HttpResponse r;
    r.content_type = content_type_of(asset.name);
    r.body = std::string(asset.body);
    add_console_headers(&r);
    return r;
  }
  return error_response(404, "not_found", "no console file named " + excerpt(name, 100));
}

HttpResponse Service::Impl::workflow_graph(const std::string& name) {
  Registered w;
  {
    std::shared_lock lock(registry_mu);
    auto it = registry.find(name);
    if (it == registry.end()) return error_response(not_found("no workflow named " + name));
    w = it->second;
  }
  const graph::Workflow& workflow = *w.workflow;
  // The cheapest route from start to goal under the tools' health now (the factors of Eq. 1;
  // a tool that is down weighs +infinity), as a run started now would plan it.
  graph::FixedHealth health(workflow.tools().size());
  for (const auto& h : core.health->snapshot()) {
    const graph::ToolIndex t = workflow.find_tool(h.tool);
    if (t != graph::kNoIndex) health.set(t, h.factor);
  }
  const graph::Graph& g = workflow.graph();
  graph::Router router(workflow, g);
  const graph::Route route = router.plan(g.start(), g.goal(), health);
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto n : route.nodes) nodes.push_back(g.node(n).id);
  // The picture: the graph with that route marked as a run's first plan.
  runtime::RunRecord preview;
  preview.run_id = "(preview)";
  preview.workflow = name;
  preview.status = route.found() ? "cheapest route now" : "no route now";
  std::vector<runtime::Event> events;
  if (route.found()) {
    runtime::Event plan;
    plan.run_id = preview.run_id;
    plan.seq = 1;
    plan.type = "plan";
    plan.payload = {{"route", nodes}, {"cost", route.cost}};
    events.push_back(std::move(plan));
  }
  auto svg = runtime::render_svg(runtime::render_dot(workflow, preview, events));
  if (!svg.ok()) return error_response(internal_error(svg.status().message()));
  return json_response(
      200, {{"name", name},
            {"hash", w.hash},
            {"cheapest_route",
             {{"nodes", nodes}, {"cost", route.found() ? nlohmann::json(route.cost) : nullptr}}},
            {"svg", *svg}});
}

HttpResponse Service::Impl::budget(const HttpRequest& req) {
  runtime::RunFilter filter;
  filter.limit = 1000;
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    char* end = nullptr;
    const long n = std::strtol(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || n < 1 || n > 100000) {
      return error_response(
          invalid_argument("limit=" + excerpt(it->second, 100) + ": expected 1 to 100000"));
    }
    filter.limit = static_cast<int>(n);
  }
  if (auto it = req.query.find("workflow"); it != req.query.end()) filter.workflow = it->second;
  auto runs = feed->list_runs(filter);
  if (!runs.ok()) return journal_error_response(runs.status());
  std::map<std::string, Spend> by_workflow;
  std::map<std::pair<std::string, std::string>, Spend> by_tier;
  std::map<std::pair<std::string, std::string>, Spend> by_day;  // (UTC day, workflow)
  int skipped = 0;
  for (const auto& run : *runs) {
    if (!run.defect.empty()) {
      ++skipped;
      continue;
    }
    Spend& w = by_workflow[run.workflow];
    ++w.runs;
    if (run.result.is_object()) {
      w.usd += number_of(run.result, "spent_usd");
      w.tokens += integer_of(run.result, "tokens");
      w.calls += integer_of(run.result, "llm_calls");
      const std::string day = runtime::iso8601(run.started_ms).substr(0, 10);
      Spend& d = by_day[{day, run.workflow}];
      ++d.runs;
      d.usd += number_of(run.result, "spent_usd");
      d.tokens += integer_of(run.result, "tokens");
      d.calls += integer_of(run.result, "llm_calls");
    }
    auto events = feed->events(run.run_id);
    if (!events.ok()) {
      ++skipped;
      continue;
    }
    for (const auto& e : *events) {
      if (e.type != "llm_settled") continue;
      Spend& t = by_tier[{run.workflow, string_of(e.payload, "tier")}];
      ++t.calls;
      t.tokens += integer_of(e.payload, "tokens");
      t.usd += number_of(e.payload, "cost_usd");
    }
  }
  nlohmann::json workflows = nlohmann::json::array(), tiers = nlohmann::json::array(),
                 days = nlohmann::json::array();
  for (const auto& [name, s] : by_workflow) {
    workflows.push_back({{"workflow", name},
                         {"runs", s.runs},
                         {"spent_usd", s.usd},
                         {"tokens", s.tokens},
                         {"llm_calls", s.calls}});
  }
  for (const auto& [key, s] : by_tier) {
    tiers.push_back({{"workflow", key.first},
                     {"tier", key.second},
                     {"calls", s.calls},
                     {"tokens", s.tokens},
                     {"cost_usd", s.usd}});
  }
  for (const auto& [key, s] : by_day) {
    days.push_back({{"day", key.first},
                    {"workflow", key.second},
                    {"runs", s.runs},
                    {"spent_usd", s.usd},
                    {"tokens", s.tokens},
                    {"llm_calls", s.calls}});
  }
  return json_response(200, {{"runs", runs->size()},
                             {"skipped", skipped},
                             {"workflows", workflows},
                             {"tiers", tiers},
                             {"days", days}});
}

}  // namespace switchyard::service
