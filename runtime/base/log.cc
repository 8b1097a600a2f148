#include "runtime/base/log.h"

namespace switchyard::runtime {

spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> instance = [] {
    if (auto existing = spdlog::get("runtime")) return existing;
    return spdlog::default_logger()->clone("runtime");
  }();
  return *instance;
}

}  // namespace switchyard::runtime
