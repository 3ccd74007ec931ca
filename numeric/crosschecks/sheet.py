"""Numeric witnesses for the rest of the answer sheet (problems 1c, 2a-2c, 3a, 3c, 4a).

Each check writes the stated formula in numpy and compares it with something computed
without it: operation counts of an instrumented solver, finite differences, brute-force
minimisation on a grid, quadrature, simulation.  The formula is the `formula` argument,
so every planted error (`mutants`) runs through the same code and must fail.

Statistical checks allow Z_TOL = 5 standard errors (two-sided P = 5.7e-7 per
comparison).  Every check is seeded and runs in well under a second.
"""
from __future__ import annotations

import numpy as np

from numeric.crosscheck import CheckResult, crosscheck
from numeric.finite_diff import GRADCHECK, STEP, compare, gradient, jacobian

Z_TOL = 5.0
FD = "central finite differences"


def _values(formula, *args):
    """The formula's value as float64 (NaN where it is not finite or raises)."""
    try:
        with np.errstate(all="ignore"):
            return np.asarray(formula(*args), dtype=np.float64)
    except (ValueError, ZeroDivisionError, FloatingPointError):
        return np.full(np.broadcast(*[np.asarray(a) for a in args]).shape, np.nan)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# --- complexity (problem 1c): operation counts of instrumented solvers ----------------

class Ops:
    """Counts scalar multiplications: every product goes through `mul`, which counts
    the entries of the array it produces."""

    def __init__(self):
        self.count = 0

    def mul(self, a, b):
        out = np.multiply(a, b)
        self.count += out.size
        return out

    def matvec(self, A, v):
        return self.mul(A, v[None, :]).sum(axis=1)


def gram(X, ops: Ops):
    """X^T X as the sum over rows of the outer products x_i x_i^T."""
    return ops.mul(X[:, :, None], X[:, None, :]).sum(axis=0)


def gauss_jordan_inverse(A, ops: Ops):
    d = len(A)
    aug = np.hstack([A, np.eye(d)])
    for k in range(d):
        p = k + int(np.argmax(np.abs(aug[k:, k])))
        aug[[k, p]] = aug[[p, k]]
        aug[k] = ops.mul(aug[k], 1 / aug[k, k])
        others = np.arange(d) != k
        aug[others] -= ops.mul(aug[others, k:k + 1], aug[k][None, :])
    return aug[:, d:]


def closed_form_counted(X, y):
    """(X^T X)^{-1} X^T y the way the sheet describes it, counting multiplications."""
    ops = Ops()
    G_inv = gauss_jordan_inverse(gram(X, ops), ops)
    return ops.matvec(G_inv, ops.matvec(X.T, y)), ops.count


def gradient_descent_counted(X, y, m: int, rate: float = 0.1):
    ops = Ops()
    w = np.zeros(X.shape[1])
    for _ in range(m):
        r = ops.matvec(X, w) - y
        w = w - ops.mul(rate / len(y), ops.matvec(X.T, r))
    return w, ops.count


def closed_form_cost(n, d):
    """Problem 1c: nd^2 (X^T X) + d^3 (inverse) + nd (X^T y) + d^2 (inverse times X^T y)."""
    return n * d**2 + d**3 + n * d + d**2


def gd_cost(n, d, m):
    """Problem 1c: m updates of O(nd) each: O(mnd)."""
    return m * n * d


SPREAD_TOL = 4.0  # max/min of counted/formula over the grid; the Theta constants give <= 2 and <= 1.5
CLOSED_GRID = tuple((n_over_d * d, d) for d in (2, 4, 8, 16, 32) for n_over_d in (1, 8, 64))
GD_GRID = tuple((n, d, m) for n in (16, 256) for d in (2, 8, 32) for m in (1, 4, 16))


def _spread_result(check, ratios, points, solved_ok, sample) -> CheckResult:
    ratios = np.asarray(ratios, dtype=np.float64)
    finite = ratios[np.isfinite(ratios) & (ratios > 0)]
    spread = finite.max() / finite.min() if len(finite) == len(ratios) else np.inf
    lo, hi = int(np.argmin(ratios)), int(np.argmax(ratios))
    observed = (f"counted/formula from {ratios[lo]:.3g} at {points[lo]} to {ratios[hi]:.3g} at {points[hi]}: "
                f"spread {spread:.3g}" + ("" if solved_ok else "; instrumented solver disagrees with lstsq"))
    return CheckResult("complexity", check, "operation count of an instrumented solver", sample,
                       f"spread <= {SPREAD_TOL:g} (same order)", observed,
                       bool(spread <= SPREAD_TOL and solved_ok),
                       {"points": [list(p) for p in points], "ratios": ratios.tolist(), "spread": float(spread)})


