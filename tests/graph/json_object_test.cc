#include "graph/json_object.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard {
namespace {

TEST(JsonObject, EqualsTheInitializerListFormWhateverTheKeyOrder) {
  const std::string tool = "Razorpay";
  const nlohmann::json expected = {
      {"tool", tool}, {"attempt", 2}, {"idempotent", false}, {"cost", nullptr}, {"kind", "http"}};
  EXPECT_EQ(
      json_object("attempt", 2, "cost", nullptr, "idempotent", false, "kind", "http", "tool", tool),
      expected);
  EXPECT_EQ(
      json_object("tool", tool, "kind", "http", "attempt", 2, "idempotent", false, "cost", nullptr),
      expected);
  EXPECT_EQ(json_object().dump(), "{}");
}

TEST(JsonObject, MovesAValueItIsGivenAsAnRvalue) {
  nlohmann::json output = {{"id", std::string(100, 'x')}};
  const auto* before = output["id"].get_ptr<const std::string*>()->data();
  nlohmann::json j = json_object("output", std::move(output));
  EXPECT_EQ(j["output"]["id"].get_ptr<const std::string*>()->data(), before);
}

}  // namespace
}  // namespace switchyard
