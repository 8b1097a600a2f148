#include "tests/support/tool_call.h"

#include <future>
#include <utility>

namespace switchyard::testing {

tools::Outcome invoke_and_wait(tools::Tool& tool, const nlohmann::json& context,
                               std::shared_ptr<tools::CallCancel> cancel) {
  std::promise<tools::Outcome> p;
  tools::Invocation inv;
  inv.context = &context;
  inv.cancel = std::move(cancel);
  tool.invoke(inv, [&p](tools::Outcome o) { p.set_value(std::move(o)); });
  return p.get_future().get();
}

tools::Models fake_chat_models(const FaultServer& server, const std::string& model,
                               const std::string& key_env) {
  tools::ModelTier t;
  t.name = "cheap";
  t.model = model;
  t.base_url = server.url("/v1");
  t.api_key_env = key_env;
  t.input_usd_per_mtok = 1.0;
  t.output_usd_per_mtok = 4.0;
  tools::Models m;
  m.tiers.push_back(std::move(t));
  return m;
}

}  // namespace switchyard::testing
