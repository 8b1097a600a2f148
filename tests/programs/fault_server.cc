// The fault-injection HTTP server: a real HTTP/1.1 server on loopback (Boost.Beast, one thread,
// asynchronous) whose endpoints misbehave on purpose, so tests, benchmarks and the demo meet
// every failure an HTTP service can produce. It counts what it receives, so a test can assert a
// side effect happened exactly once.
//
//   switchyard_fault_server [--port N] [--routes FILE] [--exit-on-stdin-eof]
//
// --exit-on-stdin-eof: stop when standard input ends (tests hold a pipe to it, so a test process
// that dies, even by abort, leaves no server behind).
//
// Prints "listening on 127.0.0.1:PORT" once listening (port 0, the default: a free one). SIGTERM
// or SIGINT stop it (exit 0). Bad flags or a bad routes file: a message on stderr, exit 2.
//
// Built-in endpoints (any method; the query string is ignored when matching):
//   /ok, /ok/...          200 {"ok": true, "method", "path", "body": <request body as JSON>}
//   /slow/<ms>            the same after <ms> milliseconds
//   /status/<code>        that status, {"error": "status <code>"}
//   /ratelimit/<s>        429 with Retry-After: <s>, X-RateLimit-Limit: 10, X-RateLimit-Remaining:
//   0 /flaky/<n>/...        503 for the first <n> requests to that path, then like /ok /close
//   closes the connection without answering /invalid-json         200 with a body that is not JSON
//   /hang                 never answers
//   /headers              200, the request's headers (names lower-cased)
//   /deep/<n>             200, a JSON document of <n> nested arrays ([[[...]]])
//   /huge/<bytes>         200, a JSON string of that many bytes in all, with a Content-Length
//   /huge-chunked/<bytes> the same, chunked (no Content-Length: the client learns the size as
//                         it reads)
//   /html-error/<code>    that status, a multi-line HTML page (text/html) with bytes that are
//                         not UTF-8
//   /stats                {"requests", "connections", "by_path": {path: count},
//                         "effects_by_path": {path: count}, "replayed"} (not counted): a
//                         request with an Idempotency-Key header already seen on its path gets
//                         the first answer again and is not counted as an effect
//   /reset                zeroes the counters (not counted)
//   /wait/<n>             answers {"requests"} once <n> requests have been counted since the last
//                         reset (not counted): how a test waits for a request to have arrived
//   /v1/chat/completions  a fake OpenAI-compatible chat API; the request's "model" picks the
//                         behaviour: "ok" answers {"answer": "ok"}; "echo" answers
//                         {"prompt": <the last user message>, "authorized": <a Bearer token
//                         came>}; "request" answers with the request's body (as JSON text);
//                         "wrong-shape" answers {"unexpected": true}; "not-json" answers plain
//                         text; "refuse" refuses; "status-500" and "ratelimit" (429, Retry-After:
//                         1) fail; "hang" never answers; "quality:<easy>:<hard>" answers {"answer":
//                         "ok"} with those probabilities (by task: "[hard]" in the prompt makes it
//                         hard), else {"unexpected": true}, decided by a hash of the model and
//                         the prompt (the same question gets the same answer). `usage` counts a
//                         token per 4 bytes (at least 1). "<behaviour>@<ms>" answers after <ms>.
//                         Modifiers combine with any behaviour, each after a '+', before any @:
//                         "+fail:<rate>:<status>" answers <status> (429 with Retry-After: 1, or
//                         e.g. 500) to that share of requests, drawn from a hash of the model,
//                         the prompt and the request's number (so retries may succeed);
//                         "+usage:<prompt>:<completion>" reports those token counts;
//                         "+usage:none" sends no `usage`; "+usage:null" and "+usage:text"
//                         send a `usage` whose prompt_tokens is null / the string "12".
//                         Malformed replies: "deep:<n>" answers content of <n> nested arrays;
//                         "deep-reply:<n>" answers a body that is <n> nested arrays;
//                         "huge:<bytes>" answers content of that many bytes ('x'); "not-utf8"
//                         answers a 500 whose body is an HTML page with bytes that are not
//                         UTF-8. E.g. "quality:0.9:0.1+fail:0.2:429@5".
// A routes file maps exact paths to {"status", "json", "delay_ms", "headers"}; its paths take
// precedence over the built-in ones.

