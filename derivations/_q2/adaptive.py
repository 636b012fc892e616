"""Question 2, part (h): RMSprop and Adam, the bias correction, the seed's Adam."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symdl.verify.oracles import optim as oracles_optim
from symdl import ref
from symdl.verify.builders import symbolic_equal
from symdl.core.calculus import substitute_definitions
from symdl.document.derivation import Step, math as display, tex
from symdl.models import optim as O
from symdl.models._display import ordered_sum, ordered_xreplace
from symdl.verify.spec import CheckSpec, compare_trials

from _q2.adaptive_claims import eps_ratios
from _q2.common import S, _check, _differs

# -- 4. RMSprop and Adam ------------------------------------------------------------------------------


def ema_expectation(T: int, decay):
    """E[a_T] of the moving average from a_0 = 0 when every x_k has mean G: unroll, then linearity."""
    xs = sp.symbols(f"x_1:{T + 1}", real=True)
    G = sp.Symbol(r"\mathbb{E}[g]")
    a_T = O.unroll_ema(T, decay, xs)[T]
    return sp.expand(a_T).xreplace({x: G for x in xs}), G


def _eps_step():
    """Where epsilon sits: outside the root, as torch.optim.RMSprop has it, not inside; how much it matters depends
    on the gradient's size against epsilon."""
    rms = ref("optim.rmsprop")
    v_next = next(k for k in rms.definitions if k.name == "v_{t+1}")
    denominator = next(e for e in sp.preorder_traversal(rms.expr) if e.is_Add and sp.sqrt(v_next) in e.args)
    inside = ordered_xreplace(rms.expr, {denominator: sp.sqrt(ordered_sum(v_next, O.eps))})
    alpha, eps = 0.99, 1e-8
    ratios = eps_ratios(alpha, eps)

    def run():
        if inside == rms.expr:
            return False, "the inside variant could not be formed from the reference", None
        trials, seen = [], []
        for ratio, want in ratios.items():
            g = float(np.sqrt(ratio * eps / (1 - alpha)))
            point = {"w_t": 1.0, "v_t": 0.0, "g_t": g, r"\gamma": 0.01, r"\alpha": alpha, r"\epsilon": eps}
            at = {rms.symbols[k]: sp.Float(v, 30) for k, v in point.items()}
            w_in = float(substitute_definitions(inside, rms.definitions).xreplace(at))
            torch_w1 = oracles_optim.rmsprop_records(np.array([1.0]), np.array([[g]]), 0.01, alpha, eps)[0]["after"]
            trials += [(f"(1 - alpha) g^2 = {ratio:g} eps | reference", np.array([rms.evaluate(point)]), torch_w1),
                       (f"(1 - alpha) g^2 = {ratio:g} eps | inside over outside", (w_in - 1.0) / (torch_w1[0] - 1.0),
                        want)]
            seen.append(f"{(w_in - 1.0) / (torch_w1[0] - 1.0):.4g}")
        passed, detail, err = compare_trials(trials, rtol=1e-9)
        return passed, f"{detail}; steps inside over outside: {', '.join(seen)}", err

    shown = ", ".join(f"{v:.2f}" for v in ratios.values())
    return Step("eps-outside", tex(r"w_{t+1} = ") + display(rms.expr) + tex(r" \ne ") + display(inside),
                "$\\epsilon$ is added after the square root, and only that placement is PyTorch's. On a first step "
                "the two placements give steps whose ratio (inside over outside) is "
                f"{shown} when $(1 - \\alpha) g^2$ is $100$, $1$ and $1/100$ times $\\epsilon$: they differ by about "
                "30 percent only when $(1 - \\alpha) g^2$ is near $\\epsilon$, hardly at all for larger gradients, "
                "and tenfold at a hundredth of $\\epsilon$, more for still smaller gradients",
                checks=(CheckSpec("oracle", "first RMSprop steps against torch.optim.RMSprop at three gradient "
                                            "sizes, both placements", run),),
                relation="\\ne")


