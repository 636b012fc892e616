"""Question 2: GD, SGD, heavy ball and PyTorch's SGD, RMSprop, Adam, and the NONMONO learning-rate rule.

Results are computed by SymPy from the recurrences of symdl.models.optim
(sp.diff of the loss, batches enumerated, recurrences unrolled, the
characteristic polynomial solved, expectations taken by linearity) and held
against torch.optim step by step in float64.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import sympy as sp

from symdl import oracles_optim, ref
from symdl.checks import symbolic_equal
from symdl.calculus import substitute_definitions
from symdl.derivation import (Derivation, Figure, Prose, ReferenceBlock, Section, Step, Table, Text, math as display,
                              prose, tex)
from symdl.models import optim as O
from symdl.models._display import ordered_product, ordered_sum, ordered_xreplace, reciprocal, with_partials
from symdl.verify import CheckSpec, compare_trials, relative_error
from symdl.figures import pyplot, save

QUESTION = (
    "Optimisation. Consider minimising $L(\\hat Y_\\theta(X), y) = \\frac{1}{N}\\sum_i \\ell(\\hat y_\\theta(x_i), y_i)$ "
    "over $\\theta$. Give the gradient-descent and mini-batch SGD updates; the heavy-ball form of SGD with momentum "
    "and the range of $\\beta$; the RMSprop and Adam updates; and explain the learning-rate rule that divides the "
    "rate by LR_DECAY depending on NONMONO."
)

S = O.S
r, gl = sp.Symbol("r"), sp.Symbol(r"\gamma\lambda", real=True)
beta, gamma, lam = O.beta, O.gamma, sp.Symbol(r"\lambda", positive=True)
K = 6
gs = sp.symbols("g_1:7", real=True)
rates = sp.symbols(r"\gamma_1:7", positive=True)
theta0 = S(r"\theta_0")


def _check(method, description, fn, timeout=None):
    return CheckSpec(method, description, fn, timeout=timeout if method == "symbolic" else None)


def _differs(a, b, what: str) -> tuple:
    """A refutation check's outcome: passed when the two values differ (``a`` is the claim refuted)."""
    err = relative_error(a, b)
    return err > 1e-6, f"{what}: {np.asarray(a).tolist()} against {np.asarray(b).tolist()} (relative gap {err:.3g})", err


# -- 1. GD and SGD ----------------------------------------------------------------------------------

N_, M_ = sp.Symbol("N", integer=True, positive=True), sp.Symbol("M", integer=True, positive=True)
i_ = sp.Symbol("i", integer=True, positive=True)


class ell(sp.Function):  # noqa: N801  (a function name, as sp.Function's)
    r""":math:`\ell_i(\theta)`, sample ``i``'s loss (arguments ``i``, ``\theta``), written as the course writes it."""

    nargs = 2

    def _latex(self, printer, exp=None):
        return r"\ell_{%s}(%s)" % (printer._print(self.args[0]), printer._print(self.args[1]))


def _as_course_writes(e):
    r"""For display: ``\frac{1}{N} \sum_i \frac{\partial \ell_i(\theta)}{\partial \theta}``, from SymPy's
    ``\frac{\sum_i \frac{\partial}{\partial \theta} \ell(i, \theta)}{N}``."""
    return ordered_product(reciprocal(N_), with_partials(e * N_))
th = S(r"\theta")


def mean_loss_gradient():
    """d/dtheta of (1/N) sum_i l(i, theta), by sp.diff on the symbolic sum (any N)."""
    return sp.diff(sp.Sum(ell(i_, th), (i_, 1, N_)) / N_, th)


def enumerated_expectation(n: int, m: int):
    """The mean, over every batch of size m from n samples, of the batch's mean gradient."""
    g = sp.symbols(f"g_1:{n + 1}", real=True)
    batches = list(combinations(range(n), m))
    return sp.Add(*[sp.Add(*[g[j] for j in b]) / m for b in batches]) / len(batches), g


def _gd_steps():
    grad = mean_loss_gradient()
    claim_rhs = sp.Sum(sp.Derivative(ell(i_, th), th), (i_, 1, N_)) / N_
    gd_step = Step("gd-gradient", tex(r"\frac{\partial L}{\partial \theta} = ") + display(_as_course_writes(grad)),
                   "the derivative of a finite sum is the sum of the derivatives ($\\partial$ passes through "
                   "$\\frac{1}{N}\\sum_i$; SymPy's diff of the symbolic sum, any $N$)",
                   checks=(symbolic_equal(grad, claim_rhs, "sp.diff of the symbolic sum"),))

    e42, g4 = enumerated_expectation(4, 2)

    def enum_proof():
        for n in range(1, 7):
            for m in range(1, n + 1):
                e, g = enumerated_expectation(n, m)
                if sp.expand(e - sp.Add(*g) / n) != 0:
                    return False, f"differs at N = {n}, M = {m}", None
        return True, "every (N, M) with 1 <= M <= N <= 6: the average over all C(N, M) batches is the mean", None

    def enum_numeric():
        rng = np.random.default_rng(1)
        trials = []
        for n, m in ((5, 2), (7, 3), (8, 8)):
            G = rng.normal(size=(n, 3))
            avg = np.mean([G[list(b)].mean(axis=0) for b in combinations(range(n), m)], axis=0)
            trials.append((f"N = {n}, M = {m}", avg, G.mean(axis=0)))
        return compare_trials(trials)

    enum_step = Step(
        "sgd-unbiased-4-2",
        tex(r"\mathbb{E}_B\Big[\frac{1}{|B|}\sum_{j \in B} g_j\Big] = \frac{1}{6}\sum_{|B| = 2} "
            r"\frac{1}{2}\sum_{j \in B} g_j = ") + display(sp.factor(e42)),
        "enumerating all 6 batches of size $M = 2$ from $N = 4$ samples, each equally likely",
        checks=(_check("symbolic", "every batch enumerated, SymPy expands the average", enum_proof, 60),
                _check("numeric", "average over every batch in float64 against the full mean", enum_numeric)))
    share = sp.binomial(N_ - 1, M_ - 1) / sp.binomial(N_, M_)
    general = sp.simplify(sp.gammasimp(sp.expand_func(share)))
    general_step = Step(
        "sgd-unbiased-general",
        tex(r"\frac{C(N-1, M-1)}{C(N, M)} = ") + display(general)
        + tex(r" \quad\Rightarrow\quad \mathbb{E}_B\Big[\frac{1}{M}\sum_{j \in B} g_j\Big] = "
              r"\frac{1}{M}\cdot\frac{M}{N}\sum_{i=1}^{N} g_i = \frac{1}{N}\sum_{i=1}^{N} g_i"),
        "each sample lies in $C(N-1, M-1)$ of the $C(N, M)$ batches (SymPy's gammasimp of the ratio); "
        "expectation is linear",
        checks=(symbolic_equal(general, M_ / N_, "the ratio of binomials is M/N for symbolic N, M"),
                _check("symbolic", "the same from the enumeration at N = 4, M = 2",
                       lambda: (sp.expand(e42 - sp.Add(*g4) / 4) == 0, "expanded difference is 0", None), 60)),
        boxed=True)
    return gd_step, enum_step, general_step


# -- 2. heavy ball and PyTorch's SGD ---------------------------------------------------------------


def mapping_solution():
    """Solve heavy ball's step 2 = PyTorch's step 2 (same rates) for beta_2 and the dampening tau."""
    b2 = sp.Symbol(r"\beta_2")
    torch_run = O.unroll_torch_sgd(2, theta0, gs, rates, O.mu, O.tau)
    heavy_run = O.unroll_heavy_ball(2, theta0, gs, rates, [0, b2])
    diff = sp.expand(torch_run[2] - heavy_run[2])
    eqs = [diff.coeff(g) for g in gs[:2]]
    sol = sp.solve(eqs, [b2, O.tau], dict=True)
    return sol, b2


