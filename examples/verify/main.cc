// examples/verify: replay verification. Runs go into a SQLite journal file; then the program
// lists the file's runs and verifies each: the hash chain is recomputed, and every decision is
// re-driven from the recorded outcomes (calling no tool, spending nothing) and compared with the
// journaled one. Last, it verifies a run that is not there, to show how an error reads.
//
//               +--> Bank (down) --+
//   Start -> Approve               +--> Done     Approve: the builtin "approve" below
//               +--> Wallet -------+             Bank fails: the run reroutes to Wallet
//
// Build against an installed Switchyard (docs/embedding.md), then run it:
//   cmake -S examples/verify -B build-verify -DCMAKE_PREFIX_PATH=<prefix> &&
//     cmake --build build-verify && build-verify/verify examples/verify/payout.json payouts.db
// A journal that already holds runs is only verified. To see a failed verification, edit an
// event and run it again:
//   sqlite3 payouts.db "UPDATE events SET payload = replace(payload, 'Wallet', 'Bank')
//                       WHERE run_id = 'payout-1' AND type = 'reroute'"
// (`switchyard replay payout-1 --verify --journal payouts.db` prints the same report.)

#include <switchyard/switchyard.h>

#include <atomic>
#include <iostream>
#include <string>

namespace api = switchyard::api;

// Prints a report as `switchyard replay --verify` does; returns whether it passed.
bool print(const api::VerifyReport& report) {
  std::cout << "run " << report.run_id << ": " << report.events << " event(s)\n";
  std::cout << "  hash chain: "
            << (report.chain.ok() ? "intact" : "BROKEN: " + report.chain.message()) << "\n";
  if (report.decisions.ok()) {
    std::cout << "  decisions:  " << report.verified << " re-driven, each as journaled\n";
  } else {
    std::cout << "  decisions:  DIFFER: " << report.decisions.message() << "\n";
  }
  std::cout << (report.ok() ? "verified" : "verification FAILED") << "\n";
  return report.ok();
}

int main(int argc, char** argv) {
  auto workflow = api::Workflow::from_file(argc > 1 ? argv[1] : "payout.json");
  if (!workflow.ok()) {
    std::cerr << workflow.status().message() << "\n";
    return 2;
  }
  auto rt = api::Runtime::open({.journal_path = argc > 2 ? argv[2] : "payouts.db", .threads = 1});
  if (!rt.ok()) {
    std::cerr << rt.status().to_string() << "\n";  // kIo: not a journal, locked, ...
    return 1;
  }
  std::atomic<int> approvals{0};
  api::Status added = (*rt)->add_tool("approve", [&approvals](const nlohmann::json&) {
    ++approvals;
    return api::Result<nlohmann::json>(nlohmann::json{{"approved", true}});
  });
  if (!added.ok()) return 1;

  auto existing = (*rt)->list_runs();
  if (!existing.ok()) return 1;
  if (existing->empty()) {  // a new journal: two runs with ids of our own
    for (const char* id : {"payout-1", "payout-2"}) {
      auto run = (*rt)->run(*workflow, {.input = {{"amount", 40}}, .run_id = id, .seed = 7});
      if (!run.ok()) {
        std::cerr << run.status().to_string() << "\n";
        return 1;
      }
      std::cout << "ran " << id << ": " << api::to_string(run->status) << "\n";
    }
  }

  auto runs = (*rt)->list_runs();  // newest first
  if (!runs.ok()) return 1;
  bool all_verified = true;
  const int calls_before = approvals;
  for (const api::RunInfo& info : *runs) {
    std::cout << info.run_id << " (" << info.workflow << ", " << api::to_string(info.status)
              << "): head #" << info.head_seq << " " << info.head_hash.substr(0, 12) << "...\n";
    api::Result<api::VerifyReport> report = (*rt)->verify(info.run_id);
    if (!report.ok()) {  // kNotFound, kIo: could not verify at all
      std::cerr << report.status().to_string() << "\n";
      return 1;
    }
    all_verified = print(*report) && all_verified;
  }
  std::cout << "approve was called " << approvals - calls_before << " time(s) by verify\n";

  // A failed verification is an OK Result whose report says what broke (above). An error is
  // a run that could not be verified at all: here, one that is not in the journal.
  api::Result<api::VerifyReport> missing = (*rt)->verify("payout-404");
  std::cout << "verify payout-404: " << missing.status().to_string() << "\n";
  return all_verified && missing.status().code() == api::StatusCode::kNotFound ? 0 : 1;
}
