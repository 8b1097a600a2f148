#include "runtime/base/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

namespace switchyard::runtime {
namespace {

struct Armed {
  std::string name;  // empty: disarmed
  long at = 0;
  std::atomic<long> hits{0};
};

Armed& armed() {
  static Armed* a = [] {
    auto* out = new Armed();
    const char* spec = std::getenv("SWITCHYARD_CRASH_AT");
    if (spec == nullptr) return out;
    const char* colon = std::strrchr(spec, ':');
    if (colon == nullptr) return out;
    out->name.assign(spec, colon);
    out->at = std::strtol(colon + 1, nullptr, 10);
    return out;
  }();
  return *a;
}

}  // namespace

bool crash_point_armed(const char* name) {
  const Armed& a = armed();
  return !a.name.empty() && a.name == name;
}

void crash_point(const char* name) {
  Armed& a = armed();
  if (a.name.empty() || a.name != name) return;
  if (a.hits.fetch_add(1) + 1 == a.at) ::kill(::getpid(), SIGKILL);
}

}  // namespace switchyard::runtime
