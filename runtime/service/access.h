#pragma once
// Who may call the service and how much: bearer tokens (compared in constant time), a token
// bucket per token (requests per second with a burst) and a cap on each token's runs in flight.
//
// Thread-safe. Tokens are never logged or returned: callers name a token by its index.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "graph/status.h"

namespace switchyard::service {

class TokenSet {
 public:
  // REQUIRES: no token is empty.
  explicit TokenSet(std::vector<std::string> tokens);

  // The tokens of `text`: comma- or newline-separated, blanks trimmed, empty ones and lines
  // starting with '#' skipped.
  static std::vector<std::string> parse(const std::string& text);

  // The index of the token an `Authorization: Bearer <token>` header carries, or nullopt (no
  // header, another scheme, an unknown token). Every configured token is compared, each by
  // CRYPTO_memcmp of SHA-256 digests, so the time taken says nothing about how much matched.
  std::optional<int> match(const std::string& authorization) const;

  bool empty() const { return digests_.empty(); }
  std::size_t size() const { return digests_.size(); }

 private:
  std::vector<std::string> digests_;  // SHA-256 of each token (32 bytes)
};

struct RateOptions {
  double per_second = 50;  // sustained requests per second per token; <= 0: no limit
  double burst = 100;      // bucket size: requests allowed at once
};

// A token bucket per token. Time is given by the caller (the service passes a steady clock).
class RateLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  RateLimiter(RateOptions options, std::size_t tokens);

  // Takes one request from token `token`'s bucket at `now`. nullopt: allowed; otherwise how long
  // until one is (Retry-After), in whole seconds rounded up, at least 1.
  std::optional<std::chrono::seconds> take(std::size_t token, TimePoint now);

 private:
  struct Bucket {
    double level = 0;
    std::optional<TimePoint> last;
  };
  RateOptions options_;
  std::mutex mu_;
  std::vector<Bucket> buckets_;  // under mu_
};

// Runs in flight per token, at most `limit` each (<= 0: no limit).
class RunSlots {
 public:
  RunSlots(int limit, std::size_t tokens) : limit_(limit), in_flight_(tokens, 0) {}
  // Takes a slot for token `token`; false when it has `limit` runs in flight.
  bool acquire(std::size_t token);
  // Gives one back. REQUIRES: acquired.
  void release(std::size_t token);

 private:
  int limit_;
  std::mutex mu_;
  std::vector<int> in_flight_;  // under mu_
};

}  // namespace switchyard::service