def _mapping_step():
    """Which heavy ball is PyTorch's SGD: SymPy solves for beta_2 and tau; torch under a varying rate."""
    sol, b2 = mapping_solution()
    beta_2 = sol[0][b2] if len(sol) == 1 else None

    def solve_check():
        ok = len(sol) == 1 and sp.simplify(sol[0][b2] - O.mu * rates[1] / rates[0]) == 0 and sol[0][O.tau] == 0
        if ok:
            return ok, ("sp.solve on the coefficients of g_1 and g_2 gives one solution: beta_2 = mu gamma_2 / gamma_1 "
                        "and tau = 0"), None
        return ok, f"sp.solve on the coefficients of g_1 and g_2 gives {len(sol)} solutions, not that one", None

    def varying_rate_oracle():
        rng = np.random.default_rng(21)
        hb = ref("optim.heavy_ball")
        trials = []
        for mu_ in (0.5, 0.9):
            for d in (3, 6):
                grads = rng.normal(size=(O.ORACLE_STEPS, d))
                lrs = 0.05 * (1.5 + np.sin(np.arange(O.ORACLE_STEPS)))
                recs = oracles_optim.sgd_records(rng.normal(size=d), grads, float(lrs[0]), mu_, 0.0, lrs)
                for k, rec in enumerate(recs):
                    b = 0.0 if k == 0 else mu_ * lrs[k] / lrs[k - 1]
                    prev = rec["param"] if rec["previous"] is None else rec["previous"]
                    got = hb.evaluate({"w_t": rec["param"], "w_{t-1}": prev, "g_t": rec["grad"],
                                       r"\gamma_t": lrs[k], r"\beta_t": b})
                    trials.append((f"mu = {mu_}, d = {d}, step {k + 1}", got, rec["after"]))
        return compare_trials(trials, rtol=O.ORACLE_RTOL)

    solve_step = Step(
        "mapping", tex(r"\beta_2 = ") + display(beta_2) + tex(r", \qquad \tau = 0"),
        "SymPy solves heavy ball's $w_2$ = PyTorch's $\\theta_2$ (same rates $\\gamma_t$) for $\\beta_2$ and "
        "$\\tau$, matching the coefficients of $g_1$, $g_2$; in general $\\beta_t = \\mu\\gamma_t/\\gamma_{t-1}$, "
        "and $\\beta = \\mu$ when the rate is constant",
        checks=(_check("symbolic", "sp.solve of the coefficient equations", solve_check, 60),
                CheckSpec("oracle", "torch.optim.SGD(momentum=mu) under a varying rate against heavy ball with "
                                    "beta_t = mu gamma_t / gamma_(t-1), 120 steps", varying_rate_oracle)),
        boxed=True)
    return solve_step


def _induction_steps():
    """Heavy ball with beta_t = mu gamma_t / gamma_(t-1) is PyTorch's SGD at every step: base, step, unrolled."""
    # Base case: heavy ball from rest (w_{-1} = w_0) against PyTorch's b_1 = g_1.
    base_hb = O.unroll_heavy_ball(1, theta0, gs, rates, [beta])[1]
    base_pt = O.unroll_torch_sgd(1, theta0, gs, rates, O.mu, O.tau)[1]
    base = Step("induction-base", tex(r"w_1 = ") + display(base_hb) + tex(r" = \theta_1"),
                "base case: heavy ball starts at rest ($w_{-1} = w_0$), PyTorch sets $b_1 = g_1$, so neither "
                "$\\beta$ nor the dampening $\\tau$ acts on the first step",
                checks=(symbolic_equal(base_hb, base_pt, "one step of each, unrolled by SymPy"),))

    th1, th2, bprev, gt = S(r"\theta_{t-1}"), S(r"\theta_{t-2}"), S("b_{t-1}"), S("g_t")
    g_t1, g_t2 = S(r"\gamma_t"), S(r"\gamma_{t-1}")
    hyp = {th2: th1 + g_t2 * bprev}
    hb_step = (th1 - g_t1 * gt + O.mu * g_t1 / g_t2 * (th1 - th2)).xreplace(hyp)
    pt_step = th1 - g_t1 * (O.mu * bprev + gt)
    induct = Step(
        "induction-step", tex(r"w_t = ") + display(sp.expand(hb_step)) + tex(r" = \theta_{t-1} - \gamma_t b_t"),
        "inductive step: if $w_s = \\theta_s$ for $s < t$, then $\\theta_{t-2} = \\theta_{t-1} + \\gamma_{t-1} b_{t-1}$ "
        "(PyTorch's own update), and one heavy-ball step with $\\beta_t = \\mu\\gamma_t/\\gamma_{t-1}$ is one "
        "PyTorch step",
        checks=(symbolic_equal(hb_step, pt_step, "the hypothesis substituted, SymPy simplifies the difference"),))

    torch_run = O.unroll_torch_sgd(K, theta0, gs, rates, O.mu, 0)
    heavy_run = O.unroll_heavy_ball(K, theta0, gs, rates, [0] + [O.mu * rates[k] / rates[k - 1] for k in range(1, K)])
    theta3 = sp.collect(sp.expand(torch_run[3]), gs)
    unrolled = Step(
        "unrolled", tex(r"\theta_3 = ") + display(theta3),
        f"PyTorch's recurrence unrolled three steps by SymPy; heavy ball with $\\beta_t = \\mu\\gamma_t/\\gamma_{{t-1}}$ "
        f"gives the same $w_t$ for every $t \\le {K}$",
        checks=(symbolic_equal(sp.Matrix(torch_run), sp.Matrix(heavy_run), f"{K} unrolled steps of each, equal",
                               simplifier=lambda z: sp.simplify(sp.together(z))),))
    return base, induct, unrolled


def _non_pytorch_steps():
    """Two forms that are not PyTorch's: dampening, and Sutskever's rate inside the buffer."""
    torch_run = O.unroll_torch_sgd(2, theta0, gs, rates, O.mu, 0)
    damp_pt = O.unroll_torch_sgd(2, theta0, gs, rates, O.mu, O.tau)[2]
    damp_hb = O.unroll_heavy_ball(2, theta0, gs, rates, [0, O.mu * rates[1] / rates[0]])[2]
    damp_gap = sp.factor(damp_pt - damp_hb)
    damp = Step("dampening", tex(r"\theta_2 - w_2 = ") + display(damp_gap),
                "with dampening, PyTorch scales later gradients by $1 - \\tau$ but not the first: no heavy ball "
                "with the same rates matches unless $\\tau = 0$",
                checks=(symbolic_equal(damp_gap, O.tau * rates[1] * gs[1], "two unrolled steps, factored"),))

    sut = O.unroll_sutskever(K, theta0, gs, rates, O.mu)
    sut_gap = sp.factor(sp.expand(sut[2] - torch_run[2]))
    heavy_const = O.unroll_heavy_ball(K, theta0, gs, rates, [0] + [O.mu] * (K - 1))
    sutskever = Step(
        "sutskever", tex(r"\theta^{\mathrm{S}}_2 - \theta_2 = ") + display(sut_gap),
        "Sutskever's form $v_t = \\mu v_{t-1} + \\gamma_t g_t$, $\\theta_t = \\theta_{t-1} - v_t$ puts the rate "
        "inside the buffer: it is heavy ball with constant $\\beta = \\mu$, and differs from PyTorch as soon as "
        "the rate changes",
        checks=(symbolic_equal(sut_gap, O.mu * gs[0] * (rates[1] - rates[0]), "two unrolled steps, factored"),
                symbolic_equal(sp.Matrix(sut), sp.Matrix(heavy_const),
                               f"Sutskever equals heavy ball with beta = mu for {K} steps")))
    return damp, sutskever


# -- 3. stability on a quadratic ------------------------------------------------------------------

w_t, w_prev, w_next = S("w_t"), S("w_{t-1}"), S("w_{t+1}")


def quadratic_recurrence():
    """Heavy ball's update with g_t = f'(w_t) for f = lambda w^2 / 2, and gamma lambda written as one symbol."""
    f = lam * w_t**2 / 2
    hb = ref("optim.heavy_ball").expr.xreplace({S("g_t"): sp.diff(f, w_t)})
    return sp.collect(sp.expand(hb).subs(gamma * lam, gl), [w_t, w_prev]), sp.diff(f, w_t)


def characteristic_polynomial():
    rec, _ = quadratic_recurrence()
    # w_t = r^t: divide w_{t+1} - rec by r^{t-1}.
    return sp.collect(sp.expand(w_next - rec).xreplace({w_next: r**2, w_t: r, w_prev: 1}), r)


