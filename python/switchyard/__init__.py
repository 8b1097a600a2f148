"""Switchyard for Python: the C++ fault-tolerant orchestration runtime, with Python functions as
tools (docs/python.md).

    import switchyard

    with switchyard.Runtime(journal="runs.db") as rt:
        @rt.tool("lookup")
        def lookup(ctx):
            return {"customer": ctx["input"]["customer"]}

        result = rt.run(switchyard.Workflow.from_file("support.json"), input={"customer": "ada"})
        print(result.status, result.path)
"""

from ._errors import (
    CancelledError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    JournalError,
    LoadError,
    NotFoundError,
    ResourceExhaustedError,
    SwitchyardError,
    ToolError,
    UnavailableError,
)
from ._runtime import (
    Budget,
    Event,
    RunHandle,
    RunInfo,
    RunResult,
    Runtime,
    TenantBudget,
    VerifyReport,
    Wait,
    Workflow,
)
from ._switchyard import version as _version

__version__ = _version()

__all__ = [
    "Budget",
    "CancelledError",
    "DeadlineExceededError",
    "Event",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "JournalError",
    "LoadError",
    "NotFoundError",
    "ResourceExhaustedError",
    "RunHandle",
    "RunInfo",
    "RunResult",
    "Runtime",
    "SwitchyardError",
    "TenantBudget",
    "ToolError",
    "UnavailableError",
    "VerifyReport",
    "Wait",
    "Workflow",
]
