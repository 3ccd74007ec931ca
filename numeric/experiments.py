"""Numeric experiments behind the answer sheet's qualitative claims (issue 4).

Each experiment is a function of its sizes and seed that returns plain data (dicts of
floats and lists) and has a `summarize(data) -> str` beside it; `EXPERIMENTS` is the
table of both, `QUICK` the reduced sizes tests use.  Timings are wall-clock minima
over repeats, by default in a child process with BLAS pinned to one thread: on a
shared 2-core machine a multithreaded BLAS waits for busy cores, and tiny products
then take milliseconds, which bends the fitted slopes.  `blas_threads=None` times
in this process with BLAS as installed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np


def sigmoid(z):
    return 0.5 * (1 + np.tanh(np.asarray(z) / 2))  # = 1/(1 + e^{-z}), without overflow


def _best_time(f: Callable[[], object], repeats: int) -> float:
    f()  # warm-up: first-touch page faults, BLAS thread start
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best


BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _pinned(function: Callable[..., dict], blas_threads: int | None, **kwargs) -> dict | None:
    """Run `function(**kwargs)` in a child process whose BLAS uses `blas_threads`
    threads; None when this process already is that process (or no pinning wanted)."""
    if blas_threads is None or os.environ.get(BLAS_ENV[0]) == str(blas_threads):
        return None
    env = {**os.environ, **{k: str(blas_threads) for k in BLAS_ENV}}
    code = ("import json, sys; from numeric import experiments as ex; "
            f"print(json.dumps(ex.{function.__name__}(**json.loads(sys.argv[1]))))")
    args = json.dumps({**kwargs, "blas_threads": blas_threads})
    done = subprocess.run([sys.executable, "-c", code, args], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def loglog_slope(x, t) -> tuple[float, float]:
    """Least-squares slope of log t against log x, and its standard error."""
    lx, lt = np.log(np.asarray(x, float)), np.log(np.asarray(t, float))
    A = np.vstack([lx, np.ones_like(lx)]).T
    coef, *_ = np.linalg.lstsq(A, lt, rcond=None)
    resid = lt - A @ coef
    dof = max(len(lx) - 2, 1)
    se = np.sqrt(resid @ resid / dof / np.sum((lx - lx.mean()) ** 2))
    return float(coef[0]), float(se)


# --- 1c: complexity timings -----------------------------------------------------------

def _closed_form(X, y):
    return np.linalg.solve(X.T @ X, X.T @ y)


def _gd_update(X, y, w, rate=0.1):
    return w - rate / len(y) * (X.T @ (X @ w - y))


TIMING_GRID = {  # series -> (what is timed, (n, d) along the series)
    # GD is memory-bound: its sizes stay above the 32 MB L3 cache, or the slope measures the cache
    "closed_vs_n": ("closed", [(n, 200) for n in (2000, 4000, 8000, 16000, 32000)]),
    "closed_vs_d": ("closed", [(8000, d) for d in (100, 200, 400, 800, 1600)]),
    "gd_vs_n": ("gd", [(n, 200) for n in (25000, 50000, 100000, 200000)]),
    "gd_vs_d": ("gd", [(25000, d) for d in (200, 400, 800, 1600)]),
    "solve_vs_d": ("solve", [(d, d) for d in (250, 500, 1000, 2000, 4000)]),
}
# Multiply-adds of what is timed, as numpy runs it: X^T X by a symmetric rank-k update
# (half of n d^2), the solve by LU (d^3/3), X^T y and the triangular solves.  Over a
# finite grid these are not pure powers, so the slope to compare with is fitted to them.
COUNTS = {
    "closed": lambda n, d: n * d**2 / 2 + d**3 / 3 + n * d + d**2,
    "gd": lambda n, d: 2 * n * d + n + d,
    "solve": lambda n, d: d**3 / 3 + d**2,
}


def _timed(what: str, n: int, d: int, repeats: int, rng) -> float:
    if what == "solve":
        A, b = rng.standard_normal((d, d)) + d * np.eye(d), np.ones(d)
        return _best_time(lambda: np.linalg.solve(A, b), repeats)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    if what == "closed":
        return _best_time(lambda: _closed_form(X, y), repeats)
    w = np.zeros(d)
    return _best_time(lambda: _gd_update(X, y, w), repeats)


def complexity_timing(grid=None, repeats=3, seed=0, blas_threads=1) -> dict:
    """Wall time of the closed form (X^T X, X^T y, solve), of one gradient-descent
    update and of the d x d solve alone along each series of `grid` (default
    TIMING_GRID), with the log-log slope of each series against its varying size."""
    grid = grid or TIMING_GRID
    child = _pinned(complexity_timing, blas_threads, grid=grid, repeats=repeats, seed=seed)
    if child is not None:
        return child
    rng = np.random.default_rng(seed)
    series = {}
    for key, (what, sizes) in grid.items():
        x = [size[0] if key.endswith("_vs_n") else size[1] for size in sizes]
        seconds = [_timed(what, n, d, repeats, rng) for n, d in sizes]
        counts = [COUNTS[what](n, d) for n, d in sizes]
        series[key] = {"what": what, "sizes": [list(s) for s in sizes], "x": x, "seconds": seconds,
                       "slope": loglog_slope(x, seconds), "count_slope": loglog_slope(x, counts)[0],
                       "gflops": [2 * c / t / 1e9 for c, t in zip(counts, seconds)]}
    return {"series": series, "repeats": repeats, "seed": seed, "blas_threads": blas_threads}


def summarize_complexity_timing(r: dict) -> str:
    threads = r["blas_threads"] or "as installed"
    lines = [f"timings (best of {r['repeats']}, BLAS threads {threads}, seed {r['seed']}); "
             "log-log slope ± SE of the time, and of the operation count, on the same sizes:"]
    for key, s in r["series"].items():
        (n0, d0), (n1, d1) = s["sizes"][0], s["sizes"][-1]
        lines.append(f"  {key:12s} slope {s['slope'][0]:5.2f} ± {s['slope'][1]:.2f} (count {s['count_slope']:.2f}); "
                     f"{s['seconds'][0]:.3g} s at (n, d) = ({n0}, {d0}) .. {s['seconds'][-1]:.3g} s at ({n1}, {d1}); "
                     f"{s['gflops'][0]:.3g} .. {s['gflops'][-1]:.3g} GFLOP/s")
    return "\n".join(lines)


def closed_form_at(d=5000, n=10000, repeats=1, seed=0, blas_threads=None) -> dict:
    """The sheet: past 5000 features the closed form is "practically impossible".
    Time it at d = 5000 (n = 2d so that X^T X is invertible), step by step, and one
    gradient-descent update on the same data.  Default: BLAS as installed (what a
    user of this machine gets)."""
    child = _pinned(closed_form_at, blas_threads, d=d, n=n, repeats=repeats, seed=seed)
    if child is not None:
        return child
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
    out = {"n": n, "d": d, "memory_MB": (X.nbytes + 8 * d * d) / 1e6}
    start = time.perf_counter()
    G = X.T @ X
    out["gram_s"] = time.perf_counter() - start
    b = X.T @ y
    out["solve_s"] = _best_time(lambda: np.linalg.solve(G, b), repeats)
    out["inverse_s"] = _best_time(lambda: np.linalg.inv(G) @ b, repeats)  # as the sheet writes it
    out["closed_total_s"] = out["gram_s"] + out["solve_s"]
    w = np.zeros(d)
    out["gd_update_s"] = _best_time(lambda: _gd_update(X, y, w), 3)
    out["break_even_updates"] = out["closed_total_s"] / out["gd_update_s"]
    out["seed"], out["blas_threads"] = seed, blas_threads
    return out


def summarize_closed_form_at(r: dict) -> str:
    return (f"closed form at n={r['n']}, d={r['d']} ({r['memory_MB']:.0f} MB, BLAS threads "
            f"{r['blas_threads'] or 'as installed'}, seed {r['seed']}): X^T X {r['gram_s']:.2f} s, "
            f"solve {r['solve_s']:.2f} s (explicit inverse {r['inverse_s']:.2f} s), total {r['closed_total_s']:.2f} s; "
            f"one GD update {1000 * r['gd_update_s']:.1f} ms, so GD is cheaper only below "
            f"{r['break_even_updates']:.0f} updates")


# --- 2a: gradient norms per layer, sigmoid against ReLU ---------------------------------

def _backprop_norms(depth, width, batch, act, dact, init_std, rng) -> list[float]:
    """||dL/dW_l||_F for every layer of a deep net, L = mean squared output."""
    a = rng.standard_normal((width, batch))
    Ws = [rng.normal(0, init_std, (width, width)) for _ in range(depth)]
    zs, acts = [], [a]
    for W in Ws:
        zs.append(W @ acts[-1])
        acts.append(act(zs[-1]))
    delta = acts[-1] / batch * dact(zs[-1])  # dL/dz_L for L = ||a_L||^2 / (2 batch)
    norms = []
    for layer in range(depth - 1, -1, -1):
        norms.append(float(np.linalg.norm(delta @ acts[layer].T)))
        if layer:
            delta = (Ws[layer].T @ delta) * dact(zs[layer - 1])
    return norms[::-1]


def gradient_norms(depth=20, width=128, batch=64, seed=0) -> dict:
    """Sigmoid with Glorot init (std 1/sqrt(width)) against ReLU with He init (std
    sqrt(2/width)): each with its recommended init, so the difference is the activation."""
    rng = np.random.default_rng(seed)
    sig = _backprop_norms(depth, width, batch, sigmoid, lambda z: sigmoid(z) * (1 - sigmoid(z)),
                          1 / np.sqrt(width), rng)
    relu = _backprop_norms(depth, width, batch, lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float),
                           np.sqrt(2 / width), rng)
    return {"depth": depth, "width": width, "batch": batch, "seed": seed, "sigmoid": sig, "relu": relu,
            "sigmoid_first_over_last": sig[0] / sig[-1], "relu_first_over_last": relu[0] / relu[-1]}


def summarize_gradient_norms(r: dict) -> str:
    return (f"||dL/dW_l|| over {r['depth']} layers (width {r['width']}, batch {r['batch']}, seed {r['seed']}): "
            f"sigmoid first/last layer {r['sigmoid_first_over_last']:.3g} "
            f"({r['sigmoid'][0]:.3g} vs {r['sigmoid'][-1]:.3g}); "
            f"ReLU first/last {r['relu_first_over_last']:.3g} ({r['relu'][0]:.3g} vs {r['relu'][-1]:.3g})")


# --- 2b: activation variance through 50 layers per init scheme --------------------------

SHORT = {"N(0, 1)": "N(0,1)", "standard U[-1/sqrt(n), 1/sqrt(n)]": "standard",
         "Glorot U[-sqrt(6/(n+m)), sqrt(6/(n+m))]": "Glorot", "He N(0, 2/n)": "He"}
INIT_SCHEMES = {  # name -> (sampler(rng, n_in, n_out), Var W)
    "N(0, 1)": (lambda rng, n, m: rng.standard_normal((m, n)), lambda n, m: 1.0),
    "standard U[-1/sqrt(n), 1/sqrt(n)]": (lambda rng, n, m: rng.uniform(-1, 1, (m, n)) / np.sqrt(n),
                                          lambda n, m: 1 / (3 * n)),
    "Glorot U[-sqrt(6/(n+m)), sqrt(6/(n+m))]": (lambda rng, n, m: rng.uniform(-1, 1, (m, n)) * np.sqrt(6 / (n + m)),
                                                lambda n, m: 2 / (n + m)),
    "He N(0, 2/n)": (lambda rng, n, m: rng.standard_normal((m, n)) * np.sqrt(2 / n), lambda n, m: 2 / n),
}
ACTIVATIONS = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0)}


def activation_variance(depth=50, width=256, batch=512, seed=0) -> dict:
    """Var of the pre-activations z^l at every layer, per activation and init scheme;
    for ReLU the model is Var z^{l+1} = n Var(W) Var(z^l) / 2 per layer."""
    out = {"depth": depth, "width": width, "batch": batch, "seed": seed, "variance": {}, "relu_model_factor": {}}
    for act_name, act in ACTIVATIONS.items():
        out["variance"][act_name] = {}
        for scheme, (sample, _) in INIT_SCHEMES.items():
            rng = np.random.default_rng(seed)
            h, variances = rng.standard_normal((width, batch)), []
            for _ in range(depth):
                z = sample(rng, width, width) @ h
                variances.append(float(z.var()))
                h = act(z)
            out["variance"][act_name][scheme] = variances
    for scheme, (_, var_w) in INIT_SCHEMES.items():
        out["relu_model_factor"][scheme] = width * var_w(width, width) / 2
    return out


def variance_table(r: dict, layers=(1, 10, 25, 50)) -> str:
    layers = sorted({l for l in layers if l <= r["depth"]} | {r["depth"]})
    head = f"{'activation':10s} {'init':42s} " + " ".join(f"{'layer ' + str(l):>11s}" for l in layers)
    rows = [head]
    for act, schemes in r["variance"].items():
        for scheme, v in schemes.items():
            rows.append(f"{act:10s} {scheme:42s} " + " ".join(f"{v[l - 1]:11.3g}" for l in layers))
    return "\n".join(rows)


def summarize_activation_variance(r: dict) -> str:
    factors = ", ".join(f"{SHORT[s]} {f:.3g}" for s, f in r["relu_model_factor"].items())
    return (f"Var z^l, width {r['width']}, batch {r['batch']}, seed {r['seed']}:\n{variance_table(r)}\n"
            f"ReLU model: variance multiplies per layer by n Var(W)/2 = {factors}")


# --- 2c: mean sigma' against the weight scale --------------------------------------------

def saturation(scales=(0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30), width=100, batch=2000, seed=0) -> dict:
    """z = W x with W_ij ~ N(0, c^2), x ~ N(0, I): given x, z ~ N(0, s^2) with
    s = c ||x|| (about c sqrt(width)), and mean sigma'(z) <= min(1/4, 1/(sqrt(2 pi) s));
    the bound column averages that over the inputs."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((width, batch))
    norms = np.linalg.norm(x, axis=0)
    means, stds, bound = [], [], []
    for c in scales:
        z = rng.normal(0, c, (256, width)) @ x
        means.append(float(np.mean(sigmoid(z) * (1 - sigmoid(z)))))
        stds.append(float(z.std()))
        bound.append(float(np.mean(np.minimum(0.25, 1 / (np.sqrt(2 * np.pi) * c * norms)))))
    return {"scales": list(scales), "width": width, "batch": batch, "seed": seed,
            "mean_dsigma": means, "std_z": stds, "bound": bound}


