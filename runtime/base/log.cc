#include "runtime/base/log.h"

namespace switchyard::runtime {

std::shared_ptr<spdlog::logger> layer_logger(const std::string& name) {
  if (auto existing = spdlog::get(name)) return existing;
  return spdlog::default_logger()->clone(name);
}

spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> instance = layer_logger("runtime");
  return *instance;
}

}  // namespace switchyard::runtime
