#pragma once
// Checks of HTML documents the tests make (replay --format html): valid by HTML Tidy (Debian
// `tidy`, run as a subprocess) and self-contained (nothing loaded from elsewhere).

#include <string>

namespace switchyard::testing {

// A test failure unless `tidy -errors -quiet` reports neither an error nor a warning (exit 0, no
// output) for `html`. Fails, saying so, when tidy is not installed (scripts/install-deps).
void expect_valid_html(const std::string& html);

// A test failure for anything in the markup that would load from elsewhere: a script or link
// element, an iframe, object or embed, a src, srcset, href or xlink:href that is not "#..." or
// "data:", and in a style sheet an @import or a url() that is neither.
void expect_self_contained(const std::string& html);

}  // namespace switchyard::testing