def summarize_saturation(r: dict) -> str:
    rows = [f"  c={c:<5g} std z={s:8.3g}  mean sigma'={m:.4g}  bound mean min(1/4, 1/(sqrt(2pi) c||x||))={b:.4g}"
            for c, s, m, b in zip(r["scales"], r["std_z"], r["mean_dsigma"], r["bound"])]
    return f"mean sigma' against the weight std c (width {r['width']}, seed {r['seed']}):\n" + "\n".join(rows)


# --- 3a: lasso against ridge: exact zeros ------------------------------------------------

def soft_threshold(a, lam):
    return np.sign(a) * np.maximum(np.abs(a) - lam, 0)


def lasso_coordinate_descent(X, y, lam, sweeps=500, tol=1e-12):
    """min (1/2n)||y - Xw||^2 + lam ||w||_1; each coordinate update is the 1-d
    problem of 3a, solved exactly by soft thresholding."""
    n, d = X.shape
    w, r = np.zeros(d), y.copy()
    col_sq = (X**2).sum(axis=0) / n
    for sweep in range(sweeps):
        largest = 0.0
        for j in range(d):
            rho = X[:, j] @ r / n + col_sq[j] * w[j]
            new = soft_threshold(rho, lam) / col_sq[j]
            r -= X[:, j] * (new - w[j])
            largest = max(largest, abs(new - w[j]))
            w[j] = new
        if largest < tol:
            break
    return w, sweep + 1


