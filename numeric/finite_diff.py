"""Central finite differences in float64, and the comparison of a formula with them.

Follows torch.autograd.gradcheck's practice: step h = 1e-6 in float64, an entry
passes when |analytic - numeric| <= atol + rtol * |numeric| (atol = 1e-5,
rtol = 1e-3), and the report gives the max absolute and max relative error plus
the worst entry with both values side by side.

The relative error is |a - n| / max(|a|, |n|, atol): it never divides by a + b (which
cancels when a formula has the wrong sign), and entries smaller than atol are judged
on their absolute error, since finite differences cannot resolve them relatively.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

STEP = 1e-6  # gradcheck's eps; float64 central-difference error ~ h^2 f''' + eps_mach f / h


@dataclass(frozen=True)
class Tolerance:
    """Entry-wise criterion |analytic - numeric| <= atol + rtol * |numeric|."""

    rtol: float
    atol: float

    def __str__(self) -> str:
        return f"rtol={self.rtol:g}, atol={self.atol:g}"


GRADCHECK = Tolerance(rtol=1e-3, atol=1e-5)  # torch.autograd.gradcheck's defaults


@dataclass(frozen=True)
class Comparison:
    """Formula vs reference, with the evidence: the worst entry and both values there."""

    max_abs_err: float
    max_rel_err: float
    worst: tuple[int, ...]  # index of the entry that most exceeds its allowance
    numeric: float  # reference value at `worst`
    analytic: float  # formula value at `worst`
    passed: bool
    note: str = ""  # e.g. a shape mismatch

    def figures(self) -> dict:
        return {"max_abs_err": self.max_abs_err, "max_rel_err": self.max_rel_err,
                "worst": list(self.worst), "numeric": self.numeric, "analytic": self.analytic}

    def __str__(self) -> str:
        if self.note:
            return self.note
        return (f"max abs err {self.max_abs_err:.2e}, max rel err {self.max_rel_err:.2e}; "
                f"worst {list(self.worst)}: numeric {self.numeric:.6g}, formula {self.analytic:.6g}")


def jacobian(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float = STEP) -> np.ndarray:
    """d f / d x by central differences; shape f(x).shape + x.shape."""
    x = np.array(x, dtype=np.float64)  # a private copy, perturbed in place
    columns = [_central(f, x, k, h) for k in range(x.size)]
    out_shape = np.shape(columns[0])
    return np.stack(columns, axis=-1).reshape(out_shape + x.shape)


def gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = STEP) -> np.ndarray:
    """Gradient of a scalar function by central differences; shape x.shape."""
    g = jacobian(f, x, h)
    if g.shape != np.shape(x):
        raise ValueError(f"gradient needs a scalar function; got output shape {g.shape[:-np.ndim(x)]}")
    return g


def _central(f, x: np.ndarray, k: int, h: float) -> np.ndarray:
    flat = x.reshape(-1)  # a view: writing it perturbs x
    original = flat[k]
    flat[k] = original + h
    plus = np.asarray(f(x), dtype=np.float64)
    flat[k] = original - h
    minus = np.asarray(f(x), dtype=np.float64)
    flat[k] = original
    return (plus - minus) / (2 * h)


def compare(numeric: np.ndarray, analytic: np.ndarray, tol: Tolerance = GRADCHECK) -> Comparison:
    """Compare a formula's values with reference values (finite differences, lstsq)."""
    numeric = np.asarray(numeric, dtype=np.float64)
    analytic = np.asarray(analytic, dtype=np.float64)
    if numeric.shape != analytic.shape:
        return _mismatch(f"shape mismatch: formula {analytic.shape}, expected {numeric.shape}")
    if not np.all(np.isfinite(analytic)):
        return _mismatch("formula is not finite")
    diff = np.abs(analytic - numeric)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), tol.atol)
    excess = diff / (tol.atol + tol.rtol * np.abs(numeric))  # <= 1 where the entry passes
    worst = np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.size else ()
    return Comparison(
        max_abs_err=float(diff.max(initial=0.0)),
        max_rel_err=float((diff / scale).max(initial=0.0)),
        worst=tuple(int(i) for i in worst),
        numeric=float(numeric[worst]) if excess.size else 0.0,
        analytic=float(analytic[worst]) if excess.size else 0.0,
        passed=bool(np.all(excess <= 1.0)),
    )


def _mismatch(note: str) -> Comparison:
    return Comparison(float("inf"), float("inf"), (), float("nan"), float("nan"), False, note)