#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Route {
  int status = 200;
  nlohmann::json body = {{"ok", true}};
  int delay_ms = 0;
  std::map<std::string, std::string> headers;
};

struct Stats {
  long requests = 0;
  long connections = 0;
  std::map<std::string, long> by_path;
  std::map<std::string, long> flaky_seen;
  std::map<std::string, long> effects;  // requests that took effect (not repeats of a key)
  long replayed = 0;                    // repeats answered from an Idempotency-Key
};

// What to do with one request.
struct Reply {
  enum class Kind { kRespond, kClose, kHang, kWait } kind = Kind::kRespond;
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  bool chunked = false;  // sent chunked, without a Content-Length
  std::map<std::string, std::string> headers;
  int delay_ms = 0;
  long wait_for = 0;  // kWait: answer once this many requests have been counted
};

Reply json_reply(int status, const nlohmann::json& body);

struct Server {
  std::map<std::string, Route> routes;
  Stats stats;
  std::map<std::string, Reply> remembered;  // by path + Idempotency-Key
  // /wait/<n> requests not yet answered: the count each waits for, and how to answer it.
  std::vector<std::pair<long, std::function<void(Reply)>>> waiters;

  // Answers `answer` once `count` requests have been counted (at once when they have).
  void wait(long count, std::function<void(Reply)> answer) {
    if (stats.requests >= count) return answer(counted());
    waiters.emplace_back(count, std::move(answer));
  }

  // Called after each counted request: answers the waits it completes.
  void notify() {
    std::vector<std::function<void(Reply)>> ready;
    std::erase_if(waiters, [&](auto& w) {
      if (stats.requests < w.first) return false;
      ready.push_back(std::move(w.second));
      return true;
    });
    for (auto& answer : ready) answer(counted());
  }

  Reply counted() const { return json_reply(200, {{"requests", stats.requests}}); }
};

bool parse_int(const std::string& s, long& out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  out = std::stol(s);
  return true;
}

Reply json_reply(int status, const nlohmann::json& body) {
  Reply r;
  r.status = status;
  r.body = body.dump();
  return r;
}

std::int64_t tokens_of(std::size_t bytes) { return static_cast<std::int64_t>(bytes / 4 + 1); }

// <n> nested arrays: "[[[...]]]".
std::string nested_arrays(long n) {
  return std::string(static_cast<std::size_t>(n), '[') +
         std::string(static_cast<std::size_t>(n), ']');
}

// A JSON string of `bytes` bytes in all (quotes included; at least 2).
std::string json_string_of(long bytes) {
  return "\"" + std::string(static_cast<std::size_t>(std::max(bytes, 2L) - 2), 'x') + "\"";
}

// An HTML error page of several lines, with bytes that are not UTF-8 (\xff, a lone
// continuation byte, a cut sequence).
Reply html_error(int status) {
  Reply r;
  r.status = status;
  r.content_type = "text/html";
  r.body = "<!DOCTYPE html>\n<html>\n<head><title>" + std::to_string(status) +
           " Bad Gateway</title></head>\n<body>\n<h1>upstream \xff\xfe"
           " failed \x80</h1>\n"
           "<p>caf\xc3</p>\n</body>\n</html>\n";
  return r;
}

