"""The core derivations of the answer sheet (problems 1b, 3b, 3d, 4b), proven in
general dimensions: symbolic n, d, H as MatrixSymbol shapes, symbolic t for Adam, a
symbolic index with KroneckerDelta for softmax.  Fixed sizes appear only as second
witnesses.  Each entry carries planted-error twins that `verify` must reject.

Notation: X is n x d with rows x_i^T, y in R^n, w in R^d (problem 1); in problem 4b
x in R^d, h = W^T x in R^H, u = W'^T h in R^d, yhat = softmax(u), so W is d x H and
W' is H x d (the sheet's `yhat in R^d`)."""
from __future__ import annotations

import sympy as sp
from sympy import Identity, IndexedBase, KroneckerDelta, Lambda, Le, MatrixSymbol, Ne, Sum, exp, log

from symbolic.derivation import (
    Claim, Context, Derivation, Moments, MatrixMoments, Obligation, Step, Undecided, Witness, derivation,
    drop_hypothesis, swap_step, unfold, with_mutants,
)

n, d, H = sp.symbols("n d H", integer=True, positive=True)
i, j, k, t = sp.symbols("i j k t", integer=True, positive=True)
a = sp.Symbol("a", integer=True, positive=True)  # argument of indexed definitions
sigma = sp.Symbol("sigma", positive=True)

HALF_N = sp.Rational(1, 2) / n  # the 1/(2n) of the sheet's losses


def mm(*factors):
    """A product kept as written, so it prints as (y - Xw)^T (y - Xw), not expanded."""
    return sp.MatMul(*factors, evaluate=False)


def square(r, coeff=1):
    """coeff * r^T r, kept as written."""
    return mm(coeff, sp.Transpose(r), r) if coeff != 1 else mm(sp.Transpose(r), r)


def plus(*terms):
    return sp.MatAdd(*terms, evaluate=False)


# ------------------------------------------------------------ normal equations (1a, 1b)

X, y, w = MatrixSymbol("X", n, d), MatrixSymbol("y", n, 1), MatrixSymbol("w", d, 1)
x_, y_, w_, yhat_ = (IndexedBase(s) for s in ("x", "y", "w", "yhat"))
b = sp.Symbol("b")
LINEAR_1A = Lambda(a, Sum(w_[j] * x_[a, j], (j, 1, d)) + b)  # yhat_i = sum_j w_j x_ij + b
WHERE_1 = (r"X \in \mathbb{R}^{n \times d}", r"y \in \mathbb{R}^{n}", r"w \in \mathbb{R}^{d}")
WHERE_1A = (r"\hat{y}^{(i)} = \sum_{j=1}^{d} w_j x_j^{(i)} + b",
            r"\mathcal{L} = \frac{1}{2n}\sum_{i=1}^{n}(y^{(i)} - \hat{y}^{(i)})^2")


def _normal_steps() -> tuple[Step, ...]:
    r = y - X * w
    return (
        Step(square(r, HALF_N), "loss in matrix form (problem 1b)", lhs=r"\mathcal{L}(w)", by="given"),
        Step(HALF_N * (y.T * y - 2 * y.T * X * w + w.T * X.T * X * w),
             r"expand; $w^T X^T y = y^T X w$ (a $1 \times 1$ matrix is its own transpose)"),
        Step(HALF_N * (2 * X.T * X * w - 2 * X.T * y),
             r"$\nabla_w \mathrm{tr}(w^T A w) = (A + A^T) w$, $\nabla_w \mathrm{tr}(y^T X w) = X^T y$",
             lhs=r"\nabla_w \mathcal{L}", by="gradient", given=(w,)),
        Step((X.T * X * w - X.T * y) / n, "the factor 2 cancels"),
        Step((X.T * X).I * X.T * y, r"$\nabla_w \mathcal{L} = 0 \iff X^T X w = X^T y$; $X^T X$ invertible",
             lhs="w^*", by="root", given=(w,)),
        Step(HALF_N * Sum((y_[i] - yhat_[i]) ** 2, (i, 1, n)), "per-coordinate loss with bias $b$ (problem 1a)",
             lhs=r"\mathcal{L}(w, b)", by="given"),
        Step(Sum((yhat_[i] - y_[i]) * x_[i, k], (i, 1, n)) / n,
             r"$\partial \hat{y}^{(i)} / \partial w_k = x_k^{(i)}$ for $1 \le k \le d$",
             lhs=r"\frac{\partial \mathcal{L}}{\partial w_k}", by="partial", given=(w_[k],)),
        Step(Sum(yhat_[i] - y_[i], (i, 1, n)) / n, r"$\partial \hat{y}^{(i)} / \partial b = 1$",
             lhs=r"\frac{\partial \mathcal{L}}{\partial b}", by="partial", given=(b,), ref=5),
    )


