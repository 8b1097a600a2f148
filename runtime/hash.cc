#include "runtime/hash.h"

#include <openssl/evp.h>

#include <array>

namespace switchyard::runtime {

namespace {

std::string hex(const unsigned char* digest, unsigned int size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return hex(digest.data(), size);
}

std::string event_link(std::string_view prev, std::string_view run_id, std::int64_t seq,
                       std::int64_t time_ms, std::string_view type, std::string_view payload_json) {
  std::string text;
  text.reserve(prev.size() + payload_json.size() + run_id.size() + type.size() + 80);
  text.append(prev);
  text.append("{\"payload\":").append(payload_json);
  text.append(",\"run_id\":").append(nlohmann::json(run_id).dump());
  text.append(",\"seq\":").append(std::to_string(seq));
  text.append(",\"time_ms\":").append(std::to_string(time_ms));
  text.append(",\"type\":").append(nlohmann::json(type).dump()).append("}");
  return sha256_hex(text);
}

std::string canonical_json(const nlohmann::json& doc) {
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace switchyard::runtime
