"""The seed audit, question 2, part (g): the computations behind the claims in words about the heavy ball.

On the quadratic f(w) = lambda w^2 / 2 the heavy ball is a linear recurrence whose characteristic polynomial is
r^2 - (1 + beta - gamma lambda) r + beta: it converges exactly when both roots lie inside the unit circle.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from symdl.core.printing import latex

from _audit.findings import num


def _dampening():
    from symdl import ref

    rng = np.random.default_rng(4)
    w, w_prev, g, lr, beta = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3), 0.1, 0.9
    hb = ref("optim.heavy_ball").evaluate({"w_t": w, "w_{t-1}": w_prev, "g_t": g, r"\gamma": lr, r"\beta": beta})
    torch_form = ref("optim.sgd_momentum_torch").evaluate(
        {r"\theta_{t-1}": w, "b_{t-1}": (w_prev - w) / lr, "g_t": g, r"\gamma": lr, r"\mu": beta, r"\tau": 0.0,
         "t": 2})
    err = float(np.max(np.abs(hb - torch_form)))
    return err < 1e-12, (r"$\beta$ is the momentum coefficient, PyTorch's momentum $\mu$ with dampening $\tau = 0$: "
                         rf"the heavy ball and PyTorch's SGD agree to ${num(err)}$. PyTorch's dampening is another "
                         r"thing, a factor $1 - \tau$ on the gradient"), err


def spectral_radius(beta, gl):
    """The largest root modulus of r^2 - (1 + beta - gl) r + beta, gl = gamma lambda."""
    return max(abs(r) for r in np.roots([1, -(1 + beta - gl), beta]))


def _beta_range():
    bad = 0
    betas, gls = np.linspace(-0.98, 0.98, 50), np.linspace(0.02, 3.98, 100)
    for b in betas:
        for gl in gls:
            inside = 0 < gl < 2 * (1 + b) and abs(2 * (1 + b) - gl) > 1e-9
            if inside != (spectral_radius(b, gl) < 1):
                bad += 1
    rho = spectral_radius(-0.5, 0.5)
    return bad == 0 and rho < 1, (
        r"the heavy ball converges exactly when $|\beta| < 1$ and $0 < \gamma\lambda < 2(1 + \beta)$, negative "
        r"$\beta$ included: $[0, 1)$ is the range used in practice, not the range where it converges. On a "
        f"quadratic all {len(betas) * len(gls)} grid points agree; at $\\beta = -0.5$, $\\gamma\\lambda = 0.5$ the "
        f"spectral radius is ${num(rho, 3)}$"), None


def _negative_beta_is_not_gd():
    from symdl import ref

    r = ref("optim.heavy_ball")
    s = r.symbols
    gd = s["w_t"] - s[r"\gamma"] * s["g_t"]
    diff = sp.factor(r.expr.subs(s[r"\beta"], sp.Rational(-1, 2)) - gd)
    zero_at_0 = sp.simplify(r.expr.subs(s[r"\beta"], 0) - gd) == 0
    return diff != 0 and zero_at_0, (f"at $\\beta = -1/2$ the update differs from GD's by ${latex(diff)}$: only "
                                     r"$\beta = 0$ is GD. The difference is zero only when $w_t = w_{t-1}$, and at "
                                     r"$\beta = 0$ always"), None


def _beta_above_one():
    rng = np.random.default_rng(31)
    worst = min(spectral_radius(b, gl) / math.sqrt(b)
                for b, gl in zip(rng.uniform(1 + 1e-6, 3, 2000), rng.uniform(0.01, 8, 2000)))
    b, g, r_ = sp.symbols("beta gamma_lambda r")
    roots = sp.solve(r_ ** 2 - (1 + b - g) * r_ + b, r_)
    product = sp.simplify(roots[0] * roots[1])
    return worst >= 1 - 1e-12 and product == b, (
        r"the two roots multiply to $\beta$, so for $\beta > 1$ one has $|r| \ge \sqrt{\beta} > 1$: the iteration "
        "blows up. Solved symbolically; at 2000 random points with $\\beta \\in (1, 3]$, "
        f"$\\max|r| / \\sqrt{{\\beta}} \\ge {num(worst, 6)}$"), None


def _usual_betas():
    grid = np.linspace(0.001, 1, 400)
    window = {}
    for beta in (0.9, 0.99):
        edge = 2 * (1 + beta)
        stable = all(spectral_radius(beta, f * edge * (1 - 1e-9)) < 1 for f in grid)
        window[beta] = (stable and spectral_radius(beta, edge * 1.01) > 1, edge, 1 / (1 - beta))
    ok = all(v[0] for v in window.values())
    (_, e9, h9), (_, e99, h99) = window.values()
    return ok, (rf"at $\beta = 0.9$ and $0.99$ the heavy ball is stable for every $\gamma\lambda < {num(e9, 3)}$ "
                rf"and ${num(e99, 3)}$ (GD: $2$), and averages over about ${num(h9)}$ and ${num(h99)}$ steps. These are "
                "the values the course recommends"), None
