#include "tests/support/watched_tool.h"

namespace switchyard::testing {

WatchedTool::WatchedTool(std::unique_ptr<tools::Tool> inner) : inner_(std::move(inner)) {}

void WatchedTool::invoke(const tools::Invocation& call, Done done) {
  inner_->invoke(call, [this, done = std::move(done)](tools::Outcome o) {
    seen.set_value(o);
    done(std::move(o));
  });
}

}  // namespace switchyard::testing
