"""Run untrusted CAS work (parsing, `simplify`, evaluation) under a hard wall-time limit
and a memory ceiling, in a persistent forked worker.

    with Sandbox(Limits(timeout_s=2)) as box:
        outcome = box.run(parse_side, r"\\frac{1}{2n} (y - Xw)^T (y - Xw)")
    outcome.ok, outcome.value, outcome.reason, outcome.message

Every job ends in an `Outcome`: a value, or a reason that is one of `REASONS`:
- "timeout": no result within `timeout_s`; the worker is killed (SIGKILL), so C-level
  loops (big-integer arithmetic, a regex) are stopped too.
- "too-large": the job raised MemoryError (it hit the memory ceiling) or RecursionError.
- "crash": the job raised any other exception (`message` is one line, 'ExcType: msg'),
  or its result could not be pickled.
- "worker-died": the worker ended without a reply (segfault, OOM kill, `os._exit`, a
  job whose pickled arguments alone exceed the memory ceiling).

The worker is forked (start method "fork"), so it inherits the already imported SymPy
and latex2sympy2 and costs no interpreter start.  It runs one job at a time and
survives crashes; after a timeout, a "too-large" or a death it is discarded and the next
call forks a fresh one.  Jobs must not rely on state left by earlier jobs: which worker
runs a job depends on what failed before it.

Linux only (fork, /proc, prctl).  Jobs are module-level functions, pickled by reference;
arguments and results cross the process border by pickle.  The worker shares the
parent's stdout and stderr; what a job leaves in stdout's buffer is lost when the worker
is killed, so jobs should not print.
"""
from __future__ import annotations

import ctypes
import faulthandler
import gc
import multiprocessing
import os
import pickle
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

REASONS = ("timeout", "too-large", "crash", "worker-died")
_PROTOCOL = pickle.HIGHEST_PROTOCOL
_STACK_PER_LEVEL = 8 << 10  # bytes of C stack reserved per level of `Limits.recursion`
_MAX_MESSAGE = 300
_PR_SET_PDEATHSIG = 1
# In the worker: BLAS libraries loaded after the fork start one thread, not one per core.
_WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Limits:
    """Limits for each job.

    timeout_s: wall time from submission to result, in seconds (worker start included).
    memory_mb: address space (RLIMIT_AS) the worker may add to the image it was forked
        with; the job's heap and the stack it grows count, the inherited modules do not.
        `run_inline` cannot enforce it.
    recursion: Python recursion limit for the job; the worker's C stack is raised to
        match (8 KiB per level), so that hitting it is a RecursionError, not a segfault.
    """

    timeout_s: float = 5.0
    memory_mb: int = 2048
    recursion: int = 3000

    def __post_init__(self) -> None:
        if not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, not {self.timeout_s!r}")
        if self.memory_mb < 1:
            raise ValueError(f"memory_mb must be at least 1, not {self.memory_mb!r}")
        if self.recursion < 100:
            raise ValueError(f"recursion must be at least 100, not {self.recursion!r}")


@dataclass(frozen=True)
class Outcome:
    """How one job ended.  `ok` is True exactly when `reason` is None; then `value` is
    the job's return value (a copy), else None.  `seconds` is wall time seen by the
    caller; it is left out of equality so that outcomes compare deterministically."""

    ok: bool
    value: Any
    reason: str | None
    message: str
    seconds: float = field(compare=False)


class _Timeout(BaseException):
    """Raised by `run_inline`'s alarm.  A BaseException, so that a job's stray
    `except Exception` cannot swallow it."""


# ---------------------------------------------------------------- shared by both modes
# A reply is the pickled tuple (reason, value, message); reason None means success.


def _describe(exc: BaseException) -> str:
    """'ExcType: message' on one line, without traceback, at most _MAX_MESSAGE chars."""
    try:
        text = " ".join(str(exc).split())
    except BaseException:  # str() of a huge or broken object may itself fail
        text = "<unprintable message>"
    name = type(exc).__name__
    return (f"{name}: {text}" if text else name)[:_MAX_MESSAGE]


