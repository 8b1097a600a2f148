#include <ostream>

#include "runtime/base/workflow_file.h"
#include "runtime/cli/cli.h"

namespace switchyard::cli {

int exit_code_for(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
      return kExitInvalid;
    default:
      return kExitInternal;
  }
}

Status journal_error(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument ? io_error(status.message()) : status;
}

int report_error(Context& ctx, const Status& status, bool json) {
  if (json) {
    *ctx.out << json_text(nlohmann::json{{"error",
                                          {{"code", std::string(to_string(status.code()))},
                                           {"message", status.message()}}}})
             << "\n";
  } else {
    *ctx.err << "error: " << status.message() << "\n";
  }
  return exit_code_for(status);
}

nlohmann::json to_json(const graph::Diagnostic& d) { return runtime::diagnostic_json(d); }

void report_diagnostics(Context& ctx, const graph::LoadResult& result, bool json) {
  if (json) {
    nlohmann::json errors = nlohmann::json::array();
    nlohmann::json warnings = nlohmann::json::array();
    for (const auto& d : result.errors) errors.push_back(to_json(d));
    for (const auto& d : result.warnings) warnings.push_back(to_json(d));
    *ctx.out << json_text(
                    nlohmann::json{{"valid", false}, {"errors", errors}, {"warnings", warnings}})
             << "\n";
    return;
  }
  for (const auto& d : result.errors) *ctx.err << "error: " << d.to_string() << "\n";
  for (const auto& d : result.warnings) *ctx.err << "warning: " << d.to_string() << "\n";
  *ctx.err << result.errors.size() << " error(s)\n";
}

std::string default_journal_path() { return "switchyard.db"; }

void add_journal_option(CLI::App* cmd, std::string& journal, bool creates) {
  journal = default_journal_path();
  cmd->add_option("--journal", journal,
                  creates ? "SQLite journal file (created when missing)" : "SQLite journal file")
      ->capture_default_str();
}

std::string json_text(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace switchyard::cli
