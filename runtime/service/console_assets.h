#pragma once
// The web console's static files (runtime/service/console/, docs/console.md), compiled into the
// program: console_assets.cc is generated at build time by cmake/embed_files.cmake.

#include <span>
#include <string_view>

namespace switchyard::service {

struct ConsoleAsset {
  std::string_view name;  // the file's name under console/: "index.html", "app.js"
  std::string_view body;  // its bytes
};

// Every file, in name order. Thread-safe (constant data).
std::span<const ConsoleAsset> console_assets();

}  // namespace switchyard::service
