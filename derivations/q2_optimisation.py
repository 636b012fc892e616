"""Question 2: GD, SGD, heavy ball and PyTorch's SGD, RMSprop, Adam, and the NONMONO learning-rate rule.

Results are computed by SymPy from the recurrences of symdl.models.optim
(sp.diff of the loss, batches enumerated, recurrences unrolled, the
characteristic polynomial solved, expectations taken by linearity) and held
against torch.optim step by step in float64.
"""

from __future__ import annotations

import sys
from pathlib import Path

from symdl.document.derivation import Derivation, Figure, ReferenceBlock, Section, Step, Table, prose, tex
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
from _q2.nonmono import LOSSES, LR0, LR_DECAY, NONMONO, _nonmono_blocks, rule_schedule, seed_reading
from _q2.trajectories import _trajectory_check, make_quadratic_figure, make_rosenbrock_figure
from _q2.batches import (BATCHES, CLASSES, DIM, EPOCHS, LR, N_SAMPLES, batch_for_half, batch_variance_step, classes_step,
                         expected_classes, figure_checks, floor_step, make_sgd_figure, noise_step, p_all_classes, runs,
                         sci, snr_table)
from _q2.momentum import momentum_window_step
from _q2.adaptive_claims import (adam_first_step, adam_without_momentum_step, bias_duration_step, correction_lasts,
                                 eps_default_step, generalisation_step, sparse_step, state_step)

QUESTION = (
    r"Optimisation. Consider minimising $L(\hat Y_\theta(X), y) = \frac{1}{N}\sum_i \ell(\hat y_\theta(x_i), y_i)$ "
    r"over $\theta$, for example a multi-class classification where $\hat y_\theta(x_i)$ is a vector of class "
    r"probabilities. (a) Write the gradient-descent update. (b) Write the update of stochastic gradient descent on a "
    r"mini-batch. (c) Why are small batches preferred? (d) What is a good batch size for classification into "
    r"$K$ classes? (e) How large is the noise of SGD early in training? (f) Compare SGD with GD. (g) Write SGD with "
    r"momentum as a stochastic heavy ball; what is the range of its coefficient $\beta$? (h) Write the RMSprop and "
    r"Adam updates and explain them. (i) Explain the rule that divides the learning rate by $\mathrm{LR\_DECAY}$ "
    r"depending on $\mathrm{NONMONO}$."
)

# -- the document -------------------------------------------------------------------------------------


def _notation() -> Table:
    rows = [
        (tex(r"\theta,\ w"), "the parameters (w in the seed's heavy ball, RMSprop and Adam)"),
        (tex(r"\ell_i(\theta),\ L(\theta)"), "one sample's loss, and their mean over the training set"),
        (tex(r"N,\ B,\ M"), "the number of samples, a mini-batch, its size"),
        (tex(r"\gamma,\ \gamma_k,\ \gamma_t,\ \gamma_e"), "the learning rate; with an index when it changes (by "
                                                          "step or by epoch)"),
        (tex(r"g_t"), "the gradient an update uses; where it is evaluated is stated with each method"),
        (tex(r"\beta,\ \mu,\ \tau"), "heavy ball's momentum coefficient; PyTorch's momentum and dampening"),
        (tex(r"\alpha,\ \beta_1,\ \beta_2,\ \epsilon"), "RMSprop's decay; Adam's two decays; the small constant in "
                                                        "the denominator"),
        (tex(r"m_t,\ v_t,\ \hat m_t,\ \hat v_t"), "moving averages of the gradient and of its square, and their "
                                                  "bias-corrected values"),
        (tex(r"\lambda,\ r"), "the curvature of a quadratic, and a root of the characteristic polynomial"),
    ]
    return Table(("symbol", "meaning"), tuple(rows), caption="Notation", widths=(0.27, 0.63))


