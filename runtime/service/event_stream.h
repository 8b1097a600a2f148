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

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "graph/status.h"
#include "runtime/journal/event_feed.h"

namespace switchyard::service {

class EventStream {
 public:
  // Subscribes to `feed` for run `run_id`, then reads what `feed` has journaled of it.
  // `starting`: the run is in flight in this process (it may have no row yet: its events will
  // come); a `run_interrupted` in its history (an earlier process's shutdown, before this one
  // resumed it) then does not end the stream.
  // Errors: kNotFound for an unknown run (not `starting`); the journal's.
  // REQUIRES: feed outlives the stream.
  static Result<std::shared_ptr<EventStream>> open(runtime::EventFeed& feed,
                                                   const std::string& run_id,
                                                   std::int64_t after_seq, bool starting);
  ~EventStream();

  // Sets what to call (from any thread, quickly) when new text is ready to take.
  void on_ready(std::function<void()> wake);
  // The SSE text ready now ("" if none); *ended once run_finished has been taken (or the stream
  // was abandoned: poll()).
  std::string take(bool* ended);

  // One event as an SSE message.
  static std::string message(const runtime::Event& event);

  // Reads from `journal` the run's events after the last one queued, queues them and wakes the
  // connection: for a run another process writes (a worker), whose events the feed never sees.
  // Such a stream does not end at run_interrupted (another worker takes the run over) but only at
  // run_finished. Returns whether the stream has queued run_finished (nothing more to poll).
  // Errors: the journal's. A row that cannot be decoded (kInvalidArgument: an edited journal)
  // also abandons the stream: it ends once what was queued before is taken, and is not polled
  // again (a client that opens it again gets the error naming the row).
  Result<bool> poll(const runtime::Journal& journal);
  // poll() met a row that cannot be decoded.
  bool abandoned();

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
  bool polled_ = false;                // poll() fed it: a run written by another process
  bool in_flight_ = false;             // opened `starting`: the run is in flight here
  bool abandoned_ = false;             // poll() met a row it cannot decode: ends after the queue
  std::vector<runtime::Event> early_;  // live events that came while it was read
  std::function<void()> wake_;         // under mu_
  runtime::EventFeed::Subscription subscription_;
};

// StreamPoller: one thread that polls the journal, every `interval`, for the new events of the
// streams watched (EventStream::poll), until each has ended or its connection dropped it. The
// service on a queue uses it: its runs run in workers, so their events reach it only through the
// journal; a client sees each at most `interval` (plus a read) after it was committed.
//
// Thread-safety: watch() from any thread.
class StreamPoller {
 public:
  // REQUIRES: journal outlives the poller; interval > 0.
  StreamPoller(const runtime::Journal& journal, std::chrono::milliseconds interval);
  // Stops and joins the thread.
  ~StreamPoller();
  StreamPoller(const StreamPoller&) = delete;
  StreamPoller& operator=(const StreamPoller&) = delete;

  // Polls `stream` from now on, as long as a connection holds it and it has not ended.
  void watch(const std::shared_ptr<EventStream>& stream);
  // Streams being polled now.
  std::size_t watched() const;

 private:
  void loop();

  const runtime::Journal& journal_;
  const std::chrono::milliseconds interval_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;                            // under mu_
  std::vector<std::weak_ptr<EventStream>> streams_;  // under mu_
  std::size_t polling_ = 0;  // under mu_: streams taken out of streams_ by the round in progress
  std::thread thread_;
};

}  // namespace switchyard::service