@crosscheck("complexity", "closed-form operation count", mutants={
    "X^T X costed as n^2 d (transpose swapped)": lambda n, d: n**2 * d + d**3 + n * d + d**2,
    "inverse only, O(d^3)": lambda n, d: d**3,
    "one pass over the data, O(nd)": lambda n, d: n * d,
})
def closed_form_count_check(formula=None, seed: int = 111) -> CheckResult:
    formula = formula or closed_form_cost
    rng = np.random.default_rng(seed)
    ratios, solved_ok = [], True
    for n, d in CLOSED_GRID:
        X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
        w, count = closed_form_counted(X, y)
        solved_ok &= bool(np.allclose(w, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-6, atol=1e-8))
        ratios.append(count / float(_values(formula, n, d)))
    return _spread_result("closed-form operation count", ratios, CLOSED_GRID, solved_ok,
                          f"{len(CLOSED_GRID)} shapes, d = 2..32, n/d = 1..64, seed={seed}")


@crosscheck("complexity", "gradient-descent operation count", mutants={
    "m dropped, O(nd)": lambda n, d, m: n * d,
    "d dropped, O(mn)": lambda n, d, m: m * n,
    "O(mnd^2)": lambda n, d, m: m * n * d**2,
})
def gd_count_check(formula=None, seed: int = 112) -> CheckResult:
    formula = formula or gd_cost
    rng = np.random.default_rng(seed)
    ratios = []
    for n, d, m in GD_GRID:
        X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
        _, count = gradient_descent_counted(X, y, m)
        ratios.append(count / float(_values(formula, n, d, m)))
    return _spread_result("gradient-descent operation count", ratios, GD_GRID, True,
                          f"{len(GD_GRID)} shapes, n = 16, 256, d = 2..32, m = 1..16, seed={seed}")


# --- sigmoid-gradient (problem 2a) ------------------------------------------------------

Z_GRID = np.concatenate([np.linspace(-12, 12, 49), [0.3, -2.7]])


def sigmoid_derivative(s):
    """Problem 2a: sigma'(z) = sigma(z)(1 - sigma(z)), written in s = sigma(z)."""
    return s * (1 - s)


@crosscheck("sigmoid-gradient", "sigma'", mutants={
    "sign flipped: sigma(1 + sigma)": lambda s: s * (1 + s),
    "1 - sigma^2 (tanh's rule)": lambda s: 1 - s**2,
    "factor 2": lambda s: 2 * s * (1 - s),
})
def sigmoid_derivative_check(formula=None) -> CheckResult:
    formula = formula or sigmoid_derivative
    fd = np.array([jacobian(lambda v: sigmoid(v), np.array([z]))[0, 0] for z in Z_GRID])
    c = compare(fd, _values(formula, sigmoid(Z_GRID)))
    return CheckResult("sigmoid-gradient", "sigma'", FD, f"h={STEP:g}, {len(Z_GRID)} points in [-12, 12]",
                       str(GRADCHECK), f"{c}; max of FD values {fd.max():.6f} at z={Z_GRID[np.argmax(fd)]:g}",
                       c.passed, c.figures())


def relu_derivative(z):
    """Problem 2a: ReLU'(z) = 1 for z > 0 and 0 for z < 0."""
    return (z > 0).astype(float)


@crosscheck("sigmoid-gradient", "ReLU'", mutants={
    "sign(z)": np.sign,
    "1 everywhere (ReLU as identity)": lambda z: np.ones_like(z),
})
def relu_derivative_check(formula=None) -> CheckResult:
    formula = formula or relu_derivative
    z = Z_GRID[np.abs(Z_GRID) > 1e-3]  # away from the kink
    fd = np.array([jacobian(lambda v: np.maximum(v, 0), np.array([t]))[0, 0] for t in z])
    c = compare(fd, _values(formula, z))
    return CheckResult("sigmoid-gradient", "ReLU'", FD, f"h={STEP:g}, {len(z)} points, |z| > 1e-3",
                       str(GRADCHECK), str(c), c.passed, c.figures())


def chain_bound(weight_norms):
    """Problem 2a: |d a_L / d a_0| <= (1/4)^L prod_l ||W_l|| for L sigmoid layers."""
    w = np.asarray(weight_norms, dtype=float)
    return 0.25 ** len(w) * np.prod(w)