def _gd_section() -> Section:
    """Part (a): GD from the derivative of the mean loss."""
    gd_step, _, _ = _gd_steps()
    return Section("(a) Gradient descent", (
        prose("Answer (a). $\\theta_{k+1} = \\theta_k - \\gamma \\nabla L(\\theta_k) = \\theta_k - \\gamma \\frac{1}{N} "
              "\\sum_{i=1}^{N} \\nabla \\ell_i(\\theta_k)$: one step against the gradient of the mean loss, which is "
              "the mean of the per-sample gradients. The learning rate $\\gamma$ may change with $k$."),
        _notation(),
        prose("The loss is the mean of per-sample losses, $L(\\theta) = \\frac{1}{N}\\sum_{i=1}^{N} \\ell_i(\\theta)$ "
              "with $\\ell_i(\\theta) = \\ell(\\hat y_\\theta(x_i), y_i)$. Its gradient:"),
        gd_step,
        ReferenceBlock("optim.gd"),
        prose("The seed's update (a) is this one, with $\\gamma_k$ for $\\gamma$: right."),
    ))


def _sgd_section() -> Section:
    """Part (b): SGD's step is an unbiased estimate of GD's."""
    _, enum_step, general_step = _gd_steps()
    return Section("(b) Mini-batch SGD", (
        prose("Answer (b). $\\theta_{k+1} = \\theta_k - \\gamma \\frac{1}{M} \\sum_{j \\in B_k} \\nabla "
              "\\ell_j(\\theta_k)$, with $B_k$ a batch of $M$ samples drawn at random. Averaged over the draw, the "
              "step is the gradient-descent step: SGD follows the true gradient on average, at a fraction $M/N$ "
              "of the cost."),
        prose("Mini-batch SGD replaces the mean over all $N$ samples by the mean over a batch $B$ of $M$ samples "
              "drawn without replacement. Its step is an unbiased estimate of the GD step:"),
        enum_step, general_step,
        ReferenceBlock("optim.sgd"),
        prose("The seed's update (b) is this one, with $\\gamma_k$ for $\\gamma$ and $M_i$ for $B$: right."),
    ))


def _batch_section() -> Section:
    """Part (c): why small batches."""
    return Section("(c) Why small batches", (
        prose("Answer (c). A step costs work in proportion to $M$, while its noise falls only like $1/\\sqrt{M}$. "
              "So for the same work small batches take many more, noisier steps: early in training, when the "
              "gradient is large against its noise, that makes faster progress per pass over the data (part (f)). "
              "The noise itself is often credited with better generalisation, by keeping the iterates out of sharp "
              "minima; that is an empirical finding about deep networks, not a property of the update."),
        batch_variance_step(),
        prose("What the seed gets right and wrong in (c). “Smaller batches converge sooner” holds per epoch, not "
              "per update: each small-batch step is a worse estimate of the gradient. “Noisy steps help skip over "
              "unwanted local optima” and “small batches offer regularisation” are the usual empirical account, "
              "stated by the seed as a consequence it does not derive."),
    ))


def _classes_section() -> Section:
    """Part (d): the batch size against the number of classes."""
    k, half = CLASSES, batch_for_half(CLASSES)
    return Section("(d) The batch size and the number of classes", (
        prose(f"Answer (d). A batch of about $K$ to $2K$ samples for $K$ classes, the course's rule of thumb: "
              "large enough that most classes appear in most batches, small enough to keep many updates per epoch. "
              "It is not needed so that each batch holds every class: the step is unbiased at any batch size "
              f"(part (b)), and a batch drawn at random holds every class only rarely. For $K = {k}$, a batch of "
              f"$K$ holds all classes with probability ${sci(float(p_all_classes(k, k)))}$ and about "
              f"{float(expected_classes(k, k)):.1f} of them on average; it takes $M = {half}$ to hold all "
              "$K$ with probability one half."),
        classes_step(),
        prose("What the seed gets right and wrong in (d). Its recommendation, a batch slightly larger than or "
              "equal to $K$, matches the rule of thumb. Its reason, that each batch should represent the whole data "
              "set, is its own and does not hold for batches drawn at random: only a batch drawn class by class "
              "(stratified) holds every class."),
    ))


