#pragma once
// The benchmarks' logs (every Google Benchmark program here links bench_logs.cc): they measure,
// so they log warnings and errors only, from the start (see quiet_logs).

#include <spdlog/spdlog.h>

namespace switchyard::bench {

// Logs below `level` are dropped: spdlog's default logger and the runtime's own logger
// (runtime/base/log.h), a clone of the default made at its first use, which spdlog::set_level
// alone no longer reaches once it exists.
void quiet_logs(spdlog::level::level_enum level);

}  // namespace switchyard::bench
