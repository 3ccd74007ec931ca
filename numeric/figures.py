"""PNG figures of the answer sheet's claims (`derivcheck figures`).

matplotlib is an optional extra (`pip install 'derivcheck[plots]'`) and is imported
only inside `write_all`.  Each figure is one function `(plt, data) -> Figure` in the
`FIGURES` table, with the experiment that feeds it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from numeric import experiments as ex

MISSING = "matplotlib is not installed: pip install 'derivcheck[plots]'"


def _axes(plt, title: str, xlabel: str, ylabel: str, ncols: int = 1, width: float = 6.4, height: float = 4.4):
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    for ax in axes[0]:
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
    fig.suptitle(title)
    return fig, axes[0]


def _log_ticks(ax, values, axis="x"):
    """Ticks at the measured sizes (thinned to a factor 1.8 apart), plainly labelled
    (1k for 1000), and no 3x10^1-style minor labels."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    kept = []
    for v in sorted(values):
        if not kept or v >= 1.8 * kept[-1]:
            kept.append(v)
    which = ax.xaxis if axis == "x" else ax.yaxis
    which.set_major_locator(FixedLocator(kept))
    which.set_major_formatter(lambda v, _pos: f"{v / 1000:g}k" if v >= 10_000 else f"{v:g}")
    which.set_minor_locator(NullLocator())
    which.set_minor_formatter(NullFormatter())


def _integer_ticks(ax):
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def sigmoid_figure(plt, _data=None):
    z = np.linspace(-8, 8, 801)
    s = ex.sigmoid(z)
    fig, (ax,) = _axes(plt, "Sigmoid and its derivative (problem 2a)", "z", "value")
    ax.plot(z, s, label=r"$\sigma(z) = 1/(1+e^{-z})$")
    ax.plot(z, s * (1 - s), label=r"$\sigma'(z) = \sigma(z)(1-\sigma(z))$")
    ax.axhline(0.25, color="gray", ls=":", lw=1)
    ax.plot([0], [0.25], "o", color="C1")
    ax.annotate(r"max $\sigma'(0) = 1/4$", (0, 0.25), (1.2, 0.35), arrowprops={"arrowstyle": "->"})
    ax.legend(loc="upper left")
    return fig


def relu_figure(plt, _data=None):
    z = np.linspace(-4, 4, 801)
    fig, (ax,) = _axes(plt, "ReLU and its derivative (problem 2a)", "z", "value")
    ax.plot(z, np.maximum(z, 0), label=r"ReLU$(z) = \max(0, z)$")
    ax.plot(z[z < 0], 0 * z[z < 0], color="C1", lw=2.5, label=r"ReLU$'(z) \in \{0, 1\}$")
    ax.plot(z[z > 0], 1 + 0 * z[z > 0], color="C1", lw=2.5)
    ax.plot([0, 0], [0, 1], "o", color="C1", mfc="white")  # undefined at the kink
    ax.legend(loc="upper left")
    return fig


def adam_figure(plt, r):
    t, mu = np.array(r["t"]), r["mu"]
    fig, (ax,) = _axes(plt, f"Adam first moment: bias and its correction (beta1={r['beta']}, {r['runs']} runs)",
                       "step t", "mean over runs")
    ax.errorbar(t, r["mean_m"], yerr=2 * np.array(r["se_m"]), fmt="o", ms=3, label=r"simulated $m_t$ (±2 SE)")
    ax.plot(t, r["formula"], "-", label=r"formula $(1-\beta_1^t)\mu$")
    ax.errorbar(t, r["mean_m_hat"], yerr=2 * np.array(r["se_m_hat"]), fmt="s", ms=3,
                label=r"simulated $\hat m_t = m_t/(1-\beta_1^t)$ (±2 SE)")
    ax.axhline(mu, color="gray", ls="--", label=rf"$\mu = {mu}$")
    ax.legend(loc="lower right")
    return fig


