#include "runtime/journal/event_feed.h"

#include <mutex>
#include <utility>

#include "graph/json_read.h"
#include "runtime/journal/rows.h"

namespace switchyard::runtime {

namespace {
// Inside write_group, the events each write appends are held here (per thread: the inner journal
// performs a group's writes on the thread that called write_group) until the group is committed.
thread_local std::vector<Event>* t_pending = nullptr;
}  // namespace

EventFeed::Subscription::Subscription(Subscription&& other) noexcept
    : feed_(std::exchange(other.feed_, nullptr)), id_(other.id_) {}

EventFeed::Subscription& EventFeed::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    feed_ = std::exchange(other.feed_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

EventFeed::Subscription::~Subscription() { reset(); }

void EventFeed::Subscription::reset() {
  if (feed_ != nullptr) std::exchange(feed_, nullptr)->unsubscribe(id_);
}

EventFeed::Subscription EventFeed::subscribe(Subscriber subscriber) {
  std::lock_guard lock(mu_);
  const std::uint64_t id = next_id_++;
  subscribers_.emplace(id, std::move(subscriber));
  has_subscribers_.store(true, std::memory_order_release);
  return Subscription(this, id);
}

void EventFeed::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mu_);  // waits for deliveries in progress
  subscribers_.erase(id);
  has_subscribers_.store(!subscribers_.empty(), std::memory_order_release);
}

void EventFeed::publish(const std::vector<Event>& events) {
  std::lock_guard lock(mu_);
  for (const Event& e : events) {
    if (e.payload.is_null() && !e.payload_json.empty()) {
      // Sealed: its payload travels as text; subscribers get the document (decoded as a row
      // read back would be; this process's canonical JSON always is).
      Event whole = e;
      auto payload = parse_untrusted(e.payload_json, journal_row_limits());
      whole.payload = payload.ok() ? std::move(payload).value() : nlohmann::json(nullptr);
      for (const auto& [id, subscriber] : subscribers_) subscriber(whole);
      continue;
    }
    for (const auto& [id, subscriber] : subscribers_) subscriber(e);
  }
}

std::vector<Status> EventFeed::write_group(std::vector<Write>& writes) {
  if (!has_subscribers_.load(std::memory_order_acquire)) return inner().write_group(writes);
  // Each write journals through this feed (so that its appends are recorded), not through the
  // inner journal it is handed.
  std::vector<std::vector<Event>> pending(writes.size());
  std::vector<Write> recorded;
  recorded.reserve(writes.size());
  for (std::size_t i = 0; i < writes.size(); ++i) {
    recorded.push_back([this, &writes, &pending, i](Journal&) -> Status {
      pending[i].clear();  // performed again (Journal::write_group): only this time's count
      std::vector<Event>* outer = std::exchange(t_pending, &pending[i]);
      Status s = writes[i](*this);
      t_pending = outer;
      return s;
    });
  }
  std::vector<Status> statuses = inner().write_group(recorded);
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i].ok() && !pending[i].empty()) publish(pending[i]);
  }
  return statuses;
}

Status EventFeed::append(const std::vector<Event>& events) {
  Status s = inner().append(events);
  if (!s.ok() || !has_subscribers_.load(std::memory_order_acquire)) return s;
  if (t_pending != nullptr) {
    t_pending->insert(t_pending->end(), events.begin(), events.end());
  } else {
    publish(events);
  }
  return s;
}

void EventFeed::announce(const std::vector<Event>& events) {
  if (has_subscribers_.load(std::memory_order_acquire)) publish(events);
  inner().announce(events);
}

Status EventFeed::append(std::vector<Event>&& events) {
  if (!has_subscribers_.load(std::memory_order_acquire)) return inner().append(std::move(events));
  return append(static_cast<const std::vector<Event>&>(events));
}

}  // namespace switchyard::runtime
