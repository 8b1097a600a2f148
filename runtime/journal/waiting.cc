#include "runtime/journal/waiting.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "graph/json_read.h"

namespace switchyard::runtime {

std::vector<std::string> open_wait_ids(const std::vector<Event>& events) {
  // Each open wait and the fan-out its branch belongs to ("" outside a fan-out).
  std::vector<std::pair<std::string, std::string>> open;
  for (const Event& e : events) {
    if (e.type == "wait_started") {
      open.emplace_back(lenient_string(e.payload, "wait"), lenient_string(e.payload, "fanout"));
    } else if (e.type == "wait_resolved") {
      const std::string wait = lenient_string(e.payload, "wait");
      std::erase_if(open, [&](const auto& w) { return w.first == wait; });
    } else if (e.type == "fanout_joined") {
      // A decided join: none of its branches runs any more (a nested fan-out does not exist).
      const std::string node = lenient_string(e.payload, "node");
      std::erase_if(open, [&](const auto& w) { return !w.second.empty() && w.second == node; });
    }
  }
  std::vector<std::string> ids;
  ids.reserve(open.size());
  for (auto& w : open) ids.push_back(std::move(w.first));
  return ids;
}

Result<std::vector<std::string>> Journal::open_waits(const std::string& run_id) const {
  auto all = events(run_id);
  if (!all.ok()) return all.status();
  return open_wait_ids(*all);
}

Result<bool> run_is_waiting(const Journal& journal, const std::string& run_id) {
  auto open = journal.open_waits(run_id);
  if (!open.ok()) return open.status();
  return !open->empty();
}

Result<std::vector<RunRecord>> list_runs_showing_waits(const Journal& journal,
                                                       const RunFilter& filter) {
  RunFilter query = filter;
  // `running` and `waiting` split the running rows: read them all, keep `limit` of the one asked.
  const bool split = filter.status && (*filter.status == "running" || *filter.status == "waiting");
  if (split) {
    query.status = "running";
    query.limit = std::numeric_limits<int>::max();
  }
  auto runs = journal.list_runs(query);
  if (!runs.ok()) return runs.status();
  std::vector<RunRecord> out;
  for (RunRecord& r : *runs) {
    if (split && static_cast<int>(out.size()) >= filter.limit) break;
    if (r.status == "running" && r.defect.empty()) {
      auto waiting = run_is_waiting(journal, r.run_id);
      if (!waiting.ok()) {
        // A run whose events cannot be decoded: listed as its row says, and said.
        if (waiting.status().code() != StatusCode::kInvalidArgument) return waiting.status();
        r.defect = waiting.status().message();
      } else if (*waiting) {
        r.status = "waiting";
      }
    }
    if (split && r.status != *filter.status) continue;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace switchyard::runtime