NORMAL_CONTEXT = Context(defs=((yhat_, LINEAR_1A),), facts=(Le(k, d),), invertible=(X.T * X,))


def _forms_agree() -> list[Obligation]:
    """Problems 1a and 1b agree (b = 0, n = 3, d = 2): same loss, same gradient entries."""
    sizes = {n: 3, d: 2}
    steps = _normal_steps()
    loss_1b = steps[0].expr.subs(sizes).as_explicit()[0, 0]
    grad_1b = steps[3].expr.subs(sizes).as_explicit()
    obligations = [Obligation(loss_1b, _in_matrix_entries(steps[5].expr, sizes), "loss")]
    for q in (1, 2):
        grad_1a = _in_matrix_entries(steps[6].expr.subs(k, q), sizes)
        obligations.append(Obligation(grad_1b[q - 1, 0], grad_1a, f"dL/dw_{q}"))
    return obligations


def _in_matrix_entries(e, sizes):
    """A problem-1a expression at b = 0 and fixed sizes, x_ij written as X[i-1, j-1]."""
    Xc, yc, wc = (m.subs(sizes) for m in (X, y, w))
    cells = {x_: lambda p, q: Xc[p - 1, q - 1], y_: lambda p: yc[p - 1, 0], w_: lambda q: wc[q - 1, 0]}
    e = unfold(e, NORMAL_CONTEXT).subs(b, 0).subs(sizes).doit()
    return e.replace(lambda z: isinstance(z, sp.Indexed) and z.base in cells, lambda z: cells[z.base](*z.indices))


@derivation
def normal_equations() -> Derivation:
    base = Derivation(
        id="normal-equations",
        title="Least squares: gradient and normal equations",
        source="answer sheet problem 1b (closed form), 1a (per-coordinate gradient with bias)",
        problem="1", part="b",
        hypotheses=("X is n x d, y in R^n, w in R^d (n, d symbolic)", "X^T X is invertible (for w*)",
                    "1a: yhat_i = sum_j w_j x_ij + b, 1 <= k <= d"),
        steps=_normal_steps(),
        claims=(
            Claim(r"\nabla_w \mathcal{L}", r"\frac{1}{n}(X^T X w - X^T y)", WHERE_1),
            Claim("w", r"(X^T X)^{-1} X^T y", WHERE_1 + (r"X^T X \text{ invertible}",)),
            Claim(r"\frac{\partial \mathcal{L}}{\partial w_k}",
                  r"\frac{1}{n}\sum_{i=1}^{n}(\hat{y}^{(i)} - y^{(i)}) x_k^{(i)}", WHERE_1A),
            Claim(r"\frac{\partial \mathcal{L}}{\partial b}",
                  r"\frac{1}{n}\sum_{i=1}^{n}(\hat{y}^{(i)} - y^{(i)})", WHERE_1A),
        ),
        context=NORMAL_CONTEXT,
        witnesses=(Witness("1a and 1b agree at n = 3, d = 2, b = 0 (explicit entries)", _forms_agree),),
    )
    return with_mutants(base, {
        "sign flipped in the gradient": swap_step(3, expr=(X.T * X * w + X.T * y) / n),
        "factor 2 (the 1/2 of 1/(2n) dropped)": swap_step(3, expr=2 * (X.T * X * w - X.T * y) / n),
        "transpose dropped: X y for X^T y": swap_step(4, expr=(X.T * X).I * X * y),
        "sign flipped in dL/dw_k (as on the sheet's line for w_1)": swap_step(
            6, expr=-Sum((yhat_[i] - y_[i]) * x_[i, k], (i, 1, n)) / n),
        "no invertibility hypothesis for X^T X": drop_hypothesis(invertible=()),
    })


# ---------------------------------------------------------------------- noise = L2 (3b)

noise = MatrixSymbol("epsilon", n, d)  # rows: the per-sample noises epsilon_i^T
X_noisy = MatrixSymbol("Xtilde", n, d)
# E[eps_i] = 0 and E[eps_i eps_i^T] = sigma^2 I give E[noise^T noise] = n sigma^2 I (lemma below).
NOISE_MOMENTS = MatrixMoments(noise, (((noise.T, noise), n * sigma**2 * Identity(d)),))


