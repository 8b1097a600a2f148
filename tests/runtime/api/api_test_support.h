#pragma once
// Helpers of the embedding API's tests (tests/runtime/api/): they use the public header only.

#include <gtest/gtest.h>
#include <switchyard/switchyard.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

namespace switchyard::api_test {

namespace api = switchyard::api;
using nlohmann::json;

// How long a test waits for something that should happen at once.
inline constexpr auto kWait = std::chrono::seconds(30);

// Start -> T0 -> ... -> T{n-1}, step i running the builtin names[i] (idempotent); `extra_tools`
// is merged into the tools (to add tools or override fields).
api::Workflow chain(const std::vector<std::string>& names, const json& extra_tools = {});

// A fresh directory under the system's temporary directory, removed at the end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void write_file(const std::string& path, const std::string& text);

// A Runtime (2 threads unless told); null, with a test failure, when it cannot be opened.
std::unique_ptr<api::Runtime> open_runtime(api::RuntimeOptions options = {});

// Waits (bounded) for a future's value.
template <typename T>
T await(std::future<T>& f) {
  EXPECT_EQ(f.wait_for(kWait), std::future_status::ready);
  return f.get();
}

// What step `tool` of run `run_id` returned (its step_succeeded event), or null.
json output_of(const api::Runtime& rt, const std::string& run_id, const std::string& tool);

// The payloads of run `run_id`'s events of `type`, in journal order.
std::vector<json> payloads_of(const api::Runtime& rt, const std::string& run_id,
                              const std::string& type);

// Registers the sync builtin `name`, answering {"steps_seen": <steps so far>, "customer": ...}.
api::Status add_echo(api::Runtime& rt, const std::string& name = "echo");

}  // namespace switchyard::api_test
