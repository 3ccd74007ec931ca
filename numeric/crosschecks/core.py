"""Numeric witnesses for the core catalog entries (answer sheet problems 1, 3 and 4).

Each check writes the stated formula in numpy and compares it with a quantity computed
independently of it: central finite differences, `numpy.linalg.lstsq`, Monte Carlo,
simulated Adam runs.  The formula is the `formula` argument of the check, so every
planted error (`mutants`) goes through exactly the same code and must fail.

Statistical checks use Z_TOL = 5 standard errors: a correct formula fails one
comparison with probability 5.7e-7 (Bonferroni over Adam's 50 steps: < 3e-5), while
every mutant below misses by tens to hundreds of standard errors.  Sizes are chosen so
the whole module runs in well under a second.  Every check is seeded.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from numeric.crosscheck import CheckResult, crosscheck
from numeric.finite_diff import GRADCHECK, STEP, Comparison, Tolerance, compare, gradient, jacobian

FD = "central finite differences"
Z_TOL = 5.0  # standard errors; two-sided P(|Z| > 5) = 5.7e-7
LSTSQ = Tolerance(rtol=1e-9, atol=1e-12)  # cond(X)^2 * eps_mach is ~1e-15 at these sizes


# --- shared plumbing ---------------------------------------------------------------

def _apply(formula, *args):
    """The formula's value as float64, or the error text when it is dimensionally
    invalid (numpy raises ValueError on a bad product, LinAlgError on a singular one)."""
    try:
        with np.errstate(all="ignore"):
            return np.asarray(formula(*args), dtype=np.float64)
    except ValueError as e:
        return f"formula raised {type(e).__name__}: " + re.sub(r", with gufunc signature \S+", "", str(e))


def _against(pairs, tol: Tolerance = GRADCHECK) -> Comparison:
    """Compare (reference, formula value) at several points; the worst point, indexed
    first in `worst`, carries the evidence."""
    results = []
    for point, (reference, value) in enumerate(pairs):
        c = Comparison(np.inf, np.inf, (), np.nan, np.nan, False, value) if isinstance(value, str) \
            else compare(reference, value, tol)
        results.append((point, c))
    point, worst = max(results, key=lambda pc: (not pc[1].passed, pc[1].max_abs_err))
    failing = [p for p, c in results if not c.passed]
    note = f"fails at points {failing} of {len(results)}; point {point}: {worst}" if failing else ""
    return Comparison(max(c.max_abs_err for _, c in results), max(c.max_rel_err for _, c in results),
                      (point, *worst.worst), worst.numeric, worst.analytic, not failing, note)


def _fd_result(entry, check, comparison: Comparison, sample: str) -> CheckResult:
    return CheckResult(entry, check, FD, f"h={STEP:g}, {sample}", str(GRADCHECK),
                       str(comparison), comparison.passed, comparison.figures())


def _z(samples: np.ndarray, predicted) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over axis -1, its standard error, and |mean - predicted| in standard errors
    (a non-finite value counts as infinitely far)."""
    with np.errstate(all="ignore"):
        mean = samples.mean(axis=-1)
        se = samples.std(axis=-1, ddof=1) / np.sqrt(samples.shape[-1])
        z = np.abs(mean - predicted) / se
    return mean, se, np.where(np.isfinite(z), z, np.inf)


def _softmax(u: np.ndarray) -> np.ndarray:
    e = np.exp(u - u.max())
    return e / e.sum()


def _log_softmax(u: np.ndarray) -> np.ndarray:
    shifted = u - u.max()
    return shifted - np.log(np.exp(shifted).sum())


def _one_hot(rng, d: int) -> np.ndarray:
    return np.eye(d)[rng.integers(d)]


# --- normal-equations (problem 1a, 1b) -----------------------------------------------

def _regression(rng, n: int = 40, d: int = 5):
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n)
    return X, y


def _mse_loss(X, y, w, b=0.0) -> float:
    r = y - X @ w - b
    return r @ r / (2 * len(y))


def normal_equations_gradient(X, y, w):
    """Problem 1b: grad L = (1/n)(X^T X w - X^T y)."""
    return (X.T @ X @ w - X.T @ y) / len(y)


