// switchyard._switchyard: the C++ half of the Python binding (docs/python.md). It wraps the public
// embedding API (include/switchyard/) and nothing else; the Python package around it
// (python/switchyard/) gives it its Pythonic face (the Runtime class, decorators, dataclasses).
//
// Threads and the GIL: every call into the library that may wait (open, run, resume, queries,
// cancel, the Runtime's destruction) releases the GIL; the library's threads take it only to call
// a Python tool (or an async tool's on_cancel) and to drop the references to Python objects they
// hold. Completions (a run's end, live events) are handed over without the GIL: through a
// condition variable (RunHandle::wait, EventQueue::next) or a pipe an asyncio loop watches
// (Notifier).
//
// pybind11 reports errors by throwing (py::error_already_set); the library's errors are values
// (Status) turned into the package's exceptions by raise_status. No exception crosses into the
// library: the tool adapters catch everything.

#include <fcntl.h>
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <switchyard/switchyard.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;
namespace api = switchyard::api;
using json = nlohmann::json;

namespace {

constexpr int kMaxDepth = 128;

// --- Errors -------------------------------------------------------------------------------------

py::object errors_module() { return py::module_::import("switchyard._errors"); }

py::list diagnostics_list(const std::vector<api::Diagnostic>& diagnostics) {
  py::list out;
  for (const auto& d : diagnostics) {
    py::dict item;
    item["file"] = d.file;
    item["pointer"] = d.pointer;
    item["message"] = d.message;
    item["line"] = d.line;
    item["column"] = d.column;
    item["text"] = d.to_string();
    out.append(item);
  }
  return out;
}

// Raises the package's exception for `status` (switchyard._errors.from_status). REQUIRES: the GIL.
[[noreturn]] void raise_status(const api::Status& status, bool load_error = false) {
  py::object error = errors_module().attr("from_status")(
      std::string(api::to_string(status.code())), status.message(),
      diagnostics_list(status.diagnostics()), load_error);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())), error.ptr());
  throw py::error_already_set();
}

api::StatusCode code_of(const std::string& name) {
  using C = api::StatusCode;
  static const std::pair<const char*, C> kCodes[] = {
      {"invalid_argument", C::kInvalidArgument},
      {"not_found", C::kNotFound},
      {"failed_precondition", C::kFailedPrecondition},
      {"unavailable", C::kUnavailable},
      {"deadline_exceeded", C::kDeadlineExceeded},
      {"resource_exhausted", C::kResourceExhausted},
      {"cancelled", C::kCancelled},
      {"internal", C::kInternal},
      {"io", C::kIo}};
  for (const auto& [n, c] : kCodes) {
    if (name == n) return c;
  }
  return C::kInternal;
}

// --- JSON <-> Python ----------------------------------------------------------------------------

py::object to_py(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      return py::none();
    case json::value_t::boolean:
      return py::bool_(v.get<bool>());
    case json::value_t::number_integer:
      return py::int_(v.get<std::int64_t>());
    case json::value_t::number_unsigned:
      return py::int_(v.get<std::uint64_t>());
    case json::value_t::number_float:
      return py::float_(v.get<double>());
    case json::value_t::string:
      return py::str(v.get_ref<const std::string&>());
    case json::value_t::binary:
      return py::none();
    case json::value_t::array: {
      py::list out(v.size());
      std::size_t i = 0;
      for (const auto& e : v) out[i++] = to_py(e);
      return out;
    }
    case json::value_t::object: {
      py::dict out;
      for (auto it = v.begin(); it != v.end(); ++it) out[py::str(it.key())] = to_py(it.value());
      return out;
    }
  }
  return py::none();
}

