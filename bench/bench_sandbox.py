"""What a sandboxed job costs: worker start, per-call overhead, recovery after a timeout
or a dead worker, and the parent's peak memory.

    .venv/bin/python bench/bench_sandbox.py [--calls 1000]

The parent first imports what the document checker imports (SymPy, numpy,
latex2sympy2), so that forking copies a realistic image.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

import latex2sympy2  # noqa: F401  (imported for its size: the worker inherits it)
import numpy  # noqa: F401
import sympy

from symbolic.sandbox import Limits, Sandbox


def echo(value):
    return value


def spin():
    while True:
        pass


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:8.3f} ms"


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _row(label: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p90 = samples[int(0.9 * (len(samples) - 1))]
    median = statistics.median(samples)
    print(f"{label:<40} median {_ms(median)}   p90 {_ms(p90)}   n={len(samples)}")


def bench_calls(calls: int) -> None:
    x, y, n = sympy.symbols("x y n")
    expression = sympy.Sum((y - x) ** 2, (x, 1, n)) / (2 * n)
    with Sandbox() as box:
        _row("first call (fork + job)", [_timed(lambda: box.run(abs, -1))])
        _row("trivial job abs(-1), round trip", [_timed(lambda: box.run(abs, -1))
                                                 for _ in range(calls)])
        _row("SymPy expression there and back", [_timed(lambda: box.run(echo, expression))
                                                 for _ in range(calls // 5)])


def bench_recovery(rounds: int) -> None:
    limits = Limits(timeout_s=0.2)
    kill, respawn, died = [], [], []
    with Sandbox(limits) as box:
        box.run(abs, -1)
        for _ in range(rounds):
            kill.append(box.run(spin).seconds - limits.timeout_s)
            respawn.append(_timed(lambda: box.run(abs, -1)))
            died.append(box.run(os._exit, 1).seconds)
            box.run(abs, -1)
    _row("timeout: kill + reap, beyond timeout_s", kill)
    _row("next call after a timeout (fork + job)", respawn)
    _row("worker-died reported (os._exit job)", died)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    print(f"pid {os.getpid()}, {os.cpu_count()} cpus, sympy {sympy.__version__}")
    bench_calls(args.calls)
    bench_recovery(args.rounds)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: parent {own:.0f} MB, largest worker {child:.0f} MB")


if __name__ == "__main__":
    main()
