#pragma once
// Runs of one tenant on two engines (two processes' journals on one database), as the SQLite and
// the PostgreSQL tenant tests both drive them (docs/budgets.md#tenant-budgets).

#include <memory>

#include "graph/workflow.h"
#include "runtime/journal/journal.h"
#include "tools/tool_set.h"

namespace switchyard::testing {

// Eight runs of tenant "acme" of `workflow` (S -> Pay -> Done, or S -> Free -> Done when Pay is
// refused), four on an engine over journal `a` and four on one over `b`, submitted at once; then
// checks that each completed and verifies (replay --verify), that `paid` of them called Pay and
// the others' Pay failed budget_exhausted naming the tenant, that together they spent at most
// `cap_usd`, and that the tenant's row holds what they spent and nothing reserved. (Set acme's
// cap first.)
void check_two_engines_share_a_tenant(runtime::Journal& a, runtime::Journal& b,
                                      const std::shared_ptr<const graph::Workflow>& workflow,
                                      const std::shared_ptr<tools::ToolSet>& tools, double cap_usd,
                                      int paid);

}  // namespace switchyard::testing
