#include "runtime/base/hash.h"

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

// A string nlohmann writes as it is, between quotes: printable ASCII other than " and \.
bool plain(std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') return false;
  }
  return true;
}

// A JSON string of `text`, as nlohmann::json(text).dump() writes it. Plain printable ASCII (run
// ids, event types) needs no escaping; anything else is left to nlohmann.
void update_json_string(Sha256& sha, std::string_view text) {
  if (plain(text)) {
    sha.update("\"").update(text).update("\"");
  } else {
    sha.update(nlohmann::json(text).dump());
  }
}

template <typename Integer>
std::string_view decimal(Integer value, std::array<char, 24>& buffer) {
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

namespace {

// nlohmann's compact dump, replacing invalid UTF-8 (what canonical_json is defined as).
std::string nlohmann_dump(const nlohmann::json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void append_string(std::string& out, const std::string& text) {
  if (plain(text)) {
    out.push_back('"');
    out.append(text);
    out.push_back('"');
  } else {
    out.append(nlohmann_dump(nlohmann::json(text)));
  }
}

// The same bytes as nlohmann_dump, written straight into `out`: nlohmann's serializer goes
// through a virtual output adapter and checks UTF-8 byte by byte, which made it most of the
// cost of sealing an event. Only what nlohmann writes plainly is written here (objects, arrays,
// integers, booleans, null, plain strings); floats and other strings are left to nlohmann.
void append_canonical(std::string& out, const nlohmann::json& doc) {
  using Type = nlohmann::json::value_t;
  switch (doc.type()) {
    case Type::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, value] : *doc.get_ptr<const nlohmann::json::object_t*>()) {
        if (!first) out.push_back(',');
        first = false;
        append_string(out, key);
        out.push_back(':');
        append_canonical(out, value);
      }
      out.push_back('}');
      return;
    }
    case Type::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& value : *doc.get_ptr<const nlohmann::json::array_t*>()) {
        if (!first) out.push_back(',');
        first = false;
        append_canonical(out, value);
      }
      out.push_back(']');
      return;
    }
    case Type::string:
      append_string(out, *doc.get_ptr<const std::string*>());
      return;
    case Type::boolean:
      out.append(doc.get<bool>() ? "true" : "false");
      return;
    case Type::null:
      out.append("null");
      return;
    case Type::number_integer:
    case Type::number_unsigned: {
      std::array<char, 24> buffer{};
      out.append(doc.is_number_unsigned() ? decimal(doc.get<std::uint64_t>(), buffer)
                                          : decimal(doc.get<std::int64_t>(), buffer));
      return;
    }
    default:
      out.append(nlohmann_dump(doc));
      return;  // floats, binary, discarded
  }
}

}  // namespace

std::string canonical_json(const nlohmann::json& doc) {
  std::string out;
  out.reserve(128);
  append_canonical(out, doc);
  return out;
}

}  // namespace switchyard::runtime
