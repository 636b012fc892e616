"""Question 2, part (g): heavy ball against PyTorch's SGD, by induction on the step."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symdl.verify.oracles import optim as oracles_optim
from symdl import ref
from symdl.verify.builders import symbolic_equal
from symdl.document.derivation import Step, math as display, tex
from symdl.models import optim as O
from symdl.verify.spec import CheckSpec, compare_trials

from _q2.common import K, S, _check, beta, gs, rates, theta0

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
        "heavy ball's $w_2$ = PyTorch's $\\theta_2$ (same learning rates $\\gamma_t$) solved for $\\beta_2$ and "
        "$\\tau$, matching the coefficients of $g_1$, $g_2$; in general $\\beta_t = \\mu\\gamma_t/\\gamma_{t-1}$, "
        "and $\\beta = \\mu$ when the rate is constant",
        label="mapping",
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
        "(PyTorch's own update), and one heavy-ball step with $\\beta_t = \\mu\\gamma_t/\\gamma_{t-1}$ "
        "$\\eqref{eq:mapping}$ is one PyTorch step",
        checks=(symbolic_equal(hb_step, pt_step, "the hypothesis substituted, SymPy simplifies the difference"),))

    torch_run = O.unroll_torch_sgd(K, theta0, gs, rates, O.mu, 0)
    heavy_run = O.unroll_heavy_ball(K, theta0, gs, rates, [0] + [O.mu * rates[k] / rates[k - 1] for k in range(1, K)])
    theta3 = sp.collect(sp.expand(torch_run[3]), gs)
    unrolled = Step(
        "unrolled", tex(r"\theta_3 = ") + display(theta3),
        f"PyTorch's recurrence unrolled three steps; heavy ball with $\\beta_t = \\mu\\gamma_t/\\gamma_{{t-1}}$ "
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


def momentum_window_step():
    """The seed's beta = 0.9 or 0.99: how many past gradients the momentum sums, and the learning rates it allows."""
    k = sp.Symbol("k", integer=True, nonnegative=True)
    b = sp.Symbol(r"\beta", positive=True)
    total = sp.summation(b**k, (k, 0, sp.oo)).args[0][0]  # the branch |beta| < 1 of the Piecewise
    values = {v: total.subs(b, v) for v in (sp.Rational(9, 10), sp.Rational(99, 100))}
    return Step(
        "momentum-window",
        tex(r"\sum_{k \ge 0} \beta^k = ") + display(total) + tex(r" = %s \text{ at } \beta = 0.9, \quad %s \text{ at } "
                                                                  r"\beta = 0.99" % tuple(values.values())),
        "unrolled, heavy ball adds up every past gradient with weight $\\beta^k$: at a steady gradient its step is "
        "$1/(1 - \\beta)$ times a gradient step, so $\\beta = 0.9$ averages over about ten steps and $0.99$ over a "
        "hundred: the seed's usual values are right",
        checks=(symbolic_equal(total, 1 / (1 - b), "the geometric series summed for |beta| < 1"),
                _check("symbolic", "the two values", lambda: (values == {sp.Rational(9, 10): 10,
                                                                         sp.Rational(99, 100): 100},
                                                              f"1/(1 - beta) = {list(values.values())}", None), 30)))
