#pragma once
// Formatting shared by the commands that print journals (runs, replay, gc): runtime's
// journal_text.h, named in the CLI's namespace.

#include "runtime/journal/text.h"

namespace switchyard::cli {

using runtime::duration;
using runtime::iso8601;
using runtime::parse_duration;
using runtime::parse_iso8601;
using runtime::route_text;
using runtime::run_json;
using runtime::summarize;

}  // namespace switchyard::cli