def lasso_ista(X, y, lam, iters=5000):
    n = len(y)
    step = n / np.linalg.norm(X, 2) ** 2
    w = np.zeros(X.shape[1])
    for _ in range(iters):
        w = soft_threshold(w - step * X.T @ (X @ w - y) / n, step * lam)
    return w


def lasso_vs_ridge(n=200, d=50, k=5, lam=0.1, noise=0.5, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w_true = np.zeros(d)
    w_true[:k] = rng.choice([-1, 1], k) * rng.uniform(1, 3, k)
    y = X @ w_true + noise * rng.standard_normal(n)
    w_cd, sweeps = lasso_coordinate_descent(X, y, lam)
    w_ista = lasso_ista(X, y, lam)
    w_ridge = np.linalg.solve(X.T @ X / n + lam * np.eye(d), X.T @ y / n)  # (1/2n)||.||^2 + lam/2 ||w||^2
    return {"n": n, "d": d, "k": k, "lam": lam, "seed": seed, "sweeps": sweeps,
            "w_true": w_true.tolist(), "lasso_cd": w_cd.tolist(), "lasso_ista": w_ista.tolist(),
            "ridge": w_ridge.tolist(),
            "zeros_cd": int(np.sum(w_cd == 0)), "zeros_ista": int(np.sum(w_ista == 0)),
            "zeros_ridge": int(np.sum(w_ridge == 0)), "min_abs_ridge": float(np.min(np.abs(w_ridge))),
            "support_recovered": bool(np.array_equal(w_cd != 0, w_true != 0)),
            "true_zeros_set_to_zero": int(np.sum((w_true == 0) & (w_cd == 0))), "true_zeros": int(np.sum(w_true == 0)),
            "nonzeros_lost": int(np.sum((w_true != 0) & (w_cd == 0))),
            "cd_vs_ista_max_diff": float(np.max(np.abs(w_cd - w_ista)))}


def summarize_lasso_vs_ridge(r: dict) -> str:
    return (f"n={r['n']}, d={r['d']}, {r['k']} true nonzeros, lambda={r['lam']}, seed {r['seed']}: "
            f"exact zeros lasso/CD {r['zeros_cd']} of {r['d']} ({r['sweeps']} sweeps), lasso/ISTA {r['zeros_ista']}, "
            f"ridge {r['zeros_ridge']} (smallest |w| {r['min_abs_ridge']:.2g}); "
            f"lasso zeroes {r['true_zeros_set_to_zero']} of the {r['true_zeros']} irrelevant features and loses "
            f"{r['nonzeros_lost']} of the {r['k']} relevant ones; max |CD - ISTA| {r['cd_vs_ista_max_diff']:.2g}")


# --- 3c: batch-mean noise against B ------------------------------------------------------

def batchnorm_noise(batch_sizes=(2, 4, 8, 16, 32, 64, 128, 256), sigma=2.0, batches=20000, seed=0) -> dict:
    """Std over batches of the batch mean (the statistic batch norm subtracts), for
    skewed data (exponential with std sigma), against sigma/sqrt(B)."""
    rng = np.random.default_rng(seed)
    observed = [float(rng.exponential(sigma, (batches, B)).mean(axis=1).std(ddof=1)) for B in batch_sizes]
    formula = [sigma / np.sqrt(B) for B in batch_sizes]
    return {"batch_sizes": list(batch_sizes), "sigma": sigma, "batches": batches, "seed": seed,
            "std_batch_mean": observed, "formula": formula,
            "relative_error": [o / f - 1 for o, f in zip(observed, formula)]}


def summarize_batchnorm_noise(r: dict) -> str:
    rows = [f"  B={B:<4d} std {o:.4f}  sigma/sqrt(B) {f:.4f}  ({100 * e:+.1f}%)"
            for B, o, f, e in zip(r["batch_sizes"], r["std_batch_mean"], r["formula"], r["relative_error"])]
    return (f"std of the batch mean over {r['batches']} batches, x ~ Exp(std {r['sigma']:g}), seed {r['seed']}:\n"
            + "\n".join(rows))


# --- 4a: zero-initialised 4-3-1 network --------------------------------------------------

@dataclass
class TinyNet:
    """4-3-1 sigmoid network with binary cross-entropy, trained by plain SGD."""

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    W3: np.ndarray
    b3: np.ndarray

    @classmethod
    def zeros(cls, n_in: int) -> "TinyNet":
        return cls(np.zeros((4, n_in)), np.zeros(4), np.zeros((3, 4)), np.zeros(3), np.zeros((1, 3)), np.zeros(1))

    def forward(self, x):
        a1 = sigmoid(self.W1 @ x + self.b1)
        a2 = sigmoid(self.W2 @ a1 + self.b2)
        return a1, a2, sigmoid(self.W3 @ a2 + self.b3)[0]

    def sgd_step(self, x, y, alpha):
        a1, a2, a3 = self.forward(x)
        d3 = np.array([a3 - y])  # dL/dz3 for sigmoid + BCE
        d2 = (self.W3.T @ d3) * a2 * (1 - a2)
        d1 = (self.W2.T @ d2) * a1 * (1 - a1)
        self.W3 -= alpha * np.outer(d3, a2)
        self.b3 -= alpha * d3
        self.W2 -= alpha * np.outer(d2, a1)
        self.b2 -= alpha * d2
        self.W1 -= alpha * np.outer(d1, x)
        self.b1 -= alpha * d1


def _unit_spread(net: TinyNet) -> float:
    """Largest difference between units of one layer (incoming weights, biases,
    outgoing weights): 0 means the hidden units are still identical."""
    parts = [net.W1 - net.W1[0], net.b1 - net.b1[0], net.W2 - net.W2[0], net.b2 - net.b2[0],
             net.W2 - net.W2[:, :1], net.W3 - net.W3[0, 0]]
    return float(max(np.abs(p).max() for p in parts))


def zero_init_sgd(n_in=5, alpha=0.5, y=1.0, steps=1000, samples=64, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n_in)
    net = TinyNet.zeros(n_in)
    output_before = net.forward(x)[2]
    net.sgd_step(x, y, alpha)
    one_step = {k: getattr(net, k).tolist() for k in ("W1", "b1", "W2", "b2", "W3", "b3")}
    X = rng.standard_normal((samples, n_in))
    Y = (X[:, 0] + X[:, 1] > 0).astype(float)
    for t in range(steps):
        net.sgd_step(X[t % samples], Y[t % samples], alpha)
    accuracy = float(np.mean([(net.forward(x_)[2] > 0.5) == y_ for x_, y_ in zip(X, Y)]))
    return {"n_in": n_in, "alpha": alpha, "y": y, "seed": seed, "output_before": float(output_before),
            "after_one_step": one_step, "W3_formula": alpha * (y - 0.5) / 2, "b3_formula": alpha * (y - 0.5),
            "steps": steps, "unit_spread_after_training": _unit_spread(net), "train_accuracy": accuracy}


def summarize_zero_init(r: dict) -> str:
    s = r["after_one_step"]
    moved = [k for k in ("W1", "b1", "W2", "b2") if np.any(np.asarray(s[k]) != 0)]
    return (f"4-3-1 sigmoid net, zero init, n_in={r['n_in']}, alpha={r['alpha']}, y={r['y']:g}, seed {r['seed']}: "
            f"output {r['output_before']:g}; after one step W3 = {s['W3'][0]} (formula {r['W3_formula']:g} each), "
            f"b3 = {s['b3'][0]:g} (formula {r['b3_formula']:g}), moved below the output layer: {moved or 'nothing'}; "
            f"after {r['steps']} more steps the largest difference between units of a layer is "
            f"{r['unit_spread_after_training']:.3g} (train accuracy {r['train_accuracy']:.2f})")


# --- figures' companions: Adam's bias and the noise-l2 Monte Carlo -----------------------

def adam_bias_curve(beta=0.9, mu=0.5, steps=50, runs=2000, seed=0) -> dict:
    """Mean m_t and m^_t = m_t/(1 - beta^t) over simulated runs, g_t = mu + Exp(1) - 1."""
    rng = np.random.default_rng(seed)
    g = mu + rng.standard_exponential((steps, runs)) - 1
    m, ms = np.zeros(runs), []
    for g_t in g:
        m = beta * m + (1 - beta) * g_t
        ms.append(m)
    ms = np.array(ms)
    t = np.arange(1, steps + 1)
    hat = ms / (1 - beta**t)[:, None]
    def se(a):
        return (a.std(axis=1, ddof=1) / np.sqrt(runs)).tolist()

    return {"beta": beta, "mu": mu, "runs": runs, "seed": seed, "t": t.tolist(),
            "mean_m": ms.mean(axis=1).tolist(), "se_m": se(ms),
            "mean_m_hat": hat.mean(axis=1).tolist(), "se_m_hat": se(hat),
            "formula": ((1 - beta**t) * mu).tolist()}


def summarize_adam_bias(r: dict) -> str:
    z = np.abs(np.array(r["mean_m"]) - r["formula"]) / np.array(r["se_m"])
    return (f"Adam m_t over {r['runs']} runs (beta={r['beta']}, mu={r['mu']}, seed {r['seed']}): "
            f"m_1 = {r['mean_m'][0]:.4f} vs (1-beta)mu = {r['formula'][0]:.4f}; max |mean - formula| "
            f"{z.max():.2f} SE over t <= {len(z)}; corrected m^_1 = {r['mean_m_hat'][0]:.4f} vs mu")


def noise_l2_convergence(n=20, d=4, sigma=0.7, replicates=20000, seed=0) -> dict:
    """Running Monte Carlo mean of the noisy-input loss against (1/2n)||y - Xw||^2 + sigma^2/2 ||w||^2."""
    rng = np.random.default_rng(seed)
    X, w = rng.standard_normal((n, d)), rng.standard_normal(d)
    y = X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n)
    noisy = X + sigma * rng.standard_normal((replicates, n, d))
    losses = np.sum((y - noisy @ w) ** 2, axis=-1) / (2 * n)
    k = np.arange(1, replicates + 1)
    running = np.cumsum(losses) / k
    running_sq = np.cumsum(losses**2) / k
    se = np.sqrt(np.maximum(running_sq - running**2, 0) / np.maximum(k - 1, 1))
    exact = float(np.sum((y - X @ w) ** 2) / (2 * n) + sigma**2 / 2 * w @ w)
    without = float(np.sum((y - X @ w) ** 2) / (2 * n))
    return {"n": n, "d": d, "sigma": sigma, "seed": seed, "replicates": k.tolist(),
            "running_mean": running.tolist(), "se": se.tolist(), "formula": exact, "without_noise_term": without}