// The fake chat API (see the header comment).
Reply chat_completion(const http::request<http::string_body>& req, long request_number) {
  auto body = nlohmann::json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("model") || !body["model"].is_string() ||
      !body.contains("messages") || !body["messages"].is_array() || !body.contains("max_tokens")) {
    return json_reply(400, {{"error", {{"message", "expected model, messages and max_tokens"}}}});
  }
  // "<behaviour>@<ms>" answers after that many milliseconds (the model's latency).
  std::string model = body["model"];
  long latency_ms = 0;
  if (auto at = model.rfind('@');
      at != std::string::npos && parse_int(model.substr(at + 1), latency_ms)) {
    model = model.substr(0, at);
  }
  std::optional<std::pair<long, long>> usage;  // reported token counts
  bool no_usage = false;
  std::optional<nlohmann::json> bad_usage;      // what prompt_tokens is instead of a count
  std::optional<std::pair<double, long>> fail;  // rate, status
  for (auto plus = model.rfind('+'); plus != std::string::npos; plus = model.rfind('+')) {
    const std::string mod = model.substr(plus + 1);
    model = model.substr(0, plus);
    long a = 0, b = 0;
    const auto colon = mod.find(':', mod.find(':') + 1);
    if (mod == "usage:none") {
      no_usage = true;
    } else if (mod == "usage:null" || mod == "usage:text") {
      bad_usage = mod == "usage:null" ? nlohmann::json(nullptr) : nlohmann::json("12");
    } else if (mod.rfind("usage:", 0) == 0 && colon != std::string::npos &&
               parse_int(mod.substr(6, colon - 6), a) && parse_int(mod.substr(colon + 1), b)) {
      usage = {a, b};
    } else if (mod.rfind("fail:", 0) == 0 && colon != std::string::npos &&
               parse_int(mod.substr(colon + 1), b)) {
      fail = {std::atof(mod.substr(5, colon - 5).c_str()), b};
    } else {
      return json_reply(400, {{"error", {{"message", "unknown model modifier '" + mod + "'"}}}});
    }
  }
  std::size_t prompt_bytes = 0;
  std::string last_user;
  for (const auto& m : body["messages"]) {
    const std::string content = m.value("content", "");
    prompt_bytes += content.size();
    if (m.value("role", "") == "user") last_user = content;
  }
  if (fail) {
    const double draw =
        static_cast<double>(std::hash<std::string>{}(model + "\n" + last_user + "\n" +
                                                     std::to_string(request_number)) >>
                            11) *
        0x1.0p-53;
    if (draw < fail->first) {
      Reply r = json_reply(static_cast<int>(fail->second),
                           {{"error", {{"message", "scripted failure"}}}});
      if (fail->second == 429) r.headers = {{"Retry-After", "1"}};
      r.delay_ms = static_cast<int>(latency_ms);
      return r;
    }
  }
  if (model == "status-500") {
    Reply r = json_reply(500, {{"error", {{"message", "model crashed"}}}});
    r.delay_ms = static_cast<int>(latency_ms);
    return r;
  }
  if (model == "hang") {
    Reply r;
    r.kind = Reply::Kind::kHang;
    return r;
  }
  if (model == "not-utf8") return html_error(500);
  long n = 0;
  if (model.rfind("deep-reply:", 0) == 0 && parse_int(model.substr(11), n)) {
    Reply r;
    r.body = nested_arrays(n);
    return r;
  }
  if (model == "ratelimit") {
    Reply r = json_reply(429, {{"error", {{"message", "slow down"}}}});
    r.headers = {{"Retry-After", "1"}};
    return r;
  }
  nlohmann::json message = {{"role", "assistant"}, {"content", nullptr}};
  if (model == "refuse") {
    message["refusal"] = "I cannot help with that.";
  } else if (model == "not-json") {
    message["content"] = "Sure! Here is your answer.";
  } else if (model == "wrong-shape") {
    message["content"] = nlohmann::json{{"unexpected", true}}.dump();
  } else if (model.rfind("quality:", 0) == 0) {
    const auto second = model.find(':', 8);
    const double easy = std::atof(model.substr(8, second - 8).c_str());
    const double hard =
        second == std::string::npos ? easy : std::atof(model.substr(second + 1).c_str());
    const double p = last_user.find("[hard]") != std::string::npos ? hard : easy;
    const double draw =
        static_cast<double>(std::hash<std::string>{}(model + "\n" + last_user) >> 11) * 0x1.0p-53;
    message["content"] =
        (draw < p ? nlohmann::json{{"answer", "ok"}} : nlohmann::json{{"unexpected", true}}).dump();
  } else if (model.rfind("deep:", 0) == 0 && parse_int(model.substr(5), n)) {
    message["content"] = nested_arrays(n);
  } else if (model.rfind("huge:", 0) == 0 && parse_int(model.substr(5), n)) {
    message["content"] = std::string(static_cast<std::size_t>(n), 'x');
  } else if (model == "request") {
    message["content"] = body.dump();
  } else if (model == "echo") {
    const auto auth = req.find(http::field::authorization);
    const bool authorized = auth != req.end() && auth->value().starts_with("Bearer ");
    message["content"] = nlohmann::json{{"prompt", last_user}, {"authorized", authorized}}.dump();
  } else {
    message["content"] = nlohmann::json{{"answer", "ok"}}.dump();
  }
  const std::string content =
      message["content"].is_string() ? message["content"].get<std::string>() : "";
  const long in = usage ? usage->first : static_cast<long>(tokens_of(prompt_bytes));
  const long out = usage ? usage->second : static_cast<long>(tokens_of(content.size()));
  nlohmann::json completion = {
      {"id", "chatcmpl-fake"},
      {"object", "chat.completion"},
      {"model", model},
      {"choices", {{{"index", 0}, {"message", message}, {"finish_reason", "stop"}}}}};
  if (!no_usage) {
    completion["usage"] = {
        {"prompt_tokens", in}, {"completion_tokens", out}, {"total_tokens", in + out}};
    if (bad_usage) completion["usage"]["prompt_tokens"] = *bad_usage;
  }
  Reply answer = json_reply(200, completion);
  answer.delay_ms = static_cast<int>(latency_ms);
  return answer;
}

