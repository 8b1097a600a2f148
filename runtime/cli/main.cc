// The `switchyard` program: parses the command line and dispatches to runtime/cli/*.cc.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "runtime/cli/cli.h"

int main(int argc, char** argv) {
  using namespace switchyard;
  cli::Context ctx;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;

  CLI::App app{"switchyard: a self-healing orchestration runtime for tool-using LLM agents"};
  app.set_version_flag("--version", std::string("switchyard ") + SWITCHYARD_VERSION);
  app.require_subcommand(1);
  int verbosity = 0;
  app.add_flag("-v,--verbose", verbosity, "More logs on stderr (repeat for more)");
  app.parse_complete_callback([&] {
    // Logs are for operators and go to stderr; quiet unless asked.
    auto logger = spdlog::stderr_color_mt("switchyard");
    spdlog::set_default_logger(logger);
    spdlog::set_level(verbosity >= 2   ? spdlog::level::debug
                      : verbosity == 1 ? spdlog::level::info
                                       : spdlog::level::warn);
  });

  cli::add_validate(app, ctx);
  cli::add_run(app, ctx);
  cli::add_eval(app, ctx);
  cli::add_runs(app, ctx);
  cli::add_replay(app, ctx);
  cli::add_output(app, ctx);
  cli::add_chaos(app, ctx);
  cli::add_health(app, ctx);
  cli::add_budget(app, ctx);
  cli::add_resume(app, ctx);
  cli::add_gc(app, ctx);
  cli::add_serve(app, ctx);
  cli::add_journal(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? cli::kExitOk : cli::kExitInvalid;
  }
  return ctx.exit_code;
}
