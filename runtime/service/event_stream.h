#pragma once
// EventStream: one run's journal events as Server-Sent Events (GET /v1/runs/{id}/events).
//
// The events already journaled come first (those after `after_seq`, the client's Last-Event-ID),
// then live ones from the EventFeed as they are committed, deduplicated by seq; the stream ends
// after run_finished. Each event is one SSE message: `id:` the journal seq, `event:` its type,
// `data:` the event as JSON ({"run_id", "seq", "time_ms", "type", "payload"}).
//
// Thread-safety: the feed's callback may push from any thread; take() and start() are called by
// one connection at a time.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "graph/status.h"
#include "runtime/journal/event_feed.h"

namespace switchyard::service {

class EventStream {
 public:
  // Subscribes to `feed` for run `run_id`, then reads what `feed` has journaled of it.
  // `starting`: the run was just started and may have no row yet (its events will come).
  // Errors: kNotFound for an unknown run (not `starting`); the journal's.
  // REQUIRES: feed outlives the stream.
  static Result<std::shared_ptr<EventStream>> open(runtime::EventFeed& feed,
                                                   const std::string& run_id,
                                                   std::int64_t after_seq, bool starting);
  ~EventStream();

  // Sets what to call (from any thread, quickly) when new text is ready to take.
  void on_ready(std::function<void()> wake);
  // The SSE text ready now ("" if none); *ended once run_finished has been taken.
  std::string take(bool* ended);

  // One event as an SSE message.
  static std::string message(const runtime::Event& event);

 private:
  EventStream() = default;
  void push(const runtime::Event& event);
  void push_locked(const runtime::Event& event);  // REQUIRES: mu_ held

  std::mutex mu_;
  std::string run_id_;
  std::deque<runtime::Event> queue_;   // under mu_
  std::int64_t last_seq_ = 0;          // the last seq queued
  bool finished_ = false;              // run_finished queued
  bool loaded_ = false;                // the journaled history is queued
  std::vector<runtime::Event> early_;  // live events that came while it was read
  std::function<void()> wake_;         // under mu_
  runtime::EventFeed::Subscription subscription_;
};

}  // namespace switchyard::service
