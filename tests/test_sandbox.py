"""symbolic.sandbox: every way a job can end gives an Outcome, the parent never hangs,
the worker comes back after each failure, and no process is left behind."""
import ctypes
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest
import sympy

from symbolic.sandbox import Limits, Outcome, Sandbox, run_inline


# ---- jobs: module-level, so that they pickle by reference ---------------------------

def fail():
    raise ValueError("bad input\n  on two lines")


def spin():
    while True:
        pass


def countdown(n):
    return 0 if n == 0 else 1 + countdown(n - 1)


def grow_heap():
    chunks = []
    while True:
        chunks.append(bytearray(1 << 20))


def allocate(size):
    return len(bytearray(size))


def nested_list(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


def generator():
    return (i for i in range(3))


class Chain:
    """Recursion through a C slot (`+`): every level also costs C stack."""

    def __init__(self, n):
        self.n = n

    def __add__(self, other):
        return Chain(self.n - 1) + other if self.n else 0


def add_chain(depth):
    return Chain(depth) + 1


def simplify_and_order():
    x, y, z = sympy.symbols("x y z")
    e = sympy.simplify((x**2 - y**2) / (x - y) + sympy.sin(z) ** 2 + sympy.cos(z) ** 2)
    return sympy.srepr(e), [str(s) for s in {x, y, z}]  # set order follows the hash seed


def is_gone(pid):
    """True if pid has exited (a zombie left to a non-reaping init counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.fixture
def box():
    with Sandbox(Limits(timeout_s=2, memory_mb=512)) as sandbox:
        yield sandbox


# ---- how jobs end -------------------------------------------------------------------

def test_value_is_returned(box):
    assert box.run(divmod, 17, 5) == Outcome(True, (3, 2), None, "", 0.0)
    assert box.run(sympy.expand, sympy.sympify("(x+1)**2")).value == sympy.sympify("x**2+2*x+1")


FAILURES = [
    # exceptions raised by the job: one line, no traceback
    ("exception", fail, (), Limits(), "crash", "ValueError: bad input on two lines"),
    ("result not picklable", generator, (), Limits(), "crash",
     "result cannot be pickled: TypeError: cannot pickle 'generator' object"),
    # memory: the ceiling stops a huge allocation and a growing heap
    ("10 GB at once", bytearray, (10**10,), Limits(memory_mb=512), "too-large", "MemoryError"),
    ("growing heap", grow_heap, (), Limits(memory_mb=128), "too-large", "MemoryError"),
    # recursion: in the job and in pickling its result
    ("deep recursion", countdown, (10**6,), Limits(), "too-large",
     "RecursionError: maximum recursion"),
    ("deep result", nested_list, (10**5,), Limits(), "too-large",
     "result cannot be pickled: RecursionError"),
    # wall time: a Python loop, and (10^6)! (about 5 s of big-integer work in C)
    ("infinite loop", spin, (), Limits(timeout_s=0.5), "timeout", "no result within 0.5 s"),
    ("(10^6)!", sympy.factorial, (10**6,), Limits(timeout_s=1), "timeout", "no result within 1 s"),
    # the worker itself ends
    ("os._exit", os._exit, (3,), Limits(), "worker-died", "worker exited with status 3"),
    ("segfault", ctypes.string_at, (0,), Limits(), "worker-died", "worker killed by SIGSEGV"),
]


@pytest.mark.parametrize("fn, args, limits, reason, message",
                         [case[1:] for case in FAILURES], ids=[case[0] for case in FAILURES])
def test_failure_gives_reason_and_next_job_runs(fn, args, limits, reason, message):
    with Sandbox(limits) as sandbox:
        outcome = sandbox.run(fn, *args)
        assert (outcome.ok, outcome.value, outcome.reason) == (False, None, reason)
        assert outcome.message.startswith(message) and "\n" not in outcome.message
        assert outcome.seconds < limits.timeout_s + 1.5  # the parent does not hang
        assert sandbox.run(abs, -1).value == 1


def test_power_tower_is_stopped_by_time_or_memory():
    with Sandbox(Limits(timeout_s=1, memory_mb=512)) as sandbox:
        outcome = sandbox.run(sympy.Pow, sympy.Integer(10), 10**10)  # 10^(10^10), evaluated
    assert outcome.reason in ("timeout", "too-large")


def test_memory_ceiling_is_added_to_the_forked_image():
    # 300 MB fits under 512 MB of headroom although the worker inherited SymPy's image
    with Sandbox(Limits(memory_mb=512)) as sandbox:
        assert sandbox.run(allocate, 300 << 20).value == 300 << 20


def test_job_too_big_to_receive_ends_the_worker_not_the_parent():
    with Sandbox(Limits(memory_mb=16)) as sandbox:
        # depending on where the allocation fails (and what the forked image already holds),
        # the worker dies, reports the MemoryError, or -- with room to spare -- succeeds;
        # what matters is that the parent carries on
        outcome = sandbox.run(len, bytes(40 << 20))
        assert outcome.ok or outcome.reason in ("worker-died", "too-large")
        assert sandbox.run(abs, -1).value == 1


def test_c_stack_grows_with_the_recursion_limit():
    # 19000 levels through `__add__` need more than the default 8 MB of C stack
    with Sandbox(Limits(recursion=20000)) as sandbox:
        assert sandbox.run(add_chain, 19000).value == 0


def test_unpicklable_job_is_a_caller_error(box):
    with pytest.raises(TypeError, match="module-level function"):
        box.run(lambda: 1)
    assert box.run(abs, -1).value == 1


@pytest.mark.parametrize("limits", [
    dict(timeout_s=0), dict(timeout_s=-1), dict(memory_mb=0), dict(recursion=10),
])
def test_limits_are_validated(limits):
    with pytest.raises(ValueError):
        Limits(**limits)


# ---- the worker's life --------------------------------------------------------------

def test_worker_is_replaced_after_timeout_and_reaped():
    with Sandbox(Limits(timeout_s=0.3)) as sandbox:
        first = sandbox.run(os.getpid).value
        assert sandbox.run(time.sleep, 10).reason == "timeout"
        with pytest.raises(ChildProcessError):
            os.waitpid(first, os.WNOHANG)
        assert sandbox.run(os.getpid).value not in (first, os.getpid())


def test_worker_that_died_while_idle_is_replaced_silently(box):
    first = box.run(os.getpid).value
    os.kill(first, signal.SIGKILL)
    while not is_gone(first):
        time.sleep(0.01)
    assert box.run(abs, -1).value == 1


def test_interrupted_call_leaves_no_job_in_flight(box):
    class Interrupt(Exception):
        pass

    def ring(signum, frame):
        raise Interrupt

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    try:
        with pytest.raises(Interrupt):
            box.run(time.sleep, 1)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert box.run(abs, -1).value == 1  # not the sleep's late None


def test_close_reaps_the_worker_and_is_idempotent():
    sandbox = Sandbox()
    pid = sandbox.run(os.getpid).value
    sandbox.close()
    sandbox.close()
    assert pid not in {p.pid for p in multiprocessing.active_children()}
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    with pytest.raises(RuntimeError, match="closed"):
        sandbox.run(abs, -1)


PARENT = """
import os, time
from symbolic.sandbox import Sandbox
box = Sandbox()
print(box.run(os.getpid).value, flush=True)
box.run(time.sleep, 60)
"""


def test_worker_dies_with_its_parent():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 2
    while not is_gone(worker) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert is_gone(worker)


# ---- determinism and the inline mode ------------------------------------------------

def test_results_are_deterministic_across_workers(box):
    first = box.run(simplify_and_order)
    assert box.run(simplify_and_order) == first
    assert box.run(os._exit, 0).reason == "worker-died"  # the next job runs in a new worker
    assert box.run(simplify_and_order) == first
    assert run_inline(simplify_and_order, limits=box.limits) == first
    assert first.value[1] == [str(s) for s in set(sympy.symbols("x y z"))]


def test_run_many_keeps_order(box):
    outcomes = list(box.run_many(divmod, [(7, 2), (1, 0), (9, 3)]))
    assert [o.value for o in outcomes] == [(3, 1), None, (3, 0)]
    assert outcomes[1].message == "ZeroDivisionError: integer division or modulo by zero"


INLINE = [
    ("value", divmod, (7, 2), Limits(), None),
    ("exception", fail, (), Limits(), "crash"),
    ("result not picklable", generator, (), Limits(), "crash"),
    ("deep recursion", countdown, (10**6,), Limits(), "too-large"),
    ("infinite loop", spin, (), Limits(timeout_s=0.3), "timeout"),
]


@pytest.mark.parametrize("fn, args, limits, reason",
                         [case[1:] for case in INLINE], ids=[case[0] for case in INLINE])
def test_run_inline_keeps_the_contract(fn, args, limits, reason):
    handler, depth = signal.getsignal(signal.SIGALRM), sys.getrecursionlimit()
    outcome = run_inline(fn, *args, limits=limits)
    assert outcome.reason == reason
    assert (signal.getsignal(signal.SIGALRM), sys.getrecursionlimit()) == (handler, depth)
    if reason != "timeout":
        with Sandbox(limits) as sandbox:
            assert sandbox.run(fn, *args) == outcome
