#include "runtime/base/log.h"

namespace switchyard::runtime {

std::shared_ptr<spdlog::logger> layer_logger(const std::string& name) {
  if (auto existing = spdlog::get(name)) return existing;
  return spdlog::default_logger()->clone(name);
}

spdlog::logger& logger() {
  // Never destroyed: a thread a program leaves running at exit (an engine's, a service's) may
  // still log while the static objects are destroyed, in whatever order they were made.
  static const auto* const instance = new std::shared_ptr<spdlog::logger>(layer_logger("runtime"));
  return **instance;
}

}  // namespace switchyard::runtime
