#pragma once
// The real clock. Only runtime/ makes one and hands it down as a Clock&.

#include "graph/clock.h"

namespace switchyard::runtime {

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace switchyard::runtime
