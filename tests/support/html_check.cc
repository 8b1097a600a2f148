#include "tests/support/html_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "tests/support/run_command.h"

namespace switchyard::testing {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool local(const std::string& ref) { return ref.starts_with("#") || ref.starts_with("data:"); }

// The value after `at` (a quoted attribute value or a url(...) argument), without quotes.
std::string value_at(const std::string& text, std::size_t at, char close_unquoted) {
  while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
  if (at < text.size() && (text[at] == '"' || text[at] == '\'')) {
    const char quote = text[at];
    const std::size_t end = text.find(quote, at + 1);
    return text.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
  }
  std::size_t end = at;
  while (end < text.size() && text[end] != close_unquoted && text[end] != '>' &&
         !std::isspace(static_cast<unsigned char>(text[end]))) {
    ++end;
  }
  return text.substr(at, end - at);
}

}  // namespace

void expect_valid_html(const std::string& html) {
  const std::string program = "/usr/bin/tidy";  // Debian's; run_command takes no PATH search
  if (!std::filesystem::exists(program)) {
    ADD_FAILURE() << program << " is not installed (Debian package tidy; scripts/install-deps)";
    return;
  }
  TempDir dir;
  const std::string file = dir.write("page.html", html);
  const auto tidy = run_command({program, "-errors", "-quiet", file});
  EXPECT_EQ(tidy.exit_code, 0) << tidy.err << tidy.out;
  EXPECT_EQ(tidy.err + tidy.out, "") << "tidy reported problems";
}

void expect_self_contained(const std::string& html) {
  const std::string text = lower(html);
  // Markup only: text content is escaped (no raw '<'), so what the journal says cannot match.
  for (auto open = text.find('<'); open != std::string::npos; open = text.find('<', open + 1)) {
    const auto close = text.find('>', open);
    if (close == std::string::npos) break;
    const std::string tag = text.substr(open, close - open + 1);
    for (const char* element : {"<script", "<link", "<iframe", "<object", "<embed"}) {
      EXPECT_FALSE(tag.starts_with(element)) << tag;
    }
    for (const char* attribute : {" src=", " srcset=", " href=", ":href="}) {
      const std::string key = attribute;
      for (auto at = tag.find(key); at != std::string::npos; at = tag.find(key, at + 1)) {
        const std::string ref = value_at(tag, at + key.size(), ' ');
        EXPECT_TRUE(local(ref)) << attribute << ref;
      }
    }
  }
  // Style sheets: nothing imported, no url() but fragments and data.
  for (auto at = text.find("<style"); at != std::string::npos; at = text.find("<style", at + 1)) {
    const std::string css = text.substr(at, text.find("</style>", at) - at);
    EXPECT_EQ(css.find("@import"), std::string::npos) << css;
    for (auto u = css.find("url("); u != std::string::npos; u = css.find("url(", u + 1)) {
      const std::string ref = value_at(css, u + 4, ')');
      EXPECT_TRUE(local(ref)) << "url(" << ref;
    }
  }
}

}  // namespace switchyard::testing