def spectral_radius(glv, bv):
    return np.max(np.abs(np.roots([1.0, -(1.0 + bv - glv), bv])))


def in_region(glv, bv):
    return abs(bv) < 1 and 0 < glv < 2 * (1 + bv)


def _region_witness():
    def run():
        p = characteristic_polynomial()
        coeffs = [float(c) for c in sp.Poly(p.subs({gl: sp.Rational(3, 7), beta: sp.Rational(2, 5)}), r).all_coeffs()]
        if not np.allclose(coeffs, [1.0, -(1 + 0.4 - 3 / 7), 0.4], rtol=1e-15, atol=0):
            return False, f"the derived polynomial has coefficients {coeffs}", None
        count, wrong = 0, []
        for glv in np.linspace(-1, 5, 121):
            for bv in np.linspace(-1.5, 1.5, 121):
                margin = min(abs(abs(bv) - 1), abs(glv), abs(glv - 2 * (1 + bv)))
                if margin < 1e-9:
                    continue
                count += 1
                if (spectral_radius(glv, bv) < 1) != in_region(glv, bv):
                    wrong.append((glv, bv))
        if wrong:
            return False, f"{len(wrong)} of {count} grid points disagree, e.g. (gamma lambda, beta) = {wrong[0]}", None
        return True, f"{count} grid points of (gamma lambda, beta) in [-1, 5] x [-1.5, 1.5]: numpy.roots's largest " \
                     f"|r| < 1 exactly inside the region", None

    return CheckSpec("numeric", "region against the roots of the derived polynomial on a grid", run)


def _stability_steps():
    rec, grad = quadratic_recurrence()
    p = characteristic_polynomial()
    roots = list(sp.roots(sp.Poly(p, r)).keys())
    p1, pm1, p0 = sp.expand(p.subs(r, 1)), sp.expand(p.subs(r, -1)), sp.expand(p.subs(r, 0))
    want_p = r**2 - (1 + beta - gl) * r + beta

    grad_step = Step("quadratic-model", tex(r"f(w) = \tfrac{1}{2}\lambda w^2, \qquad g_t = f'(w_t) = ") + display(grad),
                     "sp.diff of the quadratic", checks=(symbolic_equal(grad, lam * w_t, "sp.diff"),), relation="def")
    rec_step = Step("recurrence", tex(r"w_{t+1} = \left(") + display(rec.coeff(w_t)) + tex(r"\right) w_t - ")
                    + display(-rec.coeff(w_prev)) + tex(r"\, w_{t-1}"),
                    "$g_t = \\lambda w_t$ substituted into optim.heavy_ball, collected in $w_t$, $w_{t-1}$",
                    checks=(symbolic_equal(rec, (1 + beta - gl) * w_t - beta * w_prev, "expanded difference"),))
    c2, c1, c0 = sp.Poly(p, r).all_coeffs()
    poly_step = Step("characteristic", tex(r"p(r) = ") + display(c2 * r**2) + tex(r" - \left(") + display(-c1)
                     + tex(r"\right) r + ") + display(c0),
                     "$w_t = r^t$ substituted and divided by $r^{t-1}$: the characteristic polynomial",
                     checks=(symbolic_equal(p, want_p, "against r^2 - (1 + beta - gamma lambda) r + beta"),),
                     boxed=True)
    roots_step = Step("roots", tex(r"r_1 r_2 = ") + display(sp.simplify(roots[0] * roots[1]))
                      + tex(r", \qquad r_1 + r_2 = ") + display(sp.simplify(roots[0] + roots[1])),
                      "the roots from sp.roots, multiplied and added (Vieta)",
                      checks=(symbolic_equal(sp.Matrix([roots[0] * roots[1], roots[0] + roots[1]]),
                                             sp.Matrix([beta, 1 + beta - gl]), "product and sum of sp.roots"),))
    region = Step(
        "region", tex(r"p(1) = ") + display(p1) + tex(r" > 0, \quad p(-1) = ") + display(pm1)
        + tex(r" > 0, \quad |p(0)| = |") + display(p0)
        + tex(r"| < 1 \iff |\beta| < 1, \; 0 < \gamma\lambda < 2(1 + \beta)"),
        "both roots inside the unit circle (Jury's conditions for a monic quadratic), evaluated on the derived "
        "$p$; outside the region some root has $|r| \\ge 1$ and $w_t$ does not converge to 0",
        checks=(symbolic_equal(sp.Matrix([p1, pm1, p0]), sp.Matrix([gl, 2 + 2 * beta - gl, beta]),
                               "p(1), p(-1), p(0) from the derived polynomial"), _region_witness()),
        boxed=True)
    return grad_step, rec_step, poly_step, roots_step, region


def _grading_steps():
    hb = ref("optim.heavy_ball").expr
    gd_form = hb.xreplace({beta: 0})

    at = {w_t: 1, w_prev: 0, S("g_t"): 1, gamma: sp.Rational(1, 10)}
    neg = hb.xreplace({**at, beta: sp.Rational(-1, 2)})
    gd_val = gd_form.xreplace(at)
    zero_step = Step("beta-zero", tex(r"\beta = 0: \quad w_{t+1} = ") + display(gd_form),
                     "heavy ball with $\\beta = 0$ is exactly gradient descent",
                     checks=(symbolic_equal(gd_form, w_t - gamma * S("g_t"), "substitution"),))
    neg_step = Step(
        "beta-negative",
        tex(r"\beta = -\tfrac{1}{2},\; w_t = 1,\; w_{t-1} = 0,\; g_t = 1,\; \gamma = \tfrac{1}{10}: \quad w_{t+1} = ")
        + display(neg) + tex(r" \ne ") + display(gd_val),
        "counterexample to the seed's \"$\\beta < 0$ is simply GD\": a negative $\\beta$ pulls back along the last "
        "step (and for $-1 < \\beta < 0$ still converges inside the region)",
        checks=(_check("symbolic", "exact rationals substituted into the heavy-ball and GD updates",
                       lambda: (neg != gd_val, f"heavy ball gives {neg}, GD gives {gd_val}", None), 60),))

    p = characteristic_polynomial()
    roots = list(sp.roots(sp.Poly(p, r)).keys())

    def above_one():
        rng = np.random.default_rng(31)
        worst = np.inf
        for _ in range(2000):
            bv, glv = rng.uniform(1.0 + 1e-6, 3.0), rng.uniform(-2.0, 8.0)
            worst = min(worst, spectral_radius(glv, bv) / np.sqrt(bv))
        return worst >= 1 - 1e-12, f"2000 random points with beta in (1, 3]: max|r| / sqrt(beta) >= {worst:.6g}", None

    above = Step("beta-above-one", tex(r"|r_1|\,|r_2| = |\beta| > 1 \;\Rightarrow\; \max_i |r_i| \ge \sqrt{\beta} > 1"),
                 "the seed's \"$\\beta > 1$ blows up\" is right: by Vieta some root lies outside the unit circle, "
                 "for every step size",
                 checks=(symbolic_equal(sp.simplify(roots[0] * roots[1]), beta, "product of sp.roots"),
                         CheckSpec("numeric", "largest root modulus at random (gamma lambda, beta > 1)", above_one)),
                 relation="=>")

    disc = sp.factor(sp.discriminant(p.subs(beta, 1), r))

    def at_one():
        lows = []
        for glv in (0.5, 1.0, 3.0):
            w = [1.0, 1.0]
            for _ in range(2000):
                w.append(float(ref("optim.heavy_ball").evaluate(
                    {"w_t": w[-1], "w_{t-1}": w[-2], "g_t": glv * w[-1], r"\gamma": 1.0, r"\beta": 1.0})))
            lows.append(max(abs(x) for x in w[-200:]))
        ok = min(lows) > 0.1
        return ok, f"gamma lambda = 0.5, 1, 3 from w_0 = w_-1 = 1: max |w_t| over steps 1800..2000 is " \
                   f"{', '.join(f'{x:.3g}' for x in lows)} (no decay)", None

    one = Step("beta-one", tex(r"\beta = 1: \quad \operatorname{disc} p = ") + display(disc)
               + tex(r" < 0 \text{ for } 0 < \gamma\lambda < 4, \quad |r_1| = |r_2| = \sqrt{r_1 r_2} = 1"),
               "at $\\beta = 1$ the roots sit on the unit circle (or one is outside): the iterates oscillate "
               "forever and never converge: $\\beta = 1$ is excluded, as the seed's $[0, 1)$ excludes it",
               checks=(symbolic_equal(disc, gl * (gl - 4), "discriminant of p at beta = 1"),
                       CheckSpec("numeric", "2000 heavy-ball steps at beta = 1 via optim.heavy_ball", at_one)),
               relation="=>")
    return zero_step, neg_step, above, one


