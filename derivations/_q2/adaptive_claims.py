"""Question 2, part (h): the seed's remarks on RMSprop and Adam, each answered by a computation.

How long the bias correction lasts, what Adam adds to RMSprop, PyTorch's default epsilon, sparse gradients, the
state each method keeps, whether beta sets the step size, and a computed instance of adaptive methods settling
elsewhere than gradient descent.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import sympy as sp

from symdl import ref
from symdl.document.derivation import Step, math as display, tex
from symdl.verify.builders import symbolic_equal
from symdl.verify.spec import CheckSpec, compare_trials

from _q2.common import _check

BETAS = (sp.Rational(9, 10), sp.Rational(999, 1000))
WITHIN = sp.Rational(1, 100)  # "within 1 percent of 1"
SHOWN = (1, 10, 100, 1000)


def correction_factor(t, betas=BETAS):
    """What Adam's two bias corrections do to a step after t updates, under a steady gradient:
    sqrt(1 - beta_2^t) / (1 - beta_1^t), the corrected step over the uncorrected one. To 30 digits (exact powers of
    999/1000 would be numbers of thousands of digits, and their square roots a factorisation)."""
    b1, b2 = (sp.Float(b, 30) for b in betas)
    return sp.sqrt(1 - b2**t) / (1 - b1**t)


def correction_lasts(betas=BETAS, within=WITHIN) -> int:
    """The first t from which the factor stays within ``within`` of 1 (it is below 1 and, past the first tens of
    steps, increasing)."""
    t = 1
    while correction_factor(t, betas) < 1 - within or correction_factor(t + 1, betas) < correction_factor(t, betas):
        t += 1
    return t


def bias_duration_step() -> Step:
    lasts = correction_lasts()
    at = {t: correction_factor(t) for t in SHOWN}

    def proof():
        values = [correction_factor(t) for t in range(1, lasts + 200)]
        below = all(v < 1 - WITHIN for v in values[:lasts - 1])
        rising = all(b > a for a, b in zip(values[59:], values[60:]))
        ok = below and 1 - WITHIN <= values[lasts - 1] and all(v < 1 for v in values) and rising
        return ok, (f"sqrt(1 - 0.999^t) / (1 - 0.9^t) is below 0.99 for every t < {lasts} (at most "
                    f"{float(max(values[:lasts - 1])):.6f}), {float(values[lasts - 1]):.6f} at t = {lasts}, below 1 "
                    f"and rising from t = 60 to {lasts + 199}"), None

    def oracle():
        from symdl.verify.oracles import optim as oracles_optim

        trials = []
        for t in SHOWN:
            g = np.full((t, 1), 0.3)  # a steady gradient
            rec = oracles_optim.adam_records(np.array([0.0]), g, 1.0, (0.9, 0.999), 0.0)[-1]
            before = [0.0 if rec[k] is None else float(np.ravel(rec[k])[0]) for k in ("exp_avg", "exp_avg_sq")]
            m_t = 0.9 * before[0] + 0.1 * 0.3  # torch's moments after update t
            v_t = 0.999 * before[1] + 0.001 * 0.3**2
            step = abs(float(np.ravel(rec["after"] - rec["param"])[0]))
            trials.append((f"t = {t}", step / (m_t / math.sqrt(v_t)), float(at[t])))
        return compare_trials(trials, rtol=1e-9)

    values = ", ".join(f"{float(v):.2f}" for v in at.values())
    return Step("bias-duration",
                tex(r"\frac{\sqrt{1 - \beta_2^{t}}}{1 - \beta_1^{t}} = %s \text{ at } t = %s; \qquad \ge 0.99 "
                    r"\iff t \ge %d" % (values, ", ".join(map(str, SHOWN)), lasts)),
                "what the two corrections do to a step after $t$ updates, under a steady gradient, with "
                "$\\beta_1 = 0.9$ and $\\beta_2 = 0.999$: $\\beta_1$'s correction fades within tens of steps, "
                "$\\beta_2$'s lasts thousands",
                checks=(_check("symbolic", "the factor on each side of the threshold, to 30 digits", proof, 60),
                        CheckSpec("oracle", "torch.optim.Adam's step under a steady gradient (eps = 0, learning "
                                            "rate 1) over the uncorrected step from torch's own moments", oracle)))


def adam_without_momentum() -> tuple:
    """``(Adam's update with beta_1 = 0, RMSprop's with alpha = beta_2 and v bias-corrected)``, in Adam's
    symbols (the seed audit grades the seed's claim with the same pair)."""
    adam, rms = ref("optim.adam"), ref("optim.rmsprop")
    a, r = adam.symbols, rms.symbols
    adam0 = adam.expanded().subs(a[r"\beta_1"], 0)
    same = {r["w_t"]: a["w_t"], r["v_t"]: a["v_t"], r["g_t"]: a["g_t"], r[r"\gamma"]: a[r"\gamma"],
            r[r"\epsilon"]: a[r"\epsilon"], r[r"\alpha"]: a[r"\beta_2"]}
    v_next = a[r"\beta_2"] * a["v_t"] + (1 - a[r"\beta_2"]) * a["g_t"] ** 2
    corrected = rms.expanded().xreplace(same).xreplace(
        {sp.sqrt(v_next): sp.sqrt(v_next / (1 - a[r"\beta_2"] ** (a["t"] + 1)))})
    return adam0, corrected


def adam_without_momentum_step() -> Step:
    """Adam with beta_1 = 0 is RMSprop (alpha = beta_2) whose v is bias-corrected."""
    adam0, corrected = adam_without_momentum()
    return Step("adam-beta1-zero",
                tex(r"\beta_1 = 0: \quad w_{t+1} = ") + display(adam0),
                "Adam without its first moment is RMSprop with $\\alpha = \\beta_2$ and a bias-corrected $v$; with "
                "$\\beta_1 > 0$ the numerator becomes a moving average of gradients, that is momentum with "
                "dampening: “Adam is RMSprop plus momentum” holds up to the dampening and the two corrections",
                checks=(symbolic_equal(adam0, corrected, "Adam at beta_1 = 0 against RMSprop with v corrected"),))


def eps_default_step() -> Step:
    def oracle():
        import torch

        p = [torch.nn.Parameter(torch.zeros(1))]
        got = [torch.optim.RMSprop(p).defaults["eps"], torch.optim.Adam(p).defaults["eps"]]
        ok = got == [1e-8, 1e-8]
        return ok, f"torch.optim.RMSprop and torch.optim.Adam default eps: {got}", None

    return Step("eps-default", tex(r"\epsilon_{\mathrm{RMSprop}} = \epsilon_{\mathrm{Adam}} = 10^{-8}"),
                "PyTorch's defaults; Keras uses $10^{-7}$: the seed's order of magnitude is right",
                checks=(CheckSpec("oracle", "the defaults read from torch.optim", oracle),))


def sparse_step() -> Step:
    def oracle():
        import torch

        out = {}
        for name, make in (("RMSprop", torch.optim.RMSprop), ("Adagrad", torch.optim.Adagrad)):
            emb = torch.nn.Embedding(6, 2, sparse=True).double()
            start = emb.weight.detach().clone()
            opt = make(emb.parameters(), lr=0.1)
            emb(torch.tensor([1, 4])).sum().backward()
            try:
                with warnings.catch_warnings():  # torch warns that it skips sparse invariant checks
                    warnings.simplefilter("ignore", UserWarning)
                    opt.step()
                moved = (emb.weight.detach() - start).abs().sum(1)
                out[name] = f"accepted, rows moved {[int(i) for i in torch.nonzero(moved).flatten()]}"
            except RuntimeError as exc:
                out[name] = f"refused ({str(exc).splitlines()[0]})"
        ok = out["RMSprop"].startswith("refused") and out["Adagrad"] == "accepted, rows moved [1, 4]"
        return ok, f"a sparse gradient of an embedding (rows 1 and 4): RMSprop {out['RMSprop']}; Adagrad {out['Adagrad']}", None

    return Step("adagrad", tex(r"v_{t+1} = v_t + g_t^2, \qquad w_{t+1} = w_t - \gamma\, \frac{g_t}{\sqrt{v_{t+1}} + "
                               r"\epsilon}"),
                "Adagrad sums the squared gradients instead of averaging them, so a coordinate that is rarely "
                "updated keeps a large learning rate: the motivation for sparse problems is Adagrad's. PyTorch's "
                "RMSprop refuses sparse gradients, its Adagrad accepts them",
                checks=(CheckSpec("oracle", "torch.optim.RMSprop and torch.optim.Adagrad on a sparse embedding "
                                            "gradient", oracle),), relation="def")


def torch_optimizer_state() -> dict:
    """The names of the tensors of a parameter's size that torch.optim keeps after one step, for RMSprop
    and Adam (the seed audit grades the seed's cost claim with the same oracle)."""
    import torch

    count = {}
    for name, make in (("RMSprop", torch.optim.RMSprop), ("Adam", torch.optim.Adam)):
        p = torch.nn.Parameter(torch.ones(3))
        opt = make([p], lr=0.1)
        (p ** 2).sum().backward()
        opt.step()
        count[name] = sorted(k for k, v in opt.state[p].items() if torch.is_tensor(v) and v.shape == p.shape)
    return count


def state_step() -> Step:
    def oracle():
        count = torch_optimizer_state()
        ok = len(count["RMSprop"]) == 1 and len(count["Adam"]) == 2
        return ok, f"per-parameter state after one step: RMSprop {count['RMSprop']}, Adam {count['Adam']}", None

    return Step("state", tex(r"\text{RMSprop keeps } v_t, \qquad \text{Adam keeps } m_t \text{ and } v_t"),
                "one moving average a parameter against two, and Adam's update adds the first moment and both "
                "corrections: RMSprop costs less memory and arithmetic a step, not more",
                checks=(CheckSpec("oracle", "the state tensors torch.optim keeps per parameter", oracle),),
                relation="def")


def adam_first_step() -> Step:
    adam = ref("optim.adam")
    s = adam.symbols
    g = sp.Symbol("g_t", positive=True)
    first = adam.expanded().xreplace({s["m_t"]: 0, s["v_t"]: 0, s[r"\epsilon"]: 0, s["t"]: 0, s["g_t"]: g})
    step = sp.simplify(first - s["w_t"])
    return Step("adam-first-step", tex(r"w_1 - w_0 = ") + display(step) + tex(r" \text{ for every } \beta_1, \beta_2"),
                "Adam's first step, from $m_0 = v_0 = 0$ with $\\epsilon = 0$ and a positive gradient, has length "
                "$\\gamma$ whatever the decays: $\\beta$ averages the gradients, the learning rate still sets the step, "
                "and schedules for $\\gamma$ are used with Adam as with SGD",
                checks=(symbolic_equal(step, -s[r"\gamma"], "Adam's first update simplified"),))


def _underdetermined():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(6, 20))
    y = rng.normal(size=6)
    return X, y, np.linalg.pinv(X) @ y


