"""The seed audit, question 2, part (h): the computations behind the seed's remarks on RMSprop and Adam.

The updates are symdl's references (optim.rmsprop, optim.adam), which torch.optim is held against elsewhere;
where a remark is about PyTorch itself (its defaults, its state, sparse gradients), PyTorch is asked.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import sympy as sp

from _audit.findings import num
from _q2.adaptive_claims import adam_without_momentum, torch_optimizer_state


def _rms_is_not_std():
    g, alpha = 0.1, 0.9
    v = 0.0
    for _ in range(200):
        v = alpha * v + (1 - alpha) * g * g
    rng = np.random.default_rng(5)
    zero_mean = 0.01 * rng.normal(size=200000)
    agree = abs(math.sqrt(np.mean(zero_mean ** 2)) / np.std(zero_mean) - 1)
    return abs(v - g * g) < 1e-9 and agree < 1e-3, (
        f"$\\sqrt{{v}}$ estimates the root mean square, not the standard deviation: a constant gradient $g = {g}$ "
        f"gives $g/\\sqrt{{v}} = {num(g / math.sqrt(v), 3)}$ with no spread at all. For a zero-mean gradient the two "
        f"agree (to ${num(agree, 1)}$): the mean must be small against the spread, not the gradient"), None


def _eps():
    import torch

    from symdl import ref

    p = [torch.nn.Parameter(torch.zeros(1))]
    defaults = {torch.optim.RMSprop(p).defaults["eps"], torch.optim.Adam(p).defaults["eps"]}
    rms = ref("optim.rmsprop")
    at_zero = {"w_t": 0.0, "v_t": 0.0, "g_t": 0.0, r"\gamma": 0.01, r"\alpha": 0.99}
    with np.errstate(invalid="ignore", divide="ignore"):
        guarded, bare = (float(rms.evaluate({**at_zero, r"\epsilon": e})) for e in (1e-7, 0.0))
    step = {e: float(rms.evaluate({"w_t": 0.0, "v_t": 1e-6, "g_t": 1e-3, r"\gamma": 1.0, r"\alpha": 0.99,
                                   r"\epsilon": e})) for e in (0.0, 1e-7)}
    impact = abs(step[1e-7] / step[0.0] - 1)
    (default,) = defaults
    ok = len(defaults) == 1 and 0.1 <= default / 1e-7 <= 10 and guarded == 0.0 and math.isnan(bare) and impact < 1e-3
    return ok, (f"PyTorch's default is $\\epsilon = {num(default)}$, within a factor of 10 of the seed's; it keeps "
                f"the step defined at $v = 0$ and changes it by ${num(impact)}$ where $\\sqrt{{v}} = 10^{{-3}}$. "
                f"RMSprop and Adam alike; at $v = g = 0$ the step is ${num(guarded)}$ with $\\epsilon = 10^{{-7}}$ "
                "and undefined with $\\epsilon = 0$"), None


def per_coordinate_cost(name: str) -> dict:
    """State and arithmetic of one step of an optimiser, as symdl's reference defines it: the moving averages
    carried from step to step, and the operations of each definition and of the update, counted once each,
    split into per-coordinate operations (those touching w, g or a moment) and per-step scalar ones."""
    from symdl import ref

    r = ref(name)
    coord = {r.symbols[k] for k in ("w_t", "g_t", "m_t", "v_t") if k in r.symbols} | set(r.definitions)
    state = sorted(str(s) for s in coord if str(s) in ("m_t", "v_t"))
    counts = {"per coordinate": 0, "scalar": 0}

    def count(node, in_product=False):
        if node.is_Atom:
            return
        if node.is_Add:
            own = len(node.args) - 1
        elif node.is_Mul:  # a factor -1 is the subtraction of the enclosing sum; a reciprocal factor a division
            own = len([a for a in node.args if a != -1]) - 1
        elif node.is_Pow and node.exp == -1 and in_product:
            own = 0
        else:
            own = 1  # a power (square, root, reciprocal) or a function
        counts["per coordinate" if node.free_symbols & coord else "scalar"] += own
        for a in node.args:
            count(a, node.is_Mul)

    for expr in (*r.definitions.values(), r.expr):
        count(expr)
    return {"state": state, **counts}


def _cost():
    rms, adam = per_coordinate_cost("optim.rmsprop"), per_coordinate_cost("optim.adam")
    ok = len(rms["state"]) < len(adam["state"]) and rms["per coordinate"] < adam["per coordinate"]
    return ok, (f"RMSprop keeps {len(rms['state'])} moving average and does ${rms['per coordinate']}$ operations a "
                f"coordinate, Adam {len(adam['state'])} and ${adam['per coordinate']}$: RMSprop costs less, not more. "
                f"Adam adds ${adam['scalar']}$ a step for its bias corrections (each definition counted once)"), None


def _torch_state():
    count = torch_optimizer_state()
    ok = len(count["RMSprop"]) == 1 and len(count["Adam"]) == 2
    return ok, (f"after one step PyTorch keeps, per parameter, {len(count['RMSprop'])} tensor of its size for "
                f"RMSprop ({', '.join(count['RMSprop'])}) and {len(count['Adam'])} for Adam "
                f"({', '.join(count['Adam'])})").replace("_", " "), None


def _bias_correction_unlike_rmsprop():
    from symdl import ref

    adam, rms = ref("optim.adam"), ref("optim.rmsprop")
    t = adam.symbols["t"]
    depends = sp.diff(adam.expanded(), t) != 0
    rms_free = {str(s) for s in rms.expanded().free_symbols}
    return depends and "t" not in rms_free, (r"Adam's update depends on the step count $t$, through "
                                             r"$1/(1 - \beta_1^{t+1})$ and $1/(1 - \beta_2^{t+1})$; RMSprop's does "
                                             "not: Adam has a bias correction, RMSprop none"), None


def _bias_correction_lasts():
    from symdl import ref

    r = ref("optim.adam")
    m, v, g, b1, b2 = 0.2, 0.05, 0.3, 0.9, 0.999
    uncorrected = -(b1 * m + (1 - b1) * g) / math.sqrt(b2 * v + (1 - b2) * g * g)
    ratio = {}
    for t in (0, 100, 1000, 20000):
        step = float(r.evaluate({"w_t": 0.0, "m_t": m, "v_t": v, "g_t": g, r"\gamma": 1.0, r"\beta_1": b1,
                                 r"\beta_2": b2, r"\epsilon": 0.0, "t": t}))
        ratio[t] = step / uncorrected
    ok = abs(ratio[0] - 1) > 0.5 and abs(ratio[100] - 1) > 0.5 and abs(ratio[20000] - 1) < 1e-6
    return ok, (f"the correction rescales a step by ${num(ratio[100])}$ at $t = 100$ and ${num(ratio[1000])}$ at "
                "$t = 1000$: it undoes the zero start of the averages for thousands of steps, it does not damp "
                f"oscillation. With $\\beta_1 = 0.9$, $\\beta_2 = 0.999$ the factor is ${num(ratio[0], 3)}$ at "
                f"$t = 0$ and ${num(ratio[20000], 7)}$ at $t = 20000$; damping is the first moment's averaging, so "
                "“hence preferred for oscillatory problems” does not follow"), None


def _step_size_beta():
    from symdl import ref

    r = ref("optim.adam")
    steps = []
    for b1 in (0.5, 0.9):
        vals = {"w_t": 0.0, "m_t": 0.0, "v_t": 0.0, "g_t": 3.7, r"\gamma": 0.01, r"\beta_1": b1, r"\beta_2": 0.999,
                r"\epsilon": 1e-12, "t": 0}
        steps.append(float(r.evaluate(vals)))
    ok = all(abs(s + 0.01) < 1e-9 for s in steps)
    return ok, (f"Adam's first step is ${num(steps[0], 6)}$ at $\\beta_1 = 0.5$ and ${num(steps[1], 6)}$ at $0.9$: "
                "$\\beta$ averages the gradient, $\\gamma$ sets the step. The gradient is $3.7$ and "
                "$\\gamma = 0.01$"), None


def _adam_without_momentum():
    adam0, corrected = adam_without_momentum()
    same_update = sp.simplify(adam0 - corrected) == 0
    return same_update, (r"with $\beta_1 = 0$ Adam's update is RMSprop's with $\alpha = \beta_2$ and a bias-corrected "
                         "$v$: their difference simplifies to 0"), None


def _first_moment_is_momentum():
    from symdl import ref

    rng = np.random.default_rng(12)
    torch_form = ref("optim.sgd_momentum_torch")
    worst = 0.0
    for _ in range(20):
        m, g, b1 = rng.normal(size=3), rng.normal(size=3), float(rng.uniform(0.5, 0.999))
        buffer = -torch_form.evaluate({r"\theta_{t-1}": np.zeros(3), "b_{t-1}": m, "g_t": g, r"\gamma": 1.0,
                                       r"\mu": b1, r"\tau": b1, "t": 2})
        worst = max(worst, float(np.max(np.abs(buffer - (b1 * m + (1 - b1) * g)))))
    return worst < 1e-12, (r"Adam is RMSprop plus damped momentum, up to its corrections: its $m$ follows the "
                           r"recurrence of PyTorch's momentum buffer with $\mu = \beta_1$ and dampening "
                           r"$\tau = \beta_1$. At 20 random points the largest difference is "
                           rf"${num(worst)}$; PyTorch's buffer starts at $g_1$, Adam's $m$ at 0"), worst


def _sparse_refused():
    import torch

    out = {}
    for name, make in (("RMSprop", torch.optim.RMSprop), ("Adam", torch.optim.Adam), ("Adagrad", torch.optim.Adagrad)):
        emb = torch.nn.Embedding(6, 2, sparse=True).double()
        start = emb.weight.detach().clone()
        opt = make(emb.parameters(), lr=0.1)
        emb(torch.tensor([1, 4])).sum().backward()
        try:
            with warnings.catch_warnings():  # torch warns that it skips its sparse invariant checks
                warnings.simplefilter("ignore", UserWarning)
                opt.step()
        except RuntimeError as exc:
            out[name] = "refuses it (“" + str(exc).splitlines()[0].split(",")[0] + "”)"
            continue
        moved = [int(i) for i in torch.nonzero((emb.weight.detach() - start).abs().sum(1)).flatten()]
        out[name] = "takes it and moves only rows " + " and ".join(map(str, moved))
    ok = out["RMSprop"].startswith("refuses") and out["Adagrad"].endswith("rows 1 and 4")
    return ok, (f"given a sparse gradient, PyTorch's RMSprop {out['RMSprop']}, as does its Adam; Adagrad, made for "
                f"sparse features, {out['Adagrad']}. The gradient is an embedding's, rows 1 and 4 used"), None


def _adam_fit(X, y, steps: int, lr: float):
    """Full-batch Adam (PyTorch's defaults beta = (0.9, 0.999), eps = 1e-8) on the mean squared loss, from 0."""
    n, d = X.shape
    w, m, v = np.zeros(d), np.zeros(d), np.zeros(d)
    for t in range(steps):
        g = X.T @ (X @ w - y) / n
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        w = w - lr * (m / (1 - 0.9 ** (t + 1))) / (np.sqrt(v / (1 - 0.999 ** (t + 1))) + 1e-8)
    return w


def _adam_matches_reference() -> float:
    """The largest difference over 5 steps between _adam_fit and symdl's optim.adam, stepped by hand."""
    from symdl import ref

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(4, 3)), rng.normal(size=4)
    w, m, v = np.zeros(3), np.zeros(3), np.zeros(3)
    for t in range(5):
        g = X.T @ (X @ w - y) / 4
        w = np.asarray(ref("optim.adam").evaluate({"w_t": w, "m_t": m, "v_t": v, "g_t": g, r"\gamma": 0.01,
                                                   r"\beta_1": 0.9, r"\beta_2": 0.999, r"\epsilon": 1e-8, "t": t}))
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
    return float(np.max(np.abs(w - _adam_fit(X, y, 5, 0.01))))


