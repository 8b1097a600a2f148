#include "runtime/service/event_stream.h"

#include "runtime/service/log.h"

namespace switchyard::service {

Result<std::shared_ptr<EventStream>> EventStream::open(runtime::EventFeed& feed,
                                                       const std::string& run_id,
                                                       std::int64_t after_seq, bool starting) {
  std::shared_ptr<EventStream> stream(new EventStream());
  stream->run_id_ = run_id;
  stream->last_seq_ = after_seq;
  stream->in_flight_ = starting;
  // Subscribe first, then read: an event committed in between is in both, and the seq dedupes.
  EventStream* raw = stream.get();
  stream->subscription_ = feed.subscribe([raw](const runtime::Event& e) {
    if (e.run_id != raw->run_id_) return;
    {
      std::lock_guard lock(raw->mu_);
      if (!raw->loaded_) {  // the history is being read: these come after it
        raw->early_.push_back(e);
        return;
      }
    }
    raw->push(e);
  });
  auto events = feed.events(run_id);
  if (!events.ok() && !(starting && events.status().code() == StatusCode::kNotFound)) {
    return events.status();
  }
  if (events.ok() && events->empty() && !starting) {
    // A run with a row and no events yet is still starting; an unknown one has no row.
    auto row = feed.get_run(run_id);
    if (!row.ok()) return row.status();
  }
  static const std::vector<runtime::Event> kNone;
  const std::vector<runtime::Event>& history = events.ok() ? *events : kNone;
  std::lock_guard lock(stream->mu_);
  for (const auto& e : history) stream->push_locked(e);
  for (const auto& e : stream->early_) stream->push_locked(e);
  stream->early_.clear();
  stream->loaded_ = true;
  return stream;
}

EventStream::~EventStream() { subscription_.reset(); }

void EventStream::push_locked(const runtime::Event& event) {
  if (event.seq <= last_seq_ || finished_) return;
  last_seq_ = event.seq;
  queue_.push_back(event);
  if (event.type == "run_finished") finished_ = true;
}

void EventStream::push(const runtime::Event& event) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    push_locked(event);
    wake = wake_;
  }
  if (wake) wake();
}

void EventStream::on_ready(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  wake_ = std::move(wake);
}

std::string EventStream::take(bool* ended) {
  std::lock_guard lock(mu_);
  std::string out;
  *ended = false;
  while (!queue_.empty()) {
    const runtime::Event e = std::move(queue_.front());
    queue_.pop_front();
    out += message(e);
    if (e.type == "run_finished") *ended = true;
    // A run interrupted by a shutdown gets no more events from this process (`resume` continues
    // it elsewhere, or later): the stream ends there too, unless the run went on after it.
    // A run another process writes is taken over by another worker instead, and a run in flight
    // here was resumed after that interruption: their streams go on.
    if (e.type == "run_interrupted" && queue_.empty() && !polled_ && !in_flight_) *ended = true;
  }
  if (abandoned_) *ended = true;
  return out;
}

bool EventStream::abandoned() {
  std::lock_guard lock(mu_);
  return abandoned_;
}

Result<bool> EventStream::poll(const runtime::Journal& journal) {
  std::int64_t after = 0;
  {
    std::lock_guard lock(mu_);
    polled_ = true;
    if (finished_) return true;
    after = last_seq_;
  }
  auto fresh = journal.events_after(run_id_, after);
  if (!fresh.ok()) {
    if (fresh.status().code() != StatusCode::kInvalidArgument) return fresh.status();
    // A row that cannot be decoded (an edited journal) will not decode at the next poll either:
    // the stream ends after what it sent. Opened again, it answers the error naming the row.
    std::function<void()> wake;
    {
      std::lock_guard lock(mu_);
      abandoned_ = true;
      wake = wake_;
    }
    if (wake) wake();
    return fresh.status();
  }
  std::function<void()> wake;
  bool finished = false;
  {
    std::lock_guard lock(mu_);
    for (const auto& e : *fresh) push_locked(e);
    finished = finished_;
    if (!fresh->empty()) wake = wake_;
  }
  if (wake) wake();
  return finished;
}

StreamPoller::StreamPoller(const runtime::Journal& journal, std::chrono::milliseconds interval)
    : journal_(journal), interval_(interval), thread_([this] { loop(); }) {}

StreamPoller::~StreamPoller() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void StreamPoller::watch(const std::shared_ptr<EventStream>& stream) {
  std::lock_guard lock(mu_);
  streams_.push_back(stream);
}

std::size_t StreamPoller::watched() const {
  std::lock_guard lock(mu_);
  return streams_.size() + polling_;
}

void StreamPoller::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
    if (stopping_) return;
    // Polled without the lock: watch() is not held up by the journal's reads.
    std::vector<std::shared_ptr<EventStream>> live;
    for (const auto& weak : streams_) {
      if (auto stream = weak.lock()) live.push_back(std::move(stream));
    }
    streams_.clear();
    polling_ = live.size();
    lock.unlock();
    std::vector<std::weak_ptr<EventStream>> keep;
    for (const auto& stream : live) {
      auto ended = stream->poll(journal_);
      if (!ended.ok() && stream->abandoned()) {
        logger().error("event stream ended: {} (switchyard journal check lists every problem)",
                       ended.status().message());
        continue;
      }
      if (!ended.ok()) {
        // A journal that cannot be read now (the database restarting) is tried again next time.
        logger().warn("event stream: {}", ended.status().message());
      }
      if (!ended.ok() || !*ended) keep.push_back(stream);
    }
    live.clear();  // a stream whose connection is gone dies here, not under the lock
    lock.lock();
    polling_ = 0;
    streams_.insert(streams_.end(), keep.begin(), keep.end());
  }
}

std::string EventStream::message(const runtime::Event& e) {
  const nlohmann::json data = {{"run_id", e.run_id},
                               {"seq", e.seq},
                               {"time_ms", e.time_ms},
                               {"type", e.type},
                               {"payload", e.payload}};
  // dump() escapes newlines, so the data is one line, as SSE requires.
  // A damaged row must not break the stream: a line break in the type would end the field, and
  // invalid UTF-8 is sent as U+FFFD rather than thrown about by dump().
  std::string type = e.type;
  for (char& c : type) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return "id: " + std::to_string(e.seq) + "\nevent: " + type +
         "\ndata: " + data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

}  // namespace switchyard::service
