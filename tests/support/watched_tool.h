#pragma once
// A tool wrapper for tests that reports the outcome the wrapped tool gave, even one the driver
// ignores (an aborted call's late kCancelled, say).

#include <future>
#include <memory>

#include "tools/tool.h"

namespace switchyard::testing {

class WatchedTool : public tools::Tool {
 public:
  explicit WatchedTool(std::unique_ptr<tools::Tool> inner);
  // Reports the first outcome to `seen`, then hands it on. REQUIRES: invoked once.
  void invoke(const tools::Invocation& call, Done done) override;
  // Fulfilled with the wrapped tool's outcome.
  std::promise<tools::Outcome> seen;

 private:
  std::unique_ptr<tools::Tool> inner_;
};

}  // namespace switchyard::testing
