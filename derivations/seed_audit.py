r"""The seed audit: every claim of the seed's answers, graded correct, incorrect or imprecise, with evidence.

Each equation of the seed is transcribed (the lost \b, \t, \r escapes and
minus signs repaired, each repair noted) and handed to symdl.check against the
reference it claims; the verdict and its counterexample are the evidence.
Claims in words are graded by a small computation from the references (a
counterexample, a count, a spectral radius).  audit_section(q) gives the
audit of one question for that question's worked solution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np
import sympy as sp

from symdl.check import check, describe_size
from symdl.derivation import Derivation, Section, Table, prose, tex

TIMEOUT = 1.0
GRADES = ("correct", "incorrect", "imprecise")

U = {g: r"W_{%sh} h_{t-1} + W_{%sx} x_t + b_%s" % (g, g, g) for g in "figo"}
D = r"\operatorname{diag}(o_{t-1} \odot \tanh'(c_{t-1}))"
FOUR = (r"\operatorname{diag}(f_t) + \operatorname{diag}(c_{t-1} \odot \sigma'(%s)) W_{fh} %s"
        r" + \operatorname{diag}(\tilde{c}_t \odot \sigma'(%s)) W_{ih} %s"
        r" + \operatorname{diag}(i_t \odot \tanh'(%s)) W_{gh} %s") % (U["f"], D, U["i"], D, U["g"], D)
GIBBS_I = r"\frac{\exp(-\beta F_w(x_i,y))}{\int_{y'} \exp(-\beta F_w(x_i,y'))\, dy'}"


@dataclass(frozen=True)
class Claim:
    """One claim of the seed.  ``form`` is the claim in the reference's symbols (what is checked);
    ``grade`` grades a claim in words; ``imprecise`` marks a claim right in substance, loose in statement."""

    key: str
    question: int
    part: str
    seed: str
    correct: str
    repairs: str = ""
    against: str | None = None
    form: str | None = None
    imprecise: str = ""
    grade: Callable | None = None
    math: bool = True


def _v(form, against):
    return check(form, against=against, timeout=TIMEOUT)


def _cx_text(v) -> str:
    cx = v.counterexample
    if cx is None:
        return v.message
    where = describe_size(cx["sizes"])
    if "entry" in cx:
        at = f" entry {cx['entry']}" if cx["entry"] else ""
        return (f"not equivalent to {v.reference}: at a random point ({where}){at} the seed's form gives "
                f"{cx['hand_entry']:.6g}, the reference {cx['reference_entry']:.6g}")
    return f"not equivalent to {v.reference}: {v.message}"


def _ok_text(v) -> str:
    how = "proved by SymPy and " if v.method == "symbolic" else ""
    return (f"equivalent to {v.reference} ({how}agreeing at {v.trials} random points, largest relative error "
            f"{v.max_error:.2g})")


def grade_claim(c: Claim) -> tuple[str, str]:
    """``(grade, evidence)`` for one claim."""
    if c.grade is not None:
        grade, evidence = c.grade()
    else:
        v = _v(c.form, c.against)
        if v.verdict == "equivalent":
            grade, evidence = ("imprecise" if c.imprecise else "correct"), "symdl.check: " + _ok_text(v)
        elif v.verdict == "not_equivalent":
            grade, evidence = ("imprecise" if c.imprecise else "incorrect"), "symdl.check: " + _cx_text(v)
        else:
            raise AssertionError(f"claim {c.key}: symdl.check gave {v.verdict}: {v.message}")
        if c.imprecise:
            evidence += ". " + c.imprecise
    if c.repairs:
        evidence = f"Transcription: {c.repairs}. " + evidence
    return grade, evidence


# -- claims in words: the computations that grade them ----------------------------------------------


def _credited_to_forget_path():
    direct = _v(r"\operatorname{diag}(f_t)", "lstm.cell_jacobian_direct")
    full = _v(r"\operatorname{diag}(f_t)", "lstm.cell_jacobian")
    assert direct.verdict == "equivalent" and full.verdict == "not_equivalent"
    return "imprecise", ("diag(f_t) is the whole Jacobian only with h_{t-1} held fixed (symdl.check: "
                         f"{_ok_text(direct)}); through h_{{t-1}} three more terms appear ({_cx_text(full)})")


def _additive_does_not_vanish():
    from symdl import ref

    rng = np.random.default_rng(1)
    r = ref("lstm.cell_jacobian")
    n_, m_, steps = 8, 3, 30
    vals = {}
    for inp in r.inputs:
        shape = tuple(n_ if str(s) == "n" else m_ if str(s) == "m" else 1 for s in inp.shape)
        vals[inp.name] = rng.normal(0, 0.3, shape).reshape(-1) if shape[1] == 1 else rng.normal(0, 0.3, shape)
    vals["b_f"] = np.full(n_, -1.0)
    P = np.eye(n_)
    for _ in range(steps):
        vals["c_{t-1}"], vals["o_{t-1}"], vals["x_t"] = rng.normal(size=n_), rng.uniform(0, 1, n_), rng.normal(size=m_)
        P = np.asarray(r.evaluate(vals)) @ P
    s = np.linalg.norm(P, 2)
    assert s < 1e-6
    return "incorrect", (f"the largest singular value of the product of {steps} cell Jacobians "
                         f"dc_t/dc_{{t-1}} (all four terms, evaluated by symdl at random states, n = {n_}, "
                         f"weights ~ N(0, 0.3^2), b_f = -1) is {s:.2g}: a sum of terms still vanishes")


def _dominating_term():
    v = _v(FOUR, "lstm.cell_jacobian")
    assert v.verdict == "equivalent"
    return "correct", ("the three gate terms are diag(.) W_{fh|ih|gh} diag(o_{t-1} * tanh'(c_{t-1})), products "
                       f"of weight matrices like the RNN's diag(sigma'(a)) W_1 (four-term form {_ok_text(v)})")


def _batch_noise():
    N = 1000
    var = {b: (1 / b) * (N - b) / (N - 1) for b in (8, 128)}
    ratio = var[8] / var[128]
    return "imprecise", (f"a mini-batch mean gradient has variance s^2/|B| (N - |B|)/(N - 1): {ratio:.1f} times "
                         "larger at |B| = 8 than at 128 for N = 1000, so small batches are noisier per step and "
                         "take more steps per epoch; 'converge sooner' holds per epoch, not per update, and the "
                         "regularisation is an empirical effect, not a consequence of the update")


def _batch_of_k():
    K = 10
    p = math.factorial(K) / K ** K
    return "incorrect", (f"a batch of K samples drawn uniformly from K balanced classes contains every class "
                         f"with probability K!/K^K = {p:.2g} for K = {K}: batch size K does not make a batch "
                         "represent the data set")


def _noise_early():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 5))
    w_true = rng.normal(size=5)
    y = X @ w_true + 0.1 * rng.normal(size=500)

    def snr(w):
        g = (X @ w - y)[:, None] * X
        return np.linalg.norm(g.mean(0)) / np.sqrt(np.mean(np.sum((g - g.mean(0)) ** 2, 1)))

    far, at_opt = snr(w_true + 5 * rng.normal(size=5)), snr(w_true)
    assert far > 5 * at_opt
    return "imprecise", (f"least squares, 500 samples: ||mean gradient|| / rms(sample gradient - mean) is "
                         f"{far:.2g} far from the optimum and {at_opt:.2g} at it, so the noise matters more late "
                         "than early; but one sample's noise still exceeds the mean gradient early on (ratio < 1), "
                         "it is 'small' only relative to later, or after averaging a batch")


def _sgd_faster():
    return "imprecise", ("per epoch SGD makes N/|B| updates where GD makes one, so it is cheaper per update, not "
                         "faster per update; on a convex loss both converge to the one minimum, and GD cannot "
                         "'assume' a local minimum is global: it stops where the gradient is zero")


def _dampening():
    from symdl import ref

    rng = np.random.default_rng(4)
    w, w_prev, g, lr, beta = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3), 0.1, 0.9
    hb = ref("optim.heavy_ball").evaluate({"w_t": w, "w_{t-1}": w_prev, "g_t": g, r"\gamma": lr, r"\beta": beta})
    torch_form = ref("optim.sgd_momentum_torch").evaluate(
        {r"\theta_{t-1}": w, "b_{t-1}": (w_prev - w) / lr, "g_t": g, r"\gamma": lr, r"\mu": beta, r"\tau": 0.0,
         "t": 2})
    err = float(np.max(np.abs(hb - torch_form)))
    assert err < 1e-12
    return "imprecise", ("beta is the momentum coefficient: the heavy ball is PyTorch's SGD with momentum mu = beta "
                         f"and dampening tau = 0 (both references, evaluated by symdl, agree to {err:.1g}); "
                         "dampening is PyTorch's separate (1 - tau) on the gradient")


def _spectral_radius(beta, gl):
    return max(abs(r) for r in np.roots([1, -(1 + beta - gl), beta]))


def _beta_range():
    rho = _spectral_radius(-0.5, 0.5)
    assert rho < 1
    return "imprecise", (f"on f(w) = lambda w^2/2 the iteration converges iff |beta| < 1 and 0 < gamma lambda < "
                         f"2(1 + beta); at beta = -0.5, gamma lambda = 0.5 the spectral radius is {rho:.3g} < 1. "
                         "[0, 1) is the range used in practice, not the range that works")


def _negative_beta_is_gd():
    from symdl import ref

    v = _v(r"w_t - \gamma_t \nabla f_i(w_t)", "optim.heavy_ball")
    assert v.verdict == "not_equivalent"
    r = ref("optim.heavy_ball")
    s = r.symbols
    gd = s["w_t"] - s[r"\gamma"] * s["g_t"]
    diff = sp.factor(r.expr.subs(s[r"\beta"], sp.Rational(-1, 2)) - gd)
    assert diff != 0
    return "incorrect", (f"symdl.check: GD's update is {_cx_text(v)}; at beta = -1/2 the heavy ball minus GD is "
                         f"{diff} (SymPy, from the reference), zero only when w_t = w_{{t-1}}. Only beta = 0 is GD")


def _beta_above_one():
    worst = min(_spectral_radius(1.1, gl) for gl in np.linspace(0.01, 4, 400))
    return "correct", (f"the two roots of r^2 - (1 + beta - gamma lambda) r + beta multiply to beta, so one has "
                       f"|r| >= sqrt(beta) > 1: at beta = 1.1 the smallest spectral radius over gamma lambda in "
                       f"(0, 4] is {worst:.3g}")


def _rms_is_std():
    g, alpha = 0.1, 0.9
    v = 0.0
    for _ in range(200):
        v = alpha * v + (1 - alpha) * g * g
    return "imprecise", (f"sqrt(v) estimates the root mean square, not the standard deviation: for a constant "
                         f"gradient g = {g} the average v reaches {v:.3g} = g^2, so g/sqrt(v) = {g / math.sqrt(v):.3g} "
                         "while the standard deviation is 0; the two agree only when the mean gradient is 0, "
                         "not when it is small")


def _rmsprop_costs_more():
    from symdl import ref

    ops = {name: sp.count_ops(ref(name).expanded()) for name in ("optim.rmsprop", "optim.adam")}
    state = {"optim.rmsprop": 1, "optim.adam": 2}
    assert ops["optim.rmsprop"] < ops["optim.adam"]
    return "incorrect", (f"per coordinate RMSprop keeps {state['optim.rmsprop']} moving average and its update has "
                         f"{ops['optim.rmsprop']} operations (SymPy count_ops of the reference); Adam keeps "
                         f"{state['optim.adam']} and needs {ops['optim.adam']}: RMSprop costs less")


def _step_size_beta():
    from symdl import ref

    r = ref("optim.adam")
    steps = []
    for b1 in (0.5, 0.9):
        vals = {"w_t": 0.0, "m_t": 0.0, "v_t": 0.0, "g_t": 3.7, r"\gamma": 0.01, r"\beta_1": b1, r"\beta_2": 0.999,
                r"\epsilon": 1e-12, "t": 0}
        steps.append(float(r.evaluate(vals)))
    return "imprecise", (f"beta averages the gradient; gamma still sets the step: Adam's first step is "
                         f"{steps[0]:.6g} at beta = 0.5 and {steps[1]:.6g} at 0.9 for a gradient 3.7 and gamma = "
                         "0.01 (about -gamma sign(g)), so the step size is gamma's, whatever beta is")


def _nonmono_reading():
    from symdl import ref

    r = ref("optim.lr_decay_nonmono")
    losses, k = [1.0, 0.9, 0.5, 0.6], 2
    rule = float(r.evaluate({r"\gamma": 0.1, "L": losses, "NONMONO": k, r"LR\_DECAY": 4.0}))
    seed_reading = 0.1 / 4.0 if losses[-1] > min(losses[:-1]) else 0.1
    assert rule != seed_reading
    return "incorrect", (f"the rule compares L_e with min(L_1, ..., L_(e-NONMONO)), not with the best loss so far: "
                         f"losses {losses}, NONMONO = {k}: the rule keeps the rate at {rule:g} "
                         f"(optim.lr_decay_nonmono), the seed's reading divides it to {seed_reading:g}")


def _finite_marginal(numerator_over: str):
    """Sum over a y grid of the seed's marginal (numerator integrated over ``numerator_over``)."""
    rng = np.random.default_rng(5)
    gy, gz, beta = rng.normal(size=4), rng.normal(size=3), 0.8
    a, b = rng.normal(size=2)

    def E(y, z):
        return np.tanh(a * y + b * z) + 0.5 * (y - z) ** 2

    ez = np.array([[np.exp(-beta * E(y, z)) for z in gz] for y in gy])
    total = ez.sum()
    if numerator_over == "z":
        return float(sum(ez[j].sum() / total for j in range(len(gy))))
    z0 = gz[0]
    return float(sum(sum(np.exp(-beta * E(yy, z0)) for yy in gy) / total for _ in gy))


