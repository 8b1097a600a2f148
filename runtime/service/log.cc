#include "runtime/service/log.h"

namespace switchyard::service {

spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> instance = [] {
    if (auto existing = spdlog::get("service")) return existing;
    return spdlog::default_logger()->clone("service");
  }();
  return *instance;
}

}  // namespace switchyard::service
