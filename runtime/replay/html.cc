// render_html (runtime/replay/render.h): one self-contained page for a person. No scripts and
// no external assets: the graph is inline SVG and the style sheet is inline.

#include <cstdlib>
#include <string>

#include "graph/json_read.h"
#include "runtime/base/money.h"
#include "runtime/journal/text.h"
#include "runtime/replay/graphviz_svg.h"
#include "runtime/replay/html_escape.h"
#include "runtime/replay/render.h"

namespace switchyard::runtime {
namespace {

constexpr const char* kStyle = R"css(
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
         color: #212121; margin: 24px auto; max-width: 1400px; padding: 0 24px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h1 code { font-size: 20px; }
  h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #e0e0e0; }
  code, pre, td.num { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
  .status { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600;
            color: white; background: #757575; }
  .status-completed { background: #2e7d32; }
  .status-demoted { background: #ef6c00; }
  .status-escalated, .status-failed { background: #c62828; }
  .status-running { background: #f9a825; color: #212121; }
  dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 12px 0; }
  dl.facts dt { color: #616161; }
  dl.facts dd { margin: 0; overflow-wrap: anywhere; }
  .escalation { border-left: 4px solid #c62828; background: #ffebee; padding: 8px 16px; }
  .escalation h2 { border: 0; margin-top: 8px; }
  figure { margin: 0; overflow-x: auto; border: 1px solid #e0e0e0; border-radius: 6px;
           padding: 8px; background: white; }
  figure svg { max-width: 100%; height: auto; }
  table.timeline { border-collapse: collapse; width: 100%; font-size: 14px; }
  table.timeline th { text-align: left; background: #f5f5f5; position: sticky; top: 0; }
  table.timeline th, table.timeline td { padding: 3px 8px; border-bottom: 1px solid #eeeeee;
                                         vertical-align: top; }
  table.timeline td.num { text-align: right; white-space: nowrap; color: #616161; }
  table.timeline td.type { white-space: nowrap; font-weight: 600; }
  table.timeline td.summary { overflow-wrap: anywhere; }
  tr.bad td.type { color: #c62828; }
  tr.heal td.type { color: #ef6c00; }
  tr.back td.type { color: #6a1b9a; }
  tr.done td.type { color: #2e7d32; }
  pre { background: #fafafa; border: 1px solid #eeeeee; padding: 8px; overflow-x: auto;
        white-space: pre-wrap; overflow-wrap: anywhere; }
  footer { margin-top: 28px; color: #757575; font-size: 13px; }
)css";

// A timeline row's class: what kind of moment it is, for colour.
const char* row_class(const std::string& type) {
  if (type == "step_failed" || type == "escalated" || type == "failed" || type == "cancelled") {
    return "bad";
  }
  if (type == "reroute" || type == "step_retry" || type == "breaker" || type == "reweighted" ||
      type == "run_interrupted" || type == "resumed") {
    return "heal";
  }
  if (type == "backtrack" || type == "goal_demoted" || type == "compensation") return "back";
  if (type == "step_succeeded" || type == "run_finished") return "done";
  return "";
}

// Replaces the value of attribute `name` in the tag that starts at `tag`: Graphviz writes sizes
// in points ("240pt"), which HTML does not accept; CSS pixels are 4/3 of a point.
void points_to_pixels(std::string& svg, std::size_t tag, const std::string& name) {
  const std::size_t end = svg.find('>', tag);
  const std::string key = " " + name + "=\"";
  const std::size_t at = svg.find(key, tag);
  if (at == std::string::npos || at > end) return;
  const std::size_t value = at + key.size();
  const std::size_t close = svg.find('"', value);
  if (close == std::string::npos) return;
  const std::string text = svg.substr(value, close - value);
  if (text.size() < 3 || text.compare(text.size() - 2, 2, "pt") != 0) return;
  const double points = std::strtod(text.c_str(), nullptr);
  svg.replace(value, close - value, std::to_string(static_cast<long>(points * 4 / 3 + 0.5)));
}

// The <svg> element of Graphviz's document, ready to sit inside HTML: no XML prolog or doctype,
// sizes in pixels, and no <title>s (they name DOT ids, which mean nothing to a reader).
std::string inline_svg(const std::string& document) {
  const std::size_t start = document.find("<svg");
  std::string svg = start == std::string::npos ? document : document.substr(start);
  points_to_pixels(svg, 0, "width");
  points_to_pixels(svg, 0, "height");
  for (std::size_t at = svg.find("<title>"); at != std::string::npos;
       at = svg.find("<title>", at)) {
    const std::size_t end = svg.find("</title>", at);
    if (end == std::string::npos) break;
    std::size_t stop = end + 8;
    if (stop < svg.size() && svg[stop] == '\n') ++stop;
    svg.erase(at, stop - at);
  }
  return svg;
}

std::string fact(const std::string& name, const std::string& value_html) {
  return "<dt>" + html_escape(name) + "</dt><dd>" + value_html + "</dd>\n";
}

// A value as text: a string as it is, anything else as compact JSON.
std::string value_text(const nlohmann::json& v) {
  auto text = JsonView(v).string();
  return text.ok() ? *text : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// result[key] as text; "-" when the result has no such member (or is no object).
std::string json_text(const nlohmann::json& result, const char* key) {
  const JsonView r(result);
  if (!r.is_object()) return "-";
  auto v = r.field(key);
  return v.ok() ? value_text(v->json()) : "-";
}

// "$0.0125" (runtime/base/money.h, as `runs` prints it), or "-" without a result.
std::string spent_text(const nlohmann::json& result) {
  auto usd = JsonView(lenient_member(result, "spent_usd")).number();
  return usd.ok() ? usd_text(*usd) : "-";
}

std::string facts(const RunRecord& run) {
  const nlohmann::json& r = run.result;
  std::string out = "<dl class=\"facts\">\n";
  out += fact("Workflow", html_escape(run.workflow) + " <code>sha256 " +
                              html_escape(run.workflow_hash.substr(0, 12)) + "</code>");
  out += fact("Started", html_escape(iso8601(run.started_ms)));
  out += fact("Duration", run.finished_ms ? html_escape(duration(run.finished_ms - run.started_ms))
                                          : "running");
  out += fact("Goal", html_escape(json_text(r, "goal")));
  out += fact("Path", r.is_object() ? html_escape(route_text(lenient_member(r, "path"))) : "-");
  out += fact("Reroutes / backtracks",
              html_escape(json_text(r, "reroutes") + " / " + json_text(r, "backtracks")));
  out += fact("LLM calls", html_escape(json_text(r, "llm_calls")));
  out += fact("Spent", html_escape(spent_text(r) + ", " + json_text(r, "tokens") + " tokens"));
  out += fact("Input", "<code>" +
                           html_escape(run.input.dump(-1, ' ', false,
                                                      nlohmann::json::error_handler_t::replace)) +
                           "</code>");
  return out + "</dl>\n";
}

// The escalation (reason, message, where, cut set), from the last `escalated` event or, for a
// journal without one, from the result. "" when the run did not escalate.
std::string escalation(const RunRecord& run, const std::vector<Event>& events) {
  nlohmann::json e;
  for (const auto& ev : events) {
    if (ev.type == "escalated") e = ev.payload;
  }
  if (e.is_null() && lenient_member(run.result, "escalation").is_object()) {
    e = lenient_member(run.result, "escalation");
  }
  if (!e.is_object()) return "";
  std::string out = "<section class=\"escalation\">\n<h2>Escalated";
  if (!lenient_member(e, "reason").is_null()) out += ": " + html_escape(json_text(e, "reason"));
  out += "</h2>\n<p>" + html_escape(json_text(e, "message")) + "</p>\n";
  if (!lenient_member(e, "at").is_null()) {
    out += "<p>At <code>" + html_escape(json_text(e, "at")) + "</code>.</p>\n";
  }
  out += "<p>Cut set (the tools that blocked every route): ";
  const JsonView blocked(lenient_member(e, "blocked"));
  if (!blocked.is_array() || blocked.size() == 0) {
    out += "none";
  } else {
    for (std::size_t i = 0; i < blocked.size(); ++i) {
      auto name = blocked.element(i);
      if (!name.ok()) continue;
      out += (i ? ", " : "") + std::string("<code>") + html_escape(value_text(name->json())) +
             "</code>";
    }
  }
  return out + ".</p>\n</section>\n";
}

std::string timeline(const RunRecord& run, const std::vector<Event>& events) {
  std::string out =
      "<table class=\"timeline\">\n<thead><tr><th>#</th><th>+time</th><th>type</th>"
      "<th>summary</th></tr></thead>\n<tbody>\n";
  for (const auto& e : events) {
    const char* cls = row_class(e.type);
    out += *cls != '\0' ? std::string("<tr class=\"") + cls + "\">" : std::string("<tr>");
    out += "<td class=\"num\">" + std::to_string(e.seq) + "</td><td class=\"num\">+" +
           html_escape(duration(e.time_ms - run.started_ms)) + "</td><td class=\"type\">" +
           html_escape(e.type) + "</td><td class=\"summary\">" + html_escape(summarize(e)) +
           "</td></tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

}  // namespace

Result<std::string> render_html(const graph::Workflow& workflow, const RunRecord& run,
                                const std::vector<Event>& events) {
  auto svg = render_svg(render_dot(workflow, run, events));
  if (!svg.ok()) return svg.status();
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + html_escape("Run " + run.run_id + " of " + run.workflow + ": " + run.status) +
         "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<header>\n";
  out += "<h1>Run <code>" + html_escape(run.run_id) + "</code></h1>\n";
  out += "<p><span class=\"status status-" + html_escape(run.status) + "\">" +
         html_escape(run.status) + "</span></p>\n" + facts(run) + "</header>\n";
  out += escalation(run, events);
  out += "<section>\n<h2>Graph</h2>\n<figure>\n" + inline_svg(*svg) + "</figure>\n</section>\n";
  out += "<section>\n<h2>Timeline</h2>\n" + timeline(run, events) + "</section>\n";
  out +=
      "<section>\n<h2>Result</h2>\n<pre>" +
      html_escape(run.result.is_null()
                      ? "(no result: the run has not finished)"
                      : run.result.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)) +
      "</pre>\n</section>\n";
  out += "<footer>switchyard replay --format html: " + std::to_string(events.size()) +
         " event(s); head hash <code>" + html_escape(run.head_hash.empty() ? "-" : run.head_hash) +
         "</code></footer>\n</body>\n</html>\n";
  return out;
}

}  // namespace switchyard::runtime
