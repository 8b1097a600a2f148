#pragma once
// replay --format dot|html: draws a journaled run (runtime/replay/render.h) from the workflow
// the journal stored for it.

#include <string>
#include <vector>

#include "runtime/cli/cli.h"
#include "runtime/journal/journal.h"

namespace switchyard::cli {

// Prints `run`'s picture in `format` ("dot" or "html") to ctx.out; returns the exit code.
// Errors (printed to ctx.err): the run's workflow is not in the journal (exit 2: runs journaled
// before schema v2), or cannot be loaded or drawn (exit 3).
int print_replay_picture(Context& ctx, const runtime::Journal& journal,
                         const runtime::RunRecord& run, const std::vector<runtime::Event>& events,
                         const std::string& format);

}  // namespace switchyard::cli