def _second_moment_lemma() -> list[Obligation]:
    """Entry (p, q) of noise^T noise is sum_i eps_ip eps_iq (SymPy's own indexing);
    each E[eps_ip eps_iq] = sigma^2 delta_pq, so E[noise^T noise] = n sigma^2 I."""
    p, q = sp.symbols("p q", integer=True, nonnegative=True)
    entry = (noise.T * noise)[p, q]

    def expect(s: Sum) -> Sum:
        row = s.limits[0][0]
        if sp.expand(s.function - noise[row, p] * noise[row, q]) != 0:
            raise Undecided(f"no moment rule for E[{s.function}]")
        return Sum(sigma**2 * KroneckerDelta(p, q), s.limits)

    moment = entry.replace(lambda z: isinstance(z, Sum), expect)
    return [Obligation(moment, n * sigma**2 * KroneckerDelta(p, q), "E[(noise^T noise)_pq]")]


def _stats_fixed_d(dim: int = 2) -> list[Obligation]:
    """Independent computation with sympy.stats for one sample in d = dim."""
    from sympy.stats import E, Normal  # slow import, only when this witness runs

    xs, ws, eps = (sp.symbols(f"{s}_1:{dim + 1}") for s in ("x", "w", "e"))
    yv = sp.Symbol("y")
    rv = [Normal(e.name, 0, sigma) for e in eps]
    noisy = (yv - sum((xk + ek) * wk for xk, ek, wk in zip(xs, rv, ws))) ** 2
    clean = (yv - sum(xk * wk for xk, wk in zip(xs, ws))) ** 2 + sigma**2 * sum(wk**2 for wk in ws)
    # expand before E: the unexpanded square takes ~200x longer (issue 2)
    return [Obligation(E(sp.expand(noisy)), clean, f"sympy.stats, d = {dim}")]


@derivation
def noise_l2() -> Derivation:
    r = y - X * w
    clean = square(r, HALF_N)
    base = Derivation(
        id="noise-l2",
        title="Gaussian input noise is L2 regularisation in expectation",
        source="answer sheet problem 3b (statement; the sheet's own answer argues via a prior instead)",
        problem="3", part="b",
        hypotheses=("x~_i = x_i + eps_i, stacked as X~ = X + eps (eps is n x d, rows eps_i^T)",
                    "E[eps_i] = 0, E[eps_i eps_i^T] = sigma^2 I_d (eps_i ~ N(0, sigma^2 I))",
                    "X is n x d, y in R^n, w in R^d (n, d symbolic)"),
        steps=(
            Step(square(y - X_noisy * w, HALF_N),
                 r"loss on noisy inputs $\tilde{x}_i = x_i + \epsilon_i$ (problem 3b)",
                 lhs=r"\tilde{\mathcal{L}}(w)", by="given"),
            Step(mm(HALF_N, plus(square(r), mm(-2, sp.Transpose(r), noise, w), w.T * noise.T * noise * w)),
                 r"expand; $(\epsilon w)^T (y - X w) = (y - X w)^T \epsilon w$ ($1 \times 1$)"),
            Step(plus(clean, mm(sigma**2 / 2, w.T, w)),
                 r"$E[\epsilon] = 0$; $E[\epsilon^T \epsilon] = \sum_i E[\epsilon_i \epsilon_i^T] = n \sigma^2 I$",
                 lhs=r"\mathbb{E}[\tilde{\mathcal{L}}(w)]", by="expect", given=(NOISE_MOMENTS,)),
        ),
        claims=(Claim(
            r"\mathbb{E}\left[\frac{1}{2n}\sum_{i=1}^{n}(y^{(i)} - \tilde{x}^{(i)T} w)^2\right]",
            r"\frac{1}{2n}\sum_{i=1}^{n}(y^{(i)} - x^{(i)T} w)^2 + \frac{\sigma^2}{2}\|w\|^2",
            (r"\tilde{x}^{(i)} = x^{(i)} + \epsilon^{(i)}", r"\epsilon^{(i)} \sim \mathcal{N}(0, \sigma^2 I)",
             r"x^{(i)}, w \in \mathbb{R}^{d}")),),
        context=Context(defs=((X_noisy, X + noise),)),
        witnesses=(Witness("lemma E[eps^T eps] = n sigma^2 I at symbolic n, d", _second_moment_lemma),
                   Witness("sympy.stats at d = 2", _stats_fixed_d)),
    )
    return with_mutants(base, {
        "factor 2: sigma^2 ||w||^2": swap_step(2, expr=plus(clean, mm(sigma**2, w.T, w))),
        "sign flipped on the penalty": swap_step(2, expr=plus(clean, mm(-sigma**2 / 2, w.T, w))),
    })


