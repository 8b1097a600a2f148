#include "runtime/service/access.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cassert>
#include <cmath>

namespace switchyard::service {
namespace {

std::string sha256(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

}  // namespace

TokenSet::TokenSet(std::vector<std::string> tokens) {
  for (const auto& t : tokens) {
    assert(!t.empty());
    digests_.push_back(sha256(t));
  }
}

std::vector<std::string> TokenSet::parse(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find_first_of(",\n", start);
    if (end == std::string::npos) end = text.size();
    std::string token = trimmed(text.substr(start, end - start));
    if (!token.empty() && token[0] != '#') out.push_back(std::move(token));
    start = end + 1;
  }
  return out;
}

std::optional<int> TokenSet::match(const std::string& authorization) const {
  static constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  std::string scheme = authorization.substr(0, kScheme.size());
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
  if (scheme != "bearer ") return std::nullopt;
  const std::string presented = sha256(trimmed(authorization.substr(kScheme.size())));
  std::optional<int> found;
  for (std::size_t i = 0; i < digests_.size(); ++i) {
    // No early exit: every token is compared whatever matched.
    const bool equal =
        CRYPTO_memcmp(presented.data(), digests_[i].data(), SHA256_DIGEST_LENGTH) == 0;
    if (equal && !found) found = static_cast<int>(i);
  }
  return found;
}

RateLimiter::RateLimiter(RateOptions options, std::size_t tokens)
    : options_(options), buckets_(tokens) {}

std::optional<std::chrono::seconds> RateLimiter::take(std::size_t token, TimePoint now) {
  if (options_.per_second <= 0) return std::nullopt;
  std::lock_guard lock(mu_);
  Bucket& b = buckets_.at(token);
  const double burst = std::max(1.0, options_.burst);
  if (!b.last) {
    b.level = burst;
  } else {
    const double elapsed = std::chrono::duration<double>(now - *b.last).count();
    b.level = std::min(burst, b.level + std::max(0.0, elapsed) * options_.per_second);
  }
  b.last = now;
  if (b.level >= 1) {
    b.level -= 1;
    return std::nullopt;
  }
  const double wait = (1 - b.level) / options_.per_second;
  return std::chrono::seconds(
      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wait))));
}

bool RunSlots::acquire(std::size_t token) {
  std::lock_guard lock(mu_);
  int& n = in_flight_.at(token);
  if (limit_ > 0 && n >= limit_) return false;
  ++n;
  return true;
}

void RunSlots::release(std::size_t token) {
  std::lock_guard lock(mu_);
  int& n = in_flight_.at(token);
  assert(n > 0);
  --n;
}

}  // namespace switchyard::service