def _generalisation():
    rng = np.random.default_rng(0)
    n, d = 20, 30
    X, X_test = rng.normal(size=(n, d)), rng.normal(size=(4000, d))
    errors = {}
    for truth, w_true in (("Gaussian", rng.normal(size=d)), ("sign", np.sign(rng.normal(size=d)))):
        y, y_test = X @ w_true, X_test @ w_true
        w_gd = np.zeros(d)
        for _ in range(20000):
            w_gd = w_gd - 0.02 * X.T @ (X @ w_gd - y) / n
        w_adam = _adam_fit(X, y, 20000, 0.003)
        fits = max(np.linalg.norm(X @ w - y) for w in (w_gd, w_adam)) / np.linalg.norm(y) < 1e-3
        errors[truth] = [fits] + [float(np.mean((X_test @ w - y_test) ** 2) / np.mean(y_test ** 2))
                                  for w in (w_gd, w_adam)]
    (f1, g1, a1), (f2, g2, a2) = errors.values()
    ok = f1 and f2 and a1 > g1 and a2 < g2 and _adam_matches_reference() < 1e-12
    return ok, (f"Adam's solution tests worse than GD's for Gaussian true weights (${num(a1)}$ against ${num(g1)}$) "
                f"and better for $\\pm 1$ weights (${num(a2)}$ against ${num(g2)}$): a tendency, not a property of "
                f"the methods. Both fit an underdetermined least-squares problem, {n} equations in {d} unknowns, "
                "exactly; the error is relative, on fresh data"), None