def _sigmoid_net_jacobian(Ws, bs, a0):
    def net(a):
        for W, b in zip(Ws, bs):
            a = sigmoid(W @ a + b)
        return a
    return jacobian(net, a0)


@crosscheck("sigmoid-gradient", "(1/4)^L chain bound", mutants={
    "(1/2)^L (valid but not the sheet's, never attained)": lambda w: 0.5 ** len(w) * np.prod(w),
    "(1/4)^(L+1)": lambda w: 0.25 ** (len(w) + 1) * np.prod(w),
    "weight norms dropped": lambda w: 0.25 ** len(w),
})
def chain_bound_check(formula=None, seed: int = 211, nets: int = 60) -> CheckResult:
    """Valid: ||J||_2 <= bound on random vector nets (J by finite differences).
    Attained: on a scalar chain with every pre-activation 0, |J| = bound."""
    formula = formula or chain_bound
    rng = np.random.default_rng(seed)
    worst = 0.0
    for k in range(nets):
        depth, width = 1 + k % 6, 1 + k % 4
        Ws = [rng.normal(0, 2.0, (width, width)) for _ in range(depth)]
        bs = [rng.normal(0, 1.0, width) for _ in range(depth)]
        J = _sigmoid_net_jacobian(Ws, bs, rng.normal(0, 1, width))
        bound = float(_values(formula, [np.linalg.norm(W, 2) for W in Ws]))
        worst = max(worst, np.linalg.norm(J, 2) / bound)
    ws = rng.normal(0, 3.0, 5)
    Ws = [np.array([[w]]) for w in ws]
    a, bs = np.array([0.7]), []
    for W in Ws:  # b_l = -w_l a_{l-1}: every pre-activation is 0, where sigma' = 1/4
        bs.append(-(W @ a))
        a = sigmoid(W @ a + bs[-1])
    J = _sigmoid_net_jacobian(Ws, bs, np.array([0.7]))
    attained = abs(J[0, 0]) / float(_values(formula, np.abs(ws)))
    passed = bool(worst <= 1 + 1e-6 and abs(attained - 1) <= 1e-5)
    return CheckResult("sigmoid-gradient", "(1/4)^L chain bound", FD,
                       f"{nets} random nets, depth 1..6, width 1..4, seed={seed}; one 5-layer chain at z=0",
                       "max ||J||/bound <= 1 + 1e-6; |J|/bound = 1 +- 1e-5 at z = 0",
                       f"max ||J||/bound {worst:.4g}; attained ratio {attained:.8f}", passed,
                       {"max_ratio": worst, "attained_ratio": attained})


# --- xavier-variance (problem 2b) -------------------------------------------------------

def uniform_variance(a):
    """Problem 2b: Var U[-a, a] = a^2/3."""
    return a**2 / 3


def _z_score(samples, predicted):
    mean = samples.mean()
    se = samples.std(ddof=1) / np.sqrt(samples.size)
    with np.errstate(all="ignore"):
        z = abs(mean - predicted) / se
    return float(mean), float(se), float(z) if np.isfinite(z) else np.inf


@crosscheck("xavier-variance", "Var U[-a, a]", mutants={
    "a^2/12 (the U[0, a] formula)": lambda a: a**2 / 12,
    "a^2/2": lambda a: a**2 / 2,
    "a/3 (exponent)": lambda a: a / 3,
})
def uniform_variance_check(formula=None, seed: int = 221, samples: int = 100_000) -> CheckResult:
    formula = formula or uniform_variance
    rng = np.random.default_rng(seed)
    n, m = 256, 128
    halves = {"Glorot sqrt(6)/sqrt(n+m)": np.sqrt(6 / (n + m)), "standard 1/sqrt(n)": 1 / np.sqrt(n), "a=1.5": 1.5}
    rows, zs = [], []
    for name, a in halves.items():
        w = rng.uniform(-a, a, samples)
        mean, se, z = _z_score((w - w.mean()) ** 2 * samples / (samples - 1), float(_values(formula, a)))
        rows.append(f"{name}: {mean:.4g} ± {se:.2g} vs {float(_values(formula, a)):.4g} ({z:.1f} SE)")
        zs.append(z)
    return CheckResult("xavier-variance", "Var U[-a, a]", "Monte Carlo",
                       f"N={samples} per a, n={n}, m={m}, seed={seed}", f"within {Z_TOL:g} SE",
                       "; ".join(rows), bool(max(zs) <= Z_TOL), {"z": zs})