# Sent when even reporting a failure fails (e.g. MemoryError while pickling the message).
_FALLBACK_REPLY = pickle.dumps(("too-large", None, "MemoryError while reporting a failure"),
                              _PROTOCOL)


def _failure_reply(exc: BaseException, prefix: str = "") -> bytes:
    exc.__traceback__ = None  # free the failed job's frames before formatting
    try:
        reason = "too-large" if isinstance(exc, (MemoryError, RecursionError)) else "crash"
        return pickle.dumps((reason, None, prefix + _describe(exc)), _PROTOCOL)
    except BaseException:
        return _FALLBACK_REPLY


def _execute(request: bytes) -> bytes:
    """Unpickle (fn, args), call fn(*args), pickle the reply.  Raises only
    `run_inline`'s _Timeout; every other exception becomes a reply."""
    try:
        fn, args = pickle.loads(request)
        value = fn(*args)
    except _Timeout:
        raise
    except BaseException as exc:
        return _failure_reply(exc)
    try:
        return pickle.dumps((None, value, ""), _PROTOCOL)
    except _Timeout:
        raise
    except BaseException as exc:
        return _failure_reply(exc, "result cannot be pickled: ")


def _pack(fn: Callable, args: tuple) -> bytes:
    try:
        return pickle.dumps((fn, args), _PROTOCOL)
    except Exception as exc:
        raise TypeError(f"sandbox job must be a module-level function with picklable "
                        f"arguments: {_describe(exc)}") from exc


def _outcome(reply: tuple, started: float) -> Outcome:
    reason, value, message = reply
    return Outcome(reason is None, value, reason, message, time.perf_counter() - started)


def _unpack(reply: bytes) -> tuple:
    try:
        return pickle.loads(reply)
    except Exception as exc:
        return ("crash", None, "result cannot be unpickled: " + _describe(exc))


def _timeout_reply(limits: Limits) -> tuple:
    return ("timeout", None, f"no result within {limits.timeout_s:g} s")


# ---------------------------------------------------------------- the worker process


def _die_with_parent(parent_pid: int) -> None:
    """SIGKILL this process when the parent dies (Linux).  Elsewhere an idle worker
    still ends on end-of-file from its pipe."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _set_soft_limit(which: int, value: int) -> None:
    _, hard = resource.getrlimit(which)
    resource.setrlimit(which, (value if hard == resource.RLIM_INFINITY else min(value, hard), hard))


def _apply_limits(limits: Limits) -> None:
    sys.setrecursionlimit(limits.recursion)
    stack, _ = resource.getrlimit(resource.RLIMIT_STACK)
    if stack != resource.RLIM_INFINITY:  # the main thread's stack grows on demand up to this
        _set_soft_limit(resource.RLIMIT_STACK, max(stack, limits.recursion * _STACK_PER_LEVEL))
    _set_soft_limit(resource.RLIMIT_AS, _address_space() + (limits.memory_mb << 20))


def _serve(conn, limits: Limits, parent_pid: int) -> None:
    """The worker's main loop: one request in, one reply out, until end-of-file."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    faulthandler.disable()  # a segfault is reported as "worker-died", without a stack dump
    os.environ.update(_WORKER_ENV)
    gc.freeze()  # inherited objects stay untouched: fewer copy-on-write page faults
    _apply_limits(limits)
    try:
        while True:
            conn.send_bytes(_execute(conn.recv_bytes()))
    except EOFError:  # the parent closed its end
        os._exit(0)
    except BaseException:  # e.g. no memory to receive a huge job: the parent sees "worker-died"
        os._exit(1)


# ---------------------------------------------------------------- the parent's side