def summarize_noise_l2(r: dict) -> str:
    return (f"noise-l2 Monte Carlo (n={r['n']}, d={r['d']}, sigma={r['sigma']}, seed {r['seed']}): "
            f"after {r['replicates'][-1]} replicates {r['running_mean'][-1]:.4f} ± {r['se'][-1]:.4f} "
            f"vs formula {r['formula']:.4f} (without the noise term {r['without_noise_term']:.4f})")


# --- table -----------------------------------------------------------------------------

EXPERIMENTS: dict[str, tuple[Callable[..., dict], Callable[[dict], str]]] = {
    "complexity-timing": (complexity_timing, summarize_complexity_timing),
    "closed-form-at-5000": (closed_form_at, summarize_closed_form_at),
    "gradient-norms": (gradient_norms, summarize_gradient_norms),
    "activation-variance": (activation_variance, summarize_activation_variance),
    "saturation": (saturation, summarize_saturation),
    "lasso-vs-ridge": (lasso_vs_ridge, summarize_lasso_vs_ridge),
    "batchnorm-noise": (batchnorm_noise, summarize_batchnorm_noise),
    "zero-init-sgd": (zero_init_sgd, summarize_zero_init),
    "adam-bias": (adam_bias_curve, summarize_adam_bias),
    "noise-l2-mc": (noise_l2_convergence, summarize_noise_l2),
}