def _marginal_middle():
    seed, right = _finite_marginal("y"), _finite_marginal("z")
    return "incorrect", (f"the numerator integrates over y, so it no longer depends on y: on a 4-point y grid and "
                         f"a 3-point z grid (random E) the seed's P(y|x) sums to {seed:.4g} over y; with the "
                         f"numerator integrated over z it sums to {right:.4g}")


def _marginal_last():
    rng = np.random.default_rng(6)
    gy, gz, beta = rng.normal(size=4), rng.normal(size=3), 1.3
    E = np.array([[np.sin(y + 2 * z) + y * z for z in gz] for y in gy])
    F_beta = -np.log(np.exp(-beta * E).sum(1)) / beta
    seed = np.exp(-beta * F_beta) / np.exp(-beta * F_beta).sum()
    marginal = np.exp(-beta * E).sum(1) / np.exp(-beta * E).sum()
    err = float(np.max(np.abs(seed - marginal)))
    assert err < 1e-12
    return "correct", ("exp(-beta F_beta(x,y)) is the integral over z of exp(-beta E) (ebm.free_energy), so the "
                       f"Gibbs form of F_beta is the marginal: on grids of 4 y and 3 z points they agree to {err:.1g}")


def _nll_gradient_first():
    literal = _v(r"\frac{\partial F_w(x_i,y_i)}{\partial w} - \int_y \frac{\partial F_w(x_i,y)}{\partial w}"
                 r" \frac{\exp(-\beta F_w(x_i,y_i))}{\int_{y'} \exp(-\beta F_w(x_i,y'))\, dy'}\, dy", "ebm.nll_gradient")
    meant = _v(r"\frac{1}{N}\sum_{i=1}^{N} \left[\frac{\partial F_w(x_i,y_i)}{\partial w} - \int_y "
               r"\frac{\partial F_w(x_i,y)}{\partial w} " + GIBBS_I + r"\, dy\right]", "ebm.nll_gradient")
    assert literal.verdict == "not_equivalent" and meant.verdict == "equivalent"
    return "imprecise", ("read literally, with P(y^(i) | x^(i)) under the integral over y and no mean over i, "
                         f"symdl.check: {_cx_text(literal)}; with P(y | x_i) and (1/N) sum_i, "
                         f"{_ok_text(meant)}")


