"""Question 2: GD, SGD, heavy ball and PyTorch's SGD, RMSprop, Adam, and the NONMONO learning-rate rule.

Results are computed by SymPy from the recurrences of symdl.models.optim
(sp.diff of the loss, batches enumerated, recurrences unrolled, the
characteristic polynomial solved, expectations taken by linearity) and held
against torch.optim step by step in float64.
"""

from __future__ import annotations

import sys
from pathlib import Path

from symdl.document.derivation import Derivation, Figure, ReferenceBlock, Section, Step, prose
from symdl.models import optim as O

# The parts live in the private package derivations/_q2/; symdl's loader puts this folder on sys.path, and a
# module loaded by its path alone (as tests do) needs it too.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _q2.common import _differs, gl, r, rates
from _q2.gd import N_, _gd_steps, ell, enumerated_expectation, i_, mean_loss_gradient, th
from _q2.momentum import _induction_steps, _mapping_step, _non_pytorch_steps, mapping_solution
from _q2.stability import (_grading_steps, _region_witness, _stability_steps, characteristic_polynomial, in_region,
                           make_region_figure)
from _q2.adaptive import _bias_steps, _eps_step, _rearranged_step, _seed_adam_step, _uncorrected_step, ema_expectation
from _q2.algorithms import ADAM_ALGO, NONMONO_ALGO, RMSPROP_ALGO, SGD_ALGO, _oracle_checks, _where
from _q2.nonmono import LOSSES, LR0, LR_DECAY, _nonmono_blocks, rule_schedule, seed_reading
from _q2.trajectories import _trajectory_check, make_quadratic_figure, make_rosenbrock_figure

QUESTION = (
    "Optimisation. Consider minimising $L(\\hat Y_\\theta(X), y) = \\frac{1}{N}\\sum_i \\ell(\\hat y_\\theta(x_i), y_i)$ "
    "over $\\theta$. Give the gradient-descent and mini-batch SGD updates; the heavy-ball form of SGD with momentum "
    "and the range of $\\beta$; the RMSprop and Adam updates; and explain the learning-rate rule that divides the "
    "rate by LR_DECAY depending on NONMONO."
)

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


def derivation(runner=None) -> Derivation:
    return Derivation(
        slug="q2-optimisation",
        title="Question 2: Optimisation",
        description="GD and SGD, heavy ball against PyTorch's SGD, stability of momentum, RMSprop and Adam, "
                    "the NONMONO rule",
        question=QUESTION,
        sections=(_gd_section(), _momentum_section(), _stability_section(), _adaptive_section(),
                  _nonmono_section(), _trajectories_section()) + _audit(runner),
        references=tuple(r.name for r in O.references()),
    )


def _audit(runner) -> tuple:
    """The seed audit's section for this question, when the audit module is there."""
    try:
        from _audit.sections import audit_section
    except ImportError:
        return ()
    return (audit_section(2, runner),)
