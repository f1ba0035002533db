"""A call into foreign code: the class a user checks, and the file it comes from.

Whatever that code does, the verdict must be the harness's own, and right. So while a check of a
user's class runs (:func:`isolated`), every call into it goes through :func:`foreign`, which

- turns ``sys.exit`` (and ``os._exit``, patched for the duration so that it raises instead of
  ending the process) into a :class:`ForeignExit` naming the call: a finding, never a silent exit 0;
- gives the call a time limit (:data:`DEFAULT_CALL_TIMEOUT`, ``--call-timeout``): a call that
  exceeds it raises :class:`CallTimeout` naming it, and that method is not called again (every
  later call of it raises at once, so a hanging forward costs one time limit, not one per example);
- captures what the code prints (stdout and stderr), shown as a note (:func:`output_note`), so
  ``--format json`` stays JSON and the verdict stays the first line;
- restores the working directory the code changed.

Nothing is written where the user works: no bytecode (``__pycache__``) for what a foreign call
imports, and for the whole check Hypothesis's files (its example database, the literals it collects
from the user's file) go to a temporary directory that is removed afterwards. Exceptions raised
inside a foreign call are marked, so one from the harness's own code is told apart
(:func:`harness_crash`).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "WHATEVER_THE_INPUT",
    "CallTimeout",
    "ForeignExit",
    "active",
    "foreign",
    "harness_crash",
    "isolated",
    "output_note",
]

#: seconds one call into the class may take (a forward on the spec's small arrays takes
#: milliseconds; JAX's compilations happen in the harness, outside the limit)
DEFAULT_CALL_TIMEOUT = 10.0
#: lines of the class's captured output shown in the note
SHOWN_LINES = 10
T = TypeVar("T")
_MARK = "_crosscheck_foreign_call"


class ForeignExit(Exception):
    """The class tried to end the process (``sys.exit``, ``os._exit``, a ``BaseException`` of its
    own): a finding about the class."""

    def __init__(self, message: str, call: str = "") -> None:
        super().__init__(message)
        self.call = call


class CallTimeout(Exception):
    """A call into the class did not return within the time limit."""


#: findings that do not depend on the example: shrinking it would only spend time
WHATEVER_THE_INPUT = (CallTimeout, ForeignExit)


@dataclass
class _Session:
    timeout: float | None
    depth: int = 0
    #: the calls that exceeded the limit: later calls of them raise the same at once
    timed_out: dict[str, CallTimeout] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    total_lines: int = 0
    #: the foreign call running, named in its time limit's message
    calling: str = ""

    def keep(self, text: str) -> None:
        lines = text.splitlines()
        self.total_lines += len(lines)
        self.lines.extend(lines[: max(0, SHOWN_LINES - len(self.lines))])


_session: _Session | None = None


def active() -> bool:
    """Whether a check of foreign code is running (:func:`isolated`)."""
    return _session is not None


def _exit_raising(status: int = 0) -> NoReturn:
    raise ForeignExit(f"os._exit({status!r}) was called", f"os._exit({status!r})")


@contextlib.contextmanager
def _hypothesis_home() -> Iterator[None]:
    """Hypothesis's storage (example database, collected constants) in a temporary directory."""
    from hypothesis import configuration

    # the directory set before, if any (None: Hypothesis's default, .hypothesis in the cwd); read
    # without storage_directory(), which in some versions creates it
    before = getattr(configuration, "__hypothesis_home_directory", None)
    where = tempfile.mkdtemp(prefix="crosscheck-hypothesis-")
    configuration.set_hypothesis_home_dir(where)
    try:
        yield
    finally:
        configuration.set_hypothesis_home_dir(before)
        shutil.rmtree(where, ignore_errors=True)


@contextlib.contextmanager
def isolated(timeout: float | None = DEFAULT_CALL_TIMEOUT) -> Iterator[None]:
    """For the duration of a check of foreign code: calls through :func:`foreign` are guarded,
    ``os._exit`` raises, no bytecode or Hypothesis file is written under the working directory,
    and the working directory is the same afterwards. ``timeout``: seconds per call (None or 0:
    no limit). Nested uses keep the outer one."""
    global _session
    if _session is not None:
        yield
        return
    cwd, saved_exit = os.getcwd(), os._exit
    _session = _Session(timeout or None)
    os._exit = _exit_raising
    try:
        with _hypothesis_home(), _alarm_handler(_session):
            yield
    finally:
        os._exit = saved_exit
        _session = None
        _restore_cwd(cwd)


def _restore_cwd(cwd: str) -> None:
    with contextlib.suppress(OSError):  # the code deleted the directory it was in
        if os.getcwd() == cwd:
            return
    os.chdir(cwd)


