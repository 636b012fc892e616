"""Question 2, parts (c) to (f): batch size, the noise of SGD, the number of classes, SGD against GD.

These parts have no formula to transcribe; each answer rests on a computation. One least-squares problem serves
(c), (e) and (f): N samples, per-sample losses l_i(w) = (x_i . w - y_i)^2 / 2, whose per-sample gradients are
exact. Every number the text quotes is computed here (numpy), and every path and ratio is recomputed
independently by torch (autograd, torch.optim.SGD) in the checks.
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import combinations

import numpy as np
import sympy as sp

from symdl.document.derivation import Step, tex
from symdl.document.figures import pyplot, save
from symdl.verify.spec import CheckSpec, compare_trials

from _figstyle import PRINT, inches
from _q2.common import _check

# -- the least-squares problem ------------------------------------------------------------------------

N_SAMPLES, DIM, NOISE = 200, 5, 0.5
LR = 0.02  # the learning rate of every run below, unless a run says otherwise
EPOCHS = 40
TAIL = 20  # the epochs over which a stalled run's level is averaged
BATCHES = (1, 8, 64)


@lru_cache(maxsize=None)
def problem():
    """X (N x d, columns of unequal scale), y, the least-squares minimiser w* and the start w_0 = 0."""
    rng = np.random.default_rng(20200401)
    X = rng.normal(size=(N_SAMPLES, DIM)) * np.linspace(0.5, 2.0, DIM)
    y = X @ rng.normal(size=DIM) + NOISE * rng.normal(size=N_SAMPLES)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    for a in (X, y, w_star):
        a.setflags(write=False)
    return X, y, w_star


def loss(w) -> float:
    X, y, _ = problem()
    return float(0.5 * np.mean((X @ w - y) ** 2))


def sample_gradients(w) -> np.ndarray:
    """Row i: the gradient of sample i's loss at w."""
    X, y, _ = problem()
    return (X @ w - y)[:, None] * X


def batch_noise(grads: np.ndarray, m: int) -> float:
    """sqrt(E ||g_B - g||^2) for a batch of m drawn without replacement: the trace of the batch mean's covariance,
    (sigma^2 / m) (N - m) / (N - 1), sigma^2 the per-sample variance (its trace, divided by N)."""
    n = len(grads)
    s2 = np.sum((grads - grads.mean(0)) ** 2) / n
    return math.sqrt(s2 / m * (n - m) / (n - 1))


def snr(w, m: int) -> float:
    """Signal-to-noise ratio of a batch gradient: ||mean gradient|| / its noise."""
    g = sample_gradients(w)
    return float(np.linalg.norm(g.mean(0)) / batch_noise(g, m))


# -- (c): the variance of the batch mean, by enumeration ---------------------------------------------


def _variance_by_enumeration(values, m):
    """The exact variance of the batch mean over every batch of size m (equally likely), and the formula."""
    n = len(values)
    means = [sum(values[j] for j in b) / m for b in combinations(range(n), m)]
    mean = sum(values) / n
    exact = sum((u - mean) ** 2 for u in means) / len(means)
    s2 = sum((v - mean) ** 2 for v in values) / n
    return exact, s2 / m * (n - m) / (n - 1)


def batch_variance_step() -> Step:
    def proof():
        for n in range(2, 6):
            g = sp.symbols(f"g_1:{n + 1}", real=True)
            for m in range(1, n + 1):
                exact, formula = _variance_by_enumeration(list(g), sp.Integer(m))
                if sp.expand(exact - formula) != 0:
                    return False, f"differs at N = {n}, M = {m}", None
        return True, "every (N, M) with 1 <= M <= N <= 5, symbols g_i: the enumerated variance expands to the formula", None

    def numeric():
        rng = np.random.default_rng(3)
        trials = []
        for n, m in ((10, 3), (12, 1), (12, 7)):
            v = rng.normal(size=n)
            exact, formula = _variance_by_enumeration(list(v), m)
            trials.append((f"N = {n}, M = {m}", exact, formula))
        return compare_trials(trials, rtol=1e-12)

    return Step("batch-variance",
                tex(r"\operatorname{Var}\Big[\frac{1}{M}\sum_{j \in B} g_j\Big] = \frac{s^2}{M}\,\frac{N - M}{N - 1},"
                    r"\qquad s^2 = \frac{1}{N}\sum_{i=1}^{N} (g_i - \bar g)^2"),
                "over every batch of $M$ samples drawn without replacement, each equally likely: the noise of a step "
                "falls like $1/\\sqrt{M}$ and vanishes at $M = N$, while its cost grows like $M$",
                checks=(_check("symbolic", "every batch enumerated, the variance expanded", proof, 120),
                        _check("numeric", "enumerated variance against the formula in float64", numeric)),
                boxed=True)