Reply respond(Server& server, const http::request<http::string_body>& req, const std::string& path);

Reply decide(Server& server, const http::request<http::string_body>& req) {
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  if (path == "/stats") {
    nlohmann::json by_path = nlohmann::json::object(), effects = nlohmann::json::object();
    for (const auto& [p, n] : server.stats.by_path) by_path[p] = n;
    for (const auto& [p, n] : server.stats.effects) effects[p] = n;
    return json_reply(200, {{"requests", server.stats.requests},
                            {"connections", server.stats.connections},
                            {"by_path", by_path},
                            {"effects_by_path", effects},
                            {"replayed", server.stats.replayed}});
  }
  if (path == "/reset") {
    server.stats = Stats{};
    server.remembered.clear();
    return json_reply(200, {{"ok", true}});
  }
  long n = 0;
  if (path.rfind("/wait/", 0) == 0 && parse_int(path.substr(6), n)) {
    Reply r;
    r.kind = Reply::Kind::kWait;
    r.wait_for = n;
    return r;
  }
  ++server.stats.requests;
  ++server.stats.by_path[path];
  server.notify();
  // Idempotency-Key: a request repeated with the same key gets the first answer again and has no
  // second effect (how payment APIs behave).
  const std::string key(req["Idempotency-Key"]);
  const std::string remembered_as = path + "\n" + key;
  if (!key.empty()) {
    if (auto it = server.remembered.find(remembered_as); it != server.remembered.end()) {
      ++server.stats.replayed;
      return it->second;
    }
  }
  ++server.stats.effects[path];
  Reply reply = respond(server, req, path);
  if (!key.empty() && reply.kind == Reply::Kind::kRespond) server.remembered[remembered_as] = reply;
  return reply;
}

