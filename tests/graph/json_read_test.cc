#include "graph/json_read.h"

#include <gtest/gtest.h>

#include <string>

namespace switchyard {
namespace {

using nlohmann::json;

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(ParseUntrusted, ParsesAnOrdinaryDocument) {
  auto doc = parse_untrusted(R"({"a": [1, {"b": "c"}]})");
  ASSERT_TRUE(doc.ok()) << doc.status().to_string();
  EXPECT_EQ((*doc)["a"][1]["b"], "c");
}

TEST(ParseUntrusted, RefusesAHundredThousandNestedArraysWithoutRecursing) {
  auto doc = parse_untrusted(nested_arrays(100000), {.what = "tool output"});
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(doc.status().message().find("tool output: nested deeper than 128"), std::string::npos)
      << doc.status().message();
  EXPECT_NE(doc.status().message().find("max_depth"), std::string::npos);
}

TEST(ParseUntrusted, AcceptsExactlyTheDepthLimit) {
  EXPECT_TRUE(parse_untrusted(nested_arrays(128)).ok());
  EXPECT_FALSE(parse_untrusted(nested_arrays(129)).ok());
  EXPECT_TRUE(parse_untrusted(nested_arrays(4), {.max_depth = 4}).ok());
  EXPECT_FALSE(parse_untrusted(nested_arrays(5), {.max_depth = 4}).ok());
}

TEST(ParseUntrusted, BracketsInsideStringsDoNotCountAsNesting) {
  const std::string text = "{\"s\": \"" + std::string(1000, '[') + "\\\"]\"}";
  auto doc = parse_untrusted(text, {.max_depth = 2});
  ASSERT_TRUE(doc.ok()) << doc.status().to_string();
}

TEST(ParseUntrusted, RefusesADocumentOverTheSizeLimitNamingIt) {
  auto doc =
      parse_untrusted(std::string(2000, ' ') + "1", {.max_bytes = 1000, .what = "provider reply"});
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().message(),
            "provider reply: 2001 bytes, over the limit of 1000 (max_bytes)");
}

TEST(ParseUntrusted, ReportsWhereTheTextStopsBeingJson) {
  auto doc = parse_untrusted("{\"a\": tru}");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find("document: not JSON: parse error"), std::string::npos)
      << doc.status().message();
}

TEST(ParseUntrusted, RefusesInvalidUtf8InStrings) {
  EXPECT_FALSE(parse_untrusted("\"\xff\"").ok());
}

TEST(JsonView, ReadsTypedFieldsAndNamesThePointerOfAWrongType) {
  const json doc = json::parse(R"({"usage": {"prompt_tokens": null, "completion_tokens": 7}})");
  JsonView v(doc);
  auto good = v.integer_at("/usage/completion_tokens");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  auto bad = v.integer_at("/usage/prompt_tokens");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "/usage/prompt_tokens: expected an integer, got null");
}

TEST(JsonView, NamesAMissingMemberAndANonObjectParent) {
  const json doc = json::parse(R"({"a": [1, 2], "s": "x"})");
  JsonView v(doc);
  EXPECT_EQ(v.string("b").status().message(), "/b: missing (required)");
  EXPECT_EQ(v.at("/s/t").status().message(), "/s: expected an object, got string \"x\"");
  EXPECT_EQ(v.at("/a/5").status().message(), "/a/5: missing (the array has 2 elements)");
  EXPECT_EQ(v.at("/a/x").status().message(), "/a: expected an object, got an array");
  EXPECT_EQ(JsonView(json::array()).field("k").status().message(),
            "(document): expected an object, got an array");
}

TEST(JsonView, OptionalMembersFallBackOnlyWhenAbsentOrNull) {
  const json doc = json::parse(R"({"n": null, "i": 3, "s": "three"})");
  JsonView v(doc);
  EXPECT_EQ(*v.integer_or("missing", 9), 9);
  EXPECT_EQ(*v.integer_or("n", 9), 9);
  EXPECT_EQ(*v.integer_or("i", 9), 3);
  auto wrong = v.integer_or("s", 9);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(), "/s: expected an integer, got string \"three\"");
  EXPECT_FALSE(JsonView(json(5)).string_or("k", "d").ok());
}

TEST(JsonView, IntegersAcceptIntegralFloatsAndRefuseOthers) {
  EXPECT_EQ(*JsonView(json(12.0)).integer(), 12);
  EXPECT_FALSE(JsonView(json(12.5)).integer().ok());
  EXPECT_FALSE(JsonView(json(1e300)).integer().ok());
  EXPECT_FALSE(JsonView(json(std::uint64_t{1} << 63)).integer().ok());
  EXPECT_FALSE(JsonView(json("12")).integer().ok());
  EXPECT_FALSE(JsonView(json(true)).integer().ok());
}

TEST(JsonView, PointerTokensAreUnescaped) {
  const json doc = json::parse(R"({"a/b": {"c~d": 1}})");
  auto v = JsonView(doc).integer_at("/a~1b/c~0d");
  ASSERT_TRUE(v.ok()) << v.status().to_string();
  EXPECT_EQ(*v, 1);
  EXPECT_FALSE(JsonView(doc).at("no-slash").ok());
}

