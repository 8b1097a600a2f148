#include "tools/mcp_tool.h"

#include <mutex>

#include "graph/json_read.h"
#include "graph/json_schema.h"
#include "graph/template.h"
#include "tools/mcp_client.h"
#include "tools/output.h"
#include "tools/trace_context.h"

namespace switchyard::tools {
namespace {

using json = nlohmann::json;

constexpr std::chrono::milliseconds kDefaultMcpTimeout{30000};
constexpr std::size_t kMcpReasonChars = 500;

// A text item's text parsed as JSON when it is JSON within the limits, else the text.
json text_value(const std::string& text, const graph::OutputLimits& limits) {
  auto parsed = parse_untrusted(
      text, JsonLimits{.max_depth = limits.max_json_depth, .max_bytes = limits.max_output_bytes});
  if (parsed.ok()) return std::move(parsed).value();
  return text;
}

// The text of a content array, for an error's reason.
std::string content_text(const json& content) {
  std::string out;
  if (!content.is_array()) return out;
  for (const auto& item : content) {
    const std::string text = lenient_string(item, "text");
    if (text.empty()) continue;
    if (!out.empty()) out += " ";
    out += text;
  }
  return out;
}

// Success with `output` when its JSON text is within `limits`, else bad_output naming the limit.
Outcome within_limits(const std::string& id, json output, const graph::OutputLimits& limits) {
  const std::string text = output.dump();  // parsed from outside: valid UTF-8
  if (text.size() > limits.max_output_bytes) {
    return Outcome::failed(FailureKind::kBadOutput,
                           id + ": the result's " + std::to_string(text.size()) +
                               " bytes: " + over_output_limit("output", limits.max_output_bytes));
  }
  if (json_text_depth(text, limits.max_json_depth) > limits.max_json_depth) {
    return Outcome::failed(FailureKind::kBadOutput, id + ": output: nested deeper than " +
                                                        std::to_string(limits.max_json_depth) +
                                                        " arrays/objects (max_json_depth)");
  }
  return Outcome::success(std::move(output));
}

// What the adapter learned of its tool from tools/list, once.
struct ToolInfo {
  bool found = false;
  std::optional<graph::JsonSchema> input_schema;
  std::string schema_error;             // the inputSchema could not be compiled (not checked then)
  std::optional<bool> idempotent_hint;  // from its annotations (mcp_idempotent_hint)
};

class McpToolAdapter final : public Tool {
 public:
  McpToolAdapter(std::string id, graph::McpTool spec, std::chrono::milliseconds timeout,
                 graph::OutputLimits limits)
      : id_(std::move(id)),
        spec_(std::move(spec)),
        timeout_(timeout.count() > 0 ? timeout : kDefaultMcpTimeout),
        limits_(limits) {
    if (spec_.arguments) arguments_ = *graph::parse_json_template(*spec_.arguments);
  }

  void invoke(const Invocation& call, Done done) override {
    json arguments = json::object();
    if (spec_.arguments) {
      auto r = graph::render_json_template(arguments_, *call.context);
      if (!r.ok()) {
        return done(
            Outcome::failed(FailureKind::kTemplate, id_ + ": arguments: " + r.status().message()));
      }
      arguments = std::move(*r);
    }
    std::shared_ptr<const ToolInfo> info;
    {
      std::lock_guard lock(state_->mu);
      info = state_->info;
    }
    // With tracing on, the step's span is the parent of what the server does (docs/tracing.md).
    std::string trace;
    if (traceparent_enabled() && call.workflow != nullptr) {
      trace = traceparent(call.run_id, call.workflow->tool(call.tool).id, call.call_number);
    }
    const auto started = std::chrono::steady_clock::now();
    if (info) {
      return call_tool(state_, *info, std::move(arguments), call.cancel, call.progress,
                       std::move(trace), started, std::move(done));
    }
    // First call: what the server says of the tool, then the call. The answer may come after
    // this adapter is gone: the callbacks hold the state they need.
    McpRequestOptions options{state_->timeout, graph::OutputLimits{}, call.cancel, nullptr, {}};
    mcp_list_tools(spec_.server, options,
                   [state = state_, arguments = std::move(arguments), cancel = call.cancel,
                    progress = call.progress, trace = std::move(trace), started,
                    done = std::move(done)](McpReply listed) mutable {
                     if (listed.failure != FailureKind::kNone || listed.rpc_error) {
                       return done(Outcome::failed(
                           listed.rpc_error ? FailureKind::kUnavailable : listed.failure,
                           state->id + ": " + excerpt(listed.error, kMcpReasonChars)));
                     }
                     auto info = std::make_shared<ToolInfo>();
                     for (const auto& t : listed.result) {
                       if (lenient_string(t, "name") != state->spec.tool) continue;
                       info->found = true;
                       info->idempotent_hint = mcp_idempotent_hint(t);
                       const json& schema = lenient_member(t, "inputSchema");
                       if (schema.is_object()) {
                         auto compiled = graph::JsonSchema::compile(schema);
                         if (compiled.ok())
                           info->input_schema = std::move(*compiled);
                         else
                           info->schema_error = compiled.status().message();
                       }
                     }
                     if (info->found) state->remember(info);
                     call_tool(state, *info, std::move(arguments), cancel, progress,
                               std::move(trace), started, std::move(done));
                   });
  }

  std::optional<bool> idempotent_hint() const override {
    std::lock_guard lock(state_->mu);
    return state_->info ? state_->info->idempotent_hint : std::nullopt;
  }