// Converts a JSON-able Python value (None, bool, int, float, str, list, tuple, dict with str keys);
// anything else is an error naming the JSON pointer of the value. REQUIRES: the GIL.
api::Result<json> from_py(py::handle o, const std::string& pointer = "", int depth = 0) {
  if (depth > kMaxDepth) {
    return api::Status(api::StatusCode::kInvalidArgument,
                       (pointer.empty() ? "/" : pointer) + ": nested deeper than 128 levels");
  }
  if (o.is_none()) return json(nullptr);
  if (PyBool_Check(o.ptr())) return json(o.ptr() == Py_True);
  if (PyLong_Check(o.ptr())) {
    int overflow = 0;
    const long long value = PyLong_AsLongLongAndOverflow(o.ptr(), &overflow);
    if (overflow == 0) return json(static_cast<std::int64_t>(value));
    if (overflow > 0) {
      const unsigned long long u = PyLong_AsUnsignedLongLong(o.ptr());
      if (!PyErr_Occurred()) return json(static_cast<std::uint64_t>(u));
      PyErr_Clear();
    }
    return api::Status(api::StatusCode::kInvalidArgument,
                       (pointer.empty() ? "/" : pointer) + ": integer out of the 64-bit range");
  }
  if (PyFloat_Check(o.ptr())) {
    const double d = PyFloat_AS_DOUBLE(o.ptr());
    if (!std::isfinite(d)) {
      return api::Status(api::StatusCode::kInvalidArgument,
                         (pointer.empty() ? "/" : pointer) + ": " +
                             (std::isnan(d) ? "NaN" : "an infinity") + " is not JSON");
    }
    return json(d);
  }
  if (PyUnicode_Check(o.ptr())) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(o.ptr(), &size);
    if (data == nullptr) {
      PyErr_Clear();
      return api::Status(
          api::StatusCode::kInvalidArgument,
          (pointer.empty() ? "/" : pointer) + ": a string that is not valid Unicode");
    }
    return json(std::string(data, static_cast<std::size_t>(size)));
  }
  if (PyDict_Check(o.ptr())) {
    json out = json::object();
    PyObject* key = nullptr;
    PyObject* value = nullptr;
    Py_ssize_t pos = 0;
    while (PyDict_Next(o.ptr(), &pos, &key, &value)) {
      if (!PyUnicode_Check(key)) {
        return api::Status(api::StatusCode::kInvalidArgument,
                           (pointer.empty() ? "/" : pointer) + ": a key that is not a string (" +
                               std::string(Py_TYPE(key)->tp_name) + ")");
      }
      const char* k = PyUnicode_AsUTF8(key);
      if (k == nullptr) {
        PyErr_Clear();
        return api::Status(api::StatusCode::kInvalidArgument,
                           (pointer.empty() ? "/" : pointer) + ": a key that is not valid Unicode");
      }
      std::string escaped = k;
      for (std::size_t i = 0; (i = escaped.find_first_of("~/", i)) != std::string::npos; i += 2) {
        escaped.replace(i, 1, escaped[i] == '~' ? "~0" : "~1");
      }
      auto v = from_py(value, pointer + "/" + escaped, depth + 1);
      if (!v.ok()) return v.status();
      out[k] = std::move(*v);
    }
    return out;
  }
  if (PyList_Check(o.ptr()) || PyTuple_Check(o.ptr())) {
    json out = json::array();
    const py::sequence seq = py::reinterpret_borrow<py::sequence>(o);
    std::size_t i = 0;
    for (auto item : seq) {
      auto v = from_py(item, pointer + "/" + std::to_string(i++), depth + 1);
      if (!v.ok()) return v.status();
      out.push_back(std::move(*v));
    }
    return out;
  }
  return api::Status(api::StatusCode::kInvalidArgument,
                     (pointer.empty() ? "/" : pointer) + ": a " + Py_TYPE(o.ptr())->tp_name +
                         " is not JSON (dict, list, str, int, float, bool or None)");
}

json from_py_or_raise(py::handle o, const char* what) {
  auto v = from_py(o);
  if (!v.ok()) {
    raise_status(api::Status(api::StatusCode::kInvalidArgument,
                             std::string(what) + ": " + v.status().message()));
  }
  return std::move(*v);
}

// --- Python objects held by the library's threads -----------------------------------------------

// Whether the interpreter is gone or going (then the library's threads must not touch it).
bool python_gone() {
#if PY_VERSION_HEX >= 0x030D0000
  return !Py_IsInitialized() || Py_IsFinalizing();
#else
  return !Py_IsInitialized() || _Py_IsFinalizing();
#endif
}

// A reference to a Python object that may be dropped on any thread: the last owner takes the GIL
// to drop it (or leaks it when the interpreter is already gone).
std::shared_ptr<py::object> hold(py::object o) {
  return std::shared_ptr<py::object>(new py::object(std::move(o)), [](py::object* p) {
    if (python_gone()) {
      p->release();  // the interpreter is gone or going: leak it rather than touch it
      delete p;
      return;
    }
    py::gil_scoped_acquire gil;
    delete p;
  });
}

// Takes the GIL on one of the library's threads. The thread's Python thread state is made once and
// kept (the first PyGILState_Ensure is never released): without that, every call would create and
// destroy one, tens of microseconds each.
class Gil {
 public:
  Gil() {
    thread_local bool kept = [] {
      PyGILState_Ensure();
      PyEval_SaveThread();
      return true;
    }();
    (void)kept;
    state_ = PyGILState_Ensure();
  }
  ~Gil() { PyGILState_Release(state_); }
  Gil(const Gil&) = delete;
  Gil& operator=(const Gil&) = delete;

