#include "tools/trace_context.h"

#include <atomic>
#include <cstdint>

#include "graph/splitmix.h"

namespace switchyard::tools {
namespace {

std::atomic<bool> enabled{false};

// FNV-1a over the bytes, then SplitMix64 to spread them; `seed` separates the id kinds.
std::uint64_t hash(std::string_view text, std::uint64_t seed) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ splitmix64(seed);
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  h = splitmix64(h);
  return h == 0 ? 1 : h;  // an all-zero id is invalid
}

std::string hex16(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = kDigits[v & 0xf];
  return out;
}

}  // namespace

std::string trace_id_hex(std::string_view run_id) {
  return hex16(hash(run_id, 1)) + hex16(hash(run_id, 2));
}

std::string run_span_id_hex(std::string_view run_id) { return hex16(hash(run_id, 3)); }

std::string call_span_id_hex(std::string_view run_id, std::string_view tool, int call) {
  std::string key(run_id);
  key += '\x1f';
  key += tool;
  key += '\x1f';
  key += std::to_string(call);
  return hex16(hash(key, 4));
}

std::string traceparent(std::string_view run_id, std::string_view tool, int call) {
  return "00-" + trace_id_hex(run_id) + "-" + call_span_id_hex(run_id, tool, call) + "-01";
}

void set_traceparent_enabled(bool on) { enabled.store(on, std::memory_order_relaxed); }
bool traceparent_enabled() { return enabled.load(std::memory_order_relaxed); }

}  // namespace switchyard::tools
