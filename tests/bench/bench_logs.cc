#include "tests/bench/bench_logs.h"

#include "runtime/base/log.h"

namespace switchyard::bench {

void quiet_logs(spdlog::level::level_enum level) {
  spdlog::set_level(level);
  runtime::logger().set_level(level);
}

namespace {

// Before main: a benchmark's engine, worker or journal never logs at info into its figures.
[[maybe_unused]] const bool quiet_from_the_start = [] {
  quiet_logs(spdlog::level::warn);
  return true;
}();

}  // namespace
}  // namespace switchyard::bench