 private:
  PyGILState_STATE state_;
};

// The failure a Python exception makes (switchyard._errors.tool_failure: code and message).
// REQUIRES: the GIL, inside the catch.
api::Status failure_of(py::error_already_set& e) {
  try {
    py::tuple t = errors_module().attr("tool_failure")(e.value());
    return api::Status(code_of(t[0].cast<std::string>()), t[1].cast<std::string>());
  } catch (py::error_already_set& inner) {
    return api::Status(api::StatusCode::kInternal, std::string("python tool: ") + e.what());
  }
}

// --- Summaries and rows as dicts ----------------------------------------------------------------

py::list strings(const std::vector<std::string>& v) {
  py::list out;
  for (const auto& s : v) out.append(s);
  return out;
}

py::dict summary_dict(const api::RunSummary& s) {
  py::dict d;
  d["run_id"] = s.run_id;
  d["status"] = std::string(api::to_string(s.status));
  d["goal"] = s.goal;
  d["path"] = strings(s.path);
  d["reroutes"] = s.reroutes;
  d["backtracks"] = s.backtracks;
  d["llm_calls"] = s.llm_calls;
  d["spent_usd"] = s.spent_usd;
  d["tokens"] = s.tokens;
  d["blocked"] = strings(s.blocked);
  d["message"] = s.message;
  d["output"] = to_py(s.output);
  d["outputs"] = to_py(s.outputs);
  d["output_truncated"] = s.output_truncated;
  d["outputs_dropped"] = strings(s.outputs_dropped);
  d["json"] = to_py(s.json);
  return d;
}

py::dict info_dict(const api::RunInfo& r) {
  py::dict d;
  d["run_id"] = r.run_id;
  d["workflow"] = r.workflow;
  d["workflow_hash"] = r.workflow_hash;
  d["status"] = std::string(api::to_string(r.status));
  d["started_ms"] = r.started_ms;
  d["finished_ms"] = r.finished_ms;
  d["input"] = to_py(r.input);
  d["result"] = to_py(r.result);
  d["head_hash"] = r.head_hash;
  d["head_seq"] = r.head_seq;
  d["owner_pid"] = r.owner_pid;
  return d;
}

py::dict event_dict(const api::Event& e) {
  py::dict d;
  d["run_id"] = e.run_id;
  d["seq"] = e.seq;
  d["time_ms"] = e.time_ms;
  d["type"] = e.type;
  d["payload"] = to_py(e.payload);
  d["hash"] = e.hash;
  return d;
}

py::object status_text(const api::Status& s) {
  if (s.ok()) return py::none();
  return py::str(s.to_string());
}

// --- Completions --------------------------------------------------------------------------------

// Tells an asyncio loop that runs ended: tokens queued, one byte written to a pipe the loop reads
// (loop.add_reader). Thread-safe; needs no GIL to push.
class Notifier {
 public:
  Notifier() {
    if (::pipe2(fds_, O_NONBLOCK | O_CLOEXEC) != 0) {
      throw py::value_error("switchyard: could not create a pipe for asyncio");
    }
  }
  ~Notifier() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  int fileno() const { return fds_[0]; }
  void push(std::uint64_t token) {
    bool wake = false;
    {
      std::lock_guard lock(mu_);
      wake = tokens_.empty();
      tokens_.push_back(token);
    }
    if (wake) {
      const char byte = 1;
      [[maybe_unused]] auto n = ::write(fds_[1], &byte, 1);  // full pipe: a wake-up is pending
    }
  }
  std::vector<std::uint64_t> drain() {
    char buffer[256];
    while (::read(fds_[0], buffer, sizeof buffer) > 0) {
    }
    std::lock_guard lock(mu_);
    std::vector<std::uint64_t> out(tokens_.begin(), tokens_.end());
    tokens_.clear();
    return out;
  }

 private:
  int fds_[2] = {-1, -1};
  std::mutex mu_;
  std::deque<std::uint64_t> tokens_;
};

