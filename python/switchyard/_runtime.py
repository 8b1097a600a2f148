"""The Runtime class: the C++ engine (switchyard._switchyard) with a Pythonic face."""

from __future__ import annotations

import asyncio
import atexit
import inspect
import itertools
import math
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Sequence, Union

from . import _switchyard as _native
from ._errors import NotFoundError, tool_failure

Workflow = _native.Workflow


@dataclass(frozen=True)
class Budget:
    """Caps on what one run may spend (docs/budgets.md); None: the workflow's own value."""

    usd: Optional[float] = None
    tokens: Optional[int] = None
    llm_calls: Optional[int] = None


@dataclass(frozen=True)
class RunResult:
    """How a run ended (docs/runs.md). ``json`` is the whole ``switchyard run --json`` document."""

    run_id: str
    status: str  # "completed", "demoted", "escalated" or "failed"
    goal: str
    path: List[str]
    reroutes: int
    backtracks: int
    llm_calls: int
    spent_usd: float
    tokens: int
    blocked: List[str]
    message: str
    output: Any
    outputs: Dict[str, Any]
    output_truncated: bool
    outputs_dropped: List[str]
    json: Dict[str, Any] = field(repr=False)

    @property
    def succeeded(self) -> bool:
        """completed or demoted (what the ``switchyard`` program exits 0 for)."""
        return self.status in ("completed", "demoted")


@dataclass(frozen=True)
class TenantBudget:
    """A tenant's USD budget shared by every run that names it (docs/budgets.md#tenant-budgets), as
    the journal holds it: ``cap_usd`` None is no cap (its spend is still counted)."""

    key: str
    cap_usd: Optional[float]
    spent_usd: float
    reserved_usd: float  # by its calls in flight

    @property
    def left_usd(self) -> Optional[float]:
        """What its runs may still reserve: cap - spent - reserved (None without a cap)."""
        if self.cap_usd is None:
            return None
        return self.cap_usd - self.spent_usd - self.reserved_usd


@dataclass(frozen=True)
class RunInfo:
    """One run's row of the journal."""

    run_id: str
    workflow: str
    workflow_hash: str
    status: str
    started_ms: int
    finished_ms: int
    input: Any
    result: Any
    head_hash: str
    head_seq: int
    owner_pid: int


@dataclass(frozen=True)
class Wait:
    """A wait a run in flight here is held at (docs/waits.md): an approval, a signal or a timer."""

    run_id: str
    wait_id: str  # "<tool id>#<call>", unique within the run
    kind: str  # "approval", "signal" or "timer"
    name: Optional[str]  # what an approval or signal waits for; None for a timer
    tool: str
    branch: int  # the fan-out branch that waits, or -1
    started_ms: int  # Unix time, milliseconds
    due_ms: Optional[int]  # a timer: when it fires; otherwise its timeout (None: none)


@dataclass(frozen=True)
class Event:
    """One journaled event (docs/journal.md#events)."""

    run_id: str
    seq: int
    time_ms: int
    type: str
    payload: Dict[str, Any]
    hash: str


@dataclass(frozen=True)
class VerifyReport:
    """Replay with verification: ``ok`` when the hash chain is intact and every decision,
    re-driven from the recorded outcomes, is the one journaled; else the errors say where."""

    run_id: str
    ok: bool
    events: int
    verified: int
    chain_error: Optional[str]
    decisions_error: Optional[str]

    def __bool__(self) -> bool:
        return self.ok


BudgetLike = Union[Budget, Dict[str, Any], float, int, None]
ToolFunction = Callable[..., Any]

_open_runtimes: "weakref.WeakSet[Runtime]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    # The engine's threads must not wait for the GIL of an interpreter that is going away.
    for rt in list(_open_runtimes):
        rt.close()


