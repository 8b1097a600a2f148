#pragma once
// Properties every fuzz target checks besides "no crash", shared by tests/fuzz/*_fuzz.cc.
// A failed check aborts, which libFuzzer reports as a crash and keeps the input.

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace switchyard::fuzz {

// Stops the process with `what`: the input is a finding.
[[noreturn]] inline void fail(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "fuzz check failed: %.*s: %.*s\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// `text` is safe to put in a JSON string and dump (valid UTF-8): messages, diagnostics and
// error bodies are printed as JSON (`--json`, the service's error bodies).
inline void expect_json_safe(const std::string& text, std::string_view what) {
  try {
    (void)nlohmann::json(text).dump();
  } catch (const nlohmann::json::exception& e) {
    fail(what, std::string(e.what()) + " in: " + text.substr(0, 200));
  }
}

}  // namespace switchyard::fuzz