def _noise_section() -> Section:
    """Part (e): the noise of SGD early in training."""
    t = snr_table()
    return Section("(e) The noise of SGD early in training", (
        prose("Answer (e). Early in training, far from a minimum, the mean gradient is large against the spread of "
              "the per-sample gradients, so a mini-batch step points nearly where the full gradient does; near a "
              "minimum the mean gradient vanishes while the spread does not, and the noise dominates. “Small” is "
              "relative, though: in the least-squares instance below, the signal-to-noise ratio at the start is "
              f"{t[1][0]:.2f} for one sample (below 1) and {t[BATCHES[-1]][0]:.1f} for a batch of {BATCHES[-1]}, "
              "against "
              f"{t[1][1]:.3f} and {t[BATCHES[-1]][1]:.2f} near the minimum. A batch divides the noise by about "
              "$\\sqrt{M}$."),
        prose(f"The instance: least squares with $N = {N_SAMPLES}$ samples in {DIM} dimensions, "
              "$\\ell_i(w) = \\frac{1}{2}(x_i^\\top w - y_i)^2$, started at $w_0 = 0$. The ratio compares the mean "
              "gradient with the noise of a batch mean (part (c)):"),
        noise_step(),
        prose("What the seed gets right and wrong in (e). “Early on the noise is small compared with the "
              "information in the gradient” is right as a comparison with later. Its reason, that SGD has “not "
              "accumulated gradients yet”, is false: plain SGD accumulates nothing, and the noise of a step depends "
              "on the batch and on where the iterate is, not on how many steps came before. And “virtually "
              "comparable to GD” overstates it for small batches: with one sample the noise is larger than the "
              "mean gradient even at the start of this instance."),
    ))


def _sgd_gd_section() -> Section:
    """Part (f): SGD against GD, per epoch and per update; the noise ball."""
    one = {k: float(v[1]) for k, v in runs().items()}
    return Section("(f) SGD against GD", (
        prose("Answer (f). Per pass over the data SGD makes $N/M$ updates for the cost of one GD step, so early in "
              "training it gets further per unit of work; per update GD is ahead, since its step is the exact "
              "gradient. GD stops where the gradient vanishes, which may be a poor local minimum or a saddle point, "
              "and SGD's noise can carry it on: that helps in practice but is not guaranteed. With one minimum both "
              "get there only if SGD's learning rate decays; at a constant learning rate SGD hovers in a noise ball "
              "around the minimum whose size grows with the learning rate."),
        prose(f"In the instance of part (e), after one epoch at $\\gamma = {LR:g}$ the excess loss is "
              f"{one['GD']:.2f} for GD and {one['SGD constant']:.3f} for SGD with one sample an update. Over "
              f"{EPOCHS} epochs:"),
        floor_step(),
        Figure("sgd-gd", f"Left: excess loss $L(w) - L(w^*)$ after each epoch of the instance of part (e), from "
                            f"$w_0 = 0$: GD (one update an epoch) against SGD with one sample an update at "
                            f"$\\gamma = {LR:g}$, at a quarter of it, and with a decaying learning rate. SGD is far "
                            "ahead per epoch, stalls at a level that shrinks with $\\gamma$, and keeps approaching "
                            "the minimum only when $\\gamma$ decays. Right: the signal-to-noise ratio of a batch "
                            f"gradient along a GD path, for batches of {', '.join(map(str, BATCHES))}: large at the "
                            "start, falling towards 0 at the minimum.",
               make_sgd_figure, checks=figure_checks(), width="1.0"),
        prose("What the seed gets right and wrong in (f). “SGD converges faster since it updates more often” holds "
              "per epoch, not per update. That GD “could be stuck in a local optimum and assume it reached a global "
              "optimum” is loose: GD assumes nothing, it stops where the gradient vanishes. “If the loss has only "
              "one global optimum, both SGD and GD will converge to it” is wrong at a constant learning rate: SGD "
              "only reaches a noise ball, as the step above shows."),
    ))


