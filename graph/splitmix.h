#pragma once
// SplitMix64 (Steele, Lea and Flood, 2014): a well-mixed 64-bit hash of one 64-bit value. Where a
// pseudo-random draw must depend only on its inputs (a seed, a tool, a call number) and never on
// what was drawn before, so that a replay draws the same: mock failure rates, retry jitter.

#include <cstdint>

namespace switchyard {

constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace switchyard
