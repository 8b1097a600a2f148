#include "monitors/health_table.h"

#include <mutex>

namespace switchyard::monitors {

void HealthTable::mark_down(std::string_view tool, std::string reason) {
  std::unique_lock lock(mu_);
  down_.insert_or_assign(std::string(tool), std::move(reason));
}

void HealthTable::mark_up(std::string_view tool) {
  std::unique_lock lock(mu_);
  auto it = down_.find(tool);
  if (it != down_.end()) down_.erase(it);
}

bool HealthTable::is_down(std::string_view tool) const {
  std::shared_lock lock(mu_);
  return down_.find(tool) != down_.end();
}

std::map<std::string, std::string> HealthTable::down_tools() const {
  std::shared_lock lock(mu_);
  return {down_.begin(), down_.end()};
}

}  // namespace switchyard::monitors