@crosscheck("normal-equations", "gradient", mutants={
    "sign flipped": lambda X, y, w: (X.T @ y - X.T @ X @ w) / len(y),
    "factor 2": lambda X, y, w: 2 * (X.T @ X @ w - X.T @ y) / len(y),
    "X^T y term dropped": lambda X, y, w: X.T @ X @ w / len(y),
    "transpose swapped (X y for X^T y)": lambda X, y, w: (X.T @ X @ w - X @ y) / len(y),
})
def normal_equations_gradient_check(formula=None, seed: int = 101) -> CheckResult:
    formula = formula or normal_equations_gradient
    rng = np.random.default_rng(seed)
    X, y = _regression(rng)
    points = [rng.standard_normal(X.shape[1]) for _ in range(3)]
    c = _against((gradient(lambda w: _mse_loss(X, y, w), w), _apply(formula, X, y, w)) for w in points)
    return _fd_result("normal-equations", "gradient", c, f"3 points, n=40, d=5, seed={seed}")


def coordinate_gradient(X, y, w, b):
    """Problem 1a, per coordinate: dL/dw_k = (1/n) sum_i (yhat_i - y_i) x_ik,
    dL/db = (1/n) sum_i (yhat_i - y_i), with yhat_i = sum_j w_j x_ij + b."""
    n, d = X.shape
    residual = X @ w + b - y
    return [np.sum(residual * X[:, k]) / n for k in range(d)] + [np.sum(residual) / n]


def _coordinate_mutant(sign=1.0, scale=1.0, with_bias=True, db_over_n=True):
    def formula(X, y, w, b):
        n = len(y)
        residual = X @ w + (b if with_bias else 0.0) - y
        db = np.sum(residual) / (n if db_over_n else 1)
        return sign * scale * np.append(X.T @ residual / n, db)
    return formula


@crosscheck("normal-equations", "per-coordinate with bias", mutants={
    "sign flipped (as written in the sheet's 1a)": _coordinate_mutant(sign=-1.0),
    "factor 2": _coordinate_mutant(scale=2.0),
    "bias dropped from yhat": _coordinate_mutant(with_bias=False),
    "1/n dropped in dL/db": _coordinate_mutant(db_over_n=False),
})
def coordinate_gradient_check(formula=None, seed: int = 102) -> CheckResult:
    formula = formula or coordinate_gradient
    rng = np.random.default_rng(seed)
    X, y = _regression(rng)
    d = X.shape[1]
    points = [rng.standard_normal(d + 1) for _ in range(3)]  # (w_1..w_d, b)
    c = _against((gradient(lambda p: _mse_loss(X, y, p[:d], p[d]), p), _apply(formula, X, y, p[:d], p[d]))
                 for p in points)
    return _fd_result("normal-equations", "per-coordinate with bias", c,
                      f"3 points (w, b), n=40, d=5, seed={seed}")


def closed_form(X, y):
    """Problem 1b: w* = (X^T X)^{-1} X^T y when X^T X is invertible."""
    return np.linalg.inv(X.T @ X) @ X.T @ y


@crosscheck("normal-equations", "closed form", mutants={
    "sign flipped": lambda X, y: -np.linalg.inv(X.T @ X) @ X.T @ y,
    "factor 2": lambda X, y: 2 * np.linalg.inv(X.T @ X) @ X.T @ y,
    "stray 1/n": lambda X, y: np.linalg.inv(X.T @ X) @ X.T @ y / len(y),
    "transpose swapped": lambda X, y: np.linalg.inv(X.T @ X) @ X @ y,
})
def closed_form_check(formula=None, seed: int = 103) -> CheckResult:
    formula = formula or closed_form
    rng = np.random.default_rng(seed)
    problems = [_regression(rng, n, d) for n, d in ((40, 5), (12, 3), (200, 8))]
    c = _against(((np.linalg.lstsq(X, y, rcond=None)[0], _apply(formula, X, y)) for X, y in problems), LSTSQ)
    return CheckResult("normal-equations", "closed form", "numpy.linalg.lstsq",
                       f"(n, d) = (40, 5), (12, 3), (200, 8), seed={seed}", str(LSTSQ),
                       str(c), c.passed, c.figures())


# --- noise-l2 (problem 3b) ----------------------------------------------------------

