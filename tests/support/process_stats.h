#pragma once
// What this process has used so far, for benchmarks: CPU time of all its threads or of one named
// thread (runtime threads are named sy-engine-N, sy-journal, ...), and its peak resident set.

#include <string>

namespace switchyard::testing {

// CPU time (user + system) of every thread of this process so far, in seconds.
double process_cpu_s();
// CPU time so far of this process's threads named `name` (all of them, while they live), in
// seconds; 0 if there is none.
// Resolution: the kernel's clock tick (usually 10 ms).
double thread_cpu_s(const std::string& name);
// Peak resident set size of this process (VmHWM), in KiB.
long peak_rss_kib();

}  // namespace switchyard::testing