# Reduced sizes (tests, `--quick`): same qualitative results in well under a second each.
QUICK: dict[str, dict] = {
    "complexity-timing": {"grid": {
        "closed_vs_n": ("closed", [(n, 50) for n in (500, 1000, 2000, 4000)]),
        "closed_vs_d": ("closed", [(2000, d) for d in (25, 50, 100, 200)]),
        "gd_vs_n": ("gd", [(n, 50) for n in (500, 1000, 2000, 4000)]),
        "gd_vs_d": ("gd", [(2000, d) for d in (25, 50, 100, 200)]),
        "solve_vs_d": ("solve", [(d, d) for d in (100, 200, 400)])}},
    "closed-form-at-5000": {"d": 400, "n": 800, "blas_threads": 1},
    "gradient-norms": {"depth": 12, "width": 32, "batch": 16},
    "activation-variance": {"depth": 20, "width": 64, "batch": 64},
    "saturation": {"scales": (0.01, 0.1, 1, 10), "width": 50, "batch": 500},
    "lasso-vs-ridge": {"n": 80, "d": 20, "k": 3},
    "batchnorm-noise": {"batch_sizes": (2, 8, 32), "batches": 4000},
    "zero-init-sgd": {"steps": 100},
    "adam-bias": {"runs": 500},
    "noise-l2-mc": {"replicates": 2000},
}


def run(name: str, quick: bool = False, **sizes) -> dict:
    function, _ = EXPERIMENTS[name]
    return function(**{**(QUICK.get(name, {}) if quick else {}), **sizes})


def summary(name: str, data: dict) -> str:
    return f"[{name}] " + EXPERIMENTS[name][1](data)
