# Type stubs of the switchyard package (docs/python.md), so that editors and type checkers know
# the API of the compiled module and of the Python classes around it.
from dataclasses import dataclass
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Iterator,
    List,
    Optional,
    Sequence,
    TypeVar,
    Union,
)

__version__: str

JSON = Any
_F = TypeVar("_F", bound=Callable[..., Any])

class SwitchyardError(Exception):
    code: str
    message: str
    def __init__(self, message: str, code: Optional[str] = ...) -> None: ...

class InvalidArgumentError(SwitchyardError, ValueError): ...
class NotFoundError(SwitchyardError, LookupError): ...
class FailedPreconditionError(SwitchyardError): ...
class UnavailableError(SwitchyardError): ...
class DeadlineExceededError(SwitchyardError, TimeoutError): ...
class ResourceExhaustedError(SwitchyardError): ...
class CancelledError(SwitchyardError): ...
class InternalError(SwitchyardError): ...
class JournalError(SwitchyardError, OSError): ...

class LoadError(InvalidArgumentError):
    diagnostics: List[Dict[str, Any]]
    pointer: str
    file: str
    def __init__(self, message: str, diagnostics: Optional[List[Dict[str, Any]]] = ...) -> None: ...

class ToolError(Exception):
    code: str
    def __init__(self, message: str, code: str = ...) -> None: ...

class Workflow:
    @staticmethod
    def from_file(path: str) -> Workflow: ...
    @staticmethod
    def from_json(text: str, file_name: str = ...) -> Workflow: ...
    @property
    def name(self) -> str: ...
    @property
    def hash(self) -> str: ...
    @property
    def builtins(self) -> List[str]: ...
    @property
    def warnings(self) -> List[Dict[str, Any]]: ...

@dataclass(frozen=True)
class Budget:
    usd: Optional[float] = ...
    tokens: Optional[int] = ...
    llm_calls: Optional[int] = ...

@dataclass(frozen=True)
class RunResult:
    run_id: str
    status: str
    goal: str
    path: List[str]
    reroutes: int
    backtracks: int
    llm_calls: int
    spent_usd: float
    tokens: int
    blocked: List[str]
    message: str
    output: JSON
    outputs: Dict[str, JSON]
    output_truncated: bool
    outputs_dropped: List[str]
    json: Dict[str, JSON]
    @property
    def succeeded(self) -> bool: ...

@dataclass(frozen=True)
class TenantBudget:
    key: str
    cap_usd: Optional[float]
    spent_usd: float
    reserved_usd: float
    @property
    def left_usd(self) -> Optional[float]: ...

@dataclass(frozen=True)
class RunInfo:
    run_id: str
    workflow: str
    workflow_hash: str
    status: str
    started_ms: int
    finished_ms: int
    input: JSON
    result: JSON
    head_hash: str
    head_seq: int
    owner_pid: int

@dataclass(frozen=True)
class Wait:
    run_id: str
    wait_id: str
    kind: str
    name: Optional[str]
    tool: str
    branch: int
    started_ms: int
    due_ms: Optional[int]

@dataclass(frozen=True)
class Event:
    run_id: str
    seq: int
    time_ms: int
    type: str
    payload: Dict[str, JSON]
    hash: str

@dataclass(frozen=True)
class VerifyReport:
    run_id: str
    ok: bool
    events: int
    verified: int
    chain_error: Optional[str]
    decisions_error: Optional[str]
    def __bool__(self) -> bool: ...

BudgetLike = Union[Budget, Dict[str, Any], float, int, None]

class RunHandle:
    @property
    def run_id(self) -> str: ...
    def done(self) -> bool: ...
    def wait(self, timeout: Optional[float] = ...) -> bool: ...
    def cancel(self, reason: str = ...) -> None: ...
    def result(self, timeout: Optional[float] = ...) -> RunResult: ...

class Runtime:
    def __init__(
        self,
        journal: Optional[str] = ...,
        *,
        models: Union[str, Sequence[Dict[str, Any]], None] = ...,
        threads: int = ...,
        memory_keep_runs: int = ...,
        sync_full: bool = ...,
        rebuild_health: bool = ...,
        probe_interval: float = ...,
        health_poll: float = ...,
    ) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Runtime: ...
    def __exit__(self, *exc: Any) -> None: ...
    @property
    def journal_path(self) -> str: ...
    def tool(self, name: str) -> Callable[[_F], _F]: ...
    def add_tool(self, name: str, fn: Callable[..., Any]) -> None: ...
    def start(
        self,
        workflow: Workflow,
        input: Optional[Dict[str, JSON]] = ...,
        *,
        budget: BudgetLike = ...,
        run_id: str = ...,
        seed: Optional[int] = ...,
        deadline: float = ...,
        tenant: str = ...,
    ) -> RunHandle: ...
    def run(
        self,
        workflow: Workflow,
        input: Optional[Dict[str, JSON]] = ...,
        *,
        budget: BudgetLike = ...,
        run_id: str = ...,
        seed: Optional[int] = ...,
        deadline: float = ...,
        tenant: str = ...,
    ) -> RunResult: ...
    async def run_async(
        self,
        workflow: Workflow,
        input: Optional[Dict[str, JSON]] = ...,
        *,
        budget: BudgetLike = ...,
        run_id: str = ...,
        seed: Optional[int] = ...,
        deadline: float = ...,
        tenant: str = ...,
    ) -> RunResult: ...
    def set_tenant_budget(self, key: str, usd: float) -> None: ...
    def tenant_budgets(self) -> List[TenantBudget]: ...
    def cancel(self, run_id: str, reason: str = ...) -> None: ...
    def waits(self) -> List[Wait]: ...
    def approve(
        self, run_id: str, wait_id: str, *, data: JSON = ..., by: str = ..., key: str = ...
    ) -> None: ...
    def reject(
        self, run_id: str, wait_id: str, *, reason: str = ..., by: str = ..., key: str = ...
    ) -> None: ...
    def signal(
        self, run_id: str, name: str, *, data: JSON = ..., by: str = ..., key: str = ...
    ) -> None: ...
    def in_flight(self) -> int: ...
    def wait_idle(self) -> None: ...
    def resume(self, run_id: str, workflow: Optional[Workflow] = ...) -> RunResult: ...
    def resume_all(self) -> List[RunResult]: ...
    def watch(self, run_id: str, timeout: Optional[float] = ...) -> Iterator[Event]: ...
    def watch_async(self, run_id: str, timeout: Optional[float] = ...) -> AsyncIterator[Event]: ...
    def health(self) -> List[Dict[str, JSON]]: ...
    def runs(
        self,
        *,
        status: Optional[str] = ...,
        workflow: Optional[str] = ...,
        since_ms: Optional[int] = ...,
        until_ms: Optional[int] = ...,
        limit: int = ...,
    ) -> List[RunInfo]: ...
    def get_run(self, run_id: str) -> RunInfo: ...
    def events(self, run_id: str) -> List[Event]: ...
    def verify(self, run_id: str) -> VerifyReport: ...
    def replay(self, run_id: str, format: str = ...) -> Any: ...
