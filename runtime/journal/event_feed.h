#pragma once
// EventFeed: a Journal that tells its subscribers of every event once it is committed.
//
// It forwards every call to another journal (usually the SQLite one; see
// runtime/journal/forwarding_journal.h) and, when an append has been committed, hands each of its
// events to every subscriber: the service streams them (SSE) and counts them (metrics); an
// embedding program watches its runs with it. Events reach subscribers in journal order within a
// run; events of a write_group are delivered after the group's COMMIT (a write that failed, or a
// group that could not be committed, delivers nothing). Events of this process's runs that another
// journal object committed (a worker's claimed runs' starts, Journal::announce) are delivered
// once announced.
//
// Usage:
//   EventFeed feed(*sqlite_journal);
//   EventFeed::Subscription sub = feed.subscribe([](const Event& e) { ... });
//   Engine engine(feed, clock, health);   // the engine journals through the feed
//
// Thread-safety: every method may be called from any thread. Subscribers run on the thread that
// committed the events (the Engine's journal-writer thread; a run's own thread when the journal
// writes_inline(), as the one in memory does; or the Runner's thread), one delivery at a time
// even when several threads commit; they must be quick, must not block, and must not write to
// the feed or (un)subscribe from inside the callback.
// Delivered events carry run_id, seq, time_ms, type and payload (also when they were sealed);
// `hash` may be empty.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

#include "runtime/journal/forwarding_journal.h"

namespace switchyard::runtime {

class EventFeed final : public ForwardingJournal {
 public:
  using Subscriber = std::function<void(const Event&)>;

  // A subscriber's registration. Move-only; destroying it (or reset()) unsubscribes, waiting for
  // a callback of it in progress on another thread to return.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    ~Subscription();
    void reset();

   private:
    friend class EventFeed;
    Subscription(EventFeed* feed, std::uint64_t id) : feed_(feed), id_(id) {}
    EventFeed* feed_ = nullptr;
    std::uint64_t id_ = 0;
  };

  // REQUIRES: `inner` outlives the feed, and the feed outlives its subscriptions.
  explicit EventFeed(Journal& inner) : ForwardingJournal(inner) {}

  // Registers `subscriber` for the events of every run committed from now on.
  [[nodiscard]] Subscription subscribe(Subscriber subscriber);

  std::vector<Status> write_group(std::vector<Write>& writes) override;
  Status append(const std::vector<Event>& events) override;
  Status append(std::vector<Event>&& events) override;
  // Events another journal object committed (Journal::announce): delivered as if committed here.
  void announce(const std::vector<Event>& events) override;

 private:
  void unsubscribe(std::uint64_t id);
  void publish(const std::vector<Event>& events);

  std::mutex mu_;  // held while delivering (one delivery at a time) and to (un)subscribe
  std::map<std::uint64_t, Subscriber> subscribers_;
  std::uint64_t next_id_ = 1;
  std::atomic<bool> has_subscribers_{false};  // appends copy nothing while nobody listens
};

}  // namespace switchyard::runtime