def _poll_ms(name: str, seconds: Any) -> int:
    """A period in seconds as whole milliseconds: 0 (off), or at least a millisecond."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{name}: expected a number of seconds, got {type(seconds).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{name}: expected a number of seconds >= 0 (0: off), got {seconds!r}")
    ms = round(seconds * 1000)
    if seconds > 0 and ms == 0:
        raise ValueError(f"{name}: expected 0 (off) or at least 0.001 seconds, got {seconds!r}")
    if ms >= 2**62:
        raise ValueError(f"{name}: {seconds!r} seconds is too long")
    return ms


def _budget_fields(budget: BudgetLike):
    if budget is None:
        return None, None, None
    if isinstance(budget, (int, float)) and not isinstance(budget, bool):
        return float(budget), None, None
    if isinstance(budget, dict):
        unknown = set(budget) - {"usd", "tokens", "llm_calls"}
        if unknown:
            raise TypeError(f"budget: unknown field(s) {sorted(unknown)}")
        budget = Budget(**budget)
    if not isinstance(budget, Budget):
        raise TypeError("budget: expected a Budget, a dict or a number of US dollars")
    return budget.usd, budget.tokens, budget.llm_calls


def _tenant(tenant: Any) -> str:
    """The run's tenant key, a str ("": none); the runtime checks its content (InvalidArgumentError)."""
    if not isinstance(tenant, str):
        raise TypeError(f"tenant: expected a str (the tenant's key), got {type(tenant).__name__}")
    return tenant