# ------------------------------------------------------------------ Adam bias (3d)

beta1, beta2 = sp.symbols("beta_1 beta_2", positive=True)
mu, nu = sp.symbols("mu nu")
g, m, v = IndexedBase("g"), IndexedBase("m"), IndexedBase("v")
z = sp.Symbol("z")


def _closed(beta, term, upto):
    """(1 - beta) sum_{i=1}^{upto} beta^(upto - i) term(i)"""
    return (1 - beta) * Sum(beta ** (upto - i) * term(i), (i, 1, upto))


def _adam_chain(seq, beta, power, moment, name) -> tuple[Step, ...]:
    term = lambda q: g[q] ** power  # noqa: E731  g_i or g_i^2
    hat = rf"\hat{{{name}}}_t"
    g_i = "g_i" if power == 1 else f"g_i^{power}"
    return (
        Step(beta * seq[t - 1] + (1 - beta) * term(t), rf"Adam moment, ${name}_0 = 0$ (problem 3d)",
             lhs=f"{name}_t", by="given"),
        Step(_closed(beta, term, t), "unrolled; proven by induction on $t$ (symbolic $t$)",
             lhs=f"{name}_t", by="recurrence", given=(seq, t, 0)),
        Step((1 - beta**t) * moment,
             rf"linearity, $E[{g_i}] = {sp.latex(moment)}$, geometric sum (${sp.latex(beta)} \ne 1$)",
             lhs=rf"\mathbb{{E}}[{name}_t]", by="expect", given=(Moments(g, ((power, moment),)),)),
        Step(moment, rf"${hat} = {name}_t / (1 - {sp.latex(beta)}^t)$, linearity",
             lhs=rf"\mathbb{{E}}[{hat}]", by="apply", given=(Lambda(z, z / (1 - beta**t)),)),
    )


@derivation
def adam_bias() -> Derivation:
    where = (r"m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t", "m_0 = 0", r"\mathbb{E}[g_i] = \mu",
             r"\hat{m}_t = \frac{m_t}{1 - \beta_1^t}")
    where_v = (r"v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2", "v_0 = 0", r"\mathbb{E}[g_i^2] = \nu",
               r"\hat{v}_t = \frac{v_t}{1 - \beta_2^t}")
    base = Derivation(
        id="adam-bias",
        title="Adam's moment estimates are biased toward 0; bias correction removes it",
        source="answer sheet problem 3d; Kingma & Ba (2015), Adam, section 3",
        problem="3", part="d",
        hypotheses=("0 < beta_1, beta_2 < 1", "E[g_i] = mu and E[g_i^2] = nu for every step i",
                    "m_0 = v_0 = 0; t >= 1 symbolic"),
        steps=_adam_chain(m, beta1, 1, mu, "m") + _adam_chain(v, beta2, 2, nu, "v"),
        claims=(
            Claim("m_t", r"(1 - \beta_1) \sum_{i=1}^{t} \beta_1^{t-i} g_i", where),
            Claim(r"\mathbb{E}[m_t]", r"(1 - \beta_1^t) \mu", where),
            Claim(r"\mathbb{E}[\hat{m}_t]", r"\mu", where),
            Claim("v_t", r"(1 - \beta_2) \sum_{i=1}^{t} \beta_2^{t-i} g_i^2", where_v),
            Claim(r"\mathbb{E}[v_t]", r"(1 - \beta_2^t) \nu", where_v),
            Claim(r"\mathbb{E}[\hat{v}_t]", r"\nu", where_v),
        ),
        context=Context(facts=(Ne(beta1, 1), Ne(beta2, 1))),
    )
    return with_mutants(base, {
        "exponent t-1 for t in E[m_t]": swap_step(2, expr=(1 - beta1 ** (t - 1)) * mu),
        "exponent t-1-i for t-i in the closed form": swap_step(
            1, expr=(1 - beta1) * Sum(beta1 ** (t - 1 - i) * g[i], (i, 1, t))),
        "no bias: E[m_t] = mu": swap_step(2, expr=mu),
        "beta_1 for beta_2 in E[v_t]": swap_step(6, expr=(1 - beta1**t) * nu),
    })