def make_region_figure(path):
    """max |r| over the (gamma lambda, beta) plane, a diverging colour scale centred at |r| = 1; the computed
    |r| = 1 contour drawn in black over the wider, pale lines of the region's boundary."""
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.lines import Line2D

    plt = pyplot()
    G, B = np.meshgrid(np.linspace(0, 4.5, 301), np.linspace(-1.2, 1.2, 241))
    c = 1 + B - G  # the roots (c +- sqrt(c^2 - 4 beta)) / 2 of p, vectorised over the grid
    root = np.sqrt((c**2 - 4 * B).astype(complex))
    rho = np.maximum(np.abs((c + root) / 2), np.abs((c - root) / 2))
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    im = ax.imshow(np.minimum(rho, 1.5), origin="lower", extent=(G.min(), G.max(), B.min(), B.max()), aspect="auto",
                   cmap="RdBu_r", norm=TwoSlopeNorm(vmin=0.0, vcenter=1.0, vmax=1.5), interpolation="nearest")
    bb = np.linspace(-1, 1, 50)
    ax.plot(2 * (1 + bb), bb, color="gold", ls="--", lw=4, zorder=2, label=r"$\gamma\lambda = 2(1+\beta)$")
    ax.axhline(1, color="limegreen", ls="--", lw=4, zorder=2, label=r"$\beta = 1$")
    ax.contour(G, B, rho, levels=[1.0], colors="k", linewidths=1.2, zorder=3)
    ax.plot([0, 2], [0, 0], color="darkorange", lw=2.5, zorder=4, label=r"GD: $\beta = 0$, $0 < \gamma\lambda < 2$")
    ax.set_xlabel(r"$\gamma\lambda$")
    ax.set_ylabel(r"$\beta$")
    ax.set_title(r"largest $|r|$ of $r^2 - (1+\beta-\gamma\lambda) r + \beta$")
    fig.colorbar(im, ax=ax, label=r"$\max |r|$ (white at 1, capped at 1.5)")
    handles, _ = ax.get_legend_handles_labels()
    contour = Line2D([], [], color="k", lw=1.2, label=r"$|r| = 1$, computed")
    ax.legend(handles=[contour, *handles], fontsize=7, loc="lower right")
    save(fig, path)


# -- 4. RMSprop and Adam ------------------------------------------------------------------------------


def ema_expectation(T: int, decay):
    """E[a_T] of the moving average from a_0 = 0 when every x_k has mean G: unroll, then linearity."""
    xs = sp.symbols(f"x_1:{T + 1}", real=True)
    G = sp.Symbol(r"\mathbb{E}[g]")
    a_T = O.unroll_ema(T, decay, xs)[T]
    return sp.expand(a_T).xreplace({x: G for x in xs}), G


def _eps_step():
    """Where epsilon sits: outside the root, as torch.optim.RMSprop has it, not inside."""
    rms = ref("optim.rmsprop")
    v_next = next(k for k in rms.definitions if k.name == "v_{t+1}")
    denominator = next(e for e in sp.preorder_traversal(rms.expr) if e.is_Add and sp.sqrt(v_next) in e.args)
    inside = ordered_xreplace(rms.expr, {denominator: sp.sqrt(ordered_sum(v_next, O.eps))})
    point = {"w_t": 1.0, "v_t": 0.0, "g_t": 1e-3, r"\gamma": 0.01, r"\alpha": 0.99, r"\epsilon": 1e-8}

    def run():
        if inside == rms.expr:
            return False, "the inside variant could not be formed from the reference", None
        at = {rms.symbols[k]: sp.Float(v) for k, v in point.items()}
        w_in = float(substitute_definitions(inside, rms.definitions).xreplace(at))
        w_ref = float(rms.evaluate(point))
        torch_w1 = oracles_optim.rmsprop_records(np.array([1.0]), np.array([[1e-3]]), 0.01, 0.99, 1e-8)[0]["after"]
        agree = relative_error(np.array([w_ref]), torch_w1)
        gap = relative_error(np.array([w_in]) - 1.0, torch_w1 - 1.0)
        ok = agree <= O.ORACLE_RTOL and gap > 1e-3
        return ok, (f"first step from w_0 = 1, g_1 = 1e-3, gamma = 0.01, alpha = 0.99, eps = 1e-8: torch.optim.RMSprop "
                    f"gives {float(torch_w1[0])!r}, the reference {w_ref!r} (relative error {agree:.3g}); eps inside the root "
                    f"gives {w_in!r}, a step {gap:.3g} off"), agree

    return Step("eps-outside", tex(r"w_{t+1} = ") + display(rms.expr) + tex(r" \ne ") + display(inside),
                "$\\epsilon$ is added after the square root: with a small gradient the two placements give steps "
                "that differ by about 30 percent, and only the first is PyTorch's",
                checks=(CheckSpec("oracle", "first RMSprop step against torch.optim.RMSprop, both placements", run),),
                relation="\\ne")


def _bias_steps():
    """Why Adam divides by 1 - beta_1^t: the moving average from m_0 = 0, unrolled, and its expectation."""
    b1 = O.beta1
    t_, k_ = sp.Symbol("t", integer=True, positive=True), sp.Symbol("k", integer=True, positive=True)
    b1p = sp.Symbol(r"\beta_1", positive=True)
    unrolled_general = (1 - b1p) * sp.Sum(b1p ** (t_ - k_) * sp.Symbol("g_k"), (k_, 1, t_))
    expect_general = sp.summation((1 - b1p) * b1p ** (t_ - k_), (k_, 1, t_))

    def ema_proof():
        for T in range(1, 9):
            xs = sp.symbols(f"x_1:{T + 1}", real=True)
            a = O.unroll_ema(T, b1, xs)[T]
            want = (1 - b1) * sp.Add(*[b1 ** (T - k) * xs[k - 1] for k in range(1, T + 1)])
            if sp.expand(a - want) != 0:
                return False, f"differs at t = {T}", None
        return True, "the recurrence unrolled t = 1..8 steps from m_0 = 0 equals the sum", None

    def bias_proof():
        for T in range(1, 11):
            e, G = ema_expectation(T, b1)
            if sp.expand(e - (1 - b1**T) * G) != 0:
                return False, f"differs at t = {T}", None
        return True, "t = 1..10: the unrolled m_t with every g_k replaced by E[g] expands to (1 - beta_1^t) E[g]", None

    unroll_step = Step("ema", tex(r"m_t = ") + display(unrolled_general),
                       "Adam's first moment from $m_0 = 0$, unrolled by SymPy",
                       checks=(_check("symbolic", "unrolled recurrence against the sum", ema_proof, 60),))
    e5, G = ema_expectation(5, b1)
    bias_step = Step(
        "bias", tex(r"\mathbb{E}[m_t] = \mathbb{E}[g] \sum_{k=1}^{t} (1-\beta_1)\beta_1^{t-k} = ")
        + tex(r"\left(") + display(sp.factor(expect_general)) + tex(r"\right)\mathbb{E}[g]"),
        "expectation is linear; a stationary gradient has the same mean $\\mathbb{E}[g]$ at every step, and "
        "SymPy sums the geometric series. Dividing by $1 - \\beta_1^t$ removes the bias: "
        "$\\mathbb{E}[\\hat m_t] = \\mathbb{E}[g]$ (the same for $v_t$ with $\\beta_2$ and $g^2$)",
        checks=(symbolic_equal(expect_general, 1 - b1p**t_, "sp.summation of the weights, symbolic t"),
                _check("symbolic", "unrolled, expectation by linearity", bias_proof, 60),
                symbolic_equal(sp.factor(e5), (1 - b1**5) * G, "t = 5 factored")),
        boxed=True)
    return unroll_step, bias_step


