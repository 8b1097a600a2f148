#pragma once
// SHA-256 (OpenSSL libcrypto) for workflow hashes and the journal's hash chain.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace switchyard::runtime {

// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

// The canonical form of a JSON document: compact, object keys sorted (nlohmann's default), so
// equal documents hash equal whatever their formatting.
std::string canonical_json(const nlohmann::json& doc);

// One link of a run's hash chain (docs/journal.md#hash-chain): the hex SHA-256 of `prev` (the
// previous event's link; "" for a run's first event) followed by the event's canonical JSON,
// {"payload":P,"run_id":R,"seq":S,"time_ms":T,"type":Y}, where P is `payload_json` as stored
// (canonical_json of the payload).
std::string event_link(std::string_view prev, std::string_view run_id, std::int64_t seq,
                       std::int64_t time_ms, std::string_view type, std::string_view payload_json);

}  // namespace switchyard::runtime