def he_variance(n):
    """Problem 2b: He init Var W = 2/n keeps E[z^2] through ReLU layers."""
    return 2 / n


@crosscheck("xavier-variance", "He through ReLU layers", mutants={
    "1/n (Glorot with n = m)": lambda n: 1 / n,
    "sqrt(2/n) read as the variance (the sheet writes N(0, sqrt(2/n)))": lambda n: np.sqrt(2 / n),
    "1/(3n) (standard uniform)": lambda n: 1 / (3 * n),
})
def he_check(formula=None, seed: int = 222, nets: int = 300, width: int = 32, depth: int = 8) -> CheckResult:
    """E over weights of q_L / q_0 is 1 exactly for Var W = 2/n (q = mean z^2)."""
    formula = formula or he_variance
    rng = np.random.default_rng(seed)
    var = float(_values(formula, width))
    ratios = np.empty(nets)
    for k in range(nets):
        z = rng.standard_normal((width, 16))
        q0 = np.mean(z**2)
        for _ in range(depth):
            z = rng.normal(0, np.sqrt(var) if var > 0 else np.nan, (width, width)) @ np.maximum(z, 0)
        ratios[k] = np.mean(z**2) / q0
    mean, se, z_score = _z_score(ratios, 1.0)
    return CheckResult("xavier-variance", "He through ReLU layers", "simulation",
                       f"{nets} nets, width {width}, depth {depth}, 16 inputs, seed={seed}",
                       f"mean q_L/q_0 within {Z_TOL:g} SE of 1",
                       f"mean q_L/q_0 = {mean:.4g} ± {se:.2g} ({z_score:.1f} SE)", bool(z_score <= Z_TOL),
                       {"mean_ratio": mean, "se": se})


# --- sigmoid-saturation (problem 2c) ----------------------------------------------------

def saturation_bound(s):
    """Problem 2c: E[sigma'(z)] <= 1/(sqrt(2 pi) s) for z ~ N(0, s^2)."""
    return 1 / (np.sqrt(2 * np.pi) * s)


SCALES = np.array([0.1, 0.5, 1, 2, 5, 10, 100, 1000.0])


def mean_sigmoid_slope(s):
    """E[sigma'(z)], z ~ N(0, s^2), by the trapezoid rule in u (sigma' is negligible
    beyond |u| = 60; the Gaussian is resolved for small s by a grid in units of s)."""
    half = min(60.0, 12 * s)
    u = np.linspace(-half, half, 120_001)
    f = sigmoid(u) * (1 - sigmoid(u)) * np.exp(-u**2 / (2 * s**2)) / (s * np.sqrt(2 * np.pi))
    return float(np.sum((f[1:] + f[:-1]) / 2) * (u[1] - u[0]))


@crosscheck("sigmoid-saturation", "mean sigma' bound", mutants={
    "2 pi without the square root": lambda s: 1 / (2 * np.pi * s),
    "1/(4s) (integral of sigma' taken as 1/4)": lambda s: 1 / (4 * np.sqrt(2 * np.pi) * s),
    "no decay with s": lambda s: np.full_like(s, 1 / np.sqrt(2 * np.pi)),
})
def saturation_check(formula=None) -> CheckResult:
    """Valid at every s, and tight: E[sigma'] / bound -> 1 as s grows."""
    formula = formula or saturation_bound
    means = np.array([mean_sigmoid_slope(s) for s in SCALES])
    ratio = means / _values(formula, SCALES)
    passed = bool(np.all(ratio <= 1 + 1e-9) and ratio[-1] >= 0.999)
    return CheckResult("sigmoid-saturation", "mean sigma' bound", "quadrature (trapezoid, 120001 points)",
                       "s = " + ", ".join(f"{s:g}" for s in SCALES),
                       "E/bound <= 1 at every s and >= 0.999 at s = 1000",
                       "E/bound = " + ", ".join(f"{r:.4g}" for r in ratio), passed,
                       {"scales": SCALES.tolist(), "mean": means.tolist(), "ratio": ratio.tolist()})


# --- l1-sparsity (problem 3a) -----------------------------------------------------------

GRID_STEP = 2e-4
W_GRID = np.round(np.arange(-20000, 20001) * GRID_STEP, 10)  # [-4, 4], contains 0.0 exactly
A_VALUES = np.concatenate([np.linspace(-3, 3, 61), [0.5, -0.5, 1.0, -1.0]])
LAMBDAS = (0.5, 1.0)