# -- (d): how many classes a batch holds -------------------------------------------------------------


def p_all_classes(k: int, m: int):
    """The probability that m samples drawn uniformly from k balanced classes hold every class (inclusion and
    exclusion), exactly, as a rational."""
    return sum((-1) ** j * sp.binomial(k, j) * sp.Rational(k - j, k) ** m for j in range(k + 1))


def expected_classes(k: int, m: int):
    """The expected number of distinct classes among m uniform draws from k: k (1 - (1 - 1/k)^m)."""
    return k * (1 - (1 - sp.Rational(1, k)) ** m)


CLASSES = 10


def batch_for_half(k: int) -> int:
    """The smallest batch that holds every one of k classes with probability at least 1/2."""
    m = k
    while p_all_classes(k, m) < sp.Rational(1, 2):
        m += 1
    return m


def classes_step() -> Step:
    k = CLASSES
    half = batch_for_half(k)

    def proof():
        for kk in range(2, 9):
            if p_all_classes(kk, kk) != sp.factorial(kk) / sp.Integer(kk) ** kk:
                return False, f"differs at K = {kk}", None
        return True, "K = 2..8: inclusion-exclusion at M = K equals K!/K^K exactly", None

    def oracle():
        import torch

        gen = torch.Generator().manual_seed(11)
        trials = []
        for m in (k, 2 * k, half):
            draws = torch.randint(0, k, (200000, m), generator=gen)
            hits = torch.zeros(200000, k).scatter_(1, draws, 1.0)
            p = float((hits.sum(1) == k).double().mean())
            distinct = float(hits.sum(1).double().mean())
            trials += [(f"M = {m} | all classes", p, float(p_all_classes(k, m))),
                       (f"M = {m} | distinct", distinct, float(expected_classes(k, m)))]
        return compare_trials(trials, rtol=0.05)

    p_k, p_2k = p_all_classes(k, k), p_all_classes(k, 2 * k)
    return Step("batch-classes",
                tex(r"\begin{aligned} K = %d: \quad &P(\text{all classes} \mid M = K) = \frac{K!}{K^K} = %s, \quad "
                    r"P(\text{all classes} \mid M = 2K) = %s, \\ &\mathbb{E}[\text{classes in a batch} \mid M = K] "
                    r"= K\big(1 - (1 - 1/K)^K\big) = %s \end{aligned}"
                    % (k, sci(float(p_k)), f"{float(p_2k):.3f}", f"{float(expected_classes(k, k)):.2f}")),
                f"inclusion and exclusion over the classes missed, for balanced classes drawn uniformly; a batch needs "
                f"$M = {half}$ samples to hold all $K = {k}$ classes with probability one half",
                checks=(_check("symbolic", "inclusion-exclusion against K!/K^K", proof, 60),
                        CheckSpec("oracle", "200000 batches drawn by torch.randint (tolerance 5 percent)", oracle)))


def sci(x: float) -> str:
    """A number in scientific notation, for mathematics: 3.63 \\times 10^{-4}."""
    mant, exp = f"{x:.2e}".split("e")
    return rf"{mant} \times 10^{{{int(exp)}}}"


# -- (e), (f): noise along the path, and SGD against GD ----------------------------------------------


def _epoch_orders(epochs: int, seed: int = 5):
    rng = np.random.default_rng(seed)
    return [rng.permutation(N_SAMPLES) for _ in range(epochs)]


def _rate(kind: str, k: int) -> float:
    """The learning rate of update k: constant, a quarter of it, or decaying as LR / (1 + k / N)."""
    return {"constant": LR, "quarter": LR / 4, "decaying": LR / (1 + k / N_SAMPLES)}[kind]