def _bias_steps():
    """Why Adam divides by 1 - beta_1^{t+1}: the moving average from m_0 = 0, unrolled, and its expectation.

    The indexing is the contract's (m_{t+1} = beta_1 m_t + (1 - beta_1) g_t, g_t the gradient at w_t), so that the
    unrolled sum runs over the gradients g_0..g_t of the t + 1 updates taken.
    """
    b1 = O.beta1
    t_, k_ = sp.Symbol("t", integer=True, nonnegative=True), sp.Symbol("k", integer=True, nonnegative=True)
    b1p = sp.Symbol(r"\beta_1", positive=True)
    unrolled_general = (1 - b1p) * sp.Sum(b1p ** (t_ - k_) * sp.Symbol("g_k"), (k_, 0, t_))
    expect_general = sp.summation((1 - b1p) * b1p ** (t_ - k_), (k_, 0, t_))
    weight_total = 1 - b1p ** (t_ + 1)  # the summation's value, as a person writes it; the first check proves it

    def ema_proof():
        for T in range(8):
            gs = sp.symbols(f"g_0:{T + 1}", real=True)
            a = O.unroll_ema(T + 1, b1, gs)[T + 1]
            want = (1 - b1) * sp.Add(*[b1 ** (T - k) * gs[k] for k in range(T + 1)])
            if sp.expand(a - want) != 0:
                return False, f"differs at t = {T}", None
        return True, "the recurrence unrolled from m_0 = 0 gives m_{t+1} equal to the sum, t = 0..7", None

    def bias_proof():
        for T in range(10):
            e, G = ema_expectation(T + 1, b1)
            if sp.expand(e - (1 - b1 ** (T + 1)) * G) != 0:
                return False, f"differs at t = {T}", None
        return True, ("t = 0..9: the unrolled m_{t+1} with every g_k replaced by E[g] expands to "
                      "(1 - beta_1^(t+1)) E[g]"), None

    unroll_step = Step("ema", tex(r"\begin{aligned} m_0 &= 0 \\ m_{t+1} &= ") + display(unrolled_general)
                       + tex(r" \end{aligned}"),
                       "Adam's first moment $m_{t+1} = \\beta_1 m_t + (1 - \\beta_1) g_t$ from $m_0 = 0$, unrolled "
                       "over the gradients $g_0, \\ldots, g_t$ of the first $t + 1$ updates",
                       checks=(_check("symbolic", "unrolled recurrence against the sum", ema_proof, 60),))
    e5, G = ema_expectation(5, b1)
    bias_step = Step(
        "bias", tex(r"\mathbb{E}[m_{t+1}] = \mathbb{E}[g] \sum_{k=0}^{t} (1-\beta_1)\beta_1^{t-k} = ")
        + tex(r"\left(") + display(weight_total) + tex(r"\right)\mathbb{E}[g]"),
        "expectation is linear; a stationary gradient has the same mean $\\mathbb{E}[g]$ at every step, and "
        "the geometric series summed. Dividing by $1 - \\beta_1^{t+1}$ removes the bias: "
        "$\\mathbb{E}[\\hat m_{t+1}] = \\mathbb{E}[g]$ (the same for $v_{t+1}$ with $\\beta_2$ and $g^2$)",
        checks=(symbolic_equal(expect_general, weight_total, "sp.summation of the weights, symbolic t"),
                _check("symbolic", "unrolled, expectation by linearity", bias_proof, 60),
                symbolic_equal(sp.factor(e5), (1 - b1**5) * G, "t + 1 = 5 factored")),
        boxed=True)
    return unroll_step, bias_step


def _rearranged_step():
    """PyTorch's rearranged Adam update is the textbook one."""
    textbook, pytorch = O.adam_forms(ref("optim.adam"))
    rearranged = Step(
        "pytorch-adam", tex(r"\begin{aligned} c_1 &= 1 - \beta_1^{t+1}, \qquad c_2 = 1 - \beta_2^{t+1} \\ "
                            r"w_t - \frac{\gamma}{c_1}\,\frac{m_{t+1}}{\sqrt{v_{t+1}}/\sqrt{c_2} + \epsilon} &= "
                            r"w_t - \gamma\,\frac{m_{t+1} / c_1}{\sqrt{v_{t+1} / c_2} + \epsilon} \\ "
                            r"&= w_t - \gamma\,\frac{\hat m_{t+1}}{\sqrt{\hat v_{t+1}} + \epsilon} \end{aligned}"),
        "PyTorch computes the step size $\\gamma/c_1$ and the denominator $\\sqrt{v_{t+1}}/\\sqrt{c_2} + \\epsilon$, "
        "with $c_i = 1 - \\beta_i^{t+1} > 0$; it equals the textbook update, and $\\epsilon$ stays outside the root",
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
        "the seed's numerator $m_t$ fails on a counterexample: on the first step $m_0 = 0$, so the seed's "
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
