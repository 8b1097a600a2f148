#include "runtime/service/log.h"

#include "runtime/base/log.h"

namespace switchyard::service {

spdlog::logger& logger() {
  // Never destroyed: a thread a program leaves running at exit (an engine's, a service's) may
  // still log while the static objects are destroyed, in whatever order they were made.
  static const auto* const instance =
      new std::shared_ptr<spdlog::logger>(runtime::layer_logger("service"));
  return **instance;
}

}  // namespace switchyard::service