def soft_threshold(a, lam):
    """Problem 3a: argmin_w (w - a)^2/2 + lam |w| = sign(a) max(|a| - lam, 0)."""
    return np.sign(a) * np.maximum(np.abs(a) - lam, 0)


def ridge_shrink(a, lam):
    """Problem 3a (L2): argmin_w (w - a)^2/2 + lam w^2/2 = a/(1 + lam)."""
    return a / (1 + lam)


def _grid_argmin(penalty, a, lam):
    objective = (W_GRID[None, :] - a[:, None]) ** 2 / 2 + penalty(W_GRID, lam)[None, :]
    return W_GRID[np.argmin(objective, axis=1)]


def _minimiser_check(check, penalty, formula, exact_zero: bool) -> CheckResult:
    errs, zero_ok = [], True
    for lam in LAMBDAS:
        best = _grid_argmin(penalty, A_VALUES, lam)
        value = _values(formula, A_VALUES, lam)
        errs.append(np.abs(best - value))
        inside = np.abs(A_VALUES) <= lam
        if exact_zero:  # exact zeros where |a| <= lam, in the grid and in the formula
            zero_ok &= bool(np.all(best[inside] == 0) and np.all(value[inside] == 0))
        else:  # never zero for a != 0
            zero_ok &= bool(np.all(value[A_VALUES != 0] != 0) and np.all(best[np.abs(A_VALUES) > 1e-3] != 0))
    err = np.concatenate(errs)
    err = np.where(np.isfinite(err), err, np.inf)
    k = int(np.argmax(err))
    tol = GRID_STEP + 1e-12
    what = "exact zeros for |a| <= lambda" if exact_zero else "nonzero for a != 0"
    return CheckResult("l1-sparsity", check, "brute-force minimisation on a grid",
                       f"w grid [-4, 4] step {GRID_STEP:g} (0 included), {len(A_VALUES)} values of a, lambda = 0.5, 1",
                       f"|grid argmin - formula| <= grid step; {what}",
                       f"max |difference| {err.max():.3g} (a={A_VALUES[k % len(A_VALUES)]:g}, "
                       f"lambda={LAMBDAS[k // len(A_VALUES)]:g}); {what}: {'yes' if zero_ok else 'NO'}",
                       bool(err.max() <= tol and zero_ok), {"max_err": float(err.max())})


@crosscheck("l1-sparsity", "L1 minimiser", mutants={
    "a - lambda (solve's single root)": lambda a, lam: a - lam,
    "threshold 2 lambda": lambda a, lam: np.sign(a) * np.maximum(np.abs(a) - 2 * lam, 0),
    "hard threshold a 1[|a| > lambda]": lambda a, lam: a * (np.abs(a) > lam),
    "ridge a/(1 + lambda)": ridge_shrink,
})
def l1_minimiser_check(formula=None) -> CheckResult:
    return _minimiser_check("L1 minimiser", lambda w, lam: lam * np.abs(w), formula or soft_threshold, True)


@crosscheck("l1-sparsity", "L2 minimiser", mutants={
    "a/(1 + 2 lambda) (penalty lambda w^2)": lambda a, lam: a / (1 + 2 * lam),
    "a/(1 - lambda) (sign)": lambda a, lam: a / (1 - lam),
    "soft threshold (the L1 answer)": soft_threshold,
})
def l2_minimiser_check(formula=None) -> CheckResult:
    return _minimiser_check("L2 minimiser", lambda w, lam: lam * w**2 / 2, formula or ridge_shrink, False)


# --- batchnorm-batch-size (problem 3c) --------------------------------------------------

def batch_mean_std(sigma, B):
    """Problem 3c: the batch mean of B iid values with std sigma has std sigma/sqrt(B)."""
    return sigma / np.sqrt(B)


BATCHES = (1, 2, 4, 8, 32, 128)