def _wants(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


class _ToolLoop:
    """The event loop `async def` tools run on: one thread per Runtime, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None

    def get(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def main() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                self._thread = threading.Thread(target=main, name="switchyard-async-tools", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = loop
            return self._loop

    def stop(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()


class Runtime:
    """The Switchyard runtime: a journal, the tools' health, the builtin tools registered here,
    and an engine running many runs at once on a few threads (docs/python.md).

    >>> with switchyard.Runtime(journal="runs.db") as rt:
    ...     @rt.tool("lookup")
    ...     def lookup(ctx): return {"customer": ctx["input"]["customer"]}
    ...     result = rt.run(switchyard.Workflow.from_file("support.json"), input={"customer": "ada"})
    """

    def __init__(
        self,
        journal: Optional[str] = None,
        *,
        models: Union[str, Sequence[Dict[str, Any]], None] = None,
        threads: int = 0,
        memory_keep_runs: int = 10000,
        sync_full: bool = False,
        rebuild_health: bool = True,
        probe_interval: float = 1.0,
        health_poll: float = 0.2,
    ) -> None:
        health_poll_ms = _poll_ms("health_poll", health_poll)
        self._native = _native.Runtime.open(
            journal or "",
            memory_keep_runs,
            sync_full,
            threads,
            models,
            rebuild_health,
            int(probe_interval * 1000),
            health_poll_ms,
        )
        self._tools = _ToolLoop()
        self._tokens = itertools.count(1)
        self._pending: Dict[int, Any] = {}
        self._notifiers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]" = weakref.WeakKeyDictionary()
        self._closed = False
        _open_runtimes.add(self)

    # --- lifetime ---

    def close(self) -> None:
        """Cancels the runs in flight (they end failed, "cancelled: engine shutdown"), waits for
        them, closes the journal and stops the async tools' loop. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._native.close()
        self._tools.stop()
        _open_runtimes.discard(self)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self) -> "Runtime":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def journal_path(self) -> str:
        """The journal's file ("" in memory)."""
        return self._native.journal_path()

    # --- tools ---

    def tool(self, name: str) -> Callable[[ToolFunction], ToolFunction]:
        """Registers the decorated function as builtin ``name`` and returns it unchanged."""

        def register(fn: ToolFunction) -> ToolFunction:
            self.add_tool(name, fn)
            return fn

        return register

    def add_tool(self, name: str, fn: ToolFunction) -> None:
        """Registers ``fn`` as builtin ``name`` (a workflow's {"kind": "builtin", "name": ...}).
        ``fn(context)`` receives the step's context as a dict ({"input": ..., "steps": {id:
        {"output": ...}}}), and the keyword arguments ``tool`` (the tool's id in the workflow) and
        ``args`` (its rendered ``args``) when it declares them; it returns JSON-able data. A plain
        function runs on an engine thread (holding the GIL); an ``async def`` runs on the
        Runtime's asyncio loop. An exception is the step's failure (see ToolError)."""
        if not callable(fn):
            raise TypeError("add_tool: fn must be callable")
        if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None)):
            self._native.add_async_tool(name, self._async_starter(fn))
        else:
            self._native.add_tool(name, fn, _wants(fn, "tool"), _wants(fn, "args"))

    def _async_starter(self, fn: ToolFunction) -> Callable[..., None]:
        pass_tool, pass_args = _wants(fn, "tool"), _wants(fn, "args")
        tools = self._tools

        def start(context: Dict[str, Any], tool: str, args: Dict[str, Any], reply: Any) -> None:
            kwargs: Dict[str, Any] = {}
            if pass_tool:
                kwargs["tool"] = tool
            if pass_args:
                kwargs["args"] = args
            future = asyncio.run_coroutine_threadsafe(fn(context, **kwargs), tools.get())
            reply.on_cancel(future.cancel)
            future.add_done_callback(lambda f: _deliver(reply, f))

        return start

    # --- runs ---

    def start(
        self,
        workflow: Workflow,
        input: Optional[Dict[str, Any]] = None,
        *,
        budget: BudgetLike = None,
        run_id: str = "",
        seed: Optional[int] = None,
        deadline: float = 0,
        tenant: str = "",
    ) -> "RunHandle":
        """Starts a run and returns at once; the handle waits for its end. ``tenant``: the budget key
        whose shared USD budget its calls reserve against (set_tenant_budget); "": none."""
        usd, tokens, llm_calls = _budget_fields(budget)
        native = self._native.start(
            workflow, input, usd, tokens, llm_calls, run_id, seed, deadline, _tenant(tenant), None, 0
        )
        return RunHandle(self, native)

    def run(
        self,
        workflow: Workflow,
        input: Optional[Dict[str, Any]] = None,
        *,
        budget: BudgetLike = None,
        run_id: str = "",
        seed: Optional[int] = None,
        deadline: float = 0,
        tenant: str = "",
    ) -> RunResult:
        """Runs to the end and returns how it ended. The GIL is released while it runs. Ctrl-C
        (KeyboardInterrupt) cancels the run ("cancelled: interrupted"), waits for it to end, and
        is raised again."""
        return self.start(
            workflow, input, budget=budget, run_id=run_id, seed=seed, deadline=deadline, tenant=tenant
        ).result()

    async def run_async(
        self,
        workflow: Workflow,
        input: Optional[Dict[str, Any]] = None,
        *,
        budget: BudgetLike = None,
        run_id: str = "",
        seed: Optional[int] = None,
        deadline: float = 0,
        tenant: str = "",
    ) -> RunResult:
        """``await``s the run without blocking the event loop (its end is signalled through a pipe
        the loop watches). Cancelling the awaiting task cancels the run."""
        loop = asyncio.get_running_loop()
        notifier = self._notifier_for(loop)
        token = next(self._tokens)
        future = loop.create_future()
        usd, tokens, llm_calls = _budget_fields(budget)
        native = self._native.start(
            workflow, input, usd, tokens, llm_calls, run_id, seed, deadline, _tenant(tenant), notifier, token
        )
        # The end may be signalled already; it is read on the loop's thread, after this line.
        self._pending[token] = (future, native)
        try:
            return await future
        except asyncio.CancelledError:
            try:
                self._native.cancel(native.run_id, "asyncio task cancelled")
            except NotFoundError:
                pass
            raise

    def _notifier_for(self, loop: asyncio.AbstractEventLoop) -> Any:
        notifier = self._notifiers.get(loop)
        if notifier is None:
            notifier = _native.Notifier()
            self._notifiers[loop] = notifier
            loop.add_reader(notifier.fileno(), self._drain, notifier)
        return notifier

    def _drain(self, notifier: Any) -> None:
        for token in notifier.drain():
            future, native = self._pending.pop(token, (None, None))
            if future is None or future.done():
                continue
            try:
                future.set_result(_result(native.result()))
            except BaseException as e:  # the run's error, as the awaiting task's exception
                future.set_exception(e)

    # --- tenants ---

    def set_tenant_budget(self, key: str, usd: float) -> None:
        """Sets tenant ``key``'s USD cap (creating the tenant) in the journal, shared by every run
        that names it, on every process of the journal (``switchyard tenants set``)."""
        if isinstance(usd, bool) or not isinstance(usd, (int, float)):
            raise TypeError(f"usd: expected a number of US dollars, got {type(usd).__name__}")
        self._native.set_tenant_budget(_tenant(key), float(usd))

    def tenant_budgets(self) -> List[TenantBudget]:
        """Every tenant's budget in the journal, by key (``switchyard tenants``)."""
        return [TenantBudget(**t) for t in self._native.tenant_budgets()]

    def cancel(self, run_id: str, reason: str = "request") -> None:
        """Cancels a run in flight here: it ends failed, "cancelled: <reason>". NotFoundError when
        it is not in flight."""
        self._native.cancel(run_id, reason)

    # --- waits (docs/waits.md) ---

    def waits(self) -> List[Wait]:
        """The waits the runs in flight here are held at, oldest first."""
        return [Wait(**w) for w in self._native.waits()]

    def approve(
        self, run_id: str, wait_id: str, *, data: Any = None, by: str = "", key: str = ""
    ) -> None:
        """Approves wait ``wait_id`` ("Approve#1") of run ``run_id``: the step succeeds with
        {"approved": True, "data": data, "by": by} and the run goes on. ``key`` is an idempotency
        key: the same approval again with it changes nothing. NotFoundError (no such open wait),
        InvalidArgumentError (not an approval), FailedPreconditionError (already resolved)."""
        self._native.resolve("approve", run_id, wait_id, data, "", by, key)

    def reject(
        self, run_id: str, wait_id: str, *, reason: str = "", by: str = "", key: str = ""
    ) -> None:
        """Rejects it: the step fails ``rejected`` (with ``reason``) and the run heals around it.
        Errors as approve's."""
        self._native.resolve("reject", run_id, wait_id, None, reason, by, key)

    def signal(self, run_id: str, name: str, *, data: Any = None, by: str = "", key: str = "") -> None:
        """Sends signal ``name`` to run ``run_id``: its oldest open wait for that signal ends with
        ``data`` as the step's output. Errors as approve's; NotFoundError when the run does not
        wait for that signal."""
        self._native.resolve("signal", run_id, name, data, "", by, key)

    def in_flight(self) -> int:
        return self._native.in_flight()

    def wait_idle(self) -> None:
        """Blocks (without the GIL) until no run is in flight."""
        self._native.wait_idle()

    def resume(self, run_id: str, workflow: Optional[Workflow] = None) -> RunResult:
        """Continues a run whose process died (docs/journal.md#resume) on this thread."""
        return _result(self._native.resume(run_id, workflow))

    def resume_all(self) -> List[RunResult]:
        """Resumes every run of the journal left ``running`` by a process that died; runs owned by
        a live process or in flight here are left alone. Returns their ends."""
        from ._errors import FailedPreconditionError

        ended = []
        # Unfinished: running, or running and held at a wait ("waiting"), newest first.
        unfinished = self.runs(status="running") + self.runs(status="waiting")
        unfinished.sort(key=lambda r: (r.started_ms, r.run_id), reverse=True)
        for info in unfinished:
            try:
                ended.append(self.resume(info.run_id))
            except FailedPreconditionError:
                continue
        return ended

    # --- events ---

    def watch(self, run_id: str, timeout: Optional[float] = None) -> Iterator[Event]:
        """Iterates a run's events in journal order as they become durable, from its first to
        run_finished (a finished run: its journaled events). The wait for each releases the GIL;
        ``timeout``: seconds to wait for the next event before TimeoutError."""
        queue = self._native.subscribe(run_id)
        try:
            last = 0
            try:
                for e in self._native.events(run_id):
                    event = Event(**e)
                    last = event.seq
                    yield event
                    if event.type == "run_finished":
                        return
            except NotFoundError:
                pass  # started, not journaled yet: everything comes live
            while True:
                e = queue.next(timeout)
                if e is None:
                    raise TimeoutError(f"no event of run {run_id} in {timeout} s")
                if e["seq"] <= last:
                    continue
                event = Event(**e)
                last = event.seq
                yield event
                if event.type == "run_finished":
                    return
        finally:
            queue.close()

    def health(self) -> List[Dict[str, Any]]:
        """Every tool's health as this Runtime's monitor sees it now (what its runs route by): one
        dict per tool, the fields of ``switchyard health --json``'s "tools" ("tool", "breaker",
        "factor", "reliability", "latency_ms", "failures", "last_failure", ...)."""
        return self._native.health()

    async def watch_async(self, run_id: str, timeout: Optional[float] = None) -> AsyncIterator[Event]:
        """``async for event in rt.watch_async(run_id)``: watch() for asyncio. Each wait for the
        next event runs in the loop's default executor (a thread, in slices of 0.1 s), so the
        loop goes on meanwhile."""
        loop = asyncio.get_running_loop()
        queue = self._native.subscribe(run_id)
        try:
            last = 0
            try:
                for e in self._native.events(run_id):
                    event = Event(**e)
                    last = event.seq
                    yield event
                    if event.type == "run_finished":
                        return
            except NotFoundError:
                pass
            waited = 0.0
            while True:
                e = await loop.run_in_executor(None, queue.next, 0.1)
                if e is None:
                    waited += 0.1
                    if timeout is not None and waited >= timeout:
                        raise TimeoutError(f"no event of run {run_id} in {timeout} s")
                    continue
                waited = 0.0
                if e["seq"] <= last:
                    continue
                event = Event(**e)
                last = event.seq
                yield event
                if event.type == "run_finished":
                    return
        finally:
            queue.close()

    # --- the journal ---

    def runs(
        self,
        *,
        status: Optional[str] = None,
        workflow: Optional[str] = None,
        since_ms: Optional[int] = None,
        until_ms: Optional[int] = None,
        limit: int = 1000,
    ) -> List[RunInfo]:
        """The journal's runs, newest first (``switchyard runs``)."""
        return [RunInfo(**r) for r in self._native.list_runs(status, workflow, since_ms, until_ms, limit)]

    def get_run(self, run_id: str) -> RunInfo:
        return RunInfo(**self._native.get_run(run_id))

    def events(self, run_id: str) -> List[Event]:
        return [Event(**e) for e in self._native.events(run_id)]

    def verify(self, run_id: str) -> VerifyReport:
        """``switchyard replay --verify``: checks the hash chain and re-drives every decision."""
        return VerifyReport(**self._native.verify(run_id))

    def replay(self, run_id: str, format: str = "text") -> Any:
        """A journaled run: ``"text"`` its timeline (one line per event: seq, +ms since the start,
        type, summary), ``"json"`` {"run": {...}, "events": [...]} as a dict, ``"dot"`` the
        workflow's graph in Graphviz DOT with the run marked, ``"html"`` a self-contained report."""
        if format in ("dot", "html"):
            return self._native.render(run_id, format)
        if format == "json":
            return {"run": self._native.get_run(run_id), "events": self._native.events(run_id)}
        if format == "text":
            events = self.events(run_id)
            start = events[0].time_ms if events else 0
            lines = [f"run {run_id}"]
            for e in events:
                lines.append(f"{e.seq:>4}  +{e.time_ms - start}ms  {e.type:<16} {_summary(e.payload)}".rstrip())
            return "\n".join(lines) + "\n"
        raise ValueError(f"format: expected text, json, dot or html, got {format!r}")


