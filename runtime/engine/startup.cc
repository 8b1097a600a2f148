#include "runtime/engine/startup.h"

#include <algorithm>

namespace switchyard::runtime {
namespace {

// Appends the lines of `more` that `into` does not hold yet (two rebuilds skip the same run).
void add_unique(std::vector<std::string>& into, const std::vector<std::string>& more) {
  for (const auto& line : more) {
    if (std::find(into.begin(), into.end(), line) == into.end()) into.push_back(line);
  }
}

}  // namespace

std::string skipped_summary(const std::vector<std::string>& skipped, const std::string& location,
                            std::size_t max_items) {
  if (skipped.empty()) return "";
  const std::string journal_path = printable_location(location);
  const std::string where = journal_path.empty() ? "the journal" : "journal " + journal_path;
  std::string out = where + ": skipped " + std::to_string(skipped.size()) +
                    " item(s) that cannot be decoded (`switchyard journal check" +
                    (journal_path.empty() ? std::string() : " --journal " + journal_path) +
                    "` lists every problem):";
  for (std::size_t i = 0; i < skipped.size() && i < max_items; ++i) {
    out += "\n  " + skipped[i];
  }
  if (skipped.size() > max_items) {
    out += "\n  ... and " + std::to_string(skipped.size() - max_items) + " more";
  }
  return out;
}

std::string StartupReport::summary(const std::string& journal_path, std::size_t max_items) const {
  return skipped_summary(skipped, journal_path, max_items);
}

nlohmann::json StartupReport::to_json(std::size_t max_items) const {
  nlohmann::json items = nlohmann::json::array();
  for (std::size_t i = 0; i < skipped.size() && i < max_items; ++i) items.push_back(skipped[i]);
  return {{"count", skipped.size()}, {"items", std::move(items)}};
}

Result<Startup> start_up(Clock& clock, const StartupOptions& options) {
  Startup s;
  if (options.journal_path.empty()) {
    s.journal = make_memory_journal(options.memory);
  } else {
    auto journal = open_journal(options.journal_path, options.journal);
    if (!journal.ok()) return journal.status();
    s.journal = std::move(*journal);
  }
  s.health = std::make_unique<monitors::HealthTable>(clock);
  s.history = std::make_unique<LlmHistory>();
  // A journal in memory is new: there is nothing to rebuild from.
  if (options.rebuild_health && !options.journal_path.empty()) {
    auto rebuilt = rebuild_health(*s.journal, *s.health, options.health_window);
    if (!rebuilt.ok()) return rebuilt.status();
    s.report.outcomes = rebuilt->replayed;
    add_unique(s.report.skipped, rebuilt->skipped);
  }
  if (options.rebuild_history && !options.journal_path.empty()) {
    auto skipped = s.history->rebuild(*s.journal);
    if (!skipped.ok()) return skipped.status();
    add_unique(s.report.skipped, *skipped);
  }
  return s;
}

std::unique_ptr<Engine> build_engine(Startup& startup, Journal& journal, Clock& clock,
                                     EngineOptions options) {
  if (options.history == nullptr) options.history = startup.history.get();
  return std::make_unique<Engine>(journal, clock, *startup.health, std::move(options));
}

}  // namespace switchyard::runtime