def _pytorch_blocks() -> tuple:
    """Part (g): which heavy ball PyTorch's SGD is, by induction on the step."""
    solve_step = _mapping_step()
    base, induct, unrolled = _induction_steps()
    damp, sutskever = _non_pytorch_steps()
    return (
        prose("The seed writes the stochastic heavy ball. PyTorch implements momentum differently, with a buffer "
              "$b_t$, a dampening $\\tau$ and a first step $b_1 = g_1$; its algorithm, in the layout of its "
              "documentation:"),
        Step("torch-sgd", SGD_ALGO, "torch.optim.SGD without Nesterov momentum, held against PyTorch step by step",
             checks=_oracle_checks("optim.sgd_momentum_torch"), relation="def"),
        ReferenceBlock("optim.heavy_ball"),
        ReferenceBlock("optim.sgd_momentum_torch"), _where("optim.sgd_momentum_torch"),
        prose("The two number their updates differently: heavy ball's update $t$ goes from $w_t$ to $w_{t+1}$ with "
              "$g_t = \\nabla f(w_t)$, PyTorch's goes from $\\theta_{t-1}$ to $\\theta_t$ with "
              "$g_t = \\nabla f(\\theta_{t-1})$. Below, heavy ball is written in PyTorch's numbering, "
              "$w_t = w_{t-1} - \\gamma_t g_t + \\beta_t (w_{t-1} - w_{t-2})$ with $g_t = \\nabla f(w_{t-1})$, so "
              "that $g_t$ means one thing: the gradient at the point both methods share, $w_{t-1} = \\theta_{t-1}$. "
              "Which heavy ball is PyTorch's SGD? Match the second steps:"),
        solve_step,
        prose("Proof for every step, by induction on $t$, with a varying learning rate and $\\tau = 0$:"),
        base, induct, unrolled,
        prose("Two forms that are not PyTorch's:"),
        damp, sutskever,
        prose("With momentum $\\mu = 0$ PyTorch keeps no buffer at all and ignores the dampening, so its step is "
              "$\\theta_{t-1} - \\gamma g_t$; the buffer formula then agrees with it only for $\\tau = 0$."),
    )


def _stability_blocks() -> tuple:
    """Part (g): which momentum coefficients converge on a quadratic."""
    grad_step, rec_step, poly_step, roots_step, region = _stability_steps()
    return (
        prose("Which coefficients converge? Run heavy ball on the quadratic $f(w) = \\frac{1}{2}\\lambda w^2$ (each "
              "eigen-direction of a quadratic behaves like this, $\\lambda$ its curvature):"),
        grad_step, rec_step, poly_step, roots_step, region,
        Figure("stability-region", "The stability region of heavy ball in the $(\\gamma\\lambda, \\beta)$ plane: "
                                   "the largest root modulus of the derived characteristic polynomial, blue where "
                                   "$|r| < 1$, white at $|r| = 1$, red where $|r| > 1$. The black line is the computed "
                                   "$|r| = 1$; it runs along the boundary of the triangle $|\\beta| < 1$, "
                                   "$0 < \\gamma\\lambda < 2(1+\\beta)$ (wide dashed lines), inside which the "
                                   "iterates converge. GD is the segment $\\beta = 0$.",
               make_region_figure, checks=(_region_witness(),), width="0.8"),
    )