def noise_l2(X, y, w, sigma):
    """Problem 3b: E[1/(2n) sum (y_i - (x_i + eps_i)^T w)^2] for eps_i ~ N(0, sigma^2 I)
    = 1/(2n) sum (y_i - x_i^T w)^2 + (sigma^2 / 2) ||w||^2."""
    r = y - X @ w
    return r @ r / (2 * len(y)) + sigma**2 / 2 * (w @ w)


def _noise_mutant(noise_term):
    return lambda X, y, w, sigma: _mse_loss(X, y, w) + noise_term(len(y), sigma, w @ w)


@crosscheck("noise-l2", "expected loss", mutants={
    "noise term dropped": _noise_mutant(lambda n, s, ww: 0.0),
    "sign flipped": _noise_mutant(lambda n, s, ww: -s**2 / 2 * ww),
    "factor 2 (1/2 dropped)": _noise_mutant(lambda n, s, ww: s**2 * ww),
    "sigma for sigma^2": _noise_mutant(lambda n, s, ww: s / 2 * ww),
    "extra 1/n on noise term": _noise_mutant(lambda n, s, ww: s**2 / (2 * n) * ww),
})
def noise_l2_check(formula=None, seed: int = 301, replicates: int = 20_000) -> CheckResult:
    formula = formula or noise_l2
    n, d, sigma = 20, 4, 0.7  # sigma^2/2, sigma^2, sigma/2, sigma^2/(2n) all differ
    rng = np.random.default_rng(seed)
    X, y = _regression(rng, n, d)
    w = rng.standard_normal(d)
    X_noisy = X + sigma * rng.standard_normal((replicates, n, d))  # x~_i = x_i + eps_i
    losses = np.sum((y - X_noisy @ w) ** 2, axis=-1) / (2 * n)
    predicted = _apply(formula, X, y, w, sigma)
    if isinstance(predicted, str):
        predicted = np.nan
    mean, se, z = _z(losses, predicted)
    figures = {"estimate": float(mean), "se": float(se), "formula": float(predicted), "z": float(z)}
    return CheckResult("noise-l2", "expected loss", "Monte Carlo",
                       f"N={replicates} replicates, n={n}, d={d}, sigma={sigma}, seed={seed}",
                       f"|estimate - formula| <= {Z_TOL:g} SE",
                       f"estimate {mean:.5f} ± {se:.5f} (SE) vs formula {float(predicted):.5f}: {z:.2f} SE",
                       bool(z <= Z_TOL), figures)


# --- adam-bias (problem 3d) -----------------------------------------------------------

def adam_bias(t, beta):
    """Problem 3d: E[m_t] = (1 - beta^t) mu when E[g_i] = mu and m_0 = 0, so the
    corrected m^_t = m_t / (1 - beta^t) has E[m^_t] = mu.  `formula(t, beta)` is this
    factor: the check compares E[m_t] with formula * mu and E[m_t / formula] with mu."""
    return 1 - beta**t


ADAM_MUTANTS = {
    "exponent t-1": lambda t, beta: 1 - beta ** (t - 1),
    "no bias correction": lambda t, beta: np.ones_like(t, dtype=float),
    "1 - dropped": lambda t, beta: beta**t,
    "sign flipped": lambda t, beta: 1 + beta**t,
    "(1 - beta) factor dropped": lambda t, beta: (1 - beta**t) / (1 - beta),
}

# g_t = mu + s (Exp(1) - 1): skewed, mean mu, E[g^2] = mu^2 + s^2 (not Gaussian on purpose)
ADAM_MU, ADAM_S, ADAM_STEPS = 0.5, 1.0, 50


