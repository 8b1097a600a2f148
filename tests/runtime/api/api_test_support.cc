#include "api_test_support.h"

#include <stdlib.h>

#include <cstdio>

namespace switchyard::api_test {

api::Workflow chain(const std::vector<std::string>& names, const json& extra_tools) {
  json tools = json::object(), edges = json::array();
  std::string prev = "Start";
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string id = "T" + std::to_string(i);
    tools[id] = {{"kind", "builtin"}, {"name", names[i]}, {"idempotent", true}};
    edges.push_back({prev, id, 1.0});
    prev = id;
  }
  for (const auto& [id, t] : extra_tools.items()) tools[id].update(t);
  json w = {{"format", "switchyard.workflow/v1"},
            {"name", "chain"},
            {"start", "Start"},
            {"goal", prev},
            {"tools", tools},
            {"edges", edges}};
  auto loaded = api::Workflow::from_json(w.dump(), "chain.json");
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  return *loaded;
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "switchyard-api-XXXXXX");
  path_ = ::mkdtemp(pattern.data());
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void write_file(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr) << path;
  std::fputs(text.c_str(), f);
  std::fclose(f);
}

std::unique_ptr<api::Runtime> open_runtime(api::RuntimeOptions options) {
  if (options.threads == 0) options.threads = 2;
  auto rt = api::Runtime::open(std::move(options));
  EXPECT_TRUE(rt.ok()) << rt.status().to_string();
  return rt.ok() ? std::move(*rt) : nullptr;
}

json output_of(const api::Runtime& rt, const std::string& run_id, const std::string& tool) {
  auto events = rt.events(run_id);
  EXPECT_TRUE(events.ok()) << events.status().to_string();
  if (!events.ok()) return nullptr;
  for (const auto& e : *events) {
    if (e.type == "step_succeeded" && e.payload.value("tool", "") == tool)
      return e.payload["output"];
  }
  return nullptr;
}

std::vector<json> payloads_of(const api::Runtime& rt, const std::string& run_id,
                              const std::string& type) {
  auto events = rt.events(run_id);
  EXPECT_TRUE(events.ok()) << events.status().to_string();
  std::vector<json> out;
  if (!events.ok()) return out;
  for (const auto& e : *events) {
    if (e.type == type) out.push_back(e.payload);
  }
  return out;
}

api::Status add_echo(api::Runtime& rt, const std::string& name) {
  return rt.add_tool(name, [](const json& ctx) -> api::Result<json> {
    return json{{"steps_seen", ctx["steps"].size()},
                {"customer", ctx["input"].value("customer", "")}};
  });
}

}  // namespace switchyard::api_test