class RunHandle:
    """A run started by Runtime.start."""

    def __init__(self, runtime: Runtime, native: Any) -> None:
        self._runtime = runtime
        self._native = native

    @property
    def run_id(self) -> str:
        return self._native.run_id

    def done(self) -> bool:
        return self._native.done()

    def wait(self, timeout: Optional[float] = None) -> bool:
        """Waits (without the GIL) up to ``timeout`` seconds; whether the run has ended."""
        return self._native.wait(timeout)

    def cancel(self, reason: str = "request") -> None:
        try:
            self._runtime.cancel(self.run_id, reason)
        except NotFoundError:
            pass  # ended already

    def result(self, timeout: Optional[float] = None) -> RunResult:
        """Waits for the end and returns it (the run's error raised); Ctrl-C cancels the run
        ("cancelled: interrupted"), waits for its end and is raised again. TimeoutError after
        ``timeout`` seconds (the run goes on)."""
        try:
            waited = 0.0
            while not self._native.wait(0.1):  # wakes to let Python see a signal
                waited += 0.1
                if timeout is not None and waited >= timeout:
                    raise TimeoutError(f"run {self.run_id} still going after {timeout} s")
        except KeyboardInterrupt:
            self.cancel("interrupted")
            self._native.wait(None)
            raise
        return _result(self._native.result())


def _result(d: Dict[str, Any]) -> RunResult:
    return RunResult(**d)


def _deliver(reply: Any, future: Any) -> None:
    if future.cancelled():
        reply.fail("cancelled", "cancelled")
        return
    exc = future.exception()
    if exc is not None:
        reply.fail(*tool_failure(exc))
        return
    try:
        reply.ok(future.result())
    except BaseException as e:  # the output is not JSON: a failed step, not a lost answer
        reply.fail(*tool_failure(e))


def _summary(payload: Dict[str, Any]) -> str:
    parts = []
    for key in ("tool", "node", "from", "to", "kind", "reason", "status", "goal", "message", "error"):
        value = payload.get(key)
        if value not in (None, "", [], {}):
            text = value if isinstance(value, str) else str(value)
            parts.append(f"{key}={text[:80]}")
    return " ".join(parts)