def _rearranged_step():
    """PyTorch's rearranged Adam update is the textbook one."""
    textbook, pytorch = O.adam_forms(ref("optim.adam"))
    rearranged = Step(
        "pytorch-adam", tex(r"w_t - \frac{\gamma}{c_1}\,\frac{M}{\sqrt{V}/\sqrt{c_2} + \epsilon} = "
                            r"w_t - \gamma\,\frac{M / c_1}{\sqrt{V / c_2} + \epsilon} = "
                            r"w_t - \gamma\,\frac{\hat m_{t+1}}{\sqrt{\hat v_{t+1}} + \epsilon}"),
        "PyTorch computes step_size $= \\gamma/(1-\\beta_1^s)$ and denom $= \\sqrt{v}/\\sqrt{1-\\beta_2^s} + \\epsilon$ "
        "with $s = t + 1$; writing $M = m_{t+1}$, $V = v_{t+1}$, $c_i = 1 - \\beta_i^s > 0$, it equals the textbook "
        "$w_t - \\gamma \\hat m_{t+1}/(\\sqrt{\\hat v_{t+1}} + \\epsilon)$; $\\epsilon$ stays outside the root",
        checks=(symbolic_equal(textbook, pytorch, "SymPy simplifies the difference (positive M, V, c_1, c_2)"),
                *[c for c in ref("optim.adam").checks if c.method == "oracle"]))
    return rearranged


def _seed_adam_step():
    """The seed's Adam (numerator m_t) against torch.optim.Adam: it does not move on the first step."""
    # The seed's Adam: numerator m_t instead of the corrected m_{t+1} / (1 - beta_1^{t+1}).
    adam = ref("optim.adam")
    d = {k.name: k for k in adam.definitions}
    seed_expr = ordered_xreplace(adam.expr, {d[r"\hat{m}_{t+1}"]: S("m_t"), d[r"\hat{v}_{t+1}"]: d["v_{t+1}"]})
    first = {"w_t": 1.0, "m_t": 0.0, "v_t": 0.0, "g_t": 0.5, r"\gamma": 0.1, r"\beta_1": 0.9, r"\beta_2": 0.999,
             r"\epsilon": 1e-8, "t": 0}

    def seed_value():
        e = substitute_definitions(seed_expr, adam.definitions)
        return float(e.xreplace({adam.symbols[k]: sp.Float(v) for k, v in first.items()}))

    def refute():
        torch_w1 = oracles_optim.adam_records(np.array([1.0]), np.array([[0.5]]), 0.1, (0.9, 0.999), 1e-8)[0]["after"]
        return _differs(np.array([seed_value()]), torch_w1,
                        "first step from w_0 = 1, g_1 = 0.5, gamma = 0.1: the seed's w_1 against torch.optim.Adam's")

    seed_step = Step(
        "seed-adam", tex(r"w_{t+1} = ") + display(seed_expr)
        + tex(r": \quad w_1 = w_0 \text{ at } m_0 = 0, \text{ while Adam moves by about } \gamma"),
        "the seed's numerator $m_t$ is refuted by a counterexample: on the first step $m_0 = 0$, so the seed's "
        "update does not move; torch.optim.Adam takes a step of about $\\gamma\\,\\mathrm{sign}(g_1)$. The "
        "numerator must be the new, bias-corrected $\\hat m_{t+1}$",
        checks=(CheckSpec("oracle", "the seed's update against torch.optim.Adam (a refutation: passes when they "
                                    "differ)", refute),),
        relation="\\ne")
    return seed_step


def _uncorrected_step():
    """Dropping the bias correction scales the first step by (1 - beta_1)/sqrt(1 - beta_2)."""
    adam = ref("optim.adam")
    d = {k.name: k for k in adam.definitions}
    uncorrected = adam.expr.xreplace({d[r"\hat{m}_{t+1}"]: d["m_{t+1}"], d[r"\hat{v}_{t+1}"]: d["v_{t+1}"]})
    unc = substitute_definitions(uncorrected, adam.definitions)
    w_sym, gsym = adam.symbols["w_t"], adam.symbols["g_t"]
    step_ratio = (w_sym - unc) / (w_sym - substitute_definitions(adam.expr, adam.definitions))
    ratio_first = step_ratio.xreplace({adam.symbols["m_t"]: 0, adam.symbols["v_t"]: 0, adam.symbols[r"\epsilon"]: 0,
                                       adam.symbols["t"]: 0})
    ratio_num = sp.simplify(ratio_first.subs({gsym: sp.Rational(1, 2), O.beta1: sp.Rational(9, 10),
                                              O.beta2: sp.Rational(999, 1000)}))
    unc_step = Step(
        "uncorrected", tex(r"\frac{\text{step without correction}}{\text{step with correction}}\Big|_{t=0,\,\epsilon=0} "
                           r"= ") + display(sp.simplify(ratio_first)) + tex(r" = ") + display(ratio_num)
        + tex(r" \text{ at } \beta_1 = 0.9, \beta_2 = 0.999"),
        "even with $m_{t+1}$, dropping the bias correction scales the first step by "
        "$(1-\\beta_1)/\\sqrt{1-\\beta_2}$: with the usual decays about 3.16 times too large",
        checks=(symbolic_equal(ratio_num, sp.Rational(1, 10) / sp.sqrt(sp.Rational(1, 1000)),
                               "the two first steps' ratio"),))
    return unc_step


RMSPROP_ALGO = tex(
    r"\begin{aligned} &\textbf{input}: \gamma \text{ (lr)}, \; \alpha \text{ (decay)}, \; \epsilon, \; w_0, \; f \\ "
    r"&\textbf{initialize}: v_0 \leftarrow 0 \\ "
    r"&\textbf{for } t = 0, 1, \ldots: \\ &\quad g_t \leftarrow \nabla f(w_t) \\ "
    r"&\quad v_{t+1} \leftarrow \alpha v_t + (1 - \alpha) g_t^2 \\ "
    r"&\quad w_{t+1} \leftarrow w_t - \gamma \, g_t / (\sqrt{v_{t+1}} + \epsilon) \\ "
    r"&\textbf{return}: w_t \end{aligned}")
ADAM_ALGO = tex(
    r"\begin{aligned} &\textbf{input}: \gamma \text{ (lr)}, \; \beta_1, \beta_2 \text{ (betas)}, \; \epsilon, \; "
    r"w_0, \; f \\ "
    r"&\textbf{initialize}: m_0 \leftarrow 0, \; v_0 \leftarrow 0 \\ "
    r"&\textbf{for } t = 0, 1, \ldots: \\ &\quad g_t \leftarrow \nabla f(w_t) \\ "
    r"&\quad m_{t+1} \leftarrow \beta_1 m_t + (1 - \beta_1) g_t, \quad v_{t+1} \leftarrow \beta_2 v_t + "
    r"(1 - \beta_2) g_t^2 \\ "
    r"&\quad \hat m_{t+1} \leftarrow m_{t+1} / (1 - \beta_1^{t+1}), \quad \hat v_{t+1} \leftarrow "
    r"v_{t+1} / (1 - \beta_2^{t+1}) \\ "
    r"&\quad w_{t+1} \leftarrow w_t - \gamma \, \hat m_{t+1} / (\sqrt{\hat v_{t+1}} + \epsilon) \\ "
    r"&\textbf{return}: w_t \end{aligned}")
SGD_ALGO = tex(
    r"\begin{aligned} &\textbf{input}: \gamma_t \text{ (lr)}, \; \mu \text{ (momentum)}, \; \tau "
    r"\text{ (dampening)}, \; \theta_0, \; f \\ "
    r"&\textbf{for } t = 1, 2, \ldots: \\ &\quad g_t \leftarrow \nabla f(\theta_{t-1}) \\ "
    r"&\quad b_t \leftarrow g_t \text{ if } t = 1 \text{ else } \mu b_{t-1} + (1 - \tau) g_t \\ "
    r"&\quad \theta_t \leftarrow \theta_{t-1} - \gamma_t b_t \\ "
    r"&\textbf{return}: \theta_t \end{aligned}")