# ------------------------------------------------------------------ softmax (4b)

u, y_i, yhat_i = IndexedBase("u"), IndexedBase("y"), IndexedBase("yhat")
SOFTMAX = Lambda(a, exp(u[a]) / Sum(exp(u[k]), (k, 1, d)))
delta = KroneckerDelta(i, j)
WHERE_4B = (r"\hat{y} = \mathrm{Softmax}(u)", r"u \in \mathbb{R}^{d}")


def _explicit_jacobian(dim: int = 3) -> list[Obligation]:
    """Second witness: the d = 3 Jacobian of softmax, entry by entry."""
    us = sp.symbols(f"u_1:{dim + 1}")
    total = sum(exp(q) for q in us)
    s = [exp(q) / total for q in us]
    jac = sp.Matrix(dim, dim, lambda p, q: sp.diff(s[p], us[q]))
    formula = sp.Matrix(dim, dim, lambda p, q: s[p] * (KroneckerDelta(p, q) - s[q]))
    return [Obligation(jac, formula, "d = 3")]


@derivation
def softmax_jacobian() -> Derivation:
    total = Sum(exp(u[k]), (k, 1, d))
    base = Derivation(
        id="softmax-jacobian",
        title="Jacobian of softmax",
        source="answer sheet problem 4b (d yhat_i / d u_j)",
        problem="4", part="b",
        hypotheses=("yhat_i = exp(u_i) / sum_k exp(u_k), k = 1..d (d symbolic)", "1 <= i, j <= d"),
        steps=(
            Step(exp(u[i]) / total, "softmax (problem 4b)", lhs=r"\hat{y}_i", by="given"),
            Step(exp(u[i]) * delta / total - exp(u[i]) * exp(u[j]) / total**2,
                 r"quotient rule; $\partial_{u_j} \sum_k e^{u_k} = e^{u_j}$ for $1 \le j \le d$",
                 lhs=r"\frac{\partial \hat{y}_i}{\partial u_j}", by="partial", given=(u[j],)),
            Step(yhat_i[i] * (delta - yhat_i[j]), r"definition of $\hat{y}$"),
        ),
        claims=(Claim(r"\frac{\partial \hat{y}_i}{\partial u_j}", r"\hat{y}_i(\delta_{ij} - \hat{y}_j)", WHERE_4B),),
        context=Context(defs=((yhat_i, SOFTMAX),), facts=(Le(i, d), Le(j, d))),
        witnesses=(Witness("explicit Jacobian at d = 3", _explicit_jacobian),),
    )
    return with_mutants(base, {
        "sign flipped": swap_step(2, expr=yhat_i[i] * (yhat_i[j] - delta)),
        "Kronecker delta dropped": swap_step(2, expr=yhat_i[i] * (1 - yhat_i[j])),
    })


x, h = MatrixSymbol("x", d, 1), MatrixSymbol("h", H, 1)
W, W2 = MatrixSymbol("W", d, H), MatrixSymbol("Wprime", H, d)
y_vec, yhat_vec = MatrixSymbol("y", d, 1), MatrixSymbol("yhat", d, 1)
WHERE_NET = (r"x \in \mathbb{R}^{d}", r"h = W^T x \in \mathbb{R}^{H}", r"u = W'^T h", r"\hat{y} = \mathrm{Softmax}(u)",
             r"\mathcal{L} = -y^T \log \hat{y}", r"y \text{ one-hot}")


