"""The exceptions of the switchyard package: one per Status code of the C++ API.

Every error the runtime reports is a SwitchyardError carrying the C++ Status code (``code``,
e.g. ``"invalid_argument"``) and its message; a workflow or models file that does not load is a
LoadError with one diagnostic per problem, each naming the file and the JSON pointer.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple


class SwitchyardError(Exception):
    """An error of the Switchyard runtime: ``code`` (the C++ StatusCode's spelling) and ``message``."""

    code: str = "internal"

    def __init__(self, message: str, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidArgumentError(SwitchyardError, ValueError):
    code = "invalid_argument"


class NotFoundError(SwitchyardError, LookupError):
    code = "not_found"


class FailedPreconditionError(SwitchyardError):
    code = "failed_precondition"


class UnavailableError(SwitchyardError):
    code = "unavailable"


class DeadlineExceededError(SwitchyardError, TimeoutError):
    code = "deadline_exceeded"


class ResourceExhaustedError(SwitchyardError):
    code = "resource_exhausted"


class CancelledError(SwitchyardError):
    code = "cancelled"


class InternalError(SwitchyardError):
    code = "internal"


class JournalError(SwitchyardError, OSError):
    """The journal (or the file system) failed: code ``"io"``."""

    code = "io"


class LoadError(InvalidArgumentError):
    """A workflow or models file that does not load. ``diagnostics``: every problem, in document
    order, each a dict with ``file``, ``pointer`` (RFC 6901), ``message``, ``line``, ``column``
    (syntax errors) and ``text`` (as ``switchyard validate`` prints it); ``pointer``: the first's."""

    def __init__(self, message: str, diagnostics: Optional[List[Dict[str, Any]]] = None) -> None:
        super().__init__(message)
        self.diagnostics: List[Dict[str, Any]] = list(diagnostics or [])
        self.pointer: str = self.diagnostics[0]["pointer"] if self.diagnostics else ""
        self.file: str = self.diagnostics[0]["file"] if self.diagnostics else ""


class ToolError(Exception):
    """Raise it from a Python tool to choose the step's failure kind: ``code`` is a Status code,
    ``"unavailable"`` (the default), ``"deadline_exceeded"`` (timeout), ``"invalid_argument"``
    (bad_output), ``"not_found"`` (template), ``"cancelled"`` or ``"internal"``."""

    def __init__(self, message: str, code: str = "unavailable") -> None:
        super().__init__(message)
        self.code = code


_BY_CODE = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        NotFoundError,
        FailedPreconditionError,
        UnavailableError,
        DeadlineExceededError,
        ResourceExhaustedError,
        CancelledError,
        InternalError,
        JournalError,
    )
}


def from_status(code: str, message: str, diagnostics: List[Dict[str, Any]], load_error: bool) -> SwitchyardError:
    """The exception for a C++ Status (called by the extension)."""
    if load_error and code == "invalid_argument":
        return LoadError(message, diagnostics)
    return _BY_CODE.get(code, InternalError)(message, code)


def tool_failure(exc: BaseException) -> Tuple[str, str]:
    """The Status code and message a Python tool's exception becomes (the step's failure):
    ToolError: its code; TimeoutError: deadline_exceeded (timeout); ConnectionError: unavailable;
    anything else: internal. The message is ``"<ExceptionType>: <str(exc)>"``."""
    if isinstance(exc, ToolError):
        code = exc.code if exc.code in _BY_CODE else "internal"
    elif isinstance(exc, TimeoutError):
        code = "deadline_exceeded"
    elif isinstance(exc, ConnectionError):
        code = "unavailable"
    else:
        code = "internal"
    text = str(exc)
    name = type(exc).__name__
    return code, f"{name}: {text}" if text else name
