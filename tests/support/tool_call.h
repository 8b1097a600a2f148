#pragma once
// Calling one tool from a test: invoke it once and wait for the outcome (http, command and llm
// tools answer on threads of their own), and the models file of one tier that the fault server's
// fake chat API serves.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/fault_server.h"
#include "tools/models.h"
#include "tools/tool.h"

namespace switchyard::testing {

// Invokes `tool` once with `context` ({"input": ..., "steps": ...}) and waits for its outcome.
tools::Outcome invoke_and_wait(tools::Tool& tool, const nlohmann::json& context,
                               std::shared_ptr<tools::CallCancel> cancel = nullptr);

// One tier, `cheap` ($1 per million tokens in, $4 out), whose model is `model` (the fake chat
// API's script, tests/support/fault_server.h) on `server`; `key_env` names the API key's
// environment variable ("" for none).
tools::Models fake_chat_models(const FaultServer& server, const std::string& model,
                               const std::string& key_env = "");

}  // namespace switchyard::testing