def _end_to_end(dim: int = 3, hidden: int = 2) -> list[Obligation]:
    """Second witness: the whole network written out (d = 3, H = 2), the loss
    differentiated entry by entry; exp(u_a) is then named e_a on both sides, so the
    rational identity is decided by `cancel`."""
    Wc = sp.Matrix(dim, hidden, lambda p, q: sp.Symbol(f"W_{p}{q}"))
    W2c = sp.Matrix(hidden, dim, lambda p, q: sp.Symbol(f"W'_{p}{q}"))
    xc = sp.Matrix(sp.symbols(f"x_1:{dim + 1}"))
    free = sp.symbols(f"y_1:{dim}")
    yc = sp.Matrix([*free, 1 - sum(free)])  # one-hot labels sum to 1
    uc = W2c.T * Wc.T * xc
    total = sum(exp(q) for q in uc)
    # log softmax_a = u_a - log sum_b e^{u_b}: no exp(-u_a) left after differentiating
    loss = -sum(yc[p] * (uc[p] - log(total)) for p in range(dim))
    yhat_c = sp.Matrix([exp(q) / total for q in uc])
    names = {exp(q): sp.Symbol(f"e_{p}", positive=True) for p, q in enumerate(uc)}

    def name_exps(e):
        return e.xreplace(names)

    def grad(M):
        return name_exps(sp.Matrix(*M.shape, lambda p, q: sp.diff(loss, M[p, q])))

    return [Obligation(grad(W2c), name_exps(Wc.T * xc * (yhat_c - yc).T), "dL/dW'"),
            Obligation(grad(Wc), name_exps(xc * (yhat_c - yc).T * W2c.T), "dL/dW")]


@derivation
def softmax_ce_grad() -> Derivation:
    g_vec = yhat_vec - y_vec
    base = Derivation(
        id="softmax-ce-grad",
        title="Softmax cross-entropy: gradients w.r.t. logits and both weight matrices",
        source="answer sheet problem 4b",
        problem="4", part="b",
        hypotheses=("x in R^d, W is d x H, h = W^T x in R^H, W' is H x d, u = W'^T h (d, H symbolic)",
                    "yhat = softmax(u), L = -y^T log yhat", "y one-hot: sum_i y_i = 1", "1 <= j <= d"),
        steps=(
            Step(-Sum(y_i[i] * log(yhat_i[i]), (i, 1, d)), "cross-entropy (problem 4b)",
                 lhs=r"\mathcal{L}", by="given"),
            Step(-Sum(y_i[i] * (delta - yhat_i[j]), (i, 1, d)),
                 r"$\partial \log \hat{y}_i / \partial u_j = \delta_{ij} - \hat{y}_j$ (softmax-jacobian)",
                 lhs=r"\frac{\partial \mathcal{L}}{\partial u_j}", by="partial", given=(u[j],)),
            Step(yhat_i[j] * Sum(y_i[i], (i, 1, d)) - y_i[j], r"$\sum_i y_i \delta_{ij} = y_j$"),
            Step(yhat_i[j] - y_i[j], r"one-hot: $\sum_i y_i = 1$"),
            Step(g_vec, "entry $j$ is the row above", lhs=r"\frac{\partial \mathcal{L}}{\partial u}",
                 by="entrywise", given=(j, ((yhat_vec, yhat_i), (y_vec, y_i)))),
            Step(h * g_vec.T, r"$u = W'^T h$, $d\mathcal{L} = (\hat{y} - y)^T du$; shape $H \times d$",
                 lhs=r"\frac{\partial \mathcal{L}}{\partial W'}", by="chain", given=(W2.T * h, W2)),
            Step(x * g_vec.T * W2.T, r"$u = W'^T W^T x$, $d\mathcal{L} = (\hat{y} - y)^T du$; shape $d \times H$",
                 lhs=r"\frac{\partial \mathcal{L}}{\partial W}", by="chain", given=(W2.T * h, W), ref=4),
        ),
        claims=(
            Claim(r"\frac{\partial \mathcal{L}}{\partial u}", r"\hat{y} - y", WHERE_NET),
            Claim(r"\frac{\partial \mathcal{L}}{\partial W'}", r"h(\hat{y} - y)^T", WHERE_NET),
            Claim(r"\frac{\partial \mathcal{L}}{\partial W}", r"x(\hat{y} - y)^T W'^T", WHERE_NET),
        ),
        context=Context(defs=((yhat_i, SOFTMAX), (h, W.T * x)), facts=(Le(j, d),),
                        identities=((Sum(y_i[i], (i, 1, d)), 1),)),
        witnesses=(Witness("whole network written out at d = 3, H = 2", _end_to_end),),
    )
    return with_mutants(base, {
        "sign flipped in dL/du": swap_step(4, expr=y_vec - yhat_vec),
        "transpose dropped in dL/dW' ((yhat - y) h^T)": swap_step(5, expr=g_vec * h.T),
        "transposes swapped as on the sheet ((yhat - y)^T x^T W'^T)": swap_step(6, expr=g_vec.T * x.T * W2.T),
        "W' not transposed": swap_step(6, expr=x * g_vec.T * W2),
        "one-hot hypothesis dropped": drop_hypothesis(identities=()),
    })
