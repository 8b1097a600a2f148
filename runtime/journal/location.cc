// Which journal a journal argument names, and how to print it (runtime/journal/journal.h).

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/journal/journal.h"

namespace switchyard::runtime {
namespace {

// `text` percent-decoded as libpq decodes a URI's parts ("" when it is not valid encoding).
std::string uri_percent_decoded(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size() || hex(text[i + 1]) < 0 || hex(text[i + 2]) < 0) return "";
    out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
    i += 2;
  }
  return out;
}

// Where a PostgreSQL URI holds a password: (offset, length) spans, in order.
// - The user-info's: between the first ':' after "://" and the last '@' before the query. (libpq
//   ends the user-info at the first '@' or '/': a password with an unencoded '/' or '@' is then
//   read as something else, but it is still hidden. A database name with an '@' hides a little
//   more than the password: printing too little is the safe side.)
// - Each `password=` parameter's value (its key percent-encoded or not, as libpq decodes it).
std::vector<std::pair<std::size_t, std::size_t>> uri_password_spans(std::string_view url) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  const std::size_t authority = url.find("://") + 3;
  const std::size_t query = std::min(url.find('?', authority), url.size());
  const std::size_t at = query == authority ? std::string_view::npos : url.rfind('@', query - 1);
  if (at != std::string_view::npos && at >= authority) {
    const std::size_t colon = url.find(':', authority);
    if (colon < at) out.emplace_back(colon + 1, at - colon - 1);
  }
  std::size_t pos = query;
  while (pos < url.size()) {
    const std::size_t key = pos + 1;
    const std::size_t next = std::min(url.find('&', key), url.size());
    const std::string_view param = url.substr(key, next - key);
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && uri_percent_decoded(param.substr(0, eq)) == "password") {
      out.emplace_back(key + eq + 1, param.size() - eq - 1);
    }
    pos = next;
  }
  return out;
}

void replace_every(std::string& text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (std::size_t pos = text.find(what); pos != std::string::npos;
       pos = text.find(what, pos + with.size())) {
    text.replace(pos, what.size(), with);
  }
}

}  // namespace

bool is_postgres_location(const std::string& location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::string printable_location(const std::string& location) {
  if (!is_postgres_location(location)) return location;
  std::string out = location;
  const auto spans = uri_password_spans(location);
  for (auto it = spans.rbegin(); it != spans.rend(); ++it)
    out.replace(it->first, it->second, "***");
  return out;
}

std::string without_password(std::string text, const std::string& location) {
  if (!is_postgres_location(location)) return text;
  replace_every(text, location, printable_location(location));
  for (const auto& [offset, length] : uri_password_spans(location)) {
    const std::string_view secret = std::string_view(location).substr(offset, length);
    replace_every(text, secret, "***");
    replace_every(text, uri_percent_decoded(secret), "***");
    // libpq cuts a user-info at an unencoded '/' or '@' and may quote a piece ("invalid integer
    // value "s3" for connection option "port""): each piece is hidden too.
    for (std::size_t start = 0; start < secret.size();) {
      const std::size_t end = std::min(secret.find_first_of("/@", start), secret.size());
      if (end - start < secret.size())
        replace_every(text, secret.substr(start, end - start), "***");
      start = end + 1;
    }
  }
  return text;
}

Result<std::unique_ptr<Journal>> open_journal(const std::string& location,
                                              const JournalOptions& options) {
  if (is_postgres_location(location)) return open_postgres_journal(location, options);
  return open_sqlite_journal(location, options);
}

}  // namespace switchyard::runtime
