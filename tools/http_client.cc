#include "tools/http_client.h"

#include <curl/curl.h>
#include <strings.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "graph/json_read.h"
#include "tools/io_loop.h"

namespace switchyard::tools {
namespace asio = boost::asio;
namespace {

FailureKind failure_of(CURLcode rc) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return FailureKind::kTimeout;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      return FailureKind::kConnect;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_OUT_OF_MEMORY:
      return FailureKind::kInternal;
    default:
      return FailureKind::kTransport;
  }
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

// The response headers kept for the monitors: rate limits and when to come back.
bool kept_header(std::string_view name) {
  return (name.size() == 11 && starts_with_nocase(name, "retry-after")) ||
         starts_with_nocase(name, "x-ratelimit-") || starts_with_nocase(name, "ratelimit");
}

// Whether the request asked to keep this response header (HttpRequest::keep_headers).
bool asked_header(const std::vector<std::string>& names, std::string_view name) {
  for (const auto& n : names) {
    if (n.size() == name.size() && starts_with_nocase(name, n)) return true;
  }
  return false;
}

// Opens curl's sockets close-on-exec (libcurl 7.88 does not): a program started by this process,
// by whatever means, never inherits a connection.
curl_socket_t open_socket(void*, curlsocktype, curl_sockaddr* address) {
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

// One request in flight.
struct Transfer {
  std::uint64_t id = 0;
  CURL* easy = nullptr;
  HttpRequest request;
  curl_slist* header_list = nullptr;
  HttpResponse response;
  std::function<void(HttpResponse)> done;
  std::array<char, CURL_ERROR_SIZE> error{};
  bool too_large = false;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

// A socket libcurl asked us to watch. Curl owns the descriptor; we only wait on it.
struct Socket {
  explicit Socket(asio::io_context& ctx) : fd(ctx) {}
  asio::posix::stream_descriptor fd;
  int want = 0;  // CURL_POLL_IN | CURL_POLL_OUT
  bool reading = false, writing = false, gone = false;
};

// The multi handle and everything it drives. Lives for the whole process and is touched only on
// the tool I/O thread.
class CurlMulti {
 public:
  explicit CurlMulti(asio::io_context& ctx) : ctx_(ctx), timer_(ctx) {
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlMulti::socket_callback);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlMulti::timer_callback);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    // Keep idle connections for reuse by later requests (default: 4 x the handles added).
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 4096L);
  }

  void start(HttpRequest request, std::shared_ptr<CallCancel> cancel,
             std::function<void(HttpResponse)> done) {
    auto t = std::make_unique<Transfer>();
    t->id = ++last_id_;
    t->request = std::move(request);
    t->done = std::move(done);
    t->easy = take_easy();
    if (t->easy == nullptr) {
      return report(*t, FailureKind::kInternal, "cannot make a curl handle");
    }
    configure(*t);
    Transfer& ref = *t;
    active_[t->id] = std::move(t);
    if (CURLMcode rc = curl_multi_add_handle(multi_, ref.easy); rc != CURLM_OK) {
      return finish(ref.id, FailureKind::kInternal, curl_multi_strerror(rc));
    }
    if (cancel) {
      cancel->on_cancel([this, id = ref.id] { asio::post(ctx_, [this, id] { abort(id); }); });
    }
  }

 private:
  CURL* take_easy() {
    if (free_.empty()) return curl_easy_init();
    CURL* e = free_.back();
    free_.pop_back();
    return e;
  }

  void give_back(CURL* e) {
    if (free_.size() >= 1024) return curl_easy_cleanup(e);
    curl_easy_reset(e);
    free_.push_back(e);
  }

