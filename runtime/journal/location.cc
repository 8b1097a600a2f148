// Which journal a journal argument names, and how to print it (runtime/journal/journal.h).

#include <string_view>

#include "runtime/journal/journal.h"

namespace switchyard::runtime {

bool is_postgres_location(const std::string& location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::string printable_location(const std::string& location) {
  if (!is_postgres_location(location)) return location;
  std::string out = location;
  // user-info: between "://" and the first '@' before the path, a ':' starts the password.
  const std::size_t authority = out.find("://") + 3;
  const std::size_t end = out.find_first_of("/?#", authority);
  const std::size_t at = out.rfind('@', end == std::string::npos ? out.size() : end);
  if (at != std::string::npos && at >= authority) {
    const std::size_t colon = out.find(':', authority);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // A password parameter: ?password=... or &password=...
  const std::size_t query = out.find('?');
  if (query != std::string::npos) {
    std::size_t pos = query;
    while (pos != std::string::npos && pos < out.size()) {
      const std::size_t key = pos + 1;
      std::size_t next = out.find('&', key);
      const std::string_view param(out.data() + key,
                                   (next == std::string::npos ? out.size() : next) - key);
      if (param.starts_with("password=")) {
        const std::size_t value = key + 9;
        out.replace(value, (next == std::string::npos ? out.size() : next) - value, "***");
        next = out.find('&', value);
      }
      pos = next;
    }
  }
  return out;
}

Result<std::unique_ptr<Journal>> open_journal(const std::string& location,
                                              const JournalOptions& options) {
  if (is_postgres_location(location)) return open_postgres_journal(location, options);
  return open_sqlite_journal(location, options);
}

}  // namespace switchyard::runtime
