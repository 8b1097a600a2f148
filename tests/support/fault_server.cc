#include "tests/support/fault_server.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <vector>

namespace switchyard::testing {

FaultServer::FaultServer(const std::string& routes) {
  // --exit-on-stdin-eof: the server stops when this process ends, however it ends (Subprocess
  // holds its stdin). Its first line names its port; 10 s is a safety net, not a wait.
  std::vector<std::string> args = {SWITCHYARD_FAULT_SERVER, "--exit-on-stdin-eof"};
  if (!routes.empty()) {
    args.push_back("--routes");
    args.push_back(routes);
  }
  process_ = std::make_unique<Subprocess>(args);
  if (process_->pid() <= 0) return;
  const std::string line = process_->read_line(std::chrono::seconds(10)).value_or("");
  const std::string prefix = "listening on 127.0.0.1:";
  if (line.rfind(prefix, 0) != 0) {
    ADD_FAILURE() << "the fault server did not start: '" << line << "'";
    return;
  }
  port_ = std::stoi(line.substr(prefix.size()));
}

FaultServer::~FaultServer() = default;  // Subprocess stops it (SIGTERM, then SIGKILL) and reaps it

std::string FaultServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

nlohmann::json FaultServer::stats() const { return get("/stats"); }

void FaultServer::reset() const { get("/reset"); }

void FaultServer::wait_for_requests(long requests) const {
  get("/wait/" + std::to_string(requests));
}

nlohmann::json FaultServer::get(const std::string& path) const {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context ctx;
  boost::asio::ip::tcp::socket socket(ctx);
  beast::error_code ec;
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)},
                 ec);
  if (ec) {
    ADD_FAILURE() << "cannot reach the fault server: " << ec.message();
    return nullptr;
  }
  http::request<http::empty_body> req(http::verb::get, path, 11);
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(false);
  http::write(socket, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec) http::read(socket, buffer, res, ec);
  if (ec) {
    ADD_FAILURE() << "GET " << path << " from the fault server: " << ec.message();
    return nullptr;
  }
  return nlohmann::json::parse(res.body(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace switchyard::testing