// One started run: its id and, once it ended, its Result. Thread-safe.
class RunHandle {
 public:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<api::Result<api::RunSummary>> result;
    std::shared_ptr<Notifier> notifier;
    std::uint64_t token = 0;
  };
  RunHandle(std::string run_id, std::shared_ptr<State> state)
      : run_id_(std::move(run_id)), state_(std::move(state)) {}

  const std::string& run_id() const { return run_id_; }
  bool done() const {
    std::lock_guard lock(state_->mu);
    return state_->result.has_value();
  }
  // Waits up to `timeout` seconds (None: for ever) without the GIL; whether the run ended.
  bool wait(std::optional<double> timeout) const {
    py::gil_scoped_release release;
    std::unique_lock lock(state_->mu);
    if (!timeout) {
      state_->cv.wait(lock, [&] { return state_->result.has_value(); });
      return true;
    }
    return state_->cv.wait_for(lock, std::chrono::duration<double>(std::max(0.0, *timeout)),
                               [&] { return state_->result.has_value(); });
  }
  // The run's summary as a dict; raises its error. REQUIRES: done().
  py::dict result() const {
    std::optional<api::Result<api::RunSummary>> r;
    {
      std::lock_guard lock(state_->mu);
      r = state_->result;
    }
    if (!r) throw py::value_error("the run has not ended yet");
    if (!r->ok()) raise_status(r->status());
    return summary_dict(**r);
  }

  static api::RunDone done_callback(const std::shared_ptr<State>& state) {
    return [state](api::Result<api::RunSummary> r) {
      {
        std::lock_guard lock(state->mu);
        state->result = std::move(r);
      }
      state->cv.notify_all();
      if (state->notifier) state->notifier->push(state->token);
    };
  }

 private:
  std::string run_id_;
  std::shared_ptr<State> state_;
};

// The live events of one run (or all), queued by a subscription without the GIL.
class EventQueue {
 public:
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<api::Event> events;
  };
  EventQueue(std::shared_ptr<Shared> shared, api::EventSubscription sub)
      : shared_(std::move(shared)), sub_(std::move(sub)) {}

  // The next event as a dict, or None after `timeout` seconds (None: wait for ever).
  py::object next(std::optional<double> timeout) {
    std::optional<api::Event> e;
    bool return_none = false;
    {
      py::gil_scoped_release release;
      std::unique_lock lock(shared_->mu);
      auto ready = [&] { return !shared_->events.empty(); };
      if (!timeout) {
        shared_->cv.wait(lock, ready);
      } else if (!shared_->cv.wait_for(lock, std::chrono::duration<double>(std::max(0.0, *timeout)),
                                       ready)) {
        return_none = true;
      }
      if (!return_none) {
        e = std::move(shared_->events.front());
        shared_->events.pop_front();
      }
    }
    if (return_none) return py::none();  // made with the GIL, re-taken above
    return event_dict(*e);
  }
  void close() {
    py::gil_scoped_release release;
    sub_.reset();
  }

 private:
  std::shared_ptr<Shared> shared_;
  api::EventSubscription sub_;
};

// An asynchronous tool's reply, for Python (api::ToolReply is thread-safe).
class Reply {
 public:
  explicit Reply(api::ToolReply reply) : reply_(std::move(reply)) {}
  void ok(py::handle value) {
    auto v = from_py(value);
    py::gil_scoped_release release;
    if (!v.ok()) {
      reply_(
          api::Status(api::StatusCode::kInvalidArgument, "tool output: " + v.status().message()));
    } else {
      reply_(std::move(*v));
    }
  }
  void fail(const std::string& code, const std::string& message) {
    py::gil_scoped_release release;
    reply_(api::Status(code_of(code), message.empty() ? code : message));
  }
  void on_cancel(py::object abort) {
    auto held = hold(std::move(abort));
    reply_.on_cancel([held] {
      if (python_gone()) return;
      py::gil_scoped_acquire gil;
      try {
        (*held)();
      } catch (py::error_already_set& e) {
        e.discard_as_unraisable("switchyard: a tool's on_cancel");
      }
    });
  }
  bool cancelled() const { return reply_.cancelled(); }

 private:
  api::ToolReply reply_;
};

// --- The runtime --------------------------------------------------------------------------------

api::ModelTier tier_of(const py::dict& d) {
  api::ModelTier t;
  for (auto item : d) {
    const auto key = item.first.cast<std::string>();
    const py::handle v = item.second;
    if (key == "name")
      t.name = v.cast<std::string>();
    else if (key == "model")
      t.model = v.cast<std::string>();
    else if (key == "base_url")
      t.base_url = v.cast<std::string>();
    else if (key == "api_key_env")
      t.api_key_env = v.cast<std::string>();
    else if (key == "input_usd_per_mtok")
      t.input_usd_per_mtok = v.cast<double>();
    else if (key == "output_usd_per_mtok")
      t.output_usd_per_mtok = v.cast<double>();
    else if (key == "context_window")
      t.context_window = v.cast<int>();
    else if (key == "timeout_ms")
      t.timeout = std::chrono::milliseconds(v.cast<std::int64_t>());
    else
      throw py::value_error("model tier: unknown field '" + key + "'");
  }
  return t;
}

