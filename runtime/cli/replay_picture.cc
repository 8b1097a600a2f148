#include "runtime/cli/replay_picture.h"

#include <ostream>

#include "graph/load.h"
#include "runtime/replay/render.h"

namespace switchyard::cli {

int print_replay_picture(Context& ctx, const runtime::Journal& journal,
                         const runtime::RunRecord& run, const std::vector<runtime::Event>& events,
                         const std::string& format) {
  auto source = journal.workflow_source(run.workflow_hash);
  if (!source.ok() && source.status().code() != StatusCode::kNotFound) {
    return report_error(ctx, source.status(), false);
  }
  if (!source.ok()) {
    return report_error(ctx,
                        not_found("run " + run.run_id + ": its workflow (sha256 " +
                                  run.workflow_hash + ") is not in the journal, so its graph " +
                                  "cannot be drawn (runs journaled before schema v2)"),
                        false);
  }
  const graph::LoadResult loaded = graph::load(*source, "journal:" + run.workflow_hash);
  if (!loaded.ok()) {
    *ctx.err << "error: run " << run.run_id << ": the journaled workflow does not load:\n";
    for (const auto& d : loaded.errors) *ctx.err << "  " << d.to_string() << "\n";
    return kExitInternal;
  }
  if (format == "dot") {
    *ctx.out << runtime::render_dot(*loaded.workflow, run, events);
    return kExitOk;
  }
  auto html = runtime::render_html(*loaded.workflow, run, events);
  if (!html.ok()) return report_error(ctx, internal_error(html.status().message()), false);
  *ctx.out << *html;
  return kExitOk;
}

}  // namespace switchyard::cli