@lru_cache(maxsize=None)
def runs() -> dict:
    """Excess loss L(w) - L(w*) after every epoch, from w_0 = 0: GD (one update an epoch) and SGD with one sample
    an update (N updates an epoch, a fresh permutation each epoch) at three learning-rate schedules."""
    X, y, w_star = problem()
    best = loss(w_star)
    out = {}
    w = np.zeros(DIM)
    gd = [loss(w) - best]
    for _ in range(EPOCHS):
        w = w - LR * sample_gradients(w).mean(0)
        gd.append(loss(w) - best)
    out["GD"] = np.array(gd)
    for kind in ("constant", "quarter", "decaying"):
        w, k, curve = np.zeros(DIM), 0, [loss(np.zeros(DIM)) - best]
        for order in _epoch_orders(EPOCHS):
            for i in order:
                w = w - _rate(kind, k) * (X[i] @ w - y[i]) * X[i]
                k += 1
            curve.append(loss(w) - best)
        out[f"SGD {kind}"] = np.array(curve)
    return out


def _torch_runs() -> dict:
    """The same runs by torch.optim.SGD and autograd, each learning rate set before its update."""
    import torch

    X, y, w_star = (torch.as_tensor(np.array(a)) for a in problem())
    best = float(0.5 * torch.mean((X @ w_star - y) ** 2))
    f = lambda w, rows: 0.5 * torch.mean((X[rows] @ w - y[rows]) ** 2)  # noqa: E731
    value = lambda w: float(f(w, slice(None)).detach())  # noqa: E731
    out = {}
    w = torch.nn.Parameter(torch.zeros(DIM, dtype=torch.float64))
    opt = torch.optim.SGD([w], lr=LR)
    gd = [value(w) - best]
    for _ in range(EPOCHS):
        opt.zero_grad()
        f(w, slice(None)).backward()
        opt.step()
        gd.append(value(w) - best)
    out["GD"] = np.array(gd)
    for kind in ("constant", "quarter", "decaying"):
        w = torch.nn.Parameter(torch.zeros(DIM, dtype=torch.float64))
        opt, k, curve = torch.optim.SGD([w], lr=LR), 0, [value(w) - best]
        for order in _epoch_orders(EPOCHS):
            for i in order:
                opt.param_groups[0]["lr"] = _rate(kind, k)
                opt.zero_grad()
                f(w, [int(i)]).backward()
                opt.step()
                k += 1
            curve.append(value(w) - best)
        out[f"SGD {kind}"] = np.array(curve)
    return out


def _torch_snr(w_np, m):
    """The signal-to-noise ratio from per-sample gradients by torch.func (vmap of grad), and torch's variance."""
    import torch

    X, y, _ = (torch.as_tensor(np.array(a)) for a in problem())
    w = torch.as_tensor(np.asarray(w_np, dtype=np.float64))
    per = torch.func.vmap(torch.func.grad(lambda w_, x, t: 0.5 * (x @ w_ - t) ** 2), in_dims=(None, 0, 0))(w, X, y)
    s2 = per.var(dim=0, unbiased=False).sum()
    n = len(per)
    return float(per.mean(0).norm() / torch.sqrt(s2 / m * (n - m) / (n - 1)))


@lru_cache(maxsize=None)
def snr_table() -> dict:
    """The signal-to-noise ratio at the start (w_0 = 0) and near the minimiser (every coordinate 0.01 off)."""
    _, _, w_star = problem()
    return {m: (snr(np.zeros(DIM), m), snr(w_star + 0.01, m)) for m in BATCHES}