class PyRuntime {
 public:
  explicit PyRuntime(std::unique_ptr<api::Runtime> rt) : rt_(std::move(rt)) {}
  ~PyRuntime() { close(); }
  PyRuntime(const PyRuntime&) = delete;
  PyRuntime& operator=(const PyRuntime&) = delete;

  static std::unique_ptr<PyRuntime> open(const std::string& journal, std::size_t memory_keep_runs,
                                         bool sync_full, int threads, const py::object& models,
                                         bool rebuild_health, std::int64_t probe_interval_ms,
                                         std::int64_t health_poll_ms) {
    api::RuntimeOptions o;
    o.journal_path = journal;
    o.memory_keep_runs = memory_keep_runs;
    o.sync_full = sync_full;
    o.threads = threads;
    o.rebuild_health = rebuild_health;
    o.probe_interval = std::chrono::milliseconds(probe_interval_ms);
    o.health_poll = std::chrono::milliseconds(health_poll_ms);
    if (py::isinstance<py::str>(models)) {
      auto tiers = api::load_models_file(models.cast<std::string>());
      if (!tiers.ok()) raise_status(tiers.status(), true);
      o.models = std::move(*tiers);
    } else if (!models.is_none()) {
      for (auto m : models) o.models.push_back(tier_of(m.cast<py::dict>()));
    }
    api::Result<std::unique_ptr<api::Runtime>> rt =
        api::Status(api::StatusCode::kInternal, "not opened");
    {
      py::gil_scoped_release release;
      rt = api::Runtime::open(std::move(o));
    }
    if (!rt.ok()) raise_status(rt.status());
    return std::make_unique<PyRuntime>(std::move(*rt));
  }

  // Ends the runs in flight and closes the journal, without the GIL (the engine's threads may be
  // waiting for it to call a tool). Idempotent.
  void close() {
    std::unique_ptr<api::Runtime> rt;
    {
      std::lock_guard lock(mu_);
      rt = std::move(rt_);
    }
    if (!rt) return;
    if (PyGILState_Check()) {
      py::gil_scoped_release release;
      rt.reset();
    } else {
      rt.reset();
    }
  }

  // A synchronous tool: fn(context[, tool=..., args=...]) -> JSON-able.
  void add_tool(const std::string& name, py::object fn, bool pass_tool, bool pass_args) {
    auto held = hold(std::move(fn));
    api::CallTool tool = [held, pass_tool,
                          pass_args](const api::ToolCall& call) -> api::Result<json> {
      Gil gil;
      try {
        py::object ctx = to_py(call.context());
        py::object out;
        if (pass_tool && pass_args) {
          out = (*held)(ctx, py::arg("tool") = call.tool(), py::arg("args") = to_py(call.args()));
        } else if (pass_tool) {
          out = (*held)(ctx, py::arg("tool") = call.tool());
        } else if (pass_args) {
          out = (*held)(ctx, py::arg("args") = to_py(call.args()));
        } else {
          out = (*held)(ctx);
        }
        auto v = from_py(out);
        if (!v.ok()) {
          return api::Status(api::StatusCode::kInvalidArgument,
                             "tool output: " + v.status().message());
        }
        return std::move(*v);
      } catch (py::error_already_set& e) {
        return failure_of(e);
      } catch (const std::exception& e) {
        return api::Status(api::StatusCode::kInternal, std::string("python tool: ") + e.what());
      }
    };
    api::Status s = runtime().add_tool(name, std::move(tool));
    if (!s.ok()) raise_status(s);
  }

  // An asynchronous tool: start(context, tool, args, reply) starts the work and returns; the
  // Python side answers through `reply` (a Reply) from any thread.
  void add_async_tool(const std::string& name, py::object start) {
    auto held = hold(std::move(start));
    api::AsyncCallTool tool = [held](const api::ToolCall& call, api::ToolReply reply) {
      Gil gil;
      try {
        (*held)(to_py(call.context()), call.tool(), to_py(call.args()), Reply(reply));
      } catch (py::error_already_set& e) {
        api::Status failure = failure_of(e);
        py::gil_scoped_release release;
        reply(std::move(failure));
      } catch (const std::exception& e) {
        reply(api::Status(api::StatusCode::kInternal, std::string("python tool: ") + e.what()));
      }
    };
    api::Status s = runtime().add_async_tool(name, std::move(tool));
    if (!s.ok()) raise_status(s);
  }

  // A C++ builtin answering {"ok": true} (no Python): the baseline of the Python tools' per-step
  // overhead in python/bench/bench_python.py.
  void add_native_noop_tool(const std::string& name) {
    api::Status s = runtime().add_tool(name, [](const api::ToolCall&) -> api::Result<json> {
      return json{{"ok", true}};
    });
    if (!s.ok()) raise_status(s);
  }

