// The `switchyard` program: parses the command line and dispatches to runtime/cli/*.cc.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <string_view>

#include "runtime/cli/cli.h"

namespace {

// The first word of the command line that names the command, skipping the global options
// (-v, --journal FILE); "" when there is none.
std::string command_word(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--journal") {
      ++i;
      continue;
    }
    if (!arg.empty() && arg[0] == '-') continue;
    return std::string(arg);
  }
  return "";
}

// The long and short names of `app`'s options ("--json", "-v"), its parents' included (they
// fall through).
std::vector<std::string> option_names(const CLI::App* app) {
  std::vector<std::string> out;
  for (; app != nullptr; app = app->get_parent()) {
    for (const CLI::Option* o : app->get_options()) {
      for (const auto& l : o->get_lnames()) out.push_back("--" + l);
      for (const auto& s : o->get_snames()) out.push_back("-" + s);
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace switchyard;
  cli::Context ctx;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;

  CLI::App app{"switchyard: a self-healing orchestration runtime for tool-using LLM agents"};
  app.set_version_flag("--version", std::string("switchyard ") + SWITCHYARD_VERSION);
  app.require_subcommand(1);
  // Inherited by every command (set before they are added): global options anywhere on the
  // line, and the exit codes at the foot of every --help.
  app.fallthrough();
  app.footer(cli::kExitCodesFooter);
  int verbosity = 0;
  app.add_flag("-v,--verbose", verbosity, "More logs on stderr (repeat for more); anywhere");
  std::string journal;
  auto* global_journal = app.add_option(
      "--journal", journal,
      "SQLite journal file of the command (anywhere on the line; default switchyard.db)");
  app.parse_complete_callback([&] {
    // Logs are for operators and go to stderr; quiet unless asked.
    auto logger = spdlog::stderr_color_mt("switchyard");
    spdlog::set_default_logger(logger);
    spdlog::set_level(verbosity >= 2   ? spdlog::level::debug
                      : verbosity == 1 ? spdlog::level::info
                                       : spdlog::level::warn);
    if (global_journal->count() > 0) cli::apply_global_journal(journal);
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
  cli::add_tenants(app, ctx);
  cli::add_resume(app, ctx);
  cli::add_gc(app, ctx);
  cli::add_serve(app, ctx);
  cli::add_journal(app, ctx);
  cli::add_mcp(app, ctx);
  cli::add_waits(app, ctx);
  cli::add_worker(app, ctx);

  // A mistyped command says so, with the nearest names (CLI11 would say a command is required).
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
  if (const std::string word = command_word(argc, argv);
      !word.empty() && std::find(commands.begin(), commands.end(), word) == commands.end()) {
    std::cerr << "error: unknown command " << word << cli::did_you_mean(word, commands)
              << "\nRun with --help for the list of commands.\n";
    return cli::kExitInvalid;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ExtrasError& e) {
    // An unknown option (or a surplus argument): named, with the nearest options of the command.
    const CLI::App* command = &app;
    while (!command->get_subcommands().empty()) command = command->get_subcommands().front();
    const auto known = option_names(command);
    std::string where = command == &app ? "" : " of " + command->get_name();
    bool said = false;
    for (const auto& extra : app.remaining(/*recurse=*/true)) {
      if (extra.empty() || extra[0] != '-') continue;
      const std::string name = extra.substr(0, extra.find('='));
      std::cerr << "error: unknown option " << name << where << cli::did_you_mean(name, known)
                << "\n";
      said = true;
    }
    if (!said) std::cerr << "error: " << e.what() << "\n";
    std::cerr << "Run with --help for the options.\n";
    return cli::kExitInvalid;
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? cli::kExitOk : cli::kExitInvalid;
  }
  return ctx.exit_code;
}
