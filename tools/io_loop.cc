#include "tools/io_loop.h"

#include <pthread.h>

#include <boost/asio/executor_work_guard.hpp>
#include <thread>

namespace switchyard::tools {
namespace {

class IoLoop {
 public:
  IoLoop()
      : guard_(boost::asio::make_work_guard(ctx_)), thread_([this] {
          pthread_setname_np(pthread_self(), "sy-tool-io");
          ctx_.run();
        }) {}
  ~IoLoop() {
    guard_.reset();
    ctx_.stop();
    thread_.join();
  }
  boost::asio::io_context& context() { return ctx_; }

 private:
  boost::asio::io_context ctx_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

}  // namespace

boost::asio::io_context& tool_io_context() {
  static IoLoop loop;
  return loop.context();
}

}  // namespace switchyard::tools
