#pragma once
// How the program prints an amount of money (runs, budget, run's summary, replay pages): one
// format everywhere.

#include <string>

namespace switchyard::runtime {

// US dollars with the cents and any sub-cent digits down to the micro-dollar, and no trailing
// zero past the cents: "$0.00", "$0.03", "$0.0125", "$1.50", "$0.000001", "-$0.50".
std::string usd_text(double usd);

}  // namespace switchyard::runtime
