// The pure reply handlers (parse_chat_completion, parse_http_response, parse_command_output,
// parse_advice) fed garbage: thousands of replies mutated from valid seeds with a fixed seed
// (bytes flipped, inserted, deleted, brackets nested, numbers swapped for null, strings and
// out-of-range values, invalid UTF-8) never throw or crash, and every outcome keeps its
// invariants: ok xor a failure kind, a reason that is valid UTF-8 (it is journaled as JSON), an
// output that can be dumped, and spend that is never negative and never less than the worst case
// when the usage was unknown.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "graph/json_read.h"
#include "tools/command_tool.h"
#include "tools/http_tool.h"
#include "tools/llm_tool.h"

namespace switchyard::tools {
namespace {

constexpr std::uint64_t kSeed = 20240916;
constexpr int kRounds = 4000;

// A mutation of `text` drawn from `rng`.
std::string mutate(std::string text, std::mt19937_64& rng) {
  // clang-format off
  static const std::vector<std::string> kPieces = {
      "[", "]", "{", "}", "\"", "\\", ":", ",", "null", "\"12\"", "-1", "1e999", "1e400",
      "18446744073709551616", "-9223372036854775809", "0.5", "true", "\xff", "\x80", "\xc3",
      "\xed\xa0\x80", "\\u0000", "\\ud800", "\n", std::string(1, '\0'), "{}", "[]"};
  // clang-format on
  auto pick = [&](std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng() % n); };
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    const std::size_t at = pick(text.size() + 1);
    switch (rng() % 8) {
      case 0:  // flip a byte
        if (!text.empty()) text[pick(text.size())] ^= static_cast<char>(1 + rng() % 255);
        break;
      case 1:  // insert a piece
        text.insert(at, kPieces[pick(kPieces.size())]);
        break;
      case 2:  // delete a span
        if (!text.empty()) text.erase(pick(text.size()), 1 + pick(8));
        break;
      case 3:  // truncate
        text.resize(at);
        break;
      case 4: {  // duplicate a span
        if (text.empty()) break;
        const std::size_t from = pick(text.size());
        text.insert(at, text.substr(from, 1 + pick(32)));
        break;
      }
      case 5: {  // nest deeply
        const std::size_t depth = rng() % 8 ? 1 + pick(200) : 100000;
        text = std::string(depth, '[') + text + std::string(depth, ']');
        break;
      }
      case 6: {  // a number swapped for something else
        const std::size_t digit = text.find_first_of("0123456789", at);
        if (digit == std::string::npos) break;
        std::size_t end = text.find_first_not_of("0123456789.eE+-", digit);
        if (end == std::string::npos) end = text.size();
        text.replace(digit, end - digit, kPieces[8 + pick(8)]);
        break;
      }
      default:  // a value swapped for null or a string
        if (auto colon = text.find(':', at); colon != std::string::npos) {
          text.insert(colon + 1, rng() % 2 ? "null," : "\"x\",");
        }
        break;
    }
  }
  return text;
}

void expect_invariants(const Outcome& o, const std::string& input) {
  EXPECT_NE(o.ok, o.failure != FailureKind::kNone) << input.substr(0, 200);
  EXPECT_EQ(valid_utf8(o.reason), o.reason) << input.substr(0, 200);
  EXPECT_NO_THROW((void)nlohmann::json(o.reason).dump());
  EXPECT_NO_THROW((void)o.output.dump());
  EXPECT_GE(o.tokens, 0);
  EXPECT_GE(o.cost_usd, 0);
  if (!o.ok) {
    EXPECT_FALSE(o.reason.empty());
  }
}

const std::vector<std::string>& chat_seeds() {
  static const std::vector<std::string> seeds = {
      R"({"id": "c", "object": "chat.completion", "choices": [{"index": 0, "message": {"role":
        "assistant", "content": "{\"answer\": \"ok\"}"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}})",
      R"({"choices": [{"message": {"content": null, "refusal": "no"}}], "usage": {"prompt_tokens": 1,
        "completion_tokens": 0}})",
      R"({"choices": [{"message": {"content": "[1, [2, {\"a\": null}]]"}}]})",
      R"({"choices": [], "usage": null})",
      R"({"error": {"message": "model overloaded", "type": "server_error"}})",
  };
  return seeds;
}