NONMONO_ALGO = tex(
    r"\begin{aligned} &\textbf{input}: \gamma_1 \text{ (lr)}, \; NONMONO, \; LR\_DECAY \\ "
    r"&\textbf{for } e = 1, 2, \ldots: \\ &\quad \text{train one epoch at } \gamma_e, \text{ then } "
    r"L_e \leftarrow \text{validation loss} \\ "
    r"&\quad \gamma_{e+1} \leftarrow \gamma_e / LR\_DECAY \text{ if } e > NONMONO \text{ and } "
    r"L_e > \min(L_1, \ldots, L_{e - NONMONO}) \text{ else } \gamma_e \\ "
    r"&\textbf{return}: \gamma_{e+1} \end{aligned}")


def _where(name) -> Prose:
    """The reference's defined names, each as ``name = definition``."""
    parts = [Text("where ")]
    for k, (sym, definition) in enumerate(ref(name).definitions.items()):
        parts += [Text(", ")] if k else []
        parts.append(display(definition, sym.name))
    return Prose(tuple(parts + [Text(".")]))


def _oracle_checks(name):
    return tuple(c for c in ref(name).checks if c.method == "oracle")


# -- 5. the NONMONO rule ----------------------------------------------------------------------------

LOSSES = (1.00, 0.90, 0.95, 0.93, 0.97, 1.02, 0.88, 0.91)
NONMONO, LR_DECAY, LR0 = 2, 4.0, 20.0


def seed_reading(losses, lr, lr_decay):
    """The seed's reading: divide when the current loss exceeds the lowest loss so far (no window)."""
    out = []
    for e in range(1, len(losses) + 1):
        if e > 1 and losses[e - 1] > min(losses[: e - 1]):
            lr = lr / lr_decay
        out.append(lr)
    return out


def rule_schedule(losses):
    rate, out = LR0, []
    for e in range(1, len(losses) + 1):
        rate = ref("optim.lr_decay_nonmono").evaluate({"lr": rate, "L": list(losses[:e]), "NONMONO": NONMONO,
                                                       "LR_DECAY": LR_DECAY})
        out.append(rate)
    return out


def _exact(x: float) -> str:
    """A rate as its shortest exact decimal (0.01953125, not 0.0195312)."""
    return np.format_float_positional(x, trim="-")


def _nonmono_blocks():
    rule = rule_schedule(LOSSES)
    seed = seed_reading(LOSSES, LR0, LR_DECAY)
    first = next(e for e in range(len(LOSSES)) if rule[e] != seed[e]) + 1

    def oracle():
        want = oracles_optim.nonmono_schedule(LOSSES, LR0, NONMONO, LR_DECAY)
        passed, detail, err = compare_trials([("the table's sequence", np.array(rule), np.array(want))], rtol=1e-15)
        differs = rule != seed
        return passed and differs, f"{detail}; the seed's reading differs first at epoch {first}", err

    rows = []
    for e in range(1, len(LOSSES) + 1):  # the window columns are shown, the decisions come from the two functions
        window = LOSSES[: e - NONMONO]
        rows.append((str(e), f"{LOSSES[e - 1]:.2f}", f"{min(window):.2f}" if e > NONMONO else "(none)",
                     f"{min(LOSSES[: e - 1]):.2f}" if e > 1 else "(none)", _exact(rule[e - 1]), _exact(seed[e - 1])))
    table = Table(("epoch e", "loss", f"best up to epoch e - {NONMONO}", "best up to epoch e - 1", "rate: the rule",
                   "rate: the seed's reading"),
                  tuple(rows), caption=f"NONMONO = {NONMONO}, LR_DECAY = {LR_DECAY:g}, starting rate {LR0:g}: the "
                                       "rate after each epoch", widths=(0.08, 0.08, 0.18, 0.18, 0.14, 0.16))
    step = Step(
        "nonmono-vs-seed",
        tex(r"e = %d: \; L_%d = %.2f,\; \min(L_1, \ldots, L_{%d}) = %.2f,\; \min(L_1, \ldots, L_{%d}) = %.2f"
            % (first, first, LOSSES[first - 1], first - NONMONO, min(LOSSES[: first - NONMONO]), first - 1,
               min(LOSSES[: first - 1]))),
        "the seed reads the rule as \"the current loss against the lowest loss so far\"; the rule compares with "
        "the best loss at least NONMONO epochs old, and never before epoch NONMONO + 1. At this epoch the rule "
        "keeps the rate and the seed's reading divides it",
        checks=(CheckSpec("oracle", "the rule's rates against an AWD-LSTM-style loop; the seed's reading "
                                    "differs", oracle),), relation="\\ne")
    return table, step


# -- figures: trajectories --------------------------------------------------------------------------

H = np.array([1.0, 25.0])  # an ill-conditioned quadratic, f(x) = sum_i H_i x_i^2 / 2
SAMPLES = 8


def _offsets(seed=5):
    """Per-sample shifts that sum to zero: sample i's gradient is f's minus H a_i, their mean is f's."""
    a = np.random.default_rng(seed).normal(0, 0.04, (SAMPLES, 2))
    return a - a.mean(axis=0)


def quad_grad(x):
    return H * x