def _adam_moment(check: str, moment: int, beta: float, formula, seed: int, runs: int) -> CheckResult:
    rng = np.random.default_rng(seed)
    g = ADAM_MU + ADAM_S * (rng.standard_exponential((ADAM_STEPS, runs)) - 1)
    target = ADAM_MU if moment == 1 else ADAM_MU**2 + ADAM_S**2  # E[g] or E[g^2]
    m = _ema(g**moment, beta)  # (steps, runs): m_t or v_t of every run
    t = np.arange(1, ADAM_STEPS + 1)
    factor = _apply(formula, t, beta)
    factor = np.full(t.shape, np.nan) if isinstance(factor, str) else np.broadcast_to(factor, t.shape)
    mean, se, z_raw = _z(m, factor * target)
    with np.errstate(all="ignore"):
        _, _, z_hat = _z(m / factor[:, None], target)
    name, hat = ("m", "m^") if moment == 1 else ("v", "v^")
    worst_raw, worst_hat = int(np.argmax(z_raw)), int(np.argmax(z_hat))
    observed = (f"mean {name}_t: max {z_raw[worst_raw]:.2f} SE at t={worst_raw + 1}; "
                f"mean {hat}_t: max {z_hat[worst_hat]:.2f} SE at t={worst_hat + 1}")
    figures = {"max_z": float(z_raw.max()), "worst_t": worst_raw + 1,
               "max_z_corrected": float(z_hat.max()), "worst_t_corrected": worst_hat + 1,
               "mean": mean.tolist(), "se": se.tolist(), "target": target}
    passed = bool(max(z_raw.max(), z_hat.max()) <= Z_TOL)
    return CheckResult("adam-bias", check, "simulation",
                       f"beta={beta:g}, {runs} runs x {ADAM_STEPS} steps, "
                       f"g = {ADAM_MU:g} + Exp(1) - 1, seed={seed}",
                       f"every t <= {ADAM_STEPS}: within {Z_TOL:g} SE", observed, passed, figures)


def _ema(x: np.ndarray, beta: float) -> np.ndarray:
    """m_t = beta m_{t-1} + (1 - beta) x_t from m_0 = 0, along axis 0 (all runs at once)."""
    out = np.empty_like(x)
    m = np.zeros(x.shape[1:])
    for t, x_t in enumerate(x):
        m = beta * m + (1 - beta) * x_t
        out[t] = m
    return out


@crosscheck("adam-bias", "first moment m_t", mutants=ADAM_MUTANTS)
def adam_first_moment_check(formula=None, seed: int = 401, runs: int = 20_000) -> CheckResult:
    formula = formula or adam_bias
    return _adam_moment("first moment m_t", 1, 0.9, formula, seed, runs)


@crosscheck("adam-bias", "second moment v_t", mutants=ADAM_MUTANTS)
def adam_second_moment_check(formula=None, seed: int = 402, runs: int = 20_000) -> CheckResult:
    formula = formula or adam_bias
    return _adam_moment("second moment v_t", 2, 0.999, formula, seed, runs)


# --- softmax-jacobian (problem 4b) ------------------------------------------------------

def softmax_jacobian(yhat):
    """Problem 4b: d yhat_i / d u_j = yhat_i (delta_ij - yhat_j), i.e. diag(yhat) - yhat yhat^T."""
    return np.diag(yhat) - np.outer(yhat, yhat)


@crosscheck("softmax-jacobian", "Jacobian", mutants={
    "sign flipped": lambda yhat: np.outer(yhat, yhat) - np.diag(yhat),
    "outer term dropped": lambda yhat: np.diag(yhat),
    "factor 2 on outer term": lambda yhat: np.diag(yhat) - 2 * np.outer(yhat, yhat),
    "index swapped: yhat_i (delta_ij - yhat_i)":
        lambda yhat: np.diag(yhat) - np.outer(yhat**2, np.ones_like(yhat)),
})
def softmax_jacobian_check(formula=None, seed: int = 501) -> CheckResult:
    formula = formula or softmax_jacobian
    rng = np.random.default_rng(seed)
    points = [scale * rng.standard_normal(d) for d, scale in ((5, 1.0), (3, 3.0), (8, 0.3))]
    c = _against((jacobian(_softmax, u), _apply(formula, _softmax(u))) for u in points)
    return _fd_result("softmax-jacobian", "Jacobian", c, f"3 points, d = 5, 3, 8, seed={seed}")


# --- softmax-ce-grad (problem 4b) -------------------------------------------------------

def ce_logit_gradient(yhat, y):
    """Problem 4b: for L = -y^T log softmax(u), one-hot y: dL/du = yhat - y."""
    return yhat - y


