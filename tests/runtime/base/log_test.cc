// layer_logger: the one way a layer of the library gets its named logger.

#include "runtime/base/log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace switchyard::runtime {
namespace {

TEST(LayerLogger, IsTheLoggerTheProgramRegisteredUnderTheLayersName) {
  auto mine = std::make_shared<spdlog::logger>("log-test-registered");
  spdlog::register_logger(mine);
  EXPECT_EQ(layer_logger("log-test-registered"), mine);
  spdlog::drop("log-test-registered");
}

TEST(LayerLogger, OtherwiseWritesToTheDefaultLoggersSinksUnderTheLayersName) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_pattern("[%n] %v");
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("log-test-default", sink));
  auto layer = layer_logger("log-test-layer");
  spdlog::set_default_logger(previous);
  ASSERT_NE(layer, nullptr);
  EXPECT_EQ(layer->name(), "log-test-layer");
  layer->warn("hello");
  EXPECT_EQ(out.str(), "[log-test-layer] hello\n");
}

}  // namespace
}  // namespace switchyard::runtime