def _momentum_section() -> Section:
    """Part (g): heavy ball against PyTorch's SGD; the range of beta and the seed's claims about it."""
    zero_step, neg_step, above, one = _grading_steps()
    return Section("(g) Momentum: the stochastic heavy ball", (
        prose("Answer (g). $w_{t+1} = w_t - \\gamma_t \\nabla \\ell_{i_t}(w_t) + \\beta_t (w_t - w_{t-1})$: a "
              "gradient step plus $\\beta_t$ times the previous step, like a heavy ball that keeps rolling in its "
              "direction, which damps oscillations across a valley and speeds progress along it. $\\beta$ is the "
              "momentum coefficient; PyTorch's SGD with momentum $\\mu$ is this heavy ball with "
              "$\\beta_t = \\mu\\gamma_t / \\gamma_{t-1}$, that is $\\beta = \\mu$ when the learning rate is constant. "
              "On a quadratic the iteration converges exactly when $|\\beta| < 1$ and $0 < \\gamma\\lambda < "
              "2(1 + \\beta)$; in practice $\\beta \\in [0, 1)$, usually $0.9$ or $0.99$."),
        *_pytorch_blocks(),
        *_stability_blocks(),
        momentum_window_step(),
        prose("What the seed gets right and wrong in (g). The update is right. It calls $\\beta$ a dampening "
              "factor: it is the momentum coefficient (PyTorch's $\\mu$ when the learning rate is constant, "
              "$\\mu\\gamma_t/\\gamma_{t-1}$ in general), and PyTorch's dampening is the separate $\\tau$. Its "
              "claims about the range:"),
        zero_step, neg_step, above, one,
        prose("So $[0, 1)$ is the range used in practice, with $\\beta = 0.9$ a usual choice, while the iteration "
              "converges for $|\\beta| < 1$ with $0 < \\gamma\\lambda < 2(1 + \\beta)$: the seed's range is "
              "imprecise, since negative $\\beta$ down to $-1$ converge too. “$\\beta < 0$ is simply GD” is false, "
              "“$\\beta > 1$ blows up” is true, and $\\beta = 1$ does not converge either. Momentum also widens the "
              "stable learning rates: up to $\\gamma\\lambda < 2(1 + \\beta)$ instead of GD's 2."),
    ))


