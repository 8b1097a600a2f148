#pragma once
// json_object("key", value, "key", value, ...): a JSON object built directly, with each value
// forwarded (moved when it can be) into its place.
//
// nlohmann's initializer-list form, json{{"key", value}, ...}, first builds every pair as a
// two-element array and then copies each value out of the (const) list: about 2.5 times slower
// for the small objects the run loop journals at every step (tests/bench/json_bench.cc). Give the
// keys in sorted order, as they are stored: each then goes in at the end without a search.

#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

namespace switchyard {

namespace detail {

inline void put_members(nlohmann::json::object_t&) {}

template <typename Value, typename... Rest>
void put_members(nlohmann::json::object_t& object, std::string_view key, Value&& value,
                 Rest&&... rest) {
  object.emplace_hint(object.end(), key, std::forward<Value>(value));
  put_members(object, std::forward<Rest>(rest)...);
}

}  // namespace detail

template <typename... Members>
nlohmann::json json_object(Members&&... members) {
  static_assert(sizeof...(Members) % 2 == 0, "json_object takes key, value pairs");
  nlohmann::json out(nlohmann::json::value_t::object);
  detail::put_members(*out.get_ptr<nlohmann::json::object_t*>(), std::forward<Members>(members)...);
  return out;
}

}  // namespace switchyard
