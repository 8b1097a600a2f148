#include "runtime/service/log.h"

#include "runtime/base/log.h"

namespace switchyard::service {

spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> instance = runtime::layer_logger("service");
  return *instance;
}

}  // namespace switchyard::service
