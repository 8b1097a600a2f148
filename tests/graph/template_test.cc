#include "graph/template.h"

#include <gtest/gtest.h>

namespace switchyard::graph {
namespace {

TEST(Template, ParsesLiteralsAndReferences) {
  auto t = parse_template("Dear {{ input.name }}, refund {{steps.CRM.output.amount}}.");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->parts.size(), 5u);
  EXPECT_FALSE(t->parts[0].is_ref);
  EXPECT_EQ(t->parts[1].path, (std::vector<std::string>{"input", "name"}));
  EXPECT_EQ(t->parts[3].path, (std::vector<std::string>{"steps", "CRM", "output", "amount"}));
  EXPECT_TRUE(t->has_refs());
}

TEST(Template, PlainTextHasNoReferences) {
  auto t = parse_template("no braces } here {");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->has_refs());
}

TEST(Template, RejectsUnclosedBraces) {
  auto t = parse_template("Hi {{input.x");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("unclosed"), std::string::npos);
}

TEST(Template, RejectsUnknownRootsAndEmptySegments) {
  EXPECT_FALSE(parse_template("{{env.HOME}}").ok());
  EXPECT_FALSE(parse_template("{{input..x}}").ok());
  EXPECT_FALSE(parse_template("{{}}").ok());
  EXPECT_FALSE(parse_template("{{steps}}").ok());
}

TEST(Template, RendersStringsRawAndOtherValuesAsJson) {
  auto t = parse_template("{{input.name}} owes {{steps.CRM.output.amount}} for {{input.items}}");
  ASSERT_TRUE(t.ok());
  nlohmann::json context = {{"input", {{"name", "Ada"}, {"items", {1, 2}}}},
                            {"steps", {{"CRM", {{"output", {{"amount", 42.5}}}}}}}};
  auto out = render_template(*t, context);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "Ada owes 42.5 for [1,2]");
}

TEST(Template, ResolvesArrayIndices) {
  auto t = parse_template("{{input.items.1}}");
  ASSERT_TRUE(t.ok());
  auto out = render_template(*t, {{"input", {{"items", {"a", "b"}}}}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "b");
}

TEST(Template, MissingValueIsAnErrorNamingTheReference) {
  auto t = parse_template("{{steps.CRM.output.id}}");
  ASSERT_TRUE(t.ok());
  auto out = render_template(*t, {{"input", nlohmann::json::object()}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("steps.CRM.output.id"), std::string::npos);
}

TEST(JsonTemplate, RendersEveryStringAndAOneReferenceStringKeepsTheValuesType) {
  const nlohmann::json shape = {
      {"order", "{{input.order}}"},
      {"nested", {{"label", "item-{{input.n}}"}, {"list", {"{{input.n}}", "plain", 3}}}}};
  auto t = parse_json_template(shape);
  ASSERT_TRUE(t.ok());
  const nlohmann::json context = {{"input", {{"order", {{"id", 7}}}, {"n", 3}}},
                                  {"steps", nlohmann::json::object()}};
  auto out = render_json_template(*t, context);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, (nlohmann::json{{"order", {{"id", 7}}},
                                  {"nested", {{"label", "item-3"}, {"list", {3, "plain", 3}}}}}));
  // The template itself is unchanged, and renders again against another context.
  EXPECT_EQ(t->shape, shape);
  auto missing = render_json_template(*t, {{"input", {{"n", 3}}}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "template '{{input.order}}': no such value");
  EXPECT_FALSE(parse_json_template({{"x", "{{steps}}"}}).ok());
}

}  // namespace
}  // namespace switchyard::graph