TEST(ReplyProperties, MutatedChatCompletionsNeverCrashAndKeepTheirInvariants) {
  ChatCall call;
  call.tool_id = "T";
  call.tier.name = "cheap";
  call.tier.model = "m";
  call.tier.input_usd_per_mtok = 1;
  call.tier.output_usd_per_mtok = 4;
  call.tier_index = 0;
  call.api_key = "sk-KEY";
  call.reply_limits = {.max_output_bytes = 1 << 20, .max_json_depth = 128};
  call.answer_limits = {.max_output_bytes = 4096, .max_json_depth = 16};
  call.prompt_tokens_bound = 100;
  call.max_tokens = 50;
  ChatCall with_schema = call;
  with_schema.schema =
      *graph::JsonSchema::compile({{"type", "object"},
                                   {"required", {"answer"}},
                                   {"properties", {{"answer", {{"type", "string"}}}}}});
  std::mt19937_64 rng(kSeed);
  int ok = 0, bad = 0;
  for (int i = 0; i < kRounds; ++i) {
    const auto& seeds = chat_seeds();
    std::string body = mutate(seeds[rng() % seeds.size()], rng);
    if (rng() % 16 == 0) body += "sk-KEY";  // an echoed key is never shown
    HttpResponse r;
    r.status = rng() % 8 == 0 ? 500 : 200;
    r.body = body;
    r.headers = {{"Retry-After", mutate("120", rng)}};
    r.truncated = rng() % 32 == 0;
    const Outcome o = parse_chat_completion(rng() % 2 ? with_schema : call, r);
    expect_invariants(o, body);
    EXPECT_EQ(o.reason.find("sk-KEY"), std::string::npos) << o.reason;
    EXPECT_TRUE(o.llm_call);
    if (o.usage_unknown) {
      EXPECT_EQ(o.tokens, 150);
      EXPECT_DOUBLE_EQ(o.cost_usd, 100 * 1.0 / 1e6 + 50 * 4.0 / 1e6);
    }
    ok += o.ok;
    bad += o.failure == FailureKind::kBadOutput;
  }
  // The mutations reach both sides: some replies still parse, many do not.
  EXPECT_GT(ok, 0);
  EXPECT_GT(bad, kRounds / 4);
}

TEST(ReplyProperties, MutatedHttpBodiesNeverCrashAndKeepTheirInvariants) {
  HttpAnswerSpec spec{"T", "GET", "http://127.0.0.1:1/x", {}, {.max_output_bytes = 1 << 20}};
  const std::vector<std::string> seeds = {
      R"({"ok": true, "items": [1, 2.5, "three", null, {"nested": [[]]}]})", R"("text")", "[]",
      "<!DOCTYPE html>\n<html><body>502</body></html>"};
  std::mt19937_64 rng(kSeed + 1);
  for (int i = 0; i < kRounds; ++i) {
    HttpResponse r;
    static const int kStatuses[] = {200, 200, 200, 204, 404, 429, 500};
    r.status = kStatuses[rng() % 7];
    r.body = mutate(seeds[rng() % seeds.size()], rng);
    r.headers = {{"Retry-After", mutate("Wed, 21 Oct 2015 07:28:00 GMT", rng)},
                 {"X-RateLimit-Remaining", mutate("0", rng)}};
    r.truncated = rng() % 32 == 0;
    const Outcome o = parse_http_response(spec, r);
    expect_invariants(o, r.body);
    EXPECT_EQ(o.reason.find('\n'), std::string::npos) << o.reason;
    for (const auto& [name, value] : o.headers) EXPECT_EQ(valid_utf8(value), value);
  }
}

TEST(ReplyProperties, MutatedCommandOutputsNeverCrashAndKeepTheirInvariants) {
  const std::vector<std::string> seeds = {R"({"refund": {"id": "r-1", "amount": 42}})", "null",
                                          "this is not json", "[[[[]]]]"};
  std::mt19937_64 rng(kSeed + 2);
  for (int i = 0; i < kRounds; ++i) {
    CommandResult r;
    r.stdout_text = mutate(seeds[rng() % seeds.size()], rng);
    r.stderr_tail = mutate("warning: \xff half a line", rng);
    r.exit_code = rng() % 6 == 0 ? 3 : 0;
    r.signal = rng() % 20 == 0 ? 9 : 0;
    const Outcome o = parse_command_output("Cmd", r, {.max_output_bytes = 1 << 20});
    expect_invariants(o, r.stdout_text);
  }
}

TEST(ReplyProperties, MutatedAdvisorAnswersAreAdviceOrAnErrorNeverACrash) {
  const std::vector<std::string> seeds = {R"({"action": "demote", "goal": "Queue"})",
                                          R"({"action": "escalate", "message": "call a human"})"};
  std::mt19937_64 rng(kSeed + 3);
  int errors = 0;
  for (int i = 0; i < kRounds; ++i) {
    const std::string text = mutate(seeds[rng() % seeds.size()], rng);
    // As a string (an answer in text) and, when it parses, as the value itself.
    auto as_text = parse_advice(nlohmann::json(valid_utf8(text)));
    errors += !as_text.ok();
    if (!as_text.ok()) {
      EXPECT_EQ(valid_utf8(as_text.status().message()), as_text.status().message());
    }
    auto value = parse_untrusted(text);
    if (value.ok()) {
      auto as_value = parse_advice(*value);
      EXPECT_EQ(as_value.ok(), as_text.ok()) << text;
    }
  }
  EXPECT_GT(errors, 0);
}

TEST(ReplyProperties, WrongTypedAdviceNamesThePointer) {
  auto a = parse_advice({{"action", 3}});
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message(), "/action: expected a string, got number 3");
  auto b = parse_advice(nlohmann::json("{\"goal\": [\"Queue\"]"));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("the answer: not JSON"), std::string::npos)
      << b.status().message();
  auto c = parse_advice(nlohmann::json::array());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "(document): expected an object, got an array");
  auto d = parse_advice({{"action", "demote"}, {"goal", "Queue"}, {"message", nullptr}});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->goal, "Queue");
  EXPECT_EQ(d->message, "");
}

}  // namespace
}  // namespace switchyard::tools
