#include "runtime/hash.h"

#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <memory>

namespace switchyard::runtime {

namespace {

std::string hex(const unsigned char* digest, unsigned int size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(size * 2, '\0');
  for (unsigned int i = 0; i < size; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return out;
}

// One SHA-256 computation fed in pieces. The algorithm is fetched once per process and each
// thread reuses its own context: OpenSSL 3 would otherwise look the algorithm up (under a lock)
// and allocate a context for every digest, which costs more than hashing an event.
class Sha256 {
 public:
  Sha256() : ctx_(context()) { EVP_DigestInit_ex(ctx_, algorithm(), nullptr); }
  Sha256& update(std::string_view bytes) {
    EVP_DigestUpdate(ctx_, bytes.data(), bytes.size());
    return *this;
  }
  std::string hex_digest() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_, digest.data(), &size);
    return hex(digest.data(), size);
  }

 private:
  static const EVP_MD* algorithm() {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md;
#else
    return EVP_sha256();
#endif
  }
  static EVP_MD_CTX* context() {
    struct Free {
      void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
    };
    thread_local const std::unique_ptr<EVP_MD_CTX, Free> ctx(EVP_MD_CTX_new());
    return ctx.get();
  }

  EVP_MD_CTX* ctx_;
};

// A JSON string of `text`, as nlohmann::json(text).dump() writes it. Plain printable ASCII (run
// ids, event types) needs no escaping; anything else is left to nlohmann.
void update_json_string(Sha256& sha, std::string_view text) {
  for (const char c : text) {
    if (c < 0x20 || c == '"' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f) {
      sha.update(nlohmann::json(text).dump());
      return;
    }
  }
  sha.update("\"").update(text).update("\"");
}

std::string_view decimal(std::int64_t value, std::array<char, 24>& buffer) {
  const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value).ptr;
  return {buffer.data(), static_cast<std::size_t>(end - buffer.data())};
}

}  // namespace

std::string sha256_hex(std::string_view bytes) { return Sha256().update(bytes).hex_digest(); }

std::string event_link(std::string_view prev, std::string_view run_id, std::int64_t seq,
                       std::int64_t time_ms, std::string_view type, std::string_view payload_json) {
  // Hashed in pieces, without building the text: prev, then
  // {"payload":P,"run_id":R,"seq":S,"time_ms":T,"type":Y}.
  std::array<char, 24> number{};
  Sha256 sha;
  sha.update(prev).update("{\"payload\":").update(payload_json).update(",\"run_id\":");
  update_json_string(sha, run_id);
  sha.update(",\"seq\":").update(decimal(seq, number));
  sha.update(",\"time_ms\":").update(decimal(time_ms, number));
  sha.update(",\"type\":");
  update_json_string(sha, type);
  sha.update("}");
  return sha.hex_digest();
}

std::string canonical_json(const nlohmann::json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace switchyard::runtime
