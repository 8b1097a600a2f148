// The models file read without trusting it: every field through a checked accessor, each bad
// field an error naming the file and its JSON pointer, limits on the file's size and nesting,
// and the optional `limits` on provider replies.

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/run_command.h"
#include "tools/models.h"

namespace switchyard::tools {
namespace {

std::string all_errors(const ModelsResult& r) {
  std::string all;
  for (const auto& e : r.errors) all += e.to_string() + "\n";
  return all;
}

const char* kTier = R"("name": "cheap", "model": "m", "base_url": "http://127.0.0.1:1/v1",
                       "input_usd_per_mtok": 1, "output_usd_per_mtok": 2)";

TEST(ModelsFile, AFieldOfTheWrongTypeIsAnErrorNamingTheFileAndPointer) {
  auto r = load_models(std::string(R"({"tiers": [{)") + kTier + R"(,
      "timeout_ms": "fast", "context_window": 1e300},
    {"name": null, "model": ["m"], "base_url": "", "input_usd_per_mtok": "1",
     "output_usd_per_mtok": 1e300, "api_key_env": 7}, 3]})",
                       "models.json");
  ASSERT_FALSE(r.ok());
  const std::string all = all_errors(r);
  for (const char* expected : {
           "models.json: /tiers/0/timeout_ms: expected an integer >= 1 and <= 86400000, got "
           "string \"fast\"",
           "models.json: /tiers/0/context_window: expected an integer >= 0 and <= 1000000000, "
           "got number 1e+300",
           "models.json: /tiers/1/name: expected a non-empty string, got null",
           "models.json: /tiers/1/model: expected a non-empty string, got an array",
           "models.json: /tiers/1/base_url: expected a non-empty string, got string \"\"",
           "models.json: /tiers/1/api_key_env: expected a non-empty string, got number 7",
           "models.json: /tiers/1/input_usd_per_mtok: expected a number >= 0 and <= 1000000, got "
           "string \"1\"",
           "models.json: /tiers/1/output_usd_per_mtok: expected a number >= 0 and <= 1000000, "
           "got number 1e+300",
           "models.json: /tiers/2: expected an object, got number 3",
       }) {
    EXPECT_NE(all.find(expected), std::string::npos) << expected << "\n" << all;
  }
}

TEST(ModelsFile, ANumberTooLargeForADoubleIsAnErrorNotACrash) {
  auto r = load_models(std::string(R"({"tiers": [{)") + kTier + R"(, "timeout_ms": 1e999}]})",
                       "models.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all_errors(r).find("models.json: (document): models file: not JSON"), std::string::npos)
      << all_errors(r);
}

TEST(ModelsFile, TheDocumentMustBeAnObjectWithTiers) {
  auto array = load_models("[1, 2]", "m.json");
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.errors[0].message, "expected an object with 'tiers', got an array");
  auto missing = load_models("{}", "m.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.errors[0].pointer, "/tiers");
  auto wrong = load_models(R"({"tiers": {"cheap": {}}})", "m.json");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.errors[0].message.find("got an object"), std::string::npos);
}

TEST(ModelsFile, DeepNestingAndSizeAreRefusedBeforeParsing) {
  const std::string deep = std::string(R"({"tiers": [{)") + kTier + R"(, "x": )" +
                           std::string(100000, '[') + std::string(100000, ']') + "}]}";
  auto r = load_models(deep, "m.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(all_errors(r).find("nested deeper than 32"), std::string::npos) << all_errors(r);
  // A file over the size limit is refused by its size, not read whole.
  testing::TempDir dir;
  const std::string path = dir.file("big.json");
  {
    std::ofstream out(path, std::ios::binary);
    out << R"({"tiers": [], "padding": ")" << std::string(kMaxModelsFileBytes, ' ') << R"("})";
  }
  auto big = load_models_file(path);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.errors[0].file, path);
  EXPECT_NE(big.errors[0].message.find("larger than 1048576 bytes"), std::string::npos)
      << big.errors[0].message;
}

TEST(ModelsFile, LimitsOnProviderRepliesAreReadAndChecked) {
  auto r = load_models(
      std::string(R"({"tiers": [{)") + kTier + R"(}], "limits": {"max_output_bytes": 65536}})",
      "m.json");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.models.reply_max_output_bytes, 65536u);
  EXPECT_FALSE(r.models.reply_max_json_depth.has_value());
  // Field by field over the calling tool's limits.
  const graph::OutputLimits tool{.max_output_bytes = 1000, .max_json_depth = 7};
  EXPECT_EQ(r.models.reply_limits(tool),
            (graph::OutputLimits{.max_output_bytes = 65536, .max_json_depth = 7}));
  auto bad = load_models(std::string(R"({"tiers": [{)") + kTier +
                             R"(}], "limits": {"max_json_depth": 0, "max_bytes": 5}})",
                         "m.json");
  ASSERT_FALSE(bad.ok());
  const std::string all = all_errors(bad);
  EXPECT_NE(all.find("m.json: /limits/max_json_depth: expected an integer >= 1 and <= 1024, got "
                     "number 0"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("m.json: /limits/max_bytes: unknown field 'max_bytes'"), std::string::npos)
      << all;
  auto not_object =
      load_models(std::string(R"({"tiers": [{)") + kTier + R"(}], "limits": 5})", "m.json");
  ASSERT_FALSE(not_object.ok());
  EXPECT_NE(all_errors(not_object).find("m.json: /limits: expected an object, got number 5"),
            std::string::npos)
      << all_errors(not_object);
}

}  // namespace
}  // namespace switchyard::tools