@crosscheck("batchnorm-batch-size", "std of the batch mean", mutants={
    "sigma/B": lambda sigma, B: sigma / B,
    "sigma^2/B (the variance)": lambda sigma, B: sigma**2 / B,
    "sigma (no shrinking)": lambda sigma, B: sigma + 0 * B,
})
def batch_mean_check(formula=None, seed: int = 331, batches: int = 20_000) -> CheckResult:
    """Skewed data on purpose (exponential, std sigma = 2): the result is distribution-free."""
    formula = formula or batch_mean_std
    rng = np.random.default_rng(seed)
    sigma, rows, zs = 2.0, [], []
    for B in BATCHES:
        means = rng.exponential(sigma, (batches, B)).mean(axis=1)
        dev2 = (means - means.mean()) ** 2
        var, var_se = dev2.mean(), dev2.std(ddof=1) / np.sqrt(batches)
        std, std_se = np.sqrt(var), var_se / (2 * np.sqrt(var))  # delta method
        predicted = float(_values(formula, sigma, B))
        z = abs(std - predicted) / std_se
        zs.append(z if np.isfinite(z) else np.inf)
        rows.append(f"B={B}: {std:.4f} ± {std_se:.4f} vs {predicted:.4f}")
    return CheckResult("batchnorm-batch-size", "std of the batch mean", "simulation",
                       f"{batches} batches per B, x ~ Exp(std {sigma:g}), seed={seed}",
                       f"within {Z_TOL:g} SE at every B", "; ".join(rows) + f"; max {max(zs):.2f} SE",
                       bool(max(zs) <= Z_TOL), {"z": zs})


# --- zero-init (problem 4a) -------------------------------------------------------------

def shapes(n: int) -> dict:
    """Parameter shapes of the 4-3-1 network with n inputs, in flattening order."""
    return {"W1": (4, n), "b1": (4,), "W2": (3, 4), "b2": (3,), "W3": (1, 3), "b3": (1,)}


def _unflatten(theta, n):
    out, k = {}, 0
    for name, shape in shapes(n).items():
        size = int(np.prod(shape))
        out[name] = theta[k:k + size].reshape(shape)
        k += size
    return out


def _flatten(params, n):
    return np.concatenate([np.asarray(params[name], dtype=float).reshape(-1) for name in shapes(n)])


def bce_loss(theta, x, y):
    p = _unflatten(theta, len(x))
    a1 = sigmoid(p["W1"] @ x + p["b1"])
    a2 = sigmoid(p["W2"] @ a1 + p["b2"])
    z3 = (p["W3"] @ a2 + p["b3"])[0]
    return np.logaddexp(0, -z3) * y + np.logaddexp(0, z3) * (1 - y)  # -(y log a3 + (1-y) log(1-a3))


def zero_init_step(n, y, alpha):
    """Problem 4a: from all-zero weights one SGD step gives W3 = alpha (y - 1/2)/2 [1, 1, 1],
    b3 = alpha (y - 1/2), and leaves W1, b1, W2, b2 at 0 (for every input x)."""
    g = y - 0.5
    return {"W1": np.zeros((4, n)), "b1": np.zeros(4), "W2": np.zeros((3, 4)), "b2": np.zeros(3),
            "W3": np.full((1, 3), alpha * g / 2), "b3": np.array([alpha * g])}


def _zero_mutant(**changes):
    def formula(n, y, alpha):
        p = zero_init_step(n, y, alpha)
        p.update({k: f(n, y, alpha) for k, f in changes.items()})
        return p
    return formula


ZERO_CASES = ((5, 1.0, 0.1), (3, 0.0, 0.5), (2, 0.3, 1.0))  # (n, y, alpha); y = 0.3 a soft label


@crosscheck("zero-init", "one SGD step from zero", mutants={
    "b3 step halved": _zero_mutant(b3=lambda n, y, a: np.array([a * (y - 0.5) / 2])),
    "sign flipped (W3 = alpha (1/2 - y)/2)": _zero_mutant(W3=lambda n, y, a: np.full((1, 3), a * (0.5 - y) / 2)),
    "hidden layer moves (W3 = 0 forgotten)": _zero_mutant(W2=lambda n, y, a: np.full((3, 4), a * (y - 0.5) / 8)),
})
def zero_init_check(formula=None, seed: int = 441) -> CheckResult:
    """theta_1 = 0 - alpha * (finite-difference gradient at 0), against the formula;
    the gradient does not depend on x, so x is random."""
    formula = formula or zero_init_step
    rng = np.random.default_rng(seed)
    refs, vals = [], []
    for n, y, alpha in ZERO_CASES:
        x = rng.standard_normal(n)
        theta0 = np.zeros(sum(int(np.prod(s)) for s in shapes(n).values()))
        refs.append(theta0 - alpha * gradient(lambda t: bce_loss(t, x, y), theta0))
        vals.append(_flatten(formula(n, y, alpha), n))
    c = compare(np.concatenate(refs), np.concatenate(vals))
    return CheckResult("zero-init", "one SGD step from zero", FD,
                       f"h={STEP:g}, (n, y, alpha) = {ZERO_CASES}, random x, seed={seed}", str(GRADCHECK),
                       str(c), c.passed, c.figures())
