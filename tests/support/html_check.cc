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
  for (const char* element : {"<script", "<link", "<iframe", "<object", "<embed", "@import"}) {
    EXPECT_EQ(text.find(element), std::string::npos) << "found " << element;
  }
  for (const char* attribute : {" src=", " srcset=", " href=", ":href="}) {
    const std::string key = attribute;
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
      const std::string ref = value_at(text, at + key.size(), ' ');
      EXPECT_TRUE(local(ref)) << attribute << ref;
    }
  }
  for (auto at = text.find("url("); at != std::string::npos; at = text.find("url(", at + 1)) {
    const std::string ref = value_at(text, at + 4, ')');
    EXPECT_TRUE(local(ref)) << "url(" << ref;
  }
}

}  // namespace switchyard::testing