  RunHandle start(const api::Workflow& workflow, const py::object& input, std::optional<double> usd,
                  std::optional<std::int64_t> tokens, std::optional<std::int64_t> llm_calls,
                  const std::string& run_id, std::optional<std::uint64_t> seed, double deadline_s,
                  const std::string& tenant, std::shared_ptr<Notifier> notifier,
                  std::uint64_t token) {
    api::Runtime& rt = runtime();
    api::RunOptions o;
    o.input = input.is_none() ? json::object() : from_py_or_raise(input, "input");
    o.budget.usd = usd;
    o.budget.tokens = tokens;
    o.budget.llm_calls = llm_calls;
    o.run_id = run_id;
    o.seed = seed;
    o.deadline = std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(deadline_s * 1000)));
    o.tenant = tenant;
    auto state = std::make_shared<RunHandle::State>();
    state->notifier = std::move(notifier);
    state->token = token;
    api::Result<std::string> id = api::Status(api::StatusCode::kInternal, "not started");
    {
      py::gil_scoped_release release;
      id = rt.start(workflow, std::move(o), RunHandle::done_callback(state));
    }
    if (!id.ok()) raise_status(id.status());
    return RunHandle(*id, std::move(state));
  }

  // Tenant `key`'s USD cap (docs/budgets.md#tenant-budgets), in the journal.
  void set_tenant_budget(const std::string& key, double usd) {
    api::Runtime& rt = runtime();
    call_released([&] { return rt.set_tenant_budget(key, usd); });
  }

  // Every tenant's budget, by key: one dict each (cap_usd None: no cap).
  py::list tenant_budgets() {
    api::Runtime& rt = runtime();
    api::Result<std::vector<api::TenantBudget>> rows =
        api::Status(api::StatusCode::kInternal, "not asked");
    {
      py::gil_scoped_release release;
      rows = rt.tenant_budgets();
    }
    if (!rows.ok()) raise_status(rows.status());
    py::list out;
    for (const api::TenantBudget& t : *rows) {
      py::dict d;
      d["key"] = t.key;
      d["cap_usd"] = t.cap_usd ? py::object(py::float_(*t.cap_usd)) : py::object(py::none());
      d["spent_usd"] = t.spent_usd;
      d["reserved_usd"] = t.reserved_usd;
      out.append(d);
    }
    return out;
  }

  void cancel(const std::string& run_id, const std::string& reason) {
    api::Runtime& rt = runtime();
    call_released([&] { return rt.cancel(run_id, reason); });
  }

  // The waits runs in flight here are held at (docs/waits.md), oldest first: one dict each, the
  // shape of the service's GET /v1/waits (name None for a timer, due_ms None without a timeout).
  py::list waits() {
    api::Runtime& rt = runtime();
    std::vector<api::Wait> waits;
    {
      py::gil_scoped_release release;
      waits = rt.waits();
    }
    py::list out;
    for (const api::Wait& w : waits) {
      py::dict d;
      d["run_id"] = w.run_id;
      d["wait_id"] = w.wait_id;
      d["kind"] = w.kind;
      d["name"] = w.kind == "timer" ? py::object(py::none()) : py::object(py::str(w.name));
      d["tool"] = w.tool;
      d["branch"] = w.branch;
      d["started_ms"] = w.started_ms;
      d["due_ms"] = w.due_ms > 0 ? py::object(py::int_(w.due_ms)) : py::object(py::none());
      out.append(d);
    }
    return out;
  }

  // approve, reject or signal (`decision`) of wait (or signal name) `target` of run `run_id`;
  // errors are the API's, raised as the package's exceptions (NotFoundError, ...).
  void resolve(const std::string& decision, const std::string& run_id, const std::string& target,
               const py::object& data, const std::string& reason, const std::string& by,
               const std::string& key) {
    api::Runtime& rt = runtime();
    api::WaitResolution r;
    r.data = data.is_none() ? json(nullptr) : from_py_or_raise(data, "data");
    r.reason = reason;
    r.by = by;
    r.key = key;
    api::Status s;
    {
      py::gil_scoped_release release;
      s = decision == "approve"  ? rt.approve(run_id, target, std::move(r))
          : decision == "reject" ? rt.reject(run_id, target, std::move(r))
                                 : rt.signal(run_id, target, std::move(r));
    }
    if (!s.ok()) raise_status(s);
  }

  std::size_t in_flight() { return runtime().in_flight(); }
  void wait_idle() {
    api::Runtime& rt = runtime();
    py::gil_scoped_release release;
    rt.wait_idle();
  }
  std::string journal_path() { return runtime().journal_path(); }
  py::object health() { return to_py(runtime().health()); }

  EventQueue subscribe(const std::optional<std::string>& run_id) {
    api::Runtime& rt = runtime();
    auto shared = std::make_shared<EventQueue::Shared>();
    api::EventSubscription sub;
    {
      py::gil_scoped_release release;
      sub = rt.subscribe([shared, run_id](const api::Event& e) {
        if (run_id && e.run_id != *run_id) return;
        {
          std::lock_guard lock(shared->mu);
          shared->events.push_back(e);
        }
        shared->cv.notify_all();
      });
    }
    return EventQueue(std::move(shared), std::move(sub));
  }

  py::list list_runs(const std::optional<std::string>& status,
                     const std::optional<std::string>& workflow,
                     std::optional<std::int64_t> since_ms, std::optional<std::int64_t> until_ms,
                     int limit) {
    api::Runtime& rt = runtime();
    api::RunQuery q;
    if (status) {
      static const api::RunStatus kAll[] = {api::RunStatus::kRunning,   api::RunStatus::kWaiting,
                                            api::RunStatus::kCompleted, api::RunStatus::kDemoted,
                                            api::RunStatus::kEscalated, api::RunStatus::kFailed,
                                            api::RunStatus::kQueued};
      bool found = false;
      for (auto s : kAll) {
        if (api::to_string(s) == *status) {
          q.status = s;
          found = true;
        }
      }
      if (!found) {
        raise_status(api::Status(
            api::StatusCode::kInvalidArgument,
            "status: expected running, waiting, completed, demoted, escalated, failed or queued, "
            "got '" +
                *status + "'"));
      }
    }
    if (limit <= 0)
      raise_status(api::Status(api::StatusCode::kInvalidArgument, "limit: expected > 0"));
    q.workflow = workflow;
    q.since_ms = since_ms;
    q.until_ms = until_ms;
    q.limit = limit;
    api::Result<std::vector<api::RunInfo>> runs = api::Status(api::StatusCode::kInternal, "");
    {
      py::gil_scoped_release release;
      runs = rt.list_runs(q);
    }
    if (!runs.ok()) raise_status(runs.status());
    py::list out;
    for (const auto& r : *runs) out.append(info_dict(r));
    return out;
  }

  py::dict get_run(const std::string& run_id) {
    api::Runtime& rt = runtime();
    api::Result<api::RunInfo> r = api::Status(api::StatusCode::kInternal, "");
    {
      py::gil_scoped_release release;
      r = rt.get_run(run_id);
    }
    if (!r.ok()) raise_status(r.status());
    return info_dict(*r);
  }

  py::list events(const std::string& run_id) {
    api::Runtime& rt = runtime();
    api::Result<std::vector<api::Event>> r = api::Status(api::StatusCode::kInternal, "");
    {
      py::gil_scoped_release release;
      r = rt.events(run_id);
    }
    if (!r.ok()) raise_status(r.status());
    py::list out;
    for (const auto& e : *r) out.append(event_dict(e));
    return out;
  }

  py::dict verify(const std::string& run_id) {
    api::Runtime& rt = runtime();
    api::Result<api::VerifyReport> r = api::Status(api::StatusCode::kInternal, "");
    {
      py::gil_scoped_release release;
      r = rt.verify(run_id);
    }
    if (!r.ok()) raise_status(r.status());
    py::dict d;
    d["run_id"] = r->run_id;
    d["ok"] = r->ok();
    d["events"] = r->events;
    d["verified"] = r->verified;
    d["chain_error"] = status_text(r->chain);
    d["decisions_error"] = status_text(r->decisions);
    return d;
  }

  std::string render(const std::string& run_id, const std::string& format) {
    api::Runtime& rt = runtime();
    api::Picture picture;
    if (format == "dot") {
      picture = api::Picture::kDot;
    } else if (format == "html") {
      picture = api::Picture::kHtml;
    } else {
      raise_status(api::Status(api::StatusCode::kInvalidArgument,
                               "format: expected dot or html, got '" + format + "'"));
    }
    api::Result<std::string> r = api::Status(api::StatusCode::kInternal, "");
    {
      py::gil_scoped_release release;
      r = rt.render(run_id, picture);
    }
    if (!r.ok()) raise_status(r.status());
    return *r;
  }

  py::dict resume(const std::string& run_id, const std::optional<api::Workflow>& workflow) {
    api::Runtime& rt = runtime();
    api::ResumeOptions o;
    o.workflow = workflow;
    api::Result<api::RunSummary> r = api::Status(api::StatusCode::kInternal, "");
    {
      py::gil_scoped_release release;
      r = rt.resume(run_id, o);
    }
    if (!r.ok()) raise_status(r.status());
    return summary_dict(*r);
  }

 private:
  // Calls `f` (an API call answering a Status) without the GIL; its error raised.
  template <typename F>
  static void call_released(F&& f) {
    api::Status s;
    {
      py::gil_scoped_release release;
      s = f();
    }
    if (!s.ok()) raise_status(s);
  }

  api::Runtime& runtime() {
    std::lock_guard lock(mu_);
    if (!rt_) {
      raise_status(api::Status(api::StatusCode::kFailedPrecondition, "the Runtime is closed"));
    }
    return *rt_;
  }

  std::mutex mu_;
  std::unique_ptr<api::Runtime> rt_;
};

