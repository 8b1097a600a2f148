// switchyard serve [--journal DB] [--host H] [--port P] [--tokens-file F] [--no-auth]
//                  [--max-body-bytes N] [--max-json-depth N] [--rate R] [--burst B]
//                  [--max-concurrent-runs N]
//                  [--grace D] [--read-timeout D] [--idle-timeout D] [--models M]
//                  [--workflow WF.json]... [--allow-command-tools] [--otlp-endpoint URL]
//                  [--no-resume] [--queue] [--queue-poll D] [--health-poll D]
// The HTTP service (docs/service.md). Tokens: --tokens-file and/or SWITCHYARD_TOKENS (taken out
// of the environment once read, so that no tool subprocess inherits them).

#include <signal.h>

#include <cstdlib>
#include <ostream>

#include "runtime/base/workflow_file.h"
#include "runtime/cli/cli.h"
#include "runtime/cli/format.h"
#include "runtime/cli/session.h"
#include "runtime/service/service.h"

namespace switchyard::cli {
namespace {

struct ServeArgs {
  std::string journal = default_journal_path();
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string tokens_file;
  bool no_auth = false;
  std::int64_t max_body_bytes = 1 << 20;
  std::size_t max_json_depth = 128;
  double rate = 50;
  double burst = 100;
  int max_concurrent_runs = 64;
  std::string grace = "10s";
  std::string read_timeout = "10s";
  std::string idle_timeout = "30s";
  bool allow_command_tools = false;
  bool no_resume = false;
  bool queue = false;
  std::string queue_poll = "200ms";
  std::string health_poll = "200ms";
  std::string throttle_lease = "10s";
  std::string models;
  std::string otlp_endpoint;
  std::vector<std::string> workflows;
  int threads = 2;
  std::string sync = "normal";
};

Result<service::ServiceOptions> options_of(const ServeArgs& args) {
  service::ServiceOptions o;
  o.journal_path = args.journal;
  o.sync = parse_sync(args.sync);
  o.http.host = args.host;
  o.http.port = args.port;
  o.http.max_body_bytes = args.max_body_bytes;
  o.max_json_depth = args.max_json_depth;
  o.http.threads = args.threads;
  auto read_timeout = duration_arg("--read-timeout", args.read_timeout);
  if (!read_timeout.ok()) return read_timeout.status();
  o.http.read_timeout = *read_timeout;
  auto idle_timeout = duration_arg("--idle-timeout", args.idle_timeout);
  if (!idle_timeout.ok()) return idle_timeout.status();
  o.http.idle_timeout = *idle_timeout;
  auto grace = duration_arg("--grace", args.grace);
  if (!grace.ok()) return grace.status();
  o.grace = *grace;
  if (!args.tokens_file.empty()) {
    auto text = runtime::read_file(args.tokens_file);
    if (!text.ok()) return invalid_argument("--tokens-file: " + text.status().message());
    for (auto& t : service::TokenSet::parse(*text)) o.tokens.push_back(std::move(t));
  }
  if (const char* env = std::getenv("SWITCHYARD_TOKENS"); env != nullptr) {
    for (auto& t : service::TokenSet::parse(env)) o.tokens.push_back(std::move(t));
  }
  // Command tools inherit this process's environment: a workflow registered over HTTP must not
  // be able to read the tokens. Called before any thread or run exists.
  ::unsetenv("SWITCHYARD_TOKENS");
  o.allow_no_auth = args.no_auth;
  if (args.no_auth && !o.tokens.empty()) {
    return invalid_argument("--no-auth with tokens configured: choose one");
  }
  o.rate = {.per_second = args.rate, .burst = args.burst};
  o.max_concurrent_runs = args.max_concurrent_runs;
  o.models_path = args.models;
  o.otlp_endpoint = args.otlp_endpoint;
  o.workflow_files = args.workflows;
  o.allow_command_tools = args.allow_command_tools;
  o.resume_orphans = !args.no_resume;
  o.queue = args.queue;
  auto queue_poll = duration_arg("--queue-poll", args.queue_poll);
  if (!queue_poll.ok()) return queue_poll.status();
  if (queue_poll->count() <= 0) return invalid_argument("--queue-poll: expected more than 0 ms");
  o.queue_poll = *queue_poll;
  if (args.health_poll == "0") {
    o.health_poll = std::chrono::milliseconds(0);
  } else {
    auto health_poll = duration_arg("--health-poll", args.health_poll);
    if (!health_poll.ok()) return health_poll.status();
    o.health_poll = *health_poll;
  }
  auto throttle_lease = throttle_lease_arg(args.throttle_lease);
  if (!throttle_lease.ok()) return throttle_lease.status();
  o.throttle_lease = *throttle_lease;
  return o;
}

int serve(Context& ctx, const ServeArgs& args) {
  auto options = options_of(args);
  if (!options.ok()) return report_error(ctx, options.status(), false);
  // SIGTERM and SIGINT are taken by this thread only (sigwait below): blocked before the
  // service's threads exist, so they inherit the mask.
  const sigset_t signals = block_stop_signals();
  auto service = service::Service::start(*options);
  if (!service.ok()) return report_error(ctx, service.status(), false);
  *ctx.out << "listening on " << (*service)->url() << std::endl;
  int signal = 0;
  sigwait(&signals, &signal);
  *ctx.err << "switchyard serve: " << (signal == SIGINT ? "SIGINT" : "SIGTERM")
           << ": draining (grace " << args.grace << ")" << std::endl;
  const service::DrainReport report = (*service)->drain();
  service->reset();
  *ctx.out << "stopped: " << report.finished << " run(s) finished while draining, "
           << report.interrupted.size() << " interrupted";
  for (const auto& id : report.interrupted) *ctx.out << " " << id;
  *ctx.out << (report.interrupted.empty()
                   ? ""
                   : " (switchyard resume --all --journal " +
                         runtime::printable_location(args.journal) + " continues them)")
           << std::endl;
  return kExitOk;
}

}  // namespace

void add_serve(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("serve", "The HTTP service: runs API, live events, metrics");
  auto args = std::make_shared<ServeArgs>();
  add_journal_option(cmd, args->journal, /*creates=*/true);
  cmd->add_option("--host", args->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", args->port, "Port (0: a free one; the bound address is printed)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--tokens-file", args->tokens_file,
                  "File of bearer tokens (one per line or comma-separated; also "
                  "SWITCHYARD_TOKENS)");
  cmd->add_flag("--no-auth", args->no_auth,
                "No authentication (development only; loopback addresses only)");
  cmd->add_option("--max-body-bytes", args->max_body_bytes, "Largest request body (413 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1} << 30));
  cmd->add_option("--max-json-depth", args->max_json_depth,
                  "Deepest nesting of arrays/objects in a JSON request body (400 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  cmd->add_option("--rate", args->rate, "Requests per second per token (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--burst", args->burst, "Requests a token may make at once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-concurrent-runs", args->max_concurrent_runs,
                  "Runs in flight per token (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--grace", args->grace,
                  "On SIGTERM/SIGINT, how long runs in flight may take to finish before they are "
                  "interrupted for resume")
      ->capture_default_str();
  cmd->add_option("--read-timeout", args->read_timeout,
                  "Deadline for a client to send a whole request (headers and body together)")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", args->idle_timeout,
                  "How long a kept-alive connection may wait before the next request starts")
      ->capture_default_str();
  cmd->add_option("--models", args->models, "Models file (docs/models.md)");
  cmd->add_option("--workflow", args->workflows,
                  "Register this workflow file at start (repeatable)");
  cmd->add_flag("--allow-command-tools", args->allow_command_tools,
                "Accept workflows with `command` tools over POST /v1/workflows (every token "
                "holder may then run programs on this host)");
  cmd->add_flag("--no-resume", args->no_resume,
                "Do not continue, at start, the runs a dead process left unfinished in the journal "
                "(default: those whose workflow is registered with --workflow are resumed here)");
  cmd->add_flag("--queue", args->queue,
                "Admit runs into the PostgreSQL journal's queue for `switchyard worker`s to run, "
                "instead of running them here (docs/scale-out.md#the-service-on-a-queue)");
  cmd->add_option("--queue-poll", args->queue_poll,
                  "On a PostgreSQL journal: how often the event streams of runs other processes "
                  "(workers) run read the journal")
      ->capture_default_str();
  cmd->add_option("--health-poll", args->health_poll,
                  "On a PostgreSQL journal: how often the health monitor learns the tool outcomes "
                  "other processes journal (docs/scale-out.md#shared-health; 0: never)")
      ->capture_default_str();
  add_throttle_lease_option(cmd, args->throttle_lease);
  cmd->add_option("--otlp-endpoint", args->otlp_endpoint,
                  "Export runs as OpenTelemetry traces over OTLP/HTTP JSON to this collector URL "
                  "(docs/tracing.md)");
  cmd->add_option("--threads", args->threads, "HTTP threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  add_sync_option(cmd, args->sync);
  cmd->callback([&ctx, args] { ctx.exit_code = serve(ctx, *args); });
}

}  // namespace switchyard::cli