def generalisation_step() -> Step:
    """On an underdetermined least-squares problem GD from 0 stays in the row space and finds the minimum-norm
    solution; Adam fits the data too, at a different point."""

    def run():
        import torch

        X, y, w_min = _underdetermined()
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        out = {}
        for name, make, steps in (("SGD", lambda p: torch.optim.SGD(p, lr=0.02), 2000),
                                  ("Adam", lambda p: torch.optim.Adam(p, lr=0.01), 5000)):
            w = torch.nn.Parameter(torch.zeros(20, dtype=torch.float64))
            opt = make([w])
            for _ in range(steps):
                opt.zero_grad()
                (0.5 * ((Xt @ w - yt) ** 2).sum()).backward()
                opt.step()
            w_ = w.detach().numpy()
            out[name] = (float(np.linalg.norm(X @ w_ - y)), float(np.linalg.norm(w_ - w_min)),
                         float(np.linalg.norm(w_)))
        fits = 1e-2 * np.linalg.norm(y)
        ok = bool(out["SGD"][0] < 1e-9 and out["SGD"][1] < 1e-9 and out["Adam"][0] < fits
              and out["Adam"][1] > 100 * out["Adam"][0] and out["Adam"][2] > np.linalg.norm(w_min))
        detail = "; ".join(f"{k}: residual {v[0]:.1e}, distance to the minimum-norm solution {v[1]:.3g}, norm "
                           f"{v[2]:.3g}" for k, v in out.items())
        return ok, f"{detail}; minimum norm {np.linalg.norm(w_min):.3g}", None

    return Step("adaptive-solution",
                tex(r"\min_w \tfrac{1}{2}\lVert X w - y \rVert^2,\ X \in \mathbb{R}^{6 \times 20}: \quad "
                    r"w_{\mathrm{GD}} = X^{+} y \ne w_{\mathrm{Adam}}"),
                "an instance, not a theorem: with more unknowns than equations every method that fits the data "
                "picks one of infinitely many solutions; gradient descent from 0 finds the one of least norm, Adam "
                "another, of larger norm. Which generalises better depends on the problem; that adaptive methods "
                "often generalise worse is an empirical finding",
                checks=(CheckSpec("oracle", "torch.optim.SGD (2000 steps) and torch.optim.Adam (5000 steps) against the "
                                            "pseudo-inverse", run),), relation="\\ne")


def eps_ratios(alpha: float = 0.99, eps: float = 1e-8) -> dict:
    """The first RMSprop step with epsilon inside the root over the step with it outside, at three gradient sizes
    (1 - alpha) g^2 = 100 eps, eps, eps / 100: (sqrt(1 - alpha) |g| + eps) / sqrt((1 - alpha) g^2 + eps)."""
    out = {}
    for ratio in (100.0, 1.0, 0.01):
        g = math.sqrt(ratio * eps / (1 - alpha))
        out[ratio] = (math.sqrt(1 - alpha) * g + eps) / math.sqrt((1 - alpha) * g * g + eps)
    return out

