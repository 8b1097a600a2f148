#include "tools/mock_tool.h"

#include <algorithm>

#include "graph/splitmix.h"

namespace switchyard::tools {
namespace {

Outcome injected_failure(const std::string& id, int call_number) {
  return Outcome::failed(FailureKind::kInjected, id + " failed (scripted failure of call " +
                                                     std::to_string(call_number) + ")");
}

class MockTool final : public Tool {
 public:
  MockTool(std::string id, graph::MockTool spec) : id_(std::move(id)), spec_(std::move(spec)) {}

  void invoke(const Invocation& call, Done done) override {
    Outcome out = mock_fails(spec_.fail, call.call_number) ? injected_failure(id_, call.call_number)
                                                           : Outcome::success(spec_.output);
    out.latency = spec_.latency;
    out.simulated = true;
    done(std::move(out));
  }

 private:
  std::string id_;
  graph::MockTool spec_;
};

class MockModel final : public Tool {
 public:
  MockModel(std::string id, graph::MockFail fail) : id_(std::move(id)), fail_(std::move(fail)) {}

  void invoke(const Invocation& call, Done done) override {
    Outcome out;
    if (mock_fails(fail_, call.call_number)) {
      out = injected_failure(id_, call.call_number);
    } else {
      out = Outcome::success(answer(*call.context));
      out.tokens = 0;
    }
    out.llm_call = true;
    done(std::move(out));
  }

 private:
  static nlohmann::json answer(const nlohmann::json& context) {
    auto options = context.find("options");
    if (options == context.end()) return {{"text", "mock answer"}};
    if (options->is_array() && !options->empty()) {
      return {{"action", "demote"}, {"goal", options->front()}};
    }
    return {{"action", "escalate"}, {"message", "no option is left"}};
  }

  std::string id_;
  graph::MockFail fail_;
};

}  // namespace

bool mock_fails(const graph::MockFail& fail, int call_number) {
  using Mode = graph::MockFail::Mode;
  switch (fail.mode) {
    case Mode::kNever:
      return false;
    case Mode::kAlways:
      return true;
    case Mode::kCalls:
      return std::find(fail.calls.begin(), fail.calls.end(), call_number) != fail.calls.end();
    case Mode::kRate: {
      // A hash of (seed, call): each call's draw is independent of history.
      const std::uint64_t h =
          splitmix64(fail.seed ^ splitmix64(static_cast<std::uint64_t>(call_number)));
      const double u = static_cast<double>(h >> 11) * 0x1.0p-53;  // uniform in [0, 1)
      return u < fail.rate;
    }
  }
  return false;
}

std::unique_ptr<Tool> make_mock_tool(std::string id, graph::MockTool spec) {
  return std::make_unique<MockTool>(std::move(id), std::move(spec));
}

std::unique_ptr<Tool> make_mock_model(std::string id, graph::MockFail fail) {
  return std::make_unique<MockModel>(std::move(id), std::move(fail));
}

}  // namespace switchyard::tools