def _can_time() -> bool:
    """Whether calls can be timed: SIGALRM is delivered to the main thread only, and needs ``setitimer``."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def _alarm_handler(session: _Session) -> Iterator[None]:
    """SIGALRM raises :class:`CallTimeout` for the call running (:attr:`_Session.calling`), for the
    whole check: installed once, so that a call only sets and clears the timer."""
    if not session.timeout or not _can_time():
        session.timeout = None
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        signal.setitimer(signal.ITIMER_REAL, 1.0)  # again, if the code swallows this one
        raise CallTimeout(
            f"{session.calling} did not return within {session.timeout:g} s, the time limit of each "
            "call into the class (--call-timeout SECONDS); it was not called again"
        )

    previous = signal.signal(signal.SIGALRM, expire)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _mark(exc: BaseException, what: str) -> None:
    with contextlib.suppress(AttributeError, TypeError):  # an exception type without a __dict__
        setattr(exc, _MARK, what)


def foreign(what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``, a call into the class named ``what`` (``"Relu.forward"``), guarded
    as the module docstring says; outside :func:`isolated`, or inside another foreign call, a
    plain call. Exceptions the call raises are the class's (marked as raised by foreign code)."""
    s = _session
    if s is None or s.depth:
        return fn(*args, **kwargs)
    if what in s.timed_out:
        first = s.timed_out[what]
        again = CallTimeout(str(first))
        _mark(again, what)
        raise again.with_traceback(first.__traceback__)  # located where the first call hung
    cwd, bytecode = os.getcwd(), sys.dont_write_bytecode
    out = io.StringIO()
    s.depth += 1
    s.calling = what
    sys.dont_write_bytecode = True  # what the class imports leaves no __pycache__ beside it
    # what contextlib.redirect_stdout/stderr do, without their cost at every call
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    try:
        if s.timeout:
            signal.setitimer(signal.ITIMER_REAL, s.timeout)
        try:
            return fn(*args, **kwargs)
        finally:
            if s.timeout:
                signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr = stdout, stderr
    except SystemExit as exc:
        called = f"sys.exit({exc.code!r})"
        error = ForeignExit(_exit_message(what, called), called)
        _mark(error, what)
        raise error.with_traceback(exc.__traceback__) from None  # located where the class exits
    except ForeignExit as exc:
        error = ForeignExit(_exit_message(what, exc.call), exc.call)
        _mark(error, what)
        raise error.with_traceback(exc.__traceback__) from None
    except CallTimeout as exc:
        s.timed_out[what] = exc
        _mark(exc, what)
        raise
    except Exception as exc:
        _mark(exc, what)
        raise
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except BaseException as exc:  # not an Exception: it would pass every handler up to the process
        error = ForeignExit(
            f"{what} raised {type(exc).__name__}, a BaseException but not an Exception, which would "
            "end the check: it counts as raising",
            type(exc).__name__,
        )
        _mark(error, what)
        raise error.with_traceback(exc.__traceback__) from None
    finally:
        s.depth -= 1
        sys.dont_write_bytecode = bytecode
        with contextlib.suppress(ValueError):  # the code closed sys.stdout, our buffer
            if printed := out.getvalue():
                s.keep(printed)
        _restore_cwd(cwd)


def _exit_message(what: str, called: str) -> str:
    return (
        f"{what} called {called}: a layer must return its result, never end the process "
        "(the check went on; the call counts as raising)"
    )


def raised_by(exc: BaseException | None) -> str | None:
    """The foreign call that raised ``exc`` (``"Relu.forward"``), or None."""
    return getattr(exc, _MARK, None)


def harness_crash(exc: BaseException | None) -> bool:
    """Whether ``exc``, raised during a check (:func:`isolated`), is the harness's own crash: not
    raised inside the class, and not one of the harness's findings (a disagreement, an interface
    the spec cannot drive, a usage error, Hypothesis's verdict on the search)."""
    from hypothesis.errors import HypothesisException

    from layer_crosscheck.properties.engine.errors import UsageError

    if exc is None or _session is None or raised_by(exc) is not None:
        return False
    findings = (AssertionError, UsageError, HypothesisException, ForeignExit, CallTimeout)
    return not isinstance(exc, findings)


def output_note() -> str | None:
    """What the class printed during this check (None: nothing), as a note: the first lines."""
    s = _session
    if s is None or not s.total_lines:
        return None
    more = s.total_lines - len(s.lines)
    tail = f"\n    ... ({more} more line(s))" if more else ""
    shown = "".join(f"\n    {line}" for line in s.lines)
    return (
        f"the class printed {s.total_lines} line(s) while it was checked (its stdout and stderr are "
        f"captured, not mixed into crosscheck's output):{shown}{tail}"
    )