Reply respond(Server& server, const http::request<http::string_body>& req,
              const std::string& path) {
  long n = 0;
  if (auto it = server.routes.find(path); it != server.routes.end()) {
    Reply r = json_reply(it->second.status, it->second.body);
    r.delay_ms = it->second.delay_ms;
    r.headers = it->second.headers;
    return r;
  }
  nlohmann::json body = nullptr;
  if (!req.body().empty()) {
    body = nlohmann::json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) body = req.body();
  }
  const nlohmann::json ok = {
      {"ok", true}, {"method", std::string(req.method_string())}, {"path", path}, {"body", body}};
  auto segment = [&](std::size_t prefix) {
    return path.substr(prefix, path.find('/', prefix) - prefix);
  };
  if (path == "/ok" || path.rfind("/ok/", 0) == 0) return json_reply(200, ok);
  if (path.rfind("/slow/", 0) == 0 && parse_int(segment(6), n)) {
    Reply r = json_reply(200, ok);
    r.delay_ms = static_cast<int>(n);
    return r;
  }
  if (path.rfind("/status/", 0) == 0 && parse_int(segment(8), n) && n >= 100 && n <= 599) {
    return json_reply(static_cast<int>(n), {{"error", "status " + std::to_string(n)}});
  }
  if (path.rfind("/ratelimit/", 0) == 0 && parse_int(segment(11), n)) {
    Reply r = json_reply(429, {{"error", "rate limited"}});
    r.headers = {{"Retry-After", std::to_string(n)},
                 {"X-RateLimit-Limit", "10"},
                 {"X-RateLimit-Remaining", "0"}};
    return r;
  }
  if (path.rfind("/flaky/", 0) == 0 && parse_int(segment(7), n)) {
    if (++server.stats.flaky_seen[path] <= n) return json_reply(503, {{"error", "flaky"}});
    return json_reply(200, ok);
  }
  if (path == "/v1/chat/completions") return chat_completion(req, server.stats.by_path[path]);
  if (path == "/close" || path == "/hang") {
    Reply r;
    r.kind = path == "/close" ? Reply::Kind::kClose : Reply::Kind::kHang;
    return r;
  }
  if (path.rfind("/deep/", 0) == 0 && parse_int(segment(6), n)) {
    Reply r;
    r.body = nested_arrays(n);
    return r;
  }
  if (path.rfind("/huge/", 0) == 0 && parse_int(segment(6), n)) {
    Reply r;
    r.body = json_string_of(n);
    return r;
  }
  if (path.rfind("/huge-chunked/", 0) == 0 && parse_int(segment(14), n)) {
    Reply r;
    r.body = json_string_of(n);
    r.chunked = true;
    return r;
  }
  if (path.rfind("/html-error/", 0) == 0 && parse_int(segment(12), n) && n >= 100 && n <= 599) {
    return html_error(static_cast<int>(n));
  }
  if (path == "/invalid-json") {
    Reply r;
    r.body = "this is {not json";
    return r;
  }
  if (path == "/headers") {
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      headers[name] = std::string(field.value());
    }
    return json_reply(200, headers);
  }
  return json_reply(404, {{"error", "no such endpoint"}});
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server& server)
      : socket_(std::move(socket)), server_(server), timer_(socket_.get_executor()) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(16 << 20);
    auto self = shared_from_this();
    http::async_read(socket_, buffer_, *parser_, [self](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->handle(self->parser_->release());
    });
  }

  void handle(http::request<http::string_body> req) {
    Reply reply = decide(server_, req);
    switch (reply.kind) {
      case Reply::Kind::kClose:
        return close();
      case Reply::Kind::kHang:
        return read();  // never answers; ends when the client goes away
      case Reply::Kind::kWait: {
        auto self = shared_from_this();
        const long count = reply.wait_for;
        return server_.wait(count,
                            [self, req = std::move(req)](Reply r) { self->respond(req, r); });
      }
      case Reply::Kind::kRespond:
        break;
    }
    respond(req, reply);
  }

  void respond(const http::request<http::string_body>& req, Reply& reply) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(reply.status), req.version());
    res->set(http::field::server, "switchyard-fault-server");
    res->set(http::field::content_type, reply.content_type);
    for (const auto& [name, value] : reply.headers) res->set(name, value);
    res->keep_alive(req.keep_alive());
    res->body() = std::move(reply.body);
    res->prepare_payload();
    if (reply.chunked) res->chunked(true);
    if (reply.delay_ms <= 0) return write(res);
    auto self = shared_from_this();
    timer_.expires_after(std::chrono::milliseconds(reply.delay_ms));
    timer_.async_wait([self, res](beast::error_code ec) {
      if (!ec) self->write(res);
    });
  }

  void write(const std::shared_ptr<http::response<http::string_body>>& res) {
    auto self = shared_from_this();
    http::async_write(socket_, *res, [self, res](beast::error_code ec, std::size_t) {
      if (ec || !res->keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  Server& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  asio::steady_timer timer_;
};

void accept(tcp::acceptor& acceptor, Server& server) {
  acceptor.async_accept([&acceptor, &server](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // the acceptor was closed: stopping
    ++server.stats.connections;
    std::make_shared<Session>(std::move(socket), server)->start();
    accept(acceptor, server);
  });
}

int usage(const std::string& message) {
  std::cerr << "switchyard_fault_server: " << message
            << "\nusage: switchyard_fault_server [--port N] [--routes FILE]\n";
  return 2;
}

// Reads the routes file; an error message naming the file and the JSON pointer, or "".
std::string load_routes(const std::string& file, std::map<std::string, Route>& routes) {
  std::ifstream in(file);
  if (!in) return file + ": cannot be read";
  auto doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return file + ": not valid JSON";
  if (!doc.is_object()) return file + ": expected an object mapping paths to routes";
  for (const auto& [path, spec] : doc.items()) {
    std::string escaped;  // the key as a JSON pointer token (RFC 6901)
    for (char c : path) escaped += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
    const std::string at = file + ": /" + escaped;
    if (path.empty() || path[0] != '/') return at + ": expected a path starting with '/'";
    if (!spec.is_object()) return at + ": expected an object";
    Route r;
    for (const auto& [key, value] : spec.items()) {
      if (key == "status" && value.is_number_integer() && value.get<int>() >= 100 &&
          value.get<int>() <= 599) {
        r.status = value.get<int>();
      } else if (key == "json") {
        r.body = value;
      } else if (key == "delay_ms" && value.is_number_integer() && value.get<int>() >= 0) {
        r.delay_ms = value.get<int>();
      } else if (key == "headers" && value.is_object()) {
        for (const auto& [name, v] : value.items()) {
          if (!v.is_string()) return at + "/headers/" + name + ": expected a string";
          r.headers[name] = v.get<std::string>();
        }
      } else {
        return at + "/" + key +
               ": expected status (100-599), json, delay_ms (integer >= 0) or headers (object)";
      }
    }
    routes[path] = std::move(r);
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  Server server;
  unsigned short port = 0;
  bool exit_on_eof = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--port" || arg == "--routes") && i + 1 >= argc)
      return usage(arg + " needs a value");
    if (arg == "--exit-on-stdin-eof") {
      exit_on_eof = true;
    } else if (arg == "--port") {
      long p = 0;
      if (!parse_int(argv[++i], p) || p > 65535) return usage("--port: expected 0-65535");
      port = static_cast<unsigned short>(p);
    } else if (arg == "--routes") {
      if (std::string error = load_routes(argv[++i], server.routes); !error.empty()) {
        return usage(error);
      }
    } else {
      return usage("unknown argument '" + arg + "'");
    }
  }
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx);
  beast::error_code ec;
  const tcp::endpoint where(asio::ip::make_address("127.0.0.1"), port);
  acceptor.open(where.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(where, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::cerr << "switchyard_fault_server: cannot listen on 127.0.0.1:" << port << ": "
              << ec.message() << "\n";
    return 1;
  }
  asio::signal_set signals(ctx, SIGTERM, SIGINT);
  signals.async_wait([&](beast::error_code, int) { ctx.stop(); });
  asio::posix::stream_descriptor input(ctx);
  std::array<char, 256> sink{};
  std::function<void()> watch_input = [&] {
    input.async_read_some(asio::buffer(sink), [&](beast::error_code ec, std::size_t) {
      if (ec) return ctx.stop();  // EOF: whoever started us is gone
      watch_input();
    });
  };
  if (exit_on_eof) {
    input.assign(::dup(0));
    watch_input();
  }
  accept(acceptor, server);
  std::cout << "listening on 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;
  ctx.run();
  return 0;
}