class Sandbox:
    """A persistent forked worker that runs jobs one at a time under `limits`.
    Use as a context manager, or call `close()` (idempotent).  Thread-safe: calls from
    several threads are serialized."""

    def __init__(self, limits: Limits = Limits()):
        self.limits = limits
        self._context = multiprocessing.get_context("fork")
        self._process = None
        self._conn = None
        self._lock = threading.Lock()
        self._owner = os.getpid()
        self._closed = False

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def run(self, fn: Callable, *args) -> Outcome:
        """Run fn(*args) in the worker.  Raises TypeError if fn or args cannot be pickled
        and RuntimeError after close(); every other failure is an Outcome."""
        request = _pack(fn, args)
        with self._lock:
            if self._closed:
                raise RuntimeError("Sandbox is closed")
            started = time.perf_counter()
            try:
                reply = self._exchange(request, started + self.limits.timeout_s)
            except BaseException:  # e.g. KeyboardInterrupt: never leave a job in flight
                self._stop()
                raise
            if reply[0] == "too-large":  # the worker survived, but start the next job clean
                self._stop()
        return _outcome(reply, started)

    def run_many(self, fn: Callable, argss: Iterable[tuple]) -> Iterator[Outcome]:
        """`run(fn, *args)` for each args tuple, in order, lazily."""
        for args in argss:
            yield self.run(fn, *args)

    def close(self) -> None:
        """Kill the worker and reap it.  Idempotent; a no-op in a forked child."""
        if os.getpid() != self._owner:
            return
        with self._lock:
            self._closed = True
            self._stop()

    def _exchange(self, request: bytes, deadline: float) -> tuple:
        conn, process = self._worker()
        try:
            conn.send_bytes(request)
        except OSError:  # the worker ended before it had read the whole job
            return ("worker-died", None, _death_message(self._stop()))
        ready = wait([conn, process.sentinel], max(0.0, deadline - time.perf_counter()))
        if conn in ready:
            try:
                return _unpack(conn.recv_bytes())
            except (EOFError, OSError):
                pass
        if not ready:
            self._stop()
            return _timeout_reply(self.limits)
        return ("worker-died", None, _death_message(self._stop()))

    def _worker(self):
        if self._process is None or not self._process.is_alive():
            self._stop()
            self._conn, child = self._context.Pipe()
            self._process = self._context.Process(
                target=_serve, args=(child, self.limits, os.getpid()),
                name="derivcheck-sandbox", daemon=True)
            self._process.start()
            child.close()
        return self._conn, self._process

    def _stop(self) -> int | None:
        """Kill and reap the worker if there is one; return its exit code."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is None:
            return None
        if process.is_alive():
            process.kill()
        process.join(timeout=5)
        return process.exitcode


def _death_message(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"worker killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"worker killed by signal {-exitcode}"
    return f"worker exited with status {exitcode}"


# ---------------------------------------------------------------- without a process


def run_inline(fn: Callable, *args, limits: Limits = Limits()) -> Outcome:
    """The Sandbox contract in this process, for debugging and `--no-sandbox`.
    Best effort: the recursion limit holds, but the C stack is not raised to match; the
    timeout is a SIGALRM (main thread only) that cannot interrupt a long C call; memory
    is not limited (a MemoryError is still "too-large").  Arguments and result are
    copied through pickle, as in a Sandbox."""
    started = time.perf_counter()
    try:
        with _alarm(limits.timeout_s), _recursion_limit(limits.recursion):
            reply = _unpack(_execute(_pack(fn, args)))
    except _Timeout:
        reply = _timeout_reply(limits)
    return _outcome(reply, started)


def _ring(signum, frame):
    raise _Timeout


@contextmanager
def _alarm(seconds: float):
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous_handler = signal.signal(signal.SIGALRM, _ring)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay:  # give an enclosing timer back what is left of it
            left = previous_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), previous_interval)


@contextmanager
def _recursion_limit(limit: int):
    previous = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(limit)
    except RecursionError:  # already deeper than `limit`: keep the current one
        pass
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)