def noise_step() -> Step:
    table = snr_table()

    def oracle():
        _, _, w_star = problem()
        trials = []
        for m in BATCHES:
            trials += [(f"M = {m} | start", table[m][0], _torch_snr(np.zeros(DIM), m)),
                       (f"M = {m} | near w*", table[m][1], _torch_snr(w_star + 0.01, m))]
        return compare_trials(trials, rtol=1e-10)

    start = ", ".join(f"{table[m][0]:.2f}" for m in BATCHES)
    near = ", ".join(f"{table[m][1]:.3f}" for m in BATCHES)
    return Step("sgd-noise",
                tex(r"\frac{\|\bar g(w)\|}{\sqrt{\mathbb{E}\|g_B - \bar g\|^2}}: \quad %s \text{ at } w_0 = 0, "
                    r"\quad %s \text{ near } w^* \quad (M = %s)" % (start, near, ", ".join(map(str, BATCHES)))),
                "the signal-to-noise ratio of a batch gradient in this least-squares instance: the mean gradient "
                "against the noise of the batch above; near $w^*$ means every coordinate $0.01$ away",
                checks=(CheckSpec("oracle", "per-sample gradients by torch.func.vmap(grad) and torch's variance",
                                  oracle),))


def floor_step() -> Step:
    r = runs()
    tail = {k: float(np.mean(v[-TAIL:])) for k, v in r.items()}
    ratio = tail["SGD constant"] / tail["SGD quarter"]

    def oracle():
        theirs = _torch_runs()
        return compare_trials([(k, r[k], theirs[k]) for k in r], rtol=1e-9)

    return Step("sgd-floor",
                tex(r"\frac{\text{excess loss of SGD at } \gamma}{\text{excess loss of SGD at } \gamma/4} = %.2f, "
                    r"\qquad \frac{\text{SGD with decaying } \gamma_k}{\text{SGD at } \gamma} = %.3f"
                    % (ratio, tail["SGD decaying"] / tail["SGD constant"])),
                f"mean excess loss $L(w) - L(w^*)$ over the last {TAIL} of {EPOCHS} epochs, one sample an update, "
                f"$\\gamma = {LR:g}$: with a constant learning rate SGD stalls at a level that scales with $\\gamma$; "
                "with $\\gamma_k = \\gamma / (1 + k/N)$ it keeps approaching the minimum",
                checks=(CheckSpec("oracle", "every run recomputed by torch.optim.SGD with autograd", oracle),))


STYLE = {"GD": ("C0", "-"), "SGD constant": ("C1", "-"), "SGD quarter": ("C2", "--"), "SGD decaying": ("C3", "-.")}
LABELS = {"GD": rf"GD, $\gamma = {LR:g}$", "SGD constant": rf"SGD, $\gamma = {LR:g}$",
          "SGD quarter": rf"SGD, $\gamma = {LR / 4:g}$", "SGD decaying": r"SGD, $\gamma_k = \gamma/(1 + k/N)$"}


def make_sgd_figure(path):
    """Left: excess loss per epoch, GD against SGD. Right: the signal-to-noise ratio along the GD path."""
    plt = pyplot()
    r = runs()
    with plt.rc_context(PRINT):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(inches(1.0), 2.8))
        for name, curve in r.items():
            color, ls = STYLE[name]
            a1.semilogy(np.arange(len(curve)), curve, color=color, ls=ls, label=LABELS[name])
        a1.set_xlabel("epoch (passes over the data)")
        a1.set_ylabel(r"$L(w) - L(w^*)$")
        a1.legend(loc="upper right")
        w, trail = np.zeros(DIM), [np.zeros(DIM)]
        for _ in range(60):
            w = w - 0.2 * sample_gradients(w).mean(0)
            trail.append(w)
        for m in BATCHES:
            a2.semilogy([snr(p, m) for p in trail], label=f"$M = {m}$")
        a2.axhline(1, color="k", lw=0.8, ls=":")
        a2.set_xlabel(r"GD step ($\gamma = 0.2$)")
        a2.set_ylabel("signal-to-noise ratio")
        a2.legend(loc="lower left")
        for a in (a1, a2):
            a.grid(alpha=0.3)
        save(fig, path)


def _figure_check():
    def run():
        rng = np.random.default_rng(2)
        trials = []
        for _ in range(3):
            w = rng.normal(size=DIM)
            trials += [(f"M = {m}", snr(w, m), _torch_snr(w, m)) for m in BATCHES]
        return compare_trials(trials, rtol=1e-10)

    return CheckSpec("oracle", "the ratio at random points against torch.func per-sample gradients", run)


def figure_checks():
    """The right panel's ratio against torch; the left panel's curves are the runs the step "sgd-floor" holds
    against torch.optim.SGD (the same cached computation)."""
    return (_figure_check(),)