@crosscheck("softmax-ce-grad", "dL/du", mutants={
    "sign flipped": lambda yhat, y: y - yhat,
    "y dropped": lambda yhat, y: yhat,
    "factor 2": lambda yhat, y: 2 * (yhat - y),
})
def ce_logit_gradient_check(formula=None, seed: int = 601) -> CheckResult:
    formula = formula or ce_logit_gradient
    rng = np.random.default_rng(seed)
    points = [(rng.standard_normal(d), _one_hot(rng, d)) for d in (5, 3, 8)]
    c = _against((gradient(lambda v: -y @ _log_softmax(v), u), _apply(formula, _softmax(u), y))
                 for u, y in points)
    return _fd_result("softmax-ce-grad", "dL/du", c, f"3 points, d = 5, 3, 8, seed={seed}")


@dataclass(frozen=True)
class Net:
    """Problem 4b's network at one point: h = W^T x, u = W'^T h, yhat = softmax(u),
    L = -y^T log yhat; x, u, y in R^d, h in R^H, W is d x H, W' (Wp) is H x d."""

    x: np.ndarray
    W: np.ndarray
    Wp: np.ndarray
    y: np.ndarray

    @property
    def h(self) -> np.ndarray:
        return self.W.T @ self.x

    @property
    def yhat(self) -> np.ndarray:
        return _softmax(self.Wp.T @ self.h)

    def loss(self, W=None, Wp=None) -> float:
        W = self.W if W is None else W
        Wp = self.Wp if Wp is None else Wp
        return -self.y @ _log_softmax(Wp.T @ (W.T @ self.x))


# (d, H) per point; the square one lets a transpose error show in values, not only shapes
NET_SHAPES = ((4, 3), (3, 5), (4, 4))


def _nets(seed: int) -> list[Net]:
    rng = np.random.default_rng(seed)
    return [Net(rng.standard_normal(d), rng.standard_normal((d, H)), rng.standard_normal((H, d)),
                _one_hot(rng, d)) for d, H in NET_SHAPES]


def _net_sample(seed: int) -> str:
    return "points (d, H) = " + ", ".join(f"({d}, {H})" for d, H in NET_SHAPES) + f", seed={seed}"


def ce_output_weight_gradient(net: Net):
    """Problem 4b: dL/dW' = h (yhat - y)^T, shape H x d."""
    return np.outer(net.h, net.yhat - net.y)


@crosscheck("softmax-ce-grad", "dL/dW'", mutants={
    "transpose swapped: (yhat - y) h^T": lambda net: np.outer(net.yhat - net.y, net.h),
    "sign flipped": lambda net: np.outer(net.h, net.y - net.yhat),
    "x for h": lambda net: np.outer(net.x, net.yhat - net.y),
    "factor 2": lambda net: 2 * np.outer(net.h, net.yhat - net.y),
})
def ce_output_weight_check(formula=None, seed: int = 602) -> CheckResult:
    formula = formula or ce_output_weight_gradient
    nets = _nets(seed)
    c = _against((gradient(lambda Wp: net.loss(Wp=Wp), net.Wp), _apply(formula, net)) for net in nets)
    return _fd_result("softmax-ce-grad", "dL/dW'", c, _net_sample(seed))


def ce_input_weight_gradient(net: Net):
    """Problem 4b: dL/dW = x (yhat - y)^T W'^T, shape d x H."""
    return np.outer(net.x, net.yhat - net.y) @ net.Wp.T


@crosscheck("softmax-ce-grad", "dL/dW", mutants={
    "transpose swapped: W' for W'^T": lambda net: np.outer(net.x, net.yhat - net.y) @ net.Wp,
    "sign flipped": lambda net: np.outer(net.x, net.y - net.yhat) @ net.Wp.T,
    "W' factor dropped": lambda net: np.outer(net.x, net.yhat - net.y),
    "factor 2": lambda net: 2 * np.outer(net.x, net.yhat - net.y) @ net.Wp.T,
})
def ce_input_weight_check(formula=None, seed: int = 603) -> CheckResult:
    formula = formula or ce_input_weight_gradient
    nets = _nets(seed)
    c = _against((gradient(lambda W: net.loss(W=W), net.W), _apply(formula, net)) for net in nets)
    return _fd_result("softmax-ce-grad", "dL/dW", c, _net_sample(seed))