def _adaptive_section() -> Section:
    """Part (h): RMSprop and Adam as PyTorch computes them; the bias correction; the seed's remarks."""
    unroll_step, bias_step = _bias_steps()
    rearranged, seed_step, unc_step = _rearranged_step(), _seed_adam_step(), _uncorrected_step()
    return Section("(h) RMSprop and Adam", (
        prose("Answer (h). RMSprop keeps a moving average of squared gradients, $v_{t+1} = \\alpha v_t + "
              "(1 - \\alpha) g_t^2$, and divides each coordinate's step by its root: $w_{t+1} = w_t - \\gamma\\, "
              "g_t / (\\sqrt{v_{t+1}} + \\epsilon)$, so that every coordinate moves at a similar speed whatever the "
              "scale of its gradient. Adam also averages the gradients, $m_{t+1} = \\beta_1 m_t + (1 - \\beta_1) "
              "g_t$, corrects both averages for their start at zero, $\\hat m_{t+1} = m_{t+1}/(1 - "
              "\\beta_1^{t+1})$ and $\\hat v_{t+1} = v_{t+1}/(1 - \\beta_2^{t+1})$, and steps by $w_{t+1} = w_t - "
              "\\gamma\\, \\hat m_{t+1} / (\\sqrt{\\hat v_{t+1}} + \\epsilon)$. With the usual "
              f"$\\beta_2 = 0.999$ the correction matters for thousands of steps (until $t \\approx "
              f"{correction_lasts()}$ to within 1 percent)."),
        prose("RMSprop as torch.optim.RMSprop implements it (not centred, no momentum):"),
        Step("rmsprop-algorithm", RMSPROP_ALGO, "torch.optim.RMSprop, held against PyTorch step by step",
             checks=_oracle_checks("optim.rmsprop"), relation="def"),
        ReferenceBlock("optim.rmsprop"), _where("optim.rmsprop"),
        _eps_step(),
        prose("The seed's RMSprop is this reference: right, with $\\epsilon$ outside the square root as PyTorch "
              "has it. Adam as torch.optim.Adam implements it:"),
        Step("adam-algorithm", ADAM_ALGO, "torch.optim.Adam, held against PyTorch step by step",
             checks=_oracle_checks("optim.adam"), relation="def"),
        ReferenceBlock("optim.adam"), _where("optim.adam"),
        prose("Why the correction divides by $1 - \\beta_1^{t+1}$: the moving average starts at 0."),
        unroll_step, bias_step, bias_duration_step(),
        prose("PyTorch rearranges the update to save work; it is the same function:"),
        rearranged,
        prose("The seed's Adam uses $m_t$ in the numerator, says the bias correction is “not shown”, and so "
              "writes a different optimiser:"),
        seed_step, unc_step,
        prose("The seed's remarks, each against a computation:"),
        adam_without_momentum_step(), eps_default_step(), sparse_step(), state_step(), adam_first_step(),
        generalisation_step(),
        prose("What the seed gets right and wrong in (h). Right: the RMSprop update, $v$ as an estimate of the "
              "second moment, the moving average's forgetting, that Adam has a bias correction RMSprop lacks, "
              "$\\epsilon$ of order $10^{-8}$ to $10^{-7}$, and “Adam is essentially RMSprop plus momentum” up to "
              "the dampening and the corrections. Wrong or imprecise: its Adam numerator $m_t$; “if the gradient is "
              "small, dividing by the root is dividing by the standard deviation” (the condition is that the "
              "gradient's mean is small against its spread, since $\\mathbb{E}[v] \\to \\mathbb{E}[g^2]$, the "
              "variance plus the squared mean); “Adam is preferred for oscillatory trajectories because of its "
              "bias correction” (the correction undoes the zero start; the averaging of $m$ damps oscillation); "
              "“the step size need not change, since $\\beta$ takes care of it” (the first step has length "
              "$\\gamma$ whatever $\\beta$); “RMSprop takes up more computational efficiency” (read as “costs "
              "more”, it is false: RMSprop keeps one average, Adam two); “adaptive methods generalise poorly” (an "
              "empirical tendency, not a theorem: the instance above only shows that they pick another solution); "
              "“RMSprop is more suitable for sparse problems” (that motivation is Adagrad's, and PyTorch's RMSprop "
              "refuses sparse gradients)."),
    ))


def _not_greater_yet_not_lowest() -> tuple:
    """The first epoch of the table whose loss is not greater than the rule's comparison, yet not the lowest so far:
    (epoch, the rule's comparison, the lower earlier loss)."""
    for e in range(NONMONO + 1, len(LOSSES) + 1):
        window, before = min(LOSSES[: e - NONMONO]), min(LOSSES[: e - 1])
        if window >= LOSSES[e - 1] > before:
            return e, window, before
    raise AssertionError("no epoch of the table separates the two readings")