def noise_l2_figure(plt, r):
    k, mean, se = np.array(r["replicates"]), np.array(r["running_mean"]), np.array(r["se"])
    fig, (ax,) = _axes(plt, f"Noisy inputs = L2 penalty: Monte Carlo convergence (sigma={r['sigma']})",
                       "replicates N (log scale)", "running mean of the noisy loss")
    start = 10
    ax.plot(k[start:], mean[start:], label="Monte Carlo estimate")
    ax.fill_between(k[start:], (mean - 2 * se)[start:], (mean + 2 * se)[start:], alpha=0.3, label="±2 SE")
    ax.axhline(r["formula"], color="C3", label=r"$\frac{1}{2n}\|y-Xw\|^2 + \frac{\sigma^2}{2}\|w\|^2$")
    ax.axhline(r["without_noise_term"], color="gray", ls=":", label=r"without the $\frac{\sigma^2}{2}\|w\|^2$ term")
    ax.set_xscale("log")
    ax.legend(loc="lower right")
    return fig


def complexity_figure(plt, r):
    fig, axes = _axes(plt, "Closed form vs one gradient-descent update: wall time (problem 1c)\n"
                      "fitted log-log slopes; in brackets the slope of the operation count on the same sizes",
                      "", "seconds (best of repeats, log)", ncols=3, width=4.6, height=5.0)
    series = r["series"]
    panels = ((("closed_vs_n", "closed form"), ("gd_vs_n", "one GD update")),
              (("closed_vs_d", "closed form"), ("gd_vs_d", "one GD update")),
              (("solve_vs_d", "d x d solve alone"),))
    for ax, panel, xlabel in zip(axes, panels, ("samples n", "features d", "features d")):
        for key, label in panel:
            s = series[key]
            slope, se = s["slope"]
            fixed = ", ".join(sorted({f"d = {d}" if key.endswith("_vs_n") else f"n = {n}"
                                      for n, d in s["sizes"]} if s["what"] != "solve" else set()))
            line, = ax.loglog(s["x"], s["seconds"], "o",
                              label=f"{label}{' (' + fixed + ')' if fixed else ''}: slope {slope:.2f} ± {se:.2f}"
                                    f" (count {s['count_slope']:.2f})")
            a, b = np.polyfit(np.log(s["x"]), np.log(s["seconds"]), 1)
            ax.loglog(s["x"], np.exp(b) * np.asarray(s["x"], float) ** a, "--", color=line.get_color())
        ax.set_xlabel(f"{xlabel} (log)")
        _log_ticks(ax, sorted({x for key, _ in panel for x in series[key]["x"]}))
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16))  # below: never over the data
    threads = r["blas_threads"] or "as installed"
    axes[2].set_title(f"BLAS threads: {threads}", fontsize=9)
    return fig


def variance_figure(plt, r):
    fig, axes = _axes(plt, f"Pre-activation variance through {r['depth']} layers (width {r['width']}, per init scheme)",
                      "layer", "Var z (log scale)", ncols=2, width=5.8)
    for ax, (act, schemes) in zip(axes, r["variance"].items()):
        for k, (scheme, v) in enumerate(schemes.items()):
            layers = np.arange(1, len(v) + 1)
            ax.semilogy(layers, v, color=f"C{k}", label=scheme)
            if act == "relu":  # model: Var z^{l+1} = n Var(W) Var(z^l) / 2
                ax.semilogy(layers, v[0] * r["relu_model_factor"][scheme] ** (layers - 1.0), ":", color=f"C{k}")
        ax.set_title(act + ("  (dotted: model n Var(W)/2 per layer)" if act == "relu" else ""), fontsize=10)
        _integer_ticks(ax)
    axes[0].legend(fontsize=8, loc="lower left")
    return fig