def _nce_maximise():
    return "imprecise", ("L_NCE = -log h(positive) - sum log(1 - h(negative)) is minimised, not maximised: "
                         "minimising it raises h on the positive pair and lowers it on the negatives "
                         "(the gradient signs symdl.models.contrastive derives)")


# -- the claims ---------------------------------------------------------------------------------------

CLAIMS: tuple[Claim, ...] = (
    Claim("1.rnn", 1, "background",
          r"\boldsymbol{h}_t = \sigma(\boldsymbol{W}_1 \boldsymbol{h}_{t-1} + \boldsymbol{W}_2 \boldsymbol{x}_t)",
          r"h_t = \sigma(W_1 h_{t-1} + W_2 x_t)", against="rnn.state",
          form=r"\boldsymbol{h}_t = \sigma(\boldsymbol{W}_1 \boldsymbol{h}_{t-1} + \boldsymbol{W}_2 \boldsymbol{x}_t)"),
    Claim("1.vanish", 1, "background",
          "dh_tau/dh_t vanishes or explodes through the repeated application of W_1",
          r"\frac{\partial h_{t+3}}{\partial h_t} = \operatorname{diag}(\sigma'(a_{t+3})) W_1 "
          r"\operatorname{diag}(\sigma'(a_{t+2})) W_1 \operatorname{diag}(\sigma'(a_{t+1})) W_1",
          against="rnn.jacobian_product", math=False,
          form=r"\operatorname{diag}(\sigma'(a_{t+3})) W_1 \operatorname{diag}(\sigma'(a_{t+2})) W_1 "
               r"\operatorname{diag}(\sigma'(a_{t+1})) W_1"),
    Claim("1.eq1", 1, "eq. (1)",
          r"\boldsymbol{c}_t = \boldsymbol{f}_t \odot \boldsymbol{c}_{t-1} + \boldsymbol{i}_t \odot \tilde{\boldsymbol{c}}_t",
          r"c_t = f_t \odot c_{t-1} + i_t \odot \tilde{c}_t", against="lstm.cell_update",
          form=r"\boldsymbol{c}_t = \boldsymbol{f}_t \odot \boldsymbol{c}_{t-1} + \boldsymbol{i}_t \odot "
               r"\tilde{\boldsymbol{c}}_t"),
    Claim("1.eq2", 1, "eq. (2)", r"\boldsymbol{h}_t = \boldsymbol{o}_t \odot \tanh(\boldsymbol{c}_t)",
          r"h_t = o_t \odot \tanh(c_t)", against="lstm.hidden",
          form=r"\boldsymbol{h}_t = \boldsymbol{o}_t \odot \tanh(\boldsymbol{c}_t)"),
    Claim("1.cand", 1, "gates",
          r"\tilde{\boldsymbol{c}}_t = \tanh(\boldsymbol{W}_{gh}\boldsymbol{h}_{t-1} + \boldsymbol{W}_{gx}\boldsymbol{x}_t "
          r"+ \boldsymbol{b}_g)", r"\tilde{c}_t = \tanh(%s)" % U["g"],
          repairs=r"'egin', 'ilde', 'anh', 'oldsymbol' read as \begin, \tilde, \tanh, \boldsymbol (lost \b, \t); "
                  "checked by putting it into eq. (1)",
          against="lstm.cell_update", form=r"f_t \odot c_{t-1} + i_t \odot \tanh(%s)" % U["g"]),
    Claim("1.forget", 1, "gates",
          r"\boldsymbol{f}_t = \sigma(\boldsymbol{W}_{ih}\boldsymbol{h}_{t-1} + \boldsymbol{W}_{ix}\boldsymbol{x}_t "
          r"+ \boldsymbol{b}_i)", r"f_t = \sigma(%s)" % U["f"],
          repairs=r"'extbf{\emph{f}}' read as \textbf{f} (lost \t); checked by putting it into eq. (1)",
          against="lstm.cell_update", form=r"\sigma(%s) \odot c_{t-1} + i_t \odot g_t" % U["i"],
          imprecise="The extraction lost the line of i_t and the f_t shown carries the input gate's W_ih, W_ix, "
                    "b_i; the forget gate has its own W_fh, W_fx, b_f"),
    Claim("1.out", 1, "gates",
          r"\boldsymbol{o}_t = \sigma(\boldsymbol{W}_{oh}\boldsymbol{h}_{t-1} + \boldsymbol{W}_{ox}\boldsymbol{x}_t "
          r"+ \boldsymbol{b}_o)", r"o_t = \sigma(%s)" % U["o"],
          repairs="checked by putting it into eq. (2)",
          against="lstm.hidden", form=r"\sigma(%s) \odot \tanh(c_t)" % U["o"]),
    Claim("1.credited", 1, "answer",
          "the term f_t * c_{t-1} with the forget gate is credited with solving the vanishing gradient",
          r"\frac{\partial c_t}{\partial c_{t-1}} = " + FOUR, math=False, grade=_credited_to_forget_path),
    Claim("1.additive", 1, "answer",
          "since the terms are additive, the gradients will not explode or vanish",
          "They can: the product over time of the four-term Jacobians vanishes or explodes", math=False,
          grade=_additive_does_not_vanish),
    Claim("1.jacobian", 1, "answer",
          r"\frac{\partial \boldsymbol{c}_t}{\partial \boldsymbol{c}_{t-1}} = \sigma'(\boldsymbol{W}[\boldsymbol{h}_{t-1}, "
          r"\boldsymbol{x}_t]) \boldsymbol{W} \boldsymbol{o}_{t-1} \odot \tanh'(\boldsymbol{c}_{t-1}) \boldsymbol{c}_{t-1} "
          r"+ \boldsymbol{f}_t + \sigma'(\cdot) \boldsymbol{W} \boldsymbol{o}_{t-1} \odot \tanh'(\boldsymbol{c}_{t-1}) "
          r"\tilde{\boldsymbol{c}}_t + \sigma'(\cdot) \boldsymbol{W} \boldsymbol{o}_{t-1} \odot \tanh'(\boldsymbol{c}_{t-1})"
          r" \boldsymbol{i}_t",
          r"\frac{\partial c_t}{\partial c_{t-1}} = " + FOUR,
          repairs=r"'anh', 'ilde', 'oldsymbol', 'ight)' read as \tanh, \tilde, \boldsymbol, \right); W[h, x] read as "
                  "one W for every gate (W_fh, the forget gate's, with its pre-activation), products of vectors "
                  "as diag(.) factors",
          against="lstm.cell_jacobian",
          form=(r"\operatorname{diag}(f_t) + \operatorname{diag}(c_{t-1} \odot \sigma'(%s)) W_{fh} %s + "
                r"\operatorname{diag}(\tilde{c}_t \odot \sigma'(%s)) W_{fh} %s + \operatorname{diag}(i_t \odot "
                r"\sigma'(%s)) W_{fh} %s") % (U["f"], D, U["f"], D, U["f"], D)),
    Claim("1.candidate", 1, "answer",
          r"\ldots + \sigma'(\cdot)\, \boldsymbol{W} \boldsymbol{o}_{t-1} \odot \tanh'(\boldsymbol{c}_{t-1}) "
          r"\boldsymbol{i}_t \quad \text{(the candidate's term)}",
          r"\operatorname{diag}(i_t \odot \tanh'(%s)) W_{gh} %s" % (U["g"], D),
          repairs="each gate given its own W and pre-activation, to isolate sigma' on the candidate's term "
                  "(the candidate is a tanh, its derivative tanh')",
          against="lstm.cell_jacobian", form=FOUR.replace(r"\tanh'(%s)" % U["g"], r"\sigma'(%s)" % U["g"])),
    Claim("1.dominate", 1, "answer",
          "if one of the four additive terms dominates, the LSTM backpropagates like a vanilla RNN and may "
          "still vanish or blow up", "As stated", math=False, grade=_dominating_term),
    Claim("2.gd", 2, "(a)",
          r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{N} \frac{\partial (\sum_i \ell(\hat{y}_\theta(x_i), "
          r"y_i))}{\partial \theta_k}", r"\theta_{k+1} = \theta_k - \gamma \frac{1}{N}\sum_{i=1}^{N} \nabla "
                                        r"\ell_i(\theta_k)",
          repairs=r"the derivative of the sum written as the sum of per-sample gradients \nabla \ell_i(\theta_k)",
          against="optim.gd",
          form=r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{N} \sum_{i=1}^{N} \nabla \ell_i(\theta_k)"),
    Claim("2.sgd", 2, "(b)",
          r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{|M_i|} \sum_{j \in M_i} \frac{\partial \ell_j(\hat{"
          r"\boldsymbol{y}}_{\theta}(x_j), y_j)}{\partial \theta_k}",
          r"\theta_{k+1} = \theta_k - \gamma \frac{1}{|B|}\sum_{j \in B} \nabla \ell_j(\theta_k)",
          repairs=r"the derivative of sample j's loss written \nabla \ell_j(\theta_k); M_i is the batch B",
          against="optim.sgd",
          form=r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{|M_i|} \sum_{j \in M_i} \nabla \ell_j(\theta_k)"),
    Claim("2.batch", 2, "(c)", "smaller batches converge sooner and regularise", "Noisier steps, more of them per "
          "epoch; regularisation is an empirical effect", math=False, grade=_batch_noise),
    Claim("2.classes", 2, "(d)", "a batch of about K samples represents all K classes",
          "Only with stratified sampling; uniform batches of K miss classes", math=False, grade=_batch_of_k),
    Claim("2.early", 2, "(e)", "early in training the SGD noise is small compared with the gradient",
          "The noise-to-signal ratio grows as training approaches the optimum", math=False, grade=_noise_early),
    Claim("2.faster", 2, "(f)", "SGD converges faster since it updates more often; GD may stop at a local optimum "
          "and assume it is global", "Faster per epoch (more updates), not per update", math=False,
          grade=_sgd_faster),
    Claim("2.heavy", 2, "(g)",
          r"\boldsymbol{w}_{t+1} = \boldsymbol{w}_t - \gamma_t \nabla f_i(\boldsymbol{w}_t) + \beta_t (\boldsymbol{w}_t "
          r"- \boldsymbol{w}_{t-1})", r"w_{t+1} = w_t - \gamma g_t + \beta (w_t - w_{t-1})",
          repairs="the lost minus of (w_t w_{t-1}) restored", against="optim.heavy_ball",
          form=r"\boldsymbol{w}_{t+1} = \boldsymbol{w}_t - \gamma_t \nabla f_i(\boldsymbol{w}_t) + \beta_t "
               r"(\boldsymbol{w}_t - \boldsymbol{w}_{t-1})"),
    Claim("2.dampening", 2, "(g)", "beta_t is the dampening factor", "beta is the momentum coefficient (PyTorch's "
          "momentum mu, with dampening 0)", math=False, grade=_dampening),
    Claim("2.range", 2, "(g)", "the appropriate range of beta_t is [0, 1)",
          r"|\beta| < 1,\; 0 < \gamma \lambda < 2(1 + \beta)", math=False, grade=_beta_range),
    Claim("2.negative", 2, "(g)", "if beta_t < 0, the algorithm is simply standard gradient descent",
          r"\text{only } \beta = 0 \text{ gives } w_{t+1} = w_t - \gamma g_t", math=False,
          grade=_negative_beta_is_gd),
    Claim("2.above", 2, "(g)", "if beta_t > 1, the iteration blows up", "As stated", math=False,
          grade=_beta_above_one),
    Claim("2.rmsprop", 2, "(h)",
          r"v_{t+1} = \alpha v_t + (1 - \alpha) \nabla f_i(w_t)^2,\quad w_{t+1} = w_t - \gamma \frac{\nabla f_i(w_t)}"
          r"{\sqrt{v_{t+1}} + \epsilon}",
          r"w_{t+1} = w_t - \gamma \frac{g_t}{\sqrt{v_{t+1}} + \epsilon}", against="optim.rmsprop",
          repairs="both equations checked at once, v_{t+1} put into the update",
          form=r"w_t - \gamma \frac{\nabla f_i(w_t)}{\sqrt{\alpha v_t + (1 - \alpha) \nabla f_i(w_t)^2} + \epsilon}"),
    Claim("2.std", 2, "(h)", "for a small gradient, dividing by sqrt(v) is dividing by the standard deviation",
          "sqrt(v) is the root mean square; it is the standard deviation only for a zero-mean gradient",
          math=False, grade=_rms_is_std),
    Claim("2.adam", 2, "(h)",
          r"\boldsymbol{w}_{t+1} = \boldsymbol{w}_t - \gamma \frac{\boldsymbol{m}_t}{\sqrt{\boldsymbol{v}_{t+1}} + "
          r"\boldsymbol{\epsilon}}", r"w_{t+1} = w_t - \gamma \frac{\hat{m}_{t+1}}{\sqrt{\hat{v}_{t+1}} + \epsilon}",
          repairs=r"the seed's \beta and \alpha are Adam's \beta_1 and \beta_2", against="optim.adam",
          form=r"\boldsymbol{w}_{t+1} = \boldsymbol{w}_t - \gamma \frac{\boldsymbol{m}_t}{\sqrt{\boldsymbol{v}_{t+1}} + "
               r"\boldsymbol{\epsilon}}"),
    Claim("2.adam_m", 2, "(h)", r"\boldsymbol{m}_{t+1} = \beta \boldsymbol{m}_t + (1 - \beta) \nabla f_i(\boldsymbol{w}_t)",
          r"m_{t+1} = \beta_1 m_t + (1 - \beta_1) g_t", against="optim.adam",
          repairs=r"checked inside the bias-corrected update \hat{m}_{t+1} = m_{t+1}/(1 - \beta^{t+1})",
          form=r"w_t - \gamma \frac{(\beta m_t + (1 - \beta) \nabla f_i(w_t))/(1 - \beta^{t+1})}{\sqrt{\hat v_{t+1}} "
               r"+ \epsilon}"),
    Claim("2.bias", 2, "(h)", "Adam has a bias correction (not shown in the equations)",
          r"w_{t+1} = w_t - \gamma \frac{\hat{m}_{t+1}}{\sqrt{\hat{v}_{t+1}} + \epsilon}", against="optim.adam",
          math=False, form=r"w_{t+1} = w_t - \gamma \frac{\hat m_{t+1}}{\sqrt{\hat v_{t+1}} + \epsilon}"),
    Claim("2.cost", 2, "(h)", "RMSprop takes more computation than Adam", "RMSprop costs less than Adam",
          math=False, grade=_rmsprop_costs_more),
    Claim("2.stepsize", 2, "(h)", "with Adam the step size need not change, beta takes care of it",
          "gamma sets Adam's step (about gamma per coordinate); beta sets the averaging", math=False,
          grade=_step_size_beta),
    Claim("2.nonmono", 2, "(i)", "the condition checks whether the current loss exceeds the lowest loss so far",
          r"L_e > \min(L_1, \ldots, L_{e - NONMONO}) \text{ and } e > NONMONO", math=False,
          grade=_nonmono_reading),
    Claim("3.infer", 3, "(a)", r"\hat{\mathbf{y}} = \operatorname{argmin}_{y} F(\mathbf{x}, \mathbf{y})",
          r"\hat y = \operatorname{argmin}_y F(x, y)", repairs=r"'argmin' read as \operatorname{argmin}",
          against="ebm.inference", form=r"\hat{\mathbf{y}} = \operatorname{argmin}_{y} F(\mathbf{x}, \mathbf{y})"),
    Claim("3.gibbs", 3, "(b)",
          r"\mathbb{P}(\boldsymbol{y} \mid \boldsymbol{x}) = \frac{\exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}))}"
          r"{\int_{\mathcal{U}} \exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}))}",
          r"P(y \mid x) = \frac{\exp(-\beta F(x,y))}{\int_{y'} \exp(-\beta F(x,y'))\, dy'}",
          repairs=r"the integral over \mathcal{U} without a differential read as over y, dy", against="ebm.gibbs",
          form=r"P(y \mid x) = \frac{\exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}))}{\int_{y} \exp(-\beta "
               r"F(\boldsymbol{x}, \boldsymbol{y}))\, dy}",
          imprecise="The set, the differential and a dummy variable distinct from the free y are missing"),
    Claim("3.joint", 3, "(c)",
          r"\mathbb{P}(\boldsymbol{y}, \boldsymbol{z} \mid \boldsymbol{x}) = \frac{\exp(-\beta F(\boldsymbol{x}, "
          r"\boldsymbol{y}, \boldsymbol{z}))}{\int_{\boldsymbol{y}} \exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}, "
          r"\boldsymbol{z}))}",
          r"P(y, z \mid x) = \frac{\exp(-\beta E(x,y,z))}{\int_{y'}\int_{z'} \exp(-\beta E(x,y',z'))\, dz'\, dy'}",
          repairs="the energy with a latent read as E (the seed's F(x, y, z)); dummy y' and dy' added",
          against="ebm.joint_gibbs",
          form=r"\frac{\exp(-\beta E(x,y,z))}{\int_{y'} \exp(-\beta E(x,y',z))\, dy'}"),
    Claim("3.marginal", 3, "(c)",
          r"\mathbb{P}(\boldsymbol{y} \mid \boldsymbol{x}) = \frac{\int_{\boldsymbol{y}} \exp(-\beta E(\boldsymbol{x}, "
          r"\boldsymbol{y}, \boldsymbol{z}))}{\int_{\boldsymbol{y}} \int_{\boldsymbol{z}} \exp(-\beta E(\boldsymbol{x}, "
          r"\boldsymbol{y}, \boldsymbol{z}))}",
          r"P(y \mid x) = \frac{\int_{z} \exp(-\beta E(x,y,z))\, dz}{\int_{y'}\int_{z} \exp(-\beta E(x,y',z))\, dz\, "
          r"dy'}", grade=_marginal_middle),
    Claim("3.freegibbs", 3, "(c)",
          r"\mathbb{P}(\boldsymbol{y} \mid \boldsymbol{x}) = \frac{\exp(-\beta F_{\beta}(\boldsymbol{x}, \boldsymbol{y}))}"
          r"{\int_{\boldsymbol{y}} \exp(-\beta F_{\beta}(\boldsymbol{x}, \boldsymbol{y}))}",
          r"P(y \mid x) = \frac{\exp(-\beta F_\beta(x,y))}{\int_{y'} \exp(-\beta F_\beta(x,y'))\, dy'}",
          grade=_marginal_last),
    Claim("3.free", 3, "(c)",
          r"F_{\beta}(\boldsymbol{x}, y) = -\frac{1}{\beta} \log \int_{\boldsymbol{z}} \exp(-\beta E(\boldsymbol{x}, "
          r"\boldsymbol{y}, \boldsymbol{z}))",
          r"F_\beta(x,y) = -\frac{1}{\beta}\log \int_z \exp(-\beta E(x,y,z))\, dz",
          repairs="dz added", against="ebm.free_energy",
          form=r"F_{\beta}(\boldsymbol{x}, y) = -\frac{1}{\beta} \log \int_{\boldsymbol{z}} \exp(-\beta "
               r"E(\boldsymbol{x}, \boldsymbol{y}, \boldsymbol{z}))\, dz"),
    Claim("3.nll", 3, "(d)",
          r"\mathcal{L}(\boldsymbol{w}) = \frac{1}{N} \sum_{i}^{N} \left[F_{\boldsymbol{w}}(\boldsymbol{x}^{(i)}, "
          r"\boldsymbol{y}^{(i)}) + \frac{1}{\beta} \log \int_{y} \exp(-\beta F_{\boldsymbol{w}}(\boldsymbol{x}^{(i)}, "
          r"y)) \right]",
          r"\mathcal{L}(w) = \frac{1}{N}\sum_{i=1}^{N} \left[F_w(x_i,y_i) + \frac{1}{\beta}\log\int_y \exp(-\beta "
          r"F_w(x_i,y))\, dy\right]",
          repairs="x^(i), y^(i) written x_i, y_i; dy added", against="ebm.nll_loss",
          form=r"\mathcal{L}(w) = \frac{1}{N} \sum_{i=1}^{N} \left[F_{\boldsymbol{w}}(x_i, y_i) + \frac{1}{\beta} \log "
               r"\int_{y} \exp(-\beta F_{\boldsymbol{w}}(x_i, y))\, dy \right]"),
    Claim("3.grad1", 3, "(d)",
          r"\frac{\partial \mathcal{L}(\boldsymbol{w})}{\partial \boldsymbol{w}} = \frac{\partial F_{\boldsymbol{w}}"
          r"(\boldsymbol{x}^{(i)}, \boldsymbol{y}^i)}{\partial \boldsymbol{w}} - \int_{\boldsymbol{y}} \frac{\partial "
          r"F_{\boldsymbol{w}}(\boldsymbol{x}^{(i)}, \boldsymbol{y})}{\partial \boldsymbol{w}} \mathbb{P}(\boldsymbol{y}^{(i)}"
          r" \mid \boldsymbol{x}^{(i)})",
          r"\frac{\partial \mathcal{L}}{\partial w} = \frac{1}{N}\sum_{i=1}^{N} \left[\frac{\partial F_w(x_i,y_i)}"
          r"{\partial w} - \int_y P_w(y \mid x_i) \frac{\partial F_w(x_i,y)}{\partial w}\, dy\right]",
          repairs="x^(i), y^(i) written x_i, y_i; P written out as the Gibbs distribution of F_w",
          grade=_nll_gradient_first),
    Claim("3.grad2", 3, "(d)",
          r"\frac{\partial \mathcal{L}(\boldsymbol{w})}{\partial \boldsymbol{w}} = F_{\boldsymbol{w}}(\boldsymbol{x}^{(i)}, "
          r"\boldsymbol{y}^{(i)}) + F_{\beta, \boldsymbol{w}}(\boldsymbol{x}^{(i)}, y)",
          r"\frac{\partial \mathcal{L}}{\partial w} = \frac{1}{N}\sum_{i=1}^{N} \left[\frac{\partial F_w(x_i,y_i)}"
          r"{\partial w} - \int_y P_w(y \mid x_i) \frac{\partial F_w(x_i,y)}{\partial w}\, dy\right]",
          repairs="F_{beta,w}(x_i, y) read as the free energy of F_w over y, (1/N) sum_i added",
          against="ebm.nll_gradient",
          form=r"\frac{1}{N}\sum_{i=1}^{N} \left[F_w(x_i,y_i) - \frac{1}{\beta}\log\int_y \exp(-\beta F_w(x_i,y))\, "
               r"dy\right]"),
    Claim("3.h", 3, "(e)",
          r"h(\boldsymbol{v_I}, \boldsymbol{v_{I^t}}) = \frac{\exp(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}{\tau})}"
          r"{\exp(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}{\tau}) + \sum_{I' \in D_N} \exp(\frac{s(\boldsymbol{v_I},"
          r" \boldsymbol{v_{I'}})}{\tau})}",
          r"h(v_I, v_{I^t}) = \frac{\exp(s(v_I, v_{I^t})/\tau)}{\exp(s(v_I, v_{I^t})/\tau) + \sum_{I' \in D_N} "
          r"\exp(s(v_{I^t}, v_{I'})/\tau)}", against="contrastive.pirl_h",
          form=r"h(\boldsymbol{v_I}, \boldsymbol{v_{I^t}}) = \frac{\exp{(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}"
               r"{\tau})}}{\exp{(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}{\tau})} + \sum_{I' \in D_N} \exp{(\frac{"
               r"s(\boldsymbol{v_I}, \boldsymbol{v_{I'}})}{\tau})}}"),
    Claim("3.nce", 3, "(e)",
          r"L_{NCE}(\boldsymbol{I}, \boldsymbol{I^t}) = -\log[h(f(\boldsymbol{v_I}), g(\boldsymbol{v_{I^t}}))] - "
          r"\sum_{I' \in D_N} \log[1 - h(g(\boldsymbol{v_{I^t}}), f(\boldsymbol{v_{I'}}))]",
          r"L_{NCE}(I, I^t) = -\log h(f(v_I), g(v_{I^t})) - \sum_{I' \in D_N} \log(1 - h(g(v_{I^t}), f(v_{I'})))",
          repairs=r"an unbalanced \left[ closed", against="contrastive.nce_loss",
          form=r"L_{NCE}(\boldsymbol{I}, \boldsymbol{I^t}) = -\log\left[h(f(\boldsymbol{v_I}), g(\boldsymbol{v_{I^t}}))"
               r"\right] - \sum_{\boldsymbol{I'} \in D_N} \log\left[1 - h(g(\boldsymbol{v_{I^t}}), "
               r"f(\boldsymbol{v_{I'}}))\right]"),
    Claim("3.maximise", 3, "(e)", "NCE's objective tries to maximise the cost function",
          "L_NCE is minimised", math=False, grade=_nce_maximise),
    Claim("3.kmeans", 3, "(f)", r"F(\boldsymbol{x}, \boldsymbol{y}) = ||\boldsymbol{y} - \boldsymbol{W}\boldsymbol{z}||^2",
          r"E(y, z) = \lVert y - W z \rVert^2,\; F(y) = \min_z E(y, z)",
          repairs="the lost minus of ||y Wz|| restored", against="latent.kmeans_energy",
          form=r"||\boldsymbol{y} - \boldsymbol{W}\boldsymbol{z}||^2",
          imprecise="It is the energy E(y, z) of the latent-variable model, not F(x, y): F(y) = min_z E(y, z)"),
    Claim("3.sparse", 3, "(f)", r"F(\boldsymbol{x}, \boldsymbol{y}) = ||y - Wz||^2 + \lambda ||z||_{L1}",
          r"E(y, z) = \lVert y - W z \rVert^2 + \lambda \lVert z \rVert_1",
          repairs="the lost minus of ||y Wz|| restored", against="latent.sparse_coding_energy",
          form=r"||y - Wz||^2 + \lambda ||z||_{L1}",
          imprecise="It is the energy E(y, z), not F(x, y); F(y) = min_z E(y, z)"),
    Claim("3.vae", 3, "(f)",
          r"l(\boldsymbol{x}, \hat{\boldsymbol{x}}) = l_{reconstruction} + \beta l_{KL}(\boldsymbol{z}, N(0, I_d))",
          r"\lVert y - \hat y \rVert^2 + \frac{\beta}{2} \sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2)",
          repairs="the squared error for l_reconstruction and the closed-form Gaussian KL for l_KL",
          against="latent.vae_loss",
          form=r"\|y - \hat y\|^2 + \beta \frac{1}{2}\sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2)"),
)


@lru_cache(maxsize=None)
def graded() -> tuple:
    """``(claim, grade, evidence)`` for every claim, each graded once per process."""
    out = []
    for c in CLAIMS:
        grade, evidence = grade_claim(c)
        assert grade in GRADES
        out.append((c, grade, evidence))
    return tuple(out)


def _cell(text: str, is_math: bool):
    """A table cell: checked mathematics, or plain text (escaped when rendered)."""
    return tex(text) if is_math else text


def _table(question: int) -> Table:
    rows = []
    for c, grade, evidence in graded():
        if c.question != question:
            continue
        correct_is_math = any(ch in c.correct for ch in "\\_^=")
        rows.append((f"{c.key} {c.part}", _cell(c.seed, c.math), grade, evidence,
                     _cell(c.correct, correct_is_math)))
    return Table(("claim", "the seed says", "verdict", "evidence", "correct form"), tuple(rows),
                 caption=f"The seed's claims in question {question}, graded.",
                 widths=(0.07, 0.27, 0.08, 0.33, 0.2))


def audit_section(question: int) -> Section:
    """The audit of the seed's claims in one question, for that question's worked solution."""
    if question not in (1, 2, 3):
        raise ValueError(f"invalid question {question!r}: the seed has questions 1, 2 and 3")
    counts = {g: sum(1 for c, grade, _ in graded() if c.question == question and grade == g) for g in GRADES}
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    return Section(f"Audit of the seed's answers to question {question}", (
        prose(f"Each claim is transcribed from the seed, repaired where the extraction lost a backslash escape or "
              f"a minus sign, and graded: equations by symdl.check against the reference they state, claims in "
              f"words by a computation from the references. Grades: {summary}."),
        _table(question),
    ))


def derivation() -> Derivation:
    counts = {g: sum(1 for _, grade, _ in graded() if grade == g) for g in GRADES}
    intro = Section("How the seed was graded", (
        prose(f"The seed holds {len(CLAIMS)} claims: {counts['correct']} correct, {counts['incorrect']} incorrect "
              f"and {counts['imprecise']} imprecise. An equation is correct when symdl.check finds it equivalent to "
              "its reference (a numeric witness in float64 at random points, two sizes, abstract functions "
              "instantiated several ways, and a bounded SymPy proof where one exists), incorrect when it finds a "
              "point where they differ. Imprecise means right in substance with a statement that is loose, "
              "mislabelled or damaged. The text was extracted from a PDF: the escapes \\b, \\t and \\r were "
              "eaten (egin, ilde, anh, oldsymbol, extbf, ight) and some minus signs lost; each repair is "
              "noted with its claim."),
    ))
    return Derivation(
        slug="seed-audit",
        title="Seed audit: the midterm answers, claim by claim",
        description="every claim of the seed graded correct, incorrect or imprecise, with symdl.check's evidence",
        sections=(intro, *(audit_section(q) for q in (1, 2, 3))),
    )