api::Workflow load_workflow(api::Result<api::Workflow> w) {
  if (!w.ok()) raise_status(w.status(), true);
  return std::move(*w);
}

}  // namespace

PYBIND11_MODULE(_switchyard, m) {
  m.doc() = "The C++ half of the switchyard package (use `import switchyard`).";
  m.def("version", [] { return std::string(api::version()); });

  py::class_<api::Workflow>(m, "Workflow")
      .def_static(
          "from_file",
          [](const std::string& path) {
            api::Result<api::Workflow> w = api::Status(api::StatusCode::kInternal, "");
            {
              py::gil_scoped_release release;
              w = api::Workflow::from_file(path);
            }
            return load_workflow(std::move(w));
          },
          py::arg("path"))
      .def_static(
          "from_json",
          [](const std::string& text, const std::string& file_name) {
            return load_workflow(api::Workflow::from_json(text, file_name));
          },
          py::arg("text"), py::arg("file_name") = "<string>")
      .def_property_readonly("name", &api::Workflow::name)
      .def_property_readonly("hash", &api::Workflow::hash)
      .def_property_readonly("builtins", &api::Workflow::builtins)
      .def_property_readonly("warnings",
                             [](const api::Workflow& w) { return diagnostics_list(w.warnings()); })
      .def("__repr__",
           [](const api::Workflow& w) { return "<switchyard.Workflow '" + w.name() + "'>"; });

  py::class_<Notifier, std::shared_ptr<Notifier>>(m, "Notifier")
      .def(py::init<>())
      .def("fileno", &Notifier::fileno)
      .def("drain", &Notifier::drain);

  py::class_<RunHandle>(m, "RunHandle")
      .def_property_readonly("run_id", &RunHandle::run_id)
      .def("done", &RunHandle::done)
      .def("wait", &RunHandle::wait, py::arg("timeout") = py::none())
      .def("result", &RunHandle::result);

  py::class_<EventQueue>(m, "EventQueue")
      .def("next", &EventQueue::next, py::arg("timeout") = py::none())
      .def("close", &EventQueue::close);

  py::class_<Reply>(m, "Reply")
      .def("ok", &Reply::ok)
      .def("fail", &Reply::fail)
      .def("on_cancel", &Reply::on_cancel)
      .def_property_readonly("cancelled", &Reply::cancelled);

  py::class_<PyRuntime>(m, "Runtime")
      .def_static("open", &PyRuntime::open, py::arg("journal"), py::arg("memory_keep_runs"),
                  py::arg("sync_full"), py::arg("threads"), py::arg("models"),
                  py::arg("rebuild_health"), py::arg("probe_interval_ms"),
                  py::arg("health_poll_ms"))
      .def("close", &PyRuntime::close)
      .def("add_tool", &PyRuntime::add_tool)
      .def("add_async_tool", &PyRuntime::add_async_tool)
      .def("add_native_noop_tool", &PyRuntime::add_native_noop_tool)
      .def("start", &PyRuntime::start)
      .def("cancel", &PyRuntime::cancel)
      .def("set_tenant_budget", &PyRuntime::set_tenant_budget)
      .def("tenant_budgets", &PyRuntime::tenant_budgets)
      .def("waits", &PyRuntime::waits)
      .def("resolve", &PyRuntime::resolve)
      .def("in_flight", &PyRuntime::in_flight)
      .def("wait_idle", &PyRuntime::wait_idle)
      .def("journal_path", &PyRuntime::journal_path)
      .def("health", &PyRuntime::health)
      .def("subscribe", &PyRuntime::subscribe)
      .def("list_runs", &PyRuntime::list_runs)
      .def("get_run", &PyRuntime::get_run)
      .def("events", &PyRuntime::events)
      .def("verify", &PyRuntime::verify)
      .def("render", &PyRuntime::render)
      .def("resume", &PyRuntime::resume);
}