def gradient_norms_figure(plt, r):
    fig, (ax,) = _axes(plt, f"Gradient norm per layer, {r['depth']} layers (problem 2a)",
                       "layer (1 = input side)", r"$\|\partial L/\partial W_l\|_F$ (log scale)")
    layers = range(1, r["depth"] + 1)
    ax.semilogy(layers, r["sigmoid"], "o-", label="sigmoid, Glorot init")
    ax.semilogy(layers, r["relu"], "s-", label="ReLU, He init")
    _integer_ticks(ax)
    ax.legend()
    return fig


def saturation_figure(plt, r):
    fig, (ax,) = _axes(plt, "Large initial weights saturate the sigmoid (problem 2c)",
                       "weight std c (log scale)", r"mean $\sigma'(z)$ (log scale)")
    ax.loglog(r["scales"], r["mean_dsigma"], "o-", label=r"measured mean $\sigma'(Wx)$")
    ax.loglog(r["scales"], r["bound"], "--", label=r"bound: mean of $\min(1/4,\ 1/(\sqrt{2\pi}\,c\|x\|))$")
    _log_ticks(ax, r["scales"])
    ax.legend()
    return fig


def lasso_figure(plt, r):
    fig, (ax,) = _axes(plt, f"Lasso gives exact zeros, ridge does not (lambda={r['lam']})",
                       "feature index", "coefficient")
    idx = np.arange(r["d"])
    ax.stem(idx, r["w_true"], linefmt="C7-", markerfmt="C7o", basefmt=" ", label="true w")
    ax.axhline(0, color="black", lw=0.6)
    _integer_ticks(ax)
    ax.plot(idx, r["ridge"], "s", ms=4, label=f"ridge: {r['zeros_ridge']} exact zeros")
    ax.plot(idx, r["lasso_cd"], "x", ms=6, label=f"lasso (coordinate descent): {r['zeros_cd']} exact zeros")
    ax.legend(fontsize=8)
    return fig


def batchnorm_figure(plt, r):
    fig, (ax,) = _axes(plt, "Noise of the batch mean (problem 3c)", "batch size B (log)", "std of the batch mean (log)")
    ax.loglog(r["batch_sizes"], r["std_batch_mean"], "o", label=f"simulated, {r['batches']} batches")
    ax.loglog(r["batch_sizes"], r["formula"], "-", label=r"$\sigma/\sqrt{B}$" + f", sigma = {r['sigma']:g}")
    _log_ticks(ax, r["batch_sizes"])
    _log_ticks(ax, r["formula"], axis="y")
    ax.legend()
    return fig


# file name -> (experiment name or None, figure function)
FIGURES = {
    "sigmoid.png": (None, sigmoid_figure),
    "relu.png": (None, relu_figure),
    "adam_bias.png": ("adam-bias", adam_figure),
    "noise_l2_monte_carlo.png": ("noise-l2-mc", noise_l2_figure),
    "complexity_timing.png": ("complexity-timing", complexity_figure),
    "activation_variance.png": ("activation-variance", variance_figure),
    "gradient_norms.png": ("gradient-norms", gradient_norms_figure),
    "sigmoid_saturation.png": ("saturation", saturation_figure),
    "lasso_vs_ridge.png": ("lasso-vs-ridge", lasso_figure),
    "batchnorm_noise.png": ("batchnorm-noise", batchnorm_figure),
}


def write_all(out_dir, quick: bool = False, log=print) -> list[Path]:
    """Run the experiments and write every figure (quick: reduced sizes, low resolution);
    ImportError if matplotlib is missing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, (experiment, draw) in FIGURES.items():
        data = ex.run(experiment, quick=quick) if experiment else None
        fig = draw(plt, data)
        fig.tight_layout()
        path = out / filename
        fig.savefig(path, dpi=60 if quick else 110)
        plt.close(fig)
        log(f"wrote {path}")
        if experiment:
            log("    " + ex.summary(experiment, data).replace("\n", "\n    "))
        written.append(path)
    return written
