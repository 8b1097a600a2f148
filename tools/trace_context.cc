#include "tools/trace_context.h"

#include <atomic>
#include <charconv>
#include <cstdint>

#include "graph/splitmix.h"

namespace switchyard::tools {
namespace {

std::atomic<bool> enabled{false};

// FNV-1a over the bytes of one or more pieces, then SplitMix64 to spread them; `seed` separates
// the id kinds.
class TraceIdHash {
 public:
  explicit TraceIdHash(std::uint64_t seed) : h_(0xcbf29ce484222325ULL ^ splitmix64(seed)) {}
  TraceIdHash& add(std::string_view text) {
    for (const char c : text) {
      h_ ^= static_cast<unsigned char>(c);
      h_ *= 0x100000001b3ULL;
    }
    return *this;
  }
  std::uint64_t done() const {
    const std::uint64_t h = splitmix64(h_);
    return h == 0 ? 1 : h;  // an all-zero id is invalid
  }

 private:
  std::uint64_t h_;
};

std::uint64_t hash(std::string_view text, std::uint64_t seed) {
  return TraceIdHash(seed).add(text).done();
}

void write_hex16(char* out, std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kDigits[v & 0xf];
}

std::string hex16(std::uint64_t v) {
  std::string out(16, '0');
  write_hex16(out.data(), v);
  return out;
}

}  // namespace

std::string trace_id_hex(std::string_view run_id) {
  return hex16(hash(run_id, 1)) + hex16(hash(run_id, 2));
}

std::uint64_t run_span_id(std::string_view run_id) { return hash(run_id, 3); }
std::string run_span_id_hex(std::string_view run_id) { return hex16(run_span_id(run_id)); }

std::uint64_t call_span_id(std::string_view run_id, std::string_view tool, int call) {
  // The hash of "<run id>\x1f<tool>\x1f<call>", fed piece by piece.
  char digits[16];
  const auto end = std::to_chars(digits, digits + sizeof digits, call).ptr;
  return TraceIdHash(4)
      .add(run_id)
      .add("\x1f")
      .add(tool)
      .add("\x1f")
      .add(std::string_view(digits, static_cast<std::size_t>(end - digits)))
      .done();
}

std::string call_span_id_hex(std::string_view run_id, std::string_view tool, int call) {
  return hex16(call_span_id(run_id, tool, call));
}

void append_trace_id_hex(std::string& out, std::string_view run_id) {
  const std::size_t at = out.size();
  out.resize(at + 32);
  write_hex16(out.data() + at, hash(run_id, 1));
  write_hex16(out.data() + at + 16, hash(run_id, 2));
}

void append_span_id_hex(std::string& out, std::uint64_t span_id) {
  const std::size_t at = out.size();
  out.resize(at + 16);
  write_hex16(out.data() + at, span_id);
}

std::string traceparent(std::string_view run_id, std::string_view tool, int call) {
  return "00-" + trace_id_hex(run_id) + "-" + call_span_id_hex(run_id, tool, call) + "-01";
}

void set_traceparent_enabled(bool on) { enabled.store(on, std::memory_order_relaxed); }
bool traceparent_enabled() { return enabled.load(std::memory_order_relaxed); }

}  // namespace switchyard::tools
