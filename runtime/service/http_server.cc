#include "runtime/service/http_server.h"

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <condition_variable>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <vector>

#include "runtime/service/event_stream.h"
#include "runtime/service/log.h"

namespace switchyard::service {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr std::uint32_t kHeaderLimit = 16 * 1024;

HttpResponse error_reply(int status, const std::string& code, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.body = nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

// The answer to a request the parser refused with `ec` (the connection is closed after it).
HttpResponse rejection_for(const error_code& ec, const HttpServerOptions& options) {
  if (ec == http::error::body_limit) {
    return error_reply(
        413, "payload_too_large",
        "the request body is larger than " + std::to_string(options.max_body_bytes) + " bytes");
  }
  if (ec == http::error::header_limit) {
    return error_reply(
        431, "headers_too_large",
        "the request headers are larger than " + std::to_string(kHeaderLimit) + " bytes");
  }
  return error_reply(400, "bad_request", "malformed HTTP: " + ec.message());
}

// A request whose target is not in origin form ("/path?query", RFC 9112 3.2.1): the service has
// no proxy (absolute form), CONNECT (authority form) or server-wide OPTIONS (asterisk form).
bool origin_form(beast::string_view target) { return !target.empty() && target.front() == '/'; }

HttpResponse not_origin_form() {
  return error_reply(400, "bad_request", "the request target must be a path starting with /");
}

void limit(http::request_parser<http::string_body>& parser, const HttpServerOptions& options) {
  parser.header_limit(kHeaderLimit);
  parser.body_limit(static_cast<std::uint64_t>(options.max_body_bytes));
}

HttpRequest convert(const http::request<http::string_body>& req, const std::string& peer) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  const auto q = out.target.find('?');
  out.path = out.target.substr(0, q);
  if (q != std::string::npos) {
    std::string rest = out.target.substr(q + 1);
    std::size_t start = 0;
    while (start <= rest.size()) {
      std::size_t amp = rest.find('&', start);
      if (amp == std::string::npos) amp = rest.size();
      const std::string pair = rest.substr(start, amp - start);
      if (!pair.empty()) {
        const auto eq = pair.find('=');
        out.query[url_decode(pair.substr(0, eq))] =
            eq == std::string::npos ? "" : url_decode(pair.substr(eq + 1));
      }
      start = amp + 1;
    }
  }
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = req.body();
  out.peer = peer;
  return out;
}

// Whether `text` may be put in a header line as it is (no line break or NUL: a value built from
// client data must not start a header of its own). Handlers encode such data; this is the guard.
bool header_safe(const std::string& text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

http::response<http::string_body> to_beast(const HttpResponse& r, unsigned version,
                                           bool keep_alive) {
  http::response<http::string_body> res(static_cast<http::status>(r.status), version);
  res.set(http::field::server, "switchyard");
  res.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) {
    if (header_safe(name) && header_safe(value)) res.set(name, value);
  }
  res.body() = r.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(const HttpServerOptions& o, Handler h)
      : options(o), handler(std::move(h)), ioc(o.threads), acceptor(asio::make_strand(ioc)) {}

  Status listen() {
    error_code ec;
    const auto address = asio::ip::make_address(options.host, ec);
    if (ec) return invalid_argument("--host " + options.host + ": not an IP address");
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status(StatusCode::kUnavailable, "cannot listen on " + options.host + ":" +
                                                  std::to_string(options.port) + ": " +
                                                  ec.message());
    }
    port = acceptor.local_endpoint().port();
    asio::co_spawn(acceptor.get_executor(), accept_loop(), asio::detached);
    for (int i = 0; i < std::max(1, options.threads); ++i)
      threads.emplace_back([this] { ioc.run(); });
    return Status();
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(
          asio::make_strand(ioc), asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) {
        logger().warn("accept: {}", ec.message());
        continue;
      }
      auto executor = socket.get_executor();
      asio::co_spawn(executor, session(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }

  // One connection: requests in turn (keep-alive), each within the read deadline.
  asio::awaitable<void> session(beast::tcp_stream stream) {
    error_code ec;
    std::string peer;
    {
      const auto remote = stream.socket().remote_endpoint(ec);
      peer = ec ? "?" : remote.address().to_string() + ":" + std::to_string(remote.port());
    }
    beast::flat_buffer buffer;
    bool first = true;
    while (!stopping.load()) {
      http::request_parser<http::string_body> parser;
      limit(parser, options);
      // A kept-alive connection may idle up to idle_timeout for the first byte of its next
      // request (already buffered bytes start it at once).
      if (!first && buffer.size() == 0) {
        stream.expires_after(options.idle_timeout);
        const std::size_t n = co_await stream.async_read_some(
            buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
        buffer.commit(n);
        if (ec) break;
      }
      first = false;
      // One deadline for the whole request, headers and body: from the connection's start (the
      // first request) or from its first byte; not renewed between headers and body.
      stream.expires_after(options.read_timeout);
      co_await http::async_read_header(stream, buffer, parser,
                                       asio::redirect_error(asio::use_awaitable, ec));
      if (!ec && !parser.is_done()) {
        co_await http::async_read(stream, buffer, parser,
                                  asio::redirect_error(asio::use_awaitable, ec));
      }
      if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
          ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
        break;
      }
      if (ec) {  // 413, 431 or 400
        co_await reply_and_close(stream, rejection_for(ec, options));
        break;
      }
      auto req = parser.release();
      if (!origin_form(req.target())) {
        co_await reply_and_close(stream, not_origin_form());
        break;
      }
      HttpResponse response;
      try {
        response = handler(convert(req, peer));
      } catch (const std::exception& e) {
        // A handler does not throw (Status, Result); should one ever, this request gets a 500
        // and the server goes on serving the others.
        logger().error("{} {}: unexpected exception: {}", std::string(req.method_string()),
                       std::string(req.target()), e.what());
        response = error_reply(500, "internal", "unexpected error; see the server's log");
      }
      if (response.stream) {
        co_await stream_events(stream, response);
        break;
      }
      const bool keep_alive = req.keep_alive() && !stopping.load();
      auto res = to_beast(response, req.version(), keep_alive);
      stream.expires_after(options.read_timeout);
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !keep_alive) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
  }

  asio::awaitable<void> reply_and_close(beast::tcp_stream& stream, const HttpResponse& r) {
    auto res = to_beast(r, 11, false);
    error_code ec;
    stream.expires_after(options.read_timeout);
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  }

  // Sends the stream's text as it comes, a comment every heartbeat, until it ends or the server
  // stops. No Content-Length: the end of the stream is the end of the connection.
  asio::awaitable<void> stream_events(beast::tcp_stream& stream, const HttpResponse& response) {
    error_code ec;
    std::string head = "HTTP/1.1 " + std::to_string(response.status) +
                       " OK\r\nServer: switchyard\r\nContent-Type: text/event-stream\r\n"
                       "Cache-Control: no-store\r\nConnection: close\r\n";
    for (const auto& [name, value] : response.headers) {
      if (header_safe(name) && header_safe(value)) head += name + ": " + value + "\r\n";
    }
    head += "\r\n";
    stream.expires_after(options.read_timeout);
    co_await asio::async_write(stream, asio::buffer(head),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    auto timer = std::make_shared<asio::steady_timer>(stream.get_executor());
    auto executor = stream.get_executor();
    std::weak_ptr<asio::steady_timer> weak = timer;
    response.stream->on_ready([executor, weak] {
      asio::post(executor, [weak] {
        if (auto t = weak.lock()) t->cancel();
      });
    });
    register_timer(timer);
    bool ended = false;
    while (!ended) {
      // What is queued is written before `stopping` is looked at: the events a shutdown
      // journals last (run_interrupted) reach the stream before it closes.
      std::string text = response.stream->take(&ended);
      if (text.empty() && !ended) {
        if (stopping.load()) break;
        timer->expires_after(options.heartbeat);
        error_code wait_ec;
        co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, wait_ec));
        if (wait_ec == asio::error::operation_aborted) continue;  // woken: something to take
        text = ": heartbeat\n\n";
      }
      if (text.empty()) continue;
      stream.expires_after(options.read_timeout);
      co_await asio::async_write(stream, asio::buffer(text),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    response.stream->on_ready(nullptr);
    unregister_timer(timer);
  }

  void register_timer(const std::shared_ptr<asio::steady_timer>& t) {
    std::lock_guard lock(mu);
    timers.insert(t);
  }
  void unregister_timer(const std::shared_ptr<asio::steady_timer>& t) {
    {
      std::lock_guard lock(mu);
      timers.erase(t);
    }
    streams_ended.notify_all();
  }

  void stop_accepting() {
    std::promise<void> done;
    asio::post(acceptor.get_executor(), [this, &done] {
      error_code ec;
      acceptor.close(ec);
      done.set_value();
    });
    done.get_future().wait();
  }

  void stop() {
    if (stopped.exchange(true)) return;
    stopping = true;
    if (!threads.empty()) stop_accepting();
    {
      // Wake the event streams so that they write what is queued, see `stopping` and end; they
      // get a bounded time for it (a client that does not read must not hold the shutdown).
      std::unique_lock lock(mu);
      for (const auto& t : timers) {
        asio::post(t->get_executor(), [t] { t->cancel(); });
      }
      streams_ended.wait_for(lock,
                             std::min<std::chrono::steady_clock::duration>(options.read_timeout,
                                                                           std::chrono::seconds(2)),
                             [this] { return timers.empty(); });
    }
    ioc.stop();
    for (auto& t : threads) t.join();
    threads.clear();
  }

  HttpServerOptions options;
  Handler handler;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  int port = 0;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};
  std::mutex mu;
  std::set<std::shared_ptr<asio::steady_timer>> timers;  // of the open event streams, under mu
  std::condition_variable streams_ended;                 // a stream's timer left `timers`
};

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerOptions& options,
                                                      Handler handler) {
  auto impl = std::make_unique<Impl>(options, std::move(handler));
  if (Status s = impl->listen(); !s.ok()) return s;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { stop(); }
int HttpServer::port() const { return impl_->port; }
const std::string& HttpServer::host() const { return impl_->options.host; }
void HttpServer::stop_accepting() { impl_->stop_accepting(); }
void HttpServer::stop() { impl_->stop(); }

ParsedRequest parse_request(std::string_view bytes, const HttpServerOptions& options,
                            const std::string& peer) {
  ParsedRequest out;
  http::request_parser<http::string_body> parser;
  limit(parser, options);
  parser.eager(true);
  error_code ec;
  while (!bytes.empty() && !parser.is_done()) {
    const std::size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
    if (ec == http::error::need_more) {
      // Beast wants the rest of the header (or body chunk) in one buffer: it has it all already.
      if (used == 0) break;
      ec = {};
    }
    if (ec) {
      out.outcome = ParsedRequest::Outcome::kRejected;
      out.rejection = rejection_for(ec, options);
      return out;
    }
    bytes.remove_prefix(used);
  }
  if (!parser.is_done()) return out;  // kIncomplete
  if (!origin_form(parser.get().target())) {
    out.outcome = ParsedRequest::Outcome::kRejected;
    out.rejection = not_origin_form();
    return out;
  }
  out.outcome = ParsedRequest::Outcome::kRequest;
  out.request = convert(parser.get(), peer);
  return out;
}

const std::string& HttpRequest::header(const std::string& name) const {
  static const std::string kEmpty;
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return kEmpty;
}

std::string url_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() &&
               std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string url_encode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

}  // namespace switchyard::service