def rosen_grad(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


PROBLEMS = {
    "quadratic": {"grad": quad_grad, "x0": np.array([-2.0, 0.9]), "steps": 150,
                  "lr": {"gd": 0.07, "sgd": 0.07, "heavy": 0.03, "rmsprop": 0.03, "adam": 0.1}},
    "rosenbrock": {"grad": rosen_grad, "x0": np.array([-1.2, 1.0]), "steps": 1500,
                   "lr": {"gd": 1.5e-3, "sgd": 1.5e-3, "heavy": 1.5e-4, "rmsprop": 5e-4, "adam": 0.02}},
}
MOMENTUM, BATCH = 0.9, 2


def batches(steps: int, seed=9):
    rng = np.random.default_rng(seed)
    return [sorted(rng.choice(np.arange(1, SAMPLES + 1), BATCH, replace=False).tolist()) for _ in range(steps)]


def trajectories(problem: str) -> dict:
    """Each optimiser's path, stepped by the optim references (numpy)."""
    P = PROBLEMS[problem]
    lr, a, out = P["lr"], _offsets(), {}
    per_sample = lambda x: np.stack([P["grad"](x) + H * (x - a[i]) - H * x for i in range(SAMPLES)])  # noqa: E731

    def run(step, x0=P["x0"]):
        xs, state = [x0], {}
        for k in range(P["steps"]):
            xs.append(step(xs, k, state))
        return np.array(xs)

    out["GD"] = run(lambda xs, k, s: ref("optim.gd").evaluate(
        {r"\theta_k": xs[-1], r"\gamma": lr["gd"], r"\nabla \ell_i(\theta_k)": per_sample(xs[-1])}))
    bs = batches(P["steps"])
    out["SGD (batch 2)"] = run(lambda xs, k, s: ref("optim.sgd").evaluate(
        {r"\theta_k": xs[-1], r"\gamma": lr["sgd"], r"\nabla \ell_i(\theta_k)": per_sample(xs[-1]), "B": bs[k]}))
    out["heavy ball"] = run(lambda xs, k, s: ref("optim.heavy_ball").evaluate(
        {"w_t": xs[-1], "w_{t-1}": xs[-2] if len(xs) > 1 else xs[-1], "g_t": P["grad"](xs[-1]),
         r"\gamma": lr["heavy"], r"\beta": MOMENTUM}))

    def rms(xs, k, s):
        g = P["grad"](xs[-1])
        v = s.get("v", np.zeros(2))
        s["v"] = 0.9 * v + 0.1 * g**2
        return ref("optim.rmsprop").evaluate({"w_t": xs[-1], "v_t": v, "g_t": g, r"\gamma": lr["rmsprop"],
                                              r"\alpha": 0.9, r"\epsilon": 1e-8})

    def adam(xs, k, s):
        g = P["grad"](xs[-1])
        m, v = s.get("m", np.zeros(2)), s.get("v", np.zeros(2))
        s["m"], s["v"] = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
        return ref("optim.adam").evaluate({"w_t": xs[-1], "m_t": m, "v_t": v, "g_t": g, r"\gamma": lr["adam"],
                                           r"\beta_1": 0.9, r"\beta_2": 0.999, r"\epsilon": 1e-8, "t": k})

    out["RMSprop"] = run(rms)
    out["Adam"] = run(adam)
    return out


def torch_trajectories(problem: str) -> dict:
    """The same paths by torch.optim and autograd (sample losses written in torch)."""
    import torch

    P = PROBLEMS[problem]
    lr, a, Ht = P["lr"], torch.as_tensor(_offsets()), torch.as_tensor(H)

    def f(x):
        if problem == "quadratic":
            return 0.5 * (Ht * x**2).sum()
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    def sample_loss(x, i):
        return f(x) + 0.5 * (Ht * (x - a[i]) ** 2).sum() - 0.5 * (Ht * x**2).sum()

    def run(make, samples=None):
        """``samples(k)``: the 0-based sample rows of step k, or None for the plain loss f."""
        p = torch.nn.Parameter(torch.as_tensor(P["x0"].copy()))
        opt, xs = make([p]), [p.detach().clone().numpy()]
        for k in range(P["steps"]):
            opt.zero_grad()
            rows = None if samples is None else samples(k)
            loss = f(p) if rows is None else sum(sample_loss(p, i) for i in rows) / len(rows)
            loss.backward()
            opt.step()
            xs.append(p.detach().clone().numpy())
        return np.array(xs)

    bs = batches(P["steps"])
    return {
        "GD": run(lambda ps: torch.optim.SGD(ps, lr=lr["gd"]), lambda k: range(SAMPLES)),
        "SGD (batch 2)": run(lambda ps: torch.optim.SGD(ps, lr=lr["sgd"]), lambda k: [j - 1 for j in bs[k]]),
        "heavy ball": run(lambda ps: torch.optim.SGD(ps, lr=lr["heavy"], momentum=MOMENTUM)),
        "RMSprop": run(lambda ps: torch.optim.RMSprop(ps, lr=lr["rmsprop"], alpha=0.9, eps=1e-8)),
        "Adam": run(lambda ps: torch.optim.Adam(ps, lr=lr["adam"], betas=(0.9, 0.999), eps=1e-8)),
    }


def _trajectory_check(problem):
    def run():
        ours, theirs = trajectories(problem), torch_trajectories(problem)
        trials = [(name, ours[name], theirs[name]) for name in ours]
        passed, detail, err = compare_trials(trials, rtol=1e-9)
        return passed, f"{PROBLEMS[problem]['steps']} steps each: {detail}", err

    return CheckSpec("oracle", f"every plotted path against torch.optim with autograd on the {problem}", run)


#: How each optimiser's path is drawn, and which step size (PROBLEMS[...]["lr"]) it runs at.
STYLES = {
    "GD": {"color": "C0", "ls": "-", "marker": "o", "lr": "gd"},
    "SGD (batch 2)": {"color": "C1", "ls": "--", "marker": "s", "lr": "sgd"},
    "heavy ball": {"color": "C2", "ls": "-.", "marker": "^", "lr": "heavy"},
    "RMSprop": {"color": "C3", "ls": ":", "marker": "v", "lr": "rmsprop"},
    "Adam": {"color": "C4", "ls": "-", "marker": "D", "lr": "adam"},
}


def _label(problem: str, name: str) -> str:
    """The legend entry: the method and its step size (and momentum)."""
    lr = PROBLEMS[problem]["lr"][STYLES[name]["lr"]]
    extra = rf", $\beta = {MOMENTUM:g}$" if name == "heavy ball" else ""
    return rf"{name}: $\gamma = {lr:g}${extra}"


def _landscape(ax, problem: str):
    """Contours of the loss, the start (circle) and the minimum (star) drawn above the paths."""
    if problem == "quadratic":
        X, Y = np.meshgrid(np.linspace(-2.3, 1.0, 200), np.linspace(-1.1, 1.1, 200))
        ax.contour(X, Y, 0.5 * (H[0] * X**2 + H[1] * Y**2), levels=np.geomspace(0.01, 15, 14), colors="0.8",
                   linewidths=0.6)
        best = (0.0, 0.0)
    else:
        X, Y = np.meshgrid(np.linspace(-1.6, 1.4, 200), np.linspace(-0.6, 1.6, 200))
        ax.contour(X, Y, (1 - X) ** 2 + 100 * (Y - X**2) ** 2, levels=np.geomspace(0.1, 800, 16), colors="0.8",
                   linewidths=0.6)
        best = (1.0, 1.0)
    start = PROBLEMS[problem]["x0"]
    ax.plot(*start, "o", color="k", mfc="w", ms=7, zorder=6, label="start")
    ax.plot(*best, "*", color="gold", mec="k", ms=15, zorder=6, label=f"minimum {best}")
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")


def _path(ax, problem: str, name: str, xs, every: int):
    st = STYLES[name]
    ax.plot(xs[:, 0], xs[:, 1], color=st["color"], ls=st["ls"], lw=1.2, marker=st["marker"], ms=3.5,
            markevery=every, label=_label(problem, name))


def make_quadratic_figure(path):
    """All five paths on one set of axes: on the quadratic they part early and are told apart by style."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8.4, 4.0))
    _landscape(ax, "quadratic")
    for name, xs in trajectories("quadratic").items():
        _path(ax, "quadratic", name, xs, every=5)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    save(fig, path)


def rosenbrock_loss(xs):
    return (1 - xs[:, 0]) ** 2 + 100 * (xs[:, 1] - xs[:, 0] ** 2) ** 2


def make_rosenbrock_figure(path):
    """One panel a method (in the valley the paths lie on top of each other), and the loss of all five."""
    plt = pyplot()
    paths = trajectories("rosenbrock")
    fig, axes = plt.subplots(2, 3, figsize=(10, 6.2))
    for ax, (name, xs) in zip(axes.flat, paths.items()):
        _landscape(ax, "rosenbrock")
        _path(ax, "rosenbrock", name, xs, every=100)
        ax.set_title(_label("rosenbrock", name), fontsize=9)
    axes.flat[0].legend(handles=axes.flat[0].get_lines()[:2], fontsize=7, loc="lower right")
    loss_ax = axes.flat[-1]
    for name, xs in paths.items():
        st = STYLES[name]
        loss_ax.semilogy(rosenbrock_loss(xs), color=st["color"], ls=st["ls"], lw=1.2, label=name)
    loss_ax.set_xlabel("step $t$")
    loss_ax.set_ylabel("$f(w_t) - f(1, 1)$")
    loss_ax.set_title("loss along each path", fontsize=9)
    loss_ax.legend(fontsize=6)
    loss_ax.grid(alpha=0.3)
    save(fig, path)


# -- the document -------------------------------------------------------------------------------------


def _gd_section() -> Section:
    """Parts (a), (b): GD from the derivative of the mean loss; SGD's step is unbiased."""
    gd_step, enum_step, general_step = _gd_steps()
    return Section("Gradient descent and mini-batch SGD (parts a, b)", (
        prose("The loss is the mean of per-sample losses, $L(\\theta) = \\frac{1}{N}\\sum_{i=1}^{N} \\ell_i(\\theta)$ "
              "with $\\ell_i(\\theta) = \\ell(\\hat y_\\theta(x_i), y_i)$. Gradient descent steps against its "
              "gradient, which SymPy computes from the definition:"),
        gd_step,
        ReferenceBlock("optim.gd"),
        prose("Mini-batch SGD replaces the mean over all $N$ samples by the mean over a batch $B$ of $M$ samples "
              "drawn without replacement. Its step is an unbiased estimate of the GD step:"),
        enum_step, general_step,
        ReferenceBlock("optim.sgd"),
        prose("The seed's updates (a) and (b) are these two references: correct, with $\\gamma_k$ for $\\gamma$ and "
              "$M_i$ for $B$. Parts (c) to (f) are qualitative remarks about batch sizes and noise, not equations, "
              "and are not graded here."),
    ))


def _momentum_section() -> Section:
    """Part (g): heavy ball against PyTorch's SGD, by induction on the step."""
    solve_step = _mapping_step()
    base, induct, unrolled = _induction_steps()
    damp, sutskever = _non_pytorch_steps()
    return Section("Heavy-ball momentum and PyTorch's SGD (part g)", (
        prose("The seed writes the stochastic heavy ball. PyTorch implements momentum differently, with a buffer "
              "$b_t$, a dampening $\\tau$ and a first step $b_1 = g_1$; its algorithm, in the layout of its docstring:"),
        Step("torch-sgd", SGD_ALGO, "torch.optim.SGD with nesterov=False, held against torch step by step",
             checks=_oracle_checks("optim.sgd_momentum_torch"), relation="def"),
        ReferenceBlock("optim.heavy_ball"),
        ReferenceBlock("optim.sgd_momentum_torch"), _where("optim.sgd_momentum_torch"),
        prose("Which heavy ball is PyTorch's SGD? Ask SymPy for the $\\beta_2$ and $\\tau$ that make the second "
              "steps agree:"),
        solve_step,
        prose("Proof for every step, by induction on $t$, with a varying rate and $\\tau = 0$:"),
        base, induct, unrolled,
        prose("Two forms that are not PyTorch's:"),
        damp, sutskever,
        prose("With momentum $\\mu = 0$ PyTorch keeps no buffer at all and ignores the dampening, so its step is "
              "$\\theta_{t-1} - \\gamma g_t$; the buffer formula then agrees with it only for $\\tau = 0$."),
    ))


def _stability_section() -> Section:
    """Which momentum coefficients converge on a quadratic, and the seed's claims about them."""
    grad_step, rec_step, poly_step, roots_step, region = _stability_steps()
    zero_step, neg_step, above, one = _grading_steps()
    return Section("Which momentum coefficients converge?", (
        prose("Run heavy ball on the quadratic $f(w) = \\frac{1}{2}\\lambda w^2$ (each eigen-direction of a "
              "quadratic behaves like this, $\\lambda$ its curvature):"),
        grad_step, rec_step, poly_step, roots_step, region,
        Figure("stability-region", "The stability region of heavy ball in the $(\\gamma\\lambda, \\beta)$ plane: "
                                   "the largest root modulus of the derived characteristic polynomial, blue where "
                                   "$|r| < 1$, white at $|r| = 1$, red where $|r| > 1$. The black line is the computed "
                                   "$|r| = 1$; it runs along the boundary of the triangle $|\\beta| < 1$, "
                                   "$0 < \\gamma\\lambda < 2(1+\\beta)$ (wide dashed lines), inside which the "
                                   "iterates converge. GD is the segment $\\beta = 0$.",
               make_region_figure, checks=(_region_witness(),), width="0.75"),
        prose("Grading the seed's claims about the range of $\\beta$ (the seed calls $\\beta$ a dampening factor; "
              "it is the momentum coefficient, PyTorch's $\\mu$, and PyTorch's dampening is $\\tau$):"),
        zero_step, neg_step, above, one,
        prose("So $[0, 1)$ is the range used in practice, with $\\beta = 0.9$ a usual choice, while the iteration "
              "converges for $|\\beta| < 1$ with $0 < \\gamma\\lambda < 2(1 + \\beta)$: the seed's range is "
              "imprecise, since negative $\\beta$ down to $-1$ converge too. \"$\\beta < 0$ is simply GD\" "
              "is false, \"$\\beta > 1$ blows up\" is true, and $\\beta = 1$ does not converge either. Momentum "
              "also widens the stable step sizes: up to $\\gamma\\lambda < 2(1 + \\beta)$ instead of GD's 2."),
    ))


def _adaptive_section() -> Section:
    """Part (h): RMSprop and Adam as PyTorch computes them; the bias correction; the seed's Adam."""
    unroll_step, bias_step = _bias_steps()
    rearranged, seed_step, unc_step = _rearranged_step(), _seed_adam_step(), _uncorrected_step()
    return Section("RMSprop and Adam (part h)", (
        prose("RMSprop as torch.optim.RMSprop implements it (not centred, no momentum):"),
        Step("rmsprop-algorithm", RMSPROP_ALGO, "torch.optim.RMSprop, held against torch step by step",
             checks=_oracle_checks("optim.rmsprop"), relation="def"),
        ReferenceBlock("optim.rmsprop"), _where("optim.rmsprop"),
        _eps_step(),
        prose("The seed's RMSprop is this reference: correct, with $\\epsilon$ outside the square root as PyTorch "
              "has it. Adam as torch.optim.Adam implements it:"),
        Step("adam-algorithm", ADAM_ALGO, "torch.optim.Adam, held against torch step by step",
             checks=_oracle_checks("optim.adam"), relation="def"),
        ReferenceBlock("optim.adam"), _where("optim.adam"),
        prose("Why the correction divides by $1 - \\beta_1^{t}$: the moving average starts at 0."),
        unroll_step, bias_step,
        prose("PyTorch rearranges the update to save work; SymPy shows it is the same function:"),
        rearranged,
        prose("The seed's Adam uses $m_t$ in the numerator, says the bias correction is \"not shown\", and so "
              "writes a different optimiser:"),
        seed_step, unc_step,
    ))


def _nonmono_section() -> Section:
    """Part (i): the NONMONO rule against the seed's reading of it."""
    table, nm_step = _nonmono_blocks()
    return Section("The NONMONO learning-rate rule", (
        prose("The rule, as AWD-LSTM-style training loops write it:"),
        Step("nonmono-algorithm", NONMONO_ALGO, "the rule after every epoch, against an AWD-LSTM-style loop",
             checks=_oracle_checks("optim.lr_decay_nonmono"), relation="def"),
        ReferenceBlock("optim.lr_decay_nonmono"),
        nm_step,
        table,
        prose("The seed's account of why the rate is divided (smaller steps near an optimum) is reasonable, but its "
              "condition is not the rule: NONMONO is a patience. A loss that is worse than the recent best but "
              "better than the best loss NONMONO epochs ago does not decay the rate, and nothing decays during "
              "the first NONMONO epochs."),
    ))


def _trajectories_section() -> Section:
    """Every optimiser's path on a quadratic and on Rosenbrock's function, re-run by torch.optim."""
    return Section("Trajectories", (
        prose("Each optimiser stepped by its symdl reference from the same start; SGD draws batches of 2 from 8 "
              "samples whose losses differ from the loss by zero-mean linear terms, so their mean is the loss "
              "itself. Every path is re-run by torch.optim with autograd and must agree."),
        Figure("quadratic", "150 steps on an ill-conditioned quadratic $f(w) = \\frac{1}{2}(w_1^2 + 25 w_2^2)$: "
                            "GD and SGD "
                            "zig-zag across the narrow valley; heavy ball ($\\beta = 0.9$) overshoots and spirals; "
                            "RMSprop and Adam rescale each coordinate. Step sizes in the legend; the star marks "
                            "the minimum, the circle the start.",
               make_quadratic_figure, checks=(_trajectory_check("quadratic"),), width="0.9"),
        Figure("rosenbrock", "1500 steps on Rosenbrock's function $(1 - w_1)^2 + 100 (w_2 - w_1^2)^2$ from "
                             "$(-1.2, 1)$, one panel a method (in the curved valley the paths would lie on top of "
                             "one another), its step size in the panel's title; SGD's samples add zero-mean linear "
                             "terms. The star marks the minimum at $(1, 1)$. The last panel is the loss along each "
                             "path: Adam's falls furthest; RMSprop's steps are about $\\gamma$ long, so it "
                             "travels only about $1500\\gamma$.",
               make_rosenbrock_figure, checks=(_trajectory_check("rosenbrock"),), width="0.98"),
    ))


def derivation() -> Derivation:
    return Derivation(
        slug="q2-optimisation",
        title="Question 2: Optimisation",
        description="GD and SGD, heavy ball against PyTorch's SGD, stability of momentum, RMSprop and Adam, "
                    "the NONMONO rule",
        question=QUESTION,
        sections=(_gd_section(), _momentum_section(), _stability_section(), _adaptive_section(),
                  _nonmono_section(), _trajectories_section()) + _audit(),
        references=tuple(r.name for r in O.references()),
    )


def _audit() -> tuple:
    """The seed audit's section for this question, when the audit module is there."""
    try:
        from seed_audit import audit_section
    except ImportError:
        return ()
    return (audit_section(2),)

