#include "runtime/base/money.h"

#include <cmath>
#include <cstdio>

namespace switchyard::runtime {

std::string usd_text(double usd) {
  if (!std::isfinite(usd)) return "$" + std::to_string(usd);  // "$inf", "$nan": never silent
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6f", std::fabs(usd));
  std::string digits = buf;
  // Six decimals, then the zeros past the cents go: 0.030000 -> 0.03, 0.012500 -> 0.0125.
  while (digits.size() > 2 && digits.back() == '0' && digits[digits.size() - 3] != '.') {
    digits.pop_back();
  }
  const bool negative = usd < 0 && digits.find_first_not_of("0.") != std::string::npos;
  return (negative ? "-$" : "$") + digits;
}

}  // namespace switchyard::runtime
