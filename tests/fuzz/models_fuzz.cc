// Fuzz target: the models file parser (tools::load_models) on any bytes.
// Checks: no crash, no exception; every diagnostic is JSON-safe (run --json prints them); a
// loaded file's tiers have sane prices (the cost functions give finite, non-negative numbers).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tests/fuzz/fuzz_checks.h"
#include "tools/models.h"

using namespace switchyard;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const tools::ModelsResult loaded = tools::load_models(text, "models.json");
  for (const auto& d : loaded.errors) fuzz::expect_json_safe(d.to_string(), "diagnostic");
  if (!loaded.ok()) return 0;
  for (const auto& tier : loaded.models.tiers) {
    if (loaded.models.find(tier.name) == nullptr) fuzz::fail("models", "tier not found by name");
    const double worst = tier.worst_case_usd(1000, 1000);
    if (!std::isfinite(worst) || worst < 0) fuzz::fail("models", "worst_case_usd not finite");
    const double cost = tier.cost_usd(123, 456);
    if (!std::isfinite(cost) || cost < 0) fuzz::fail("models", "cost_usd not finite");
  }
  return 0;
}
