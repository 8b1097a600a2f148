#pragma once
// SHA-256 (OpenSSL libcrypto) for workflow hashes.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace switchyard::runtime {

// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

// The canonical form of a JSON document: compact, object keys sorted (nlohmann's default), so
// equal documents hash equal whatever their formatting.
std::string canonical_json(const nlohmann::json& doc);

}  // namespace switchyard::runtime