  void configure(Transfer& t) {
    CURL* e = t.easy;
    const HttpRequest& r = t.request;
    curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &open_socket);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error.data());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &CurlMulti::write_callback);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &CurlMulti::header_callback);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    // A Content-Length past the limit fails at once (CURLE_FILESIZE_EXCEEDED); a body without
    // one is stopped by write_callback.
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(r.max_body_bytes));
    const bool send_body = !r.body.empty() && r.method != "GET";
    if (r.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      if (r.method != "POST")
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      else
        curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, send_body ? r.body.c_str() : "");
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(send_body ? r.body.size() : 0));
    }
    bool has_type = false, has_accept = false;
    for (const auto& [name, value] : r.headers) {
      has_type = has_type || strcasecmp(name.c_str(), "Content-Type") == 0;
      has_accept = has_accept || strcasecmp(name.c_str(), "Accept") == 0;
      t.header_list = curl_slist_append(t.header_list, (name + ": " + value).c_str());
    }
    if (send_body && !has_type) {
      t.header_list = curl_slist_append(t.header_list, "Content-Type: application/json");
    }
    if (!has_accept) t.header_list = curl_slist_append(t.header_list, "Accept: application/json");
    t.header_list = curl_slist_append(t.header_list, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.header_list);
  }

  static size_t write_callback(char* data, size_t size, size_t n, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    const size_t bytes = size * n;
    if (bytes > t.request.max_body_bytes - t.response.body.size()) {
      t.too_large = true;
      return 0;  // aborts the transfer
    }
    t.response.body.append(data, bytes);
    return bytes;
  }

  static size_t header_callback(char* data, size_t size, size_t n, void* user) {
    auto& t = *static_cast<Transfer*>(user);
    std::string_view line(data, n * size);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (line.starts_with("HTTP/")) {
      t.response.headers.clear();  // a new response (after 100 Continue, for instance)
    } else if (auto colon = line.find(':');
               colon != std::string_view::npos &&
               (kept_header(line.substr(0, colon)) ||
                asked_header(t.request.keep_headers, line.substr(0, colon)))) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      t.response.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    return n * size;
  }

  static int socket_callback(CURL*, curl_socket_t s, int what, void* user, void*) {
    static_cast<CurlMulti*>(user)->on_socket(s, what);
    return 0;
  }

  static int timer_callback(CURLM*, long timeout_ms, void* user) {
    static_cast<CurlMulti*>(user)->on_timer(timeout_ms);
    return 0;
  }

  void on_socket(curl_socket_t s, int what) {
    if (what == CURL_POLL_REMOVE) {
      auto it = sockets_.find(s);
      if (it == sockets_.end()) return;
      it->second->gone = true;
      boost::system::error_code ignored;
      it->second->fd.cancel(ignored);
      it->second->fd.release();  // curl closes it, not us
      sockets_.erase(it);
      return;
    }
    auto& sock = sockets_[s];
    if (!sock) {
      sock = std::make_shared<Socket>(ctx_);
      boost::system::error_code ec;
      sock->fd.assign(s, ec);
    }
    sock->want = what;
    arm(s, sock);
  }

  // Waits for the readiness curl wants; a non-speculative async_wait re-arms epoll, so data
  // curl left unread is reported again.
  void arm(curl_socket_t s, const std::shared_ptr<Socket>& sock) {
    if ((sock->want & CURL_POLL_IN) && !sock->reading) {
      sock->reading = true;
      sock->fd.async_wait(asio::posix::stream_descriptor::wait_read,
                          [this, s, sock](const boost::system::error_code& ec) {
                            sock->reading = false;
                            if (ec || sock->gone || !(sock->want & CURL_POLL_IN)) return;
                            act(s, CURL_CSELECT_IN);
                            if (!sock->gone) arm(s, sock);
                          });
    }
    if ((sock->want & CURL_POLL_OUT) && !sock->writing) {
      sock->writing = true;
      sock->fd.async_wait(asio::posix::stream_descriptor::wait_write,
                          [this, s, sock](const boost::system::error_code& ec) {
                            sock->writing = false;
                            if (ec || sock->gone || !(sock->want & CURL_POLL_OUT)) return;
                            act(s, CURL_CSELECT_OUT);
                            if (!sock->gone) arm(s, sock);
                          });
    }
  }

  // curl keeps one timeout and moves it often (every socket action may). Moving an Asio timer
  // costs a timerfd_settime each time, so the timer is lazy: it is re-armed only when the new
  // deadline is earlier than the armed one, and a firing timer that finds a later deadline
  // re-arms for it. An immediate timeout is a post, not a timer.
  void on_timer(long timeout_ms) {
    if (timeout_ms < 0) {
      deadline_.reset();
      return;
    }
    if (timeout_ms == 0) {
      deadline_.reset();
      if (!immediate_posted_) {
        immediate_posted_ = true;
        // Never call back into curl from its own callback: even a 0 ms timeout goes through the
        // loop.
        asio::post(ctx_, [this] {
          immediate_posted_ = false;
          act(CURL_SOCKET_TIMEOUT, 0);
        });
      }
      return;
    }
    const auto when = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    deadline_ = when;
    if (!timer_armed_ || when < armed_at_) arm_timer(when);
  }

  void arm_timer(std::chrono::steady_clock::time_point when) {
    timer_armed_ = true;
    armed_at_ = when;
    const std::uint64_t generation = ++timer_generation_;
    timer_.expires_at(when);  // cancels the earlier wait, whose handler sees a stale generation
    timer_.async_wait([this, generation](const boost::system::error_code& ec) {
      if (ec || generation != timer_generation_) return;
      timer_armed_ = false;
      if (!deadline_) return;
      if (*deadline_ > std::chrono::steady_clock::now()) return arm_timer(*deadline_);
      deadline_.reset();
      act(CURL_SOCKET_TIMEOUT, 0);
    });
  }

  void act(curl_socket_t s, int events) {
    int running = 0;
    curl_multi_socket_action(multi_, s, events, &running);
    drain();
  }

  void drain() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      const CURLcode rc = msg->data.result;
      // A body over the limit was stopped after its headers: an answer, marked truncated.
      const bool too_large = t->too_large || rc == CURLE_FILESIZE_EXCEEDED;
      if (rc == CURLE_OK || too_large) {
        long status = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        t->response.status = static_cast<int>(status);
        t->response.truncated = too_large;
        finish(t->id, FailureKind::kNone, "");
      } else {
        finish(t->id, failure_of(rc),
               excerpt(t->error[0] != '\0' ? t->error.data() : curl_easy_strerror(rc)));
      }
    }
  }

  void abort(std::uint64_t id) {
    if (active_.count(id) == 0) return;  // already finished
    finish(id, FailureKind::kCancelled, "cancelled");
  }

  void finish(std::uint64_t id, FailureKind failure, const std::string& error) {
    auto it = active_.find(id);
    std::unique_ptr<Transfer> t = std::move(it->second);
    active_.erase(it);
    curl_multi_remove_handle(multi_, t->easy);
    curl_slist_free_all(t->header_list);
    give_back(t->easy);
    report(*t, failure, error);
  }

  static void report(Transfer& t, FailureKind failure, const std::string& error) {
    t.response.failure = failure;
    t.response.error = error;
    t.response.latency = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - t.started);
    auto done = std::move(t.done);
    done(std::move(t.response));
  }

  asio::io_context& ctx_;
  asio::steady_timer timer_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;  // curl's timeout, if any
  std::chrono::steady_clock::time_point armed_at_;
  bool timer_armed_ = false;
  bool immediate_posted_ = false;
  std::uint64_t timer_generation_ = 0;
  CURLM* multi_ = nullptr;
  std::uint64_t last_id_ = 0;
  std::unordered_map<std::uint64_t, std::unique_ptr<Transfer>> active_;
  std::unordered_map<curl_socket_t, std::shared_ptr<Socket>> sockets_;
  std::vector<CURL*> free_;
};

CurlMulti& multi() {
  static std::once_flag global;
  std::call_once(global, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  // Process lifetime, never destroyed: transfers may still be on the I/O thread at exit.
  static auto* instance = new CurlMulti(tool_io_context());
  return *instance;
}

}  // namespace

void http_perform(HttpRequest request, std::shared_ptr<CallCancel> cancel,
                  std::function<void(HttpResponse)> done) {
  CurlMulti& m = multi();
  asio::post(tool_io_context(), [&m, request = std::move(request), cancel = std::move(cancel),
                                 done = std::move(done)]() mutable {
    m.start(std::move(request), std::move(cancel), std::move(done));
  });
}

}  // namespace switchyard::tools
