#pragma once
// EventFeed: a Journal that tells its subscribers of every event once it is committed.
//
// It forwards every call to another journal (usually the SQLite one) and, when an append has been
// committed, hands each of its events to every subscriber: the service streams them (SSE) and
// counts them (metrics); an embedding program watches its runs with it. Events reach subscribers
// in journal order within a run; events of a write_group are delivered after the group's COMMIT
// (a write that failed, or a group that could not be committed, delivers nothing).
//
// Usage:
//   EventFeed feed(*sqlite_journal);
//   EventFeed::Subscription sub = feed.subscribe([](const Event& e) { ... });
//   Engine engine(feed, clock, health);   // the engine journals through the feed
//
// Thread-safety: every method may be called from any thread. Subscribers run on the thread that
// committed the events (the Engine's journal-writer thread, or the Runner's thread); they must be
// quick, must not block, and must not write to the feed or (un)subscribe from inside the callback.
// Delivered events carry run_id, seq, time_ms, type and payload (also when they were sealed);
// `hash` may be empty.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <shared_mutex>

#include "runtime/journal.h"

namespace switchyard::runtime {

class EventFeed final : public Journal {
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
  explicit EventFeed(Journal& inner) : inner_(inner) {}

  // Registers `subscriber` for the events of every run committed from now on.
  [[nodiscard]] Subscription subscribe(Subscriber subscriber);

  std::vector<Status> write_group(std::vector<Write>& writes) override;
  Result<std::string> workflow_source(const std::string& hash) const override {
    return inner_.workflow_source(hash);
  }
  Status begin_run(const RunRecord& run) override { return inner_.begin_run(run); }
  Status append(const std::vector<Event>& events) override;
  Status append(std::vector<Event>&& events) override;
  Status finish_run(const std::string& run_id, const std::string& status,
                    const nlohmann::json& result, std::int64_t finished_ms) override {
    return inner_.finish_run(run_id, status, result, finished_ms);
  }
  Result<std::vector<RunRecord>> list_runs(const RunFilter& filter) const override {
    return inner_.list_runs(filter);
  }
  Result<RunRecord> get_run(const std::string& run_id) const override {
    return inner_.get_run(run_id);
  }
  Result<std::vector<Event>> events(const std::string& run_id) const override {
    return inner_.events(run_id);
  }
  Status claim_run(const std::string& run_id) override { return inner_.claim_run(run_id); }
  Result<GcStats> gc(std::int64_t finished_before_ms) override {
    return inner_.gc(finished_before_ms);
  }
  std::string location() const override { return inner_.location(); }
  bool chains_events() const override { return inner_.chains_events(); }

 private:
  void unsubscribe(std::uint64_t id);
  void publish(const std::vector<Event>& events);

  Journal& inner_;
  std::shared_mutex mu_;  // shared while delivering, exclusive to (un)subscribe
  std::map<std::uint64_t, Subscriber> subscribers_;
  std::uint64_t next_id_ = 1;
  std::atomic<bool> has_subscribers_{false};  // appends copy nothing while nobody listens
};

}  // namespace switchyard::runtime