Status read_two(const json& doc, std::int64_t& sum) {
  JsonView v(doc);
  SWITCHYARD_ASSIGN_OR_RETURN(auto a, v.integer("a"));
  SWITCHYARD_ASSIGN_OR_RETURN(auto b, v.integer("b"));
  SWITCHYARD_RETURN_IF_ERROR(v.field("c").status());
  sum = a + b;
  return Status();
}

TEST(JsonView, AssignOrReturnStopsAtTheFirstError) {
  std::int64_t sum = 0;
  EXPECT_TRUE(read_two(json::parse(R"({"a": 1, "b": 2, "c": 0})"), sum).ok());
  EXPECT_EQ(sum, 3);
  Status s = read_two(json::parse(R"({"a": 1, "b": "2"})"), sum);
  EXPECT_EQ(s.message(), "/b: expected an integer, got string \"2\"");
}

TEST(ValidUtf8, ReplacesInvalidSequencesSoDumpCannotThrow) {
  const std::string bad = "ok \xff\xfe \xe2\x82 end \xed\xa0\x80";
  const std::string fixed = valid_utf8(bad);
  EXPECT_EQ(fixed,
            "ok \xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD end "
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_NO_THROW((void)json(fixed).dump());
  EXPECT_EQ(valid_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(Excerpt, FlattensLinesAndCutsOnACharacterBoundary) {
  EXPECT_EQ(excerpt("<html>\n  <body>\tdown</body>\n</html>"), "<html> <body> down</body> </html>");
  EXPECT_EQ(excerpt("abcdef", 4), "abcd...");
  EXPECT_EQ(excerpt("\xc3\xa9\xc3\xa9\xc3\xa9", 5), "\xc3\xa9\xc3\xa9...");
}

TEST(Describe, QuotesAtMostAShortValidExcerptOfAString) {
  EXPECT_EQ(describe(json(std::string(100, 'x'))), "string \"" + std::string(37, 'x') + "...\"");
  EXPECT_EQ(describe(json(nullptr)), "null");
  EXPECT_EQ(describe(json(false)), "boolean false");
}

TEST(Lenient, AFieldOfTheTypeIsReadAndAnythingElseGivesTheFallback) {
  const json doc = json::parse(R"({"s": "text", "n": 2.5, "i": 7, "b": true, "null": null,
                                   "wrong": [1]})");
  EXPECT_EQ(lenient_string(doc, "s"), "text");
  EXPECT_EQ(lenient_number(doc, "n"), 2.5);
  EXPECT_EQ(lenient_integer(doc, "i"), 7);
  EXPECT_TRUE(lenient_boolean(doc, "b"));
  for (const char* key : {"absent", "null", "wrong"}) {
    SCOPED_TRACE(key);
    EXPECT_EQ(lenient_string(doc, key, "-"), "-");
    EXPECT_EQ(lenient_number(doc, key, -1), -1);
    EXPECT_EQ(lenient_integer(doc, key, -1), -1);
    EXPECT_TRUE(lenient_boolean(doc, key, true));
  }
  // A value of another type than asked, and a document that is no object.
  EXPECT_EQ(lenient_integer(doc, "s", 3), 3);
  EXPECT_EQ(lenient_string(doc, "i"), "");
  EXPECT_EQ(lenient_number(json::array({1, 2}), "n", 4), 4);
  EXPECT_FALSE(lenient_boolean(json("text"), "b"));
}

TEST(Lenient, AMemberOfAnyTypeIsReturnedAndAnAbsentOneOrANonObjectGivesNull) {
  const json doc = json::parse(R"({"list": [1, 2], "s": "text", "null": null})");
  EXPECT_EQ(lenient_member(doc, "list"), json::array({1, 2}));
  EXPECT_EQ(&lenient_member(doc, "list"), &doc["list"]);  // a reference into `doc`, not a copy
  EXPECT_EQ(lenient_member(doc, "s"), "text");
  EXPECT_TRUE(lenient_member(doc, "null").is_null());
  EXPECT_TRUE(lenient_member(doc, "absent").is_null());
  EXPECT_TRUE(lenient_member(json::array({1}), "list").is_null());
  EXPECT_TRUE(lenient_member(json(7), "s").is_null());
}

TEST(JsonViewFind, AbsentIsNulloptAndOnlyAWrongStepOrABadPointerIsAnError) {
  const json doc = json::parse(R"({"a": {"list": [1, {"x": null}]}, "n": 3})");
  const JsonView root(doc);
  auto x = root.find("/a/list/1/x");
  ASSERT_TRUE(x.ok());
  ASSERT_TRUE(x->has_value());
  EXPECT_TRUE((*x)->is_null());  // a null value is there
  EXPECT_EQ((*x)->pointer(), "/a/list/1/x");
  for (const char* absent : {"/b", "/a/list/2", "/a/list/1/y", "/a/missing/deeper"}) {
    auto r = root.find(absent);
    ASSERT_TRUE(r.ok()) << absent;
    EXPECT_FALSE(r->has_value()) << absent;
  }
  EXPECT_EQ(root.find("/n/x").status().message(), "/n: expected an object, got number 3");
  EXPECT_EQ(root.find("/a/list/first").status().message(),
            "/a/list: expected an object, got an array");
  EXPECT_FALSE(root.find("a").ok());
  auto whole = root.find("");
  ASSERT_TRUE(whole.ok() && whole->has_value());
  EXPECT_EQ(&(*whole)->json(), &doc);
}

}  // namespace
}  // namespace switchyard
