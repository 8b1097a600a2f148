#pragma once
// The process-wide tool I/O thread (private to tools/): one Boost.Asio event loop on which
// subprocesses are spawned and watched and HTTP transfers are driven, so no engine thread ever
// blocks on a tool. Started on first use; stopped at process exit.

#include <boost/asio/io_context.hpp>

namespace switchyard::tools {

boost::asio::io_context& tool_io_context();

}  // namespace switchyard::tools