def _nonmono_section() -> Section:
    """Part (i): the NONMONO rule against the seed's reading of it."""
    table, nm_step = _nonmono_blocks()
    e, window, lower = _not_greater_yet_not_lowest()
    return Section("(i) The NONMONO learning-rate rule", (
        prose("Answer (i). After each epoch $e$ the validation loss $L_e$ is compared with the best loss of the "
              "epochs at least $\\mathrm{NONMONO}$ old, $\\min(L_1, \\ldots, L_{e - \\mathrm{NONMONO}})$. If it is "
              "worse (and $e > \\mathrm{NONMONO}$), the learning rate is divided by $\\mathrm{LR\\_DECAY}$: "
              "$\\gamma_{e+1} = \\gamma_e / \\mathrm{LR\\_DECAY}$; otherwise it is kept, $\\gamma_{e+1} = \\gamma_e$. "
              "$\\mathrm{NONMONO}$ is a patience: the loss may rise for a while without a decay, and smaller steps "
              "follow only when progress has stalled."),
        prose("The rule, as AWD-LSTM-style training loops write it:"),
        Step("nonmono-algorithm", NONMONO_ALGO, "the rule after every epoch, against an AWD-LSTM-style loop",
             checks=_oracle_checks("optim.lr_decay_nonmono"), relation="def"),
        nm_step,
        table,
        prose("What the seed gets right and wrong in (i). The what is right: dividing the learning rate by "
              "$\\mathrm{LR\\_DECAY}$ gives smaller steps, so that the iterates stop overshooting. The when is "
              "wrong: the seed compares the current loss with the lowest loss so far, while the rule compares it "
              "with the best loss at least $\\mathrm{NONMONO}$ epochs old and never decays during the first "
              "$\\mathrm{NONMONO}$ epochs; the table shows the two apart. Under the seed's own reading, “not "
              "greater, so the lowest loss yet” follows (up to ties); under the rule it does not: at epoch 3 above, "
              "$L_3 = 0.95$ is not greater than $L_1$, yet $L_2 = 0.90$ is lower. “The direction is adjusted” is "
              "wrong: dividing the learning rate shortens the step and leaves its direction, the gradient's, as it "
              "was."),
    ))


def _trajectories_section() -> Section:
    """Every optimiser's path on a quadratic and on Rosenbrock's function, re-run by torch.optim."""
    return Section("The optimisers side by side", (
        prose("Each optimiser stepped by its update above from the same start; SGD draws batches of 2 from 8 "
              "samples whose losses differ from the loss by zero-mean linear terms, so their mean is the loss "
              "itself. Every path is re-run by torch.optim with autograd and must agree."),
        Figure("quadratic", "150 steps on an ill-conditioned quadratic $f(w) = \\frac{1}{2}(w_1^2 + 25 w_2^2)$: "
                            "GD and SGD zig-zag across the narrow valley; heavy ball ($\\beta = 0.9$) overshoots and "
                            "spirals; RMSprop and Adam rescale each coordinate. Learning rates in the legend; the "
                            "star marks the minimum, the circle the start.",
               make_quadratic_figure, checks=(_trajectory_check("quadratic"),), width="0.9"),
        Figure("rosenbrock", "1500 steps on Rosenbrock's function $(1 - w_1)^2 + 100 (w_2 - w_1^2)^2$ from "
                             "$(-1.2, 1)$; paths that would hide one another in the curved valley are drawn in "
                             "separate panels, learning rates in the legends; SGD's samples add zero-mean linear "
                             "terms. The star marks the minimum at $(1, 1)$. The last panel is the loss along each "
                             "path: Adam's falls furthest; RMSprop's steps are about $\\gamma$ long, so it "
                             "travels only about $1500\\gamma$.",
               make_rosenbrock_figure, checks=(_trajectory_check("rosenbrock"),), width="1.0"),
    ))


def derivation(runner=None) -> Derivation:
    return Derivation(
        slug="q2-optimisation",
        title="Question 2: Optimisation",
        description="GD and SGD, heavy ball against PyTorch's SGD, stability of momentum, RMSprop and Adam, "
                    "the NONMONO rule",
        question=QUESTION,
        sections=(_gd_section(), _sgd_section(), _batch_section(), _classes_section(), _noise_section(),
                  _sgd_gd_section(), _momentum_section(), _adaptive_section(), _nonmono_section(),
                  _trajectories_section()) + _audit(runner),
        references=tuple(r.name for r in O.references()),
        template="solution.tex.j2",
    )


def _audit(runner) -> tuple:
    """The seed audit's section for this question, when the audit module is there."""
    try:
        from _audit.sections import audit_section
    except ImportError:
        return ()
    return (audit_section(2, runner),)