  // What outlives the adapter for calls in flight.
  struct State {
    std::string id;
    graph::McpTool spec;
    std::chrono::milliseconds timeout;
    graph::OutputLimits limits;
    std::mutex mu;
    std::shared_ptr<const ToolInfo> info;
    void remember(std::shared_ptr<const ToolInfo> i) {
      std::lock_guard lock(mu);
      info = std::move(i);
    }
  };

 private:
  static void call_tool(const std::shared_ptr<State>& state, const ToolInfo& info, json arguments,
                        std::shared_ptr<CallCancel> cancel, std::function<void(json)> progress,
                        std::string trace, std::chrono::steady_clock::time_point started,
                        Done done) {
    if (!info.found) {
      return done(Outcome::failed(FailureKind::kUnavailable,
                                  state->id + ": MCP server '" + state->spec.server.name +
                                      "' has no tool named '" + state->spec.tool + "'"));
    }
    if (info.input_schema) {
      if (auto v = info.input_schema->first_violation(arguments)) {
        return done(Outcome::failed(
            FailureKind::kSchemaInvalid,
            state->id + ": arguments do not satisfy the tool's inputSchema: /arguments" +
                valid_utf8(v->pointer) + ": " + excerpt(valid_utf8(v->what), kMcpReasonChars) +
                " (the server was not called)"));
      }
    }
    json params = {{"name", state->spec.tool}, {"arguments", std::move(arguments)}};
    McpRequestOptions options{state->timeout, state->limits, std::move(cancel), std::move(progress),
                              std::move(trace)};
    mcp_request(state->spec.server, "tools/call", std::move(params), options,
                [state, started, done = std::move(done)](McpReply reply) {
                  Outcome o;
                  if (reply.failure != FailureKind::kNone) {
                    o = Outcome::failed(reply.failure,
                                        state->id + ": " + excerpt(reply.error, kMcpReasonChars));
                  } else if (reply.rpc_error) {
                    // The server refused the request itself (unknown tool, invalid params).
                    o = Outcome::failed(FailureKind::kToolError,
                                        state->id + ": " + excerpt(reply.error, kMcpReasonChars));
                  } else {
                    o = mcp_call_outcome(state->id, reply.result, state->limits);
                  }
                  o.latency = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started);
                  done(std::move(o));
                });
  }

  std::string id_;
  graph::McpTool spec_;
  std::chrono::milliseconds timeout_;
  graph::OutputLimits limits_;
  graph::JsonTemplate arguments_;

 public:
  std::shared_ptr<State> state_;
};

}  // namespace

Outcome mcp_call_outcome(std::string_view id_view, const json& result,
                         const graph::OutputLimits& limits) {
  const std::string id(id_view);
  JsonView r(result, "/result");
  if (auto s = r.expect_object(); !s.ok()) {
    return Outcome::failed(FailureKind::kBadOutput, id + ": " + s.message());
  }
  auto is_error = r.boolean_or("isError", false);
  if (!is_error.ok()) {
    return Outcome::failed(FailureKind::kBadOutput, id + ": " + is_error.status().message());
  }
  const json& content = lenient_member(result, "content");
  if (*is_error) {
    std::string text = content_text(content);
    if (text.empty()) text = "(no message)";
    return Outcome::failed(FailureKind::kToolError,
                           id + ": the tool reported an error: " + excerpt(text, kMcpReasonChars));
  }
  if (auto structured = r.optional_field("structuredContent");
      structured.ok() && structured->has_value()) {
    return within_limits(id, (*structured)->json(), limits);
  }
  if (content.is_null()) return Outcome::success(nullptr);
  if (!content.is_array()) {
    return Outcome::failed(FailureKind::kBadOutput,
                           id + ": /result/content: expected an array, got " + describe(content));
  }
  auto convert = [&](const json& item) -> json {
    if (lenient_string(item, "type") == "text" && lenient_member(item, "text").is_string()) {
      return text_value(lenient_string(item, "text"), limits);
    }
    return item;
  };
  if (content.size() == 1) return within_limits(id, convert(content[0]), limits);
  json out = json::array();
  for (const auto& item : content) out.push_back(convert(item));
  return within_limits(id, std::move(out), limits);
}

std::optional<bool> mcp_idempotent_hint(const json& tool) {
  const json& a = lenient_member(tool, "annotations");
  if (!a.is_object()) return std::nullopt;
  const json& destructive = lenient_member(a, "destructiveHint");
  const json& read_only = lenient_member(a, "readOnlyHint");
  const json& idempotent = lenient_member(a, "idempotentHint");
  const bool ro = read_only.is_boolean() && read_only == true;
  if (ro) return true;  // a read-only tool makes no change (destructiveHint is moot then)
  if (idempotent.is_boolean() && idempotent == true) return true;
  if (destructive.is_boolean() && destructive == true) return false;
  return std::nullopt;
}

std::unique_ptr<Tool> make_mcp_tool(std::string id, graph::McpTool spec,
                                    std::chrono::milliseconds timeout, graph::OutputLimits limits) {
  auto adapter = std::make_unique<McpToolAdapter>(id, spec, timeout, limits);
  auto state = std::make_shared<McpToolAdapter::State>();
  state->id = std::move(id);
  state->spec = std::move(spec);
  state->timeout = timeout.count() > 0 ? timeout : kDefaultMcpTimeout;
  state->limits = limits;
  adapter->state_ = std::move(state);
  return adapter;
}

}  // namespace switchyard::tools
