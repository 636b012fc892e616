r"""The optimiser recurrences of seed question 2: GD, SGD, heavy ball, PyTorch's SGD, RMSprop, Adam.

Every optimiser acts coordinate by coordinate, so each symbol is a scalar
SymPy symbol and evaluation broadcasts over arrays.  Each reference returns
the new parameter.  Hyperparameters are checked before evaluation and a bad
one is reported the way ``torch.optim`` reports it
("Invalid beta parameter at index 0: 1.2"), with the domain it must lie in.

Keys of ``evaluate`` beyond REFERENCES.md's symbols: ``optim.gd`` and
``optim.sgd`` take the per-sample gradients as one array
``\nabla \ell_i(\theta_k)`` with a row per sample (``\nabla \ell_j(\theta_k)``
is an alias), and ``optim.sgd`` the batch ``B`` as 1-based row indices;
``optim.sgd_momentum_torch`` takes the step number ``t`` (1 on the first step,
where ``b_{t-1}`` may be left out); ``optim.lr_decay_nonmono`` takes the losses
so far as one sequence ``L`` and returns the new learning rate.

This module builds the references; the pieces live by job in private modules:
the symbols and the recurrences unrolled symbolically (:func:`unroll_torch_sgd`,
:func:`unroll_heavy_ball`, :func:`unroll_ema`, shared with the worked solution in
``derivations/q2_optimisation.py``) in ``_optim_defs``, evaluation in
``_optim_eval``, and each reference's checks in ``_optim_checks``.
"""

from __future__ import annotations

import sympy as sp

from ..model.reference import Input, Reference
from ._display import ordered_product, ordered_sum, reciprocal
from ._optim_checks import (ORACLE_RTOL, ORACLE_SIZES, ORACLE_STEPS, adam_checks, heavy_ball_checks,
                            mean_gradient_checks, nonmono_checks, rmsprop_checks, torch_sgd_checks, trajectory_check)
from ._optim_defs import (BATCH, CARD_B, N_SAMPLES, SAMPLE, THETA_K, S, adam_forms, alpha, batch_gradient_sum, beta,
                          beta1, beta2, eps, gamma, mu, nonmono_condition, sample_gradient, t, tau, unroll_ema,
                          unroll_heavy_ball, unroll_sutskever, unroll_torch_sgd)
from ._optim_eval import (TORCH_LABELS, evaluate_mean_gradient, evaluate_nonmono, evaluate_plain,
                          evaluate_torch_sgd, validate)

__all__ = [  # what the worked solution and the tests read from here, besides references()
    "ORACLE_RTOL", "ORACLE_SIZES", "ORACLE_STEPS", "S", "TORCH_LABELS", "adam_forms", "alpha", "beta", "beta1",
    "beta2", "eps", "gamma", "mu", "references", "t", "tau", "trajectory_check", "unroll_ema", "unroll_heavy_ball",
    "unroll_sutskever", "unroll_torch_sgd", "validate",
]

GRADIENT_ALIASES = {r"\nabla f_i(w_t)": "g_t", r"\nabla f(w_t)": "g_t"}
RATE_ALIASES = {r"\gamma_t": r"\gamma", r"\eta": r"\gamma", "lr": r"\gamma"}
MEAN_GRADIENT_INPUTS = (Input(THETA_K, meaning="current parameter"),
                        Input(gamma, "nonnegative", "learning rate (step size)"),
                        Input(S(r"\nabla \ell_i(\theta_k)"),
                              meaning="per-sample gradients, one row per sample i = 1..N"))


def _gd() -> Reference:
    expr = ordered_sum(THETA_K, ordered_product(-1, gamma, reciprocal(N_SAMPLES),
                                                sp.Sum(sample_gradient(SAMPLE), (SAMPLE, 1, N_SAMPLES))))
    return Reference("optim.gd", "gradient descent on the mean of the per-sample losses", r"\theta_{k+1}", expr,
                     MEAN_GRADIENT_INPUTS, aliases={**RATE_ALIASES, r"\gamma_k": r"\gamma"},
                     oracle="torch.optim.SGD on the mean of N per-sample losses (autograd)",
                     evaluator=evaluate_mean_gradient, checks=lambda ref: mean_gradient_checks(ref, batched=False))


def _sgd() -> Reference:
    expr = ordered_sum(THETA_K, ordered_product(-1, gamma, reciprocal(CARD_B), batch_gradient_sum(BATCH)))
    return Reference("optim.sgd", "mini-batch SGD: the mean gradient over a batch $B$ of samples", r"\theta_{k+1}",
                     expr, (*MEAN_GRADIENT_INPUTS, Input(BATCH, "count", "mini-batch: indices j in 1..N")),
                     aliases={**RATE_ALIASES, r"\gamma_k": r"\gamma",
                              r"\nabla \ell_j(\theta_k)": r"\nabla \ell_i(\theta_k)", "M_i": "B", "M": "B"},
                     oracle="torch.optim.SGD on the mean of the batch's losses (autograd)",
                     evaluator=evaluate_mean_gradient, checks=lambda ref: mean_gradient_checks(ref, batched=True))


def _heavy_ball() -> Reference:
    w, w_prev, g = S("w_t"), S("w_{t-1}"), S("g_t")
    expr = ordered_sum(w, -gamma * g, beta * ordered_sum(w, -w_prev))
    inputs = (Input(w, meaning="current parameter"), Input(w_prev, meaning="previous parameter"),
              Input(g, meaning="gradient at w_t"), Input(gamma, "nonnegative", "learning rate"),
              Input(beta, "nonnegative", "momentum coefficient"))
    return Reference("optim.heavy_ball",
                     r"Polyak's heavy ball: a gradient step plus $\beta$ times the last step $w_t - w_{t-1}$",
                     "w_{t+1}", expr, inputs, aliases={**GRADIENT_ALIASES, **RATE_ALIASES, r"\beta_t": r"\beta"},
                     oracle="torch.optim.SGD(momentum=beta, dampening=0)", evaluator=evaluate_plain,
                     checks=heavy_ball_checks)


def _torch_sgd() -> Reference:
    theta_prev, b_t, b_prev, g = S(r"\theta_{t-1}"), S("b_t"), S("b_{t-1}"), S("g_t")
    step = sp.Symbol("t", integer=True, positive=True)
    later = mu * b_prev + (1 - tau) * g
    buffer = sp.Piecewise((g, sp.Eq(step, 1)), (later, True))
    expr = theta_prev - gamma * b_t
    inputs = (Input(theta_prev, meaning="current parameter"), Input(b_prev, meaning="momentum buffer"),
              Input(g, meaning="gradient"), Input(gamma, "nonnegative", "learning rate"),
              Input(mu, "nonnegative", "momentum"), Input(tau, "unit", "dampening"),
              Input(step, "step", "step number, 1 on the first step"))
    return Reference("optim.sgd_momentum_torch",
                     r"PyTorch's SGD with momentum $\mu$ and dampening $\tau$; the first step uses the gradient "
                     r"alone, $b_1 = g_1$",
                     r"\theta_t", expr, inputs, {b_t: buffer}, aliases={**GRADIENT_ALIASES, **RATE_ALIASES},
                     oracle="torch.optim.SGD(momentum, dampening, nesterov=False)", evaluator=evaluate_torch_sgd,
                     params={"first": theta_prev - gamma * g, "later": theta_prev - gamma * later},
                     checks=torch_sgd_checks)


def _rmsprop() -> Reference:
    r"""RMSprop as ``torch.optim.RMSprop`` computes it (``centered=False``, ``momentum=0``, no weight decay).

    .. math::
       \begin{aligned}
            &\textbf{input}: \gamma \text{ (lr)}, \alpha \text{ (decay)}, \epsilon, w_0 \text{ (parameter)},
                g_t \text{ (gradient at } w_t) \\
            &\textbf{initialize}: v_0 \leftarrow 0 \\
            &\textbf{for}\ t = 0, 1, \ldots\ \textbf{do} \\
            &\hspace{5mm} v_{t+1} \leftarrow \alpha v_t + (1 - \alpha) g_t^2 \\
            &\hspace{5mm} w_{t+1} \leftarrow w_t - \gamma\, g_t / (\sqrt{v_{t+1}} + \epsilon) \\
            &\textbf{return}\ w_{t+1}
       \end{aligned}

    :math:`\epsilon` is added outside the square root, as torch does.  The reference is one pass of
    the loop: ``w_t``, ``v_t``, ``g_t``, ``\gamma``, ``\alpha``, ``\epsilon`` in; ``w_{t+1}`` out, with
    ``v_{t+1}`` a defined name.
    """
    w, v, v_next, g = S("w_t"), S("v_t"), S("v_{t+1}"), S("g_t")
    expr = ordered_sum(w, ordered_product(-1, gamma, g / ordered_sum(sp.sqrt(v_next), eps)))
    defs = {v_next: ordered_sum(alpha * v, ordered_product(1 - alpha, g**2))}
    inputs = (Input(w, meaning="current parameter"), Input(v, "nonnegative", "second-moment average"),
              Input(g, meaning="gradient"), Input(gamma, "nonnegative", "learning rate"),
              Input(alpha, "unit", "decay of the second moment"), Input(eps, "nonnegative", "added to the root"))
    return Reference("optim.rmsprop", r"RMSprop as torch.optim.RMSprop computes it, $\epsilon$ outside the square root",
                     "w_{t+1}", expr, inputs, defs, aliases={**GRADIENT_ALIASES, **RATE_ALIASES},
                     oracle="torch.optim.RMSprop(centered=False, momentum=0)", evaluator=evaluate_plain,
                     checks=rmsprop_checks)


def _adam() -> Reference:
    r"""Adam with bias correction as ``torch.optim.Adam`` computes it (``amsgrad=False``, no weight decay).

    .. math::
       \begin{aligned}
            &\textbf{input}: \gamma \text{ (lr)}, \beta_1, \beta_2 \text{ (betas)}, \epsilon,
                w_0 \text{ (parameter)}, g_t \text{ (gradient at } w_t) \\
            &\textbf{initialize}: m_0 \leftarrow 0 \text{ (first moment)}, v_0 \leftarrow 0 \text{ (second moment)} \\
            &\textbf{for}\ t = 0, 1, \ldots\ \textbf{do} \\
            &\hspace{5mm} m_{t+1} \leftarrow \beta_1 m_t + (1 - \beta_1) g_t \\
            &\hspace{5mm} v_{t+1} \leftarrow \beta_2 v_t + (1 - \beta_2) g_t^2 \\
            &\hspace{5mm} \hat{m}_{t+1} \leftarrow m_{t+1} / (1 - \beta_1^{t+1}) \\
            &\hspace{5mm} \hat{v}_{t+1} \leftarrow v_{t+1} / (1 - \beta_2^{t+1}) \\
            &\hspace{5mm} w_{t+1} \leftarrow w_t - \gamma\, \hat{m}_{t+1} / (\sqrt{\hat{v}_{t+1}} + \epsilon) \\
            &\textbf{return}\ w_{t+1}
       \end{aligned}

    ``t`` counts the updates already made (0 on the first), so torch's step number is ``t + 1``.
    The reference is one pass of the loop: ``w_t``, ``m_t``, ``v_t``, ``g_t``, ``\gamma``,
    ``\beta_1``, ``\beta_2``, ``\epsilon``, ``t`` in; ``w_{t+1}`` out, with the moments and their
    corrections as defined names.  torch rearranges the last line as
    ``(\gamma / (1 - \beta_1^{t+1})) m_{t+1} / (\sqrt{v_{t+1}} / \sqrt{1 - \beta_2^{t+1}} + \epsilon)``;
    a check proves the two equal (:func:`adam_forms`).
    """
    w, m, v, g = S("w_t"), S("m_t"), S("v_t"), S("g_t")
    m_next, v_next, m_hat, v_hat = S("m_{t+1}"), S("v_{t+1}"), S(r"\hat{m}_{t+1}"), S(r"\hat{v}_{t+1}")
    expr = ordered_sum(w, ordered_product(-1, gamma, m_hat / ordered_sum(sp.sqrt(v_hat), eps)))
    defs = {m_next: ordered_sum(beta1 * m, ordered_product(1 - beta1, g)),
            v_next: ordered_sum(beta2 * v, ordered_product(1 - beta2, g**2)),
            m_hat: m_next / (1 - beta1 ** (t + 1)), v_hat: v_next / (1 - beta2 ** (t + 1))}
    inputs = (Input(w, meaning="current parameter"), Input(m, meaning="first-moment average"),
              Input(v, "nonnegative", "second-moment average"), Input(g, meaning="gradient"),
              Input(gamma, "nonnegative", "learning rate"), Input(beta1, "unit", "decay of the first moment"),
              Input(beta2, "unit", "decay of the second moment"), Input(eps, "nonnegative", "added to the root"),
              Input(t, "count", "updates already made (0 on the first)"))
    return Reference("optim.adam",
                     "Adam with bias correction as torch.optim.Adam computes it; $t$ counts the updates made",
                     "w_{t+1}", expr, inputs, defs,
                     aliases={**GRADIENT_ALIASES, **RATE_ALIASES, r"\beta": r"\beta_1", r"\alpha": r"\beta_2"},
                     oracle="torch.optim.Adam (amsgrad=False)", evaluator=evaluate_plain, checks=adam_checks)


def _nonmono() -> Reference:
    e, L_e, nonmono, decay = sp.Symbol("e", integer=True, positive=True), S("L_e"), S("NONMONO"), S(r"LR\_DECAY")
    expr = sp.Piecewise((gamma / decay, nonmono_condition(e, L_e, nonmono)), (gamma, True))
    inputs = (Input(gamma, "positive", "learning rate before the update"),
              Input(S("L"), meaning="validation losses L_1..L_e, one per epoch so far"),
              Input(nonmono, "count", "epochs of patience"), Input(decay, "positive", "divisor of the rate"))
    return Reference("optim.lr_decay_nonmono",
                     r"after epoch $e$ divide the rate by $LR\_DECAY$ when $e > NONMONO$ and "
                     r"$L_e > \min(L_1, \ldots, L_{e-NONMONO})$", r"\gamma_{e+1}", expr, inputs,
                     aliases={"lr": r"\gamma", r"\eta": r"\gamma", "LR_DECAY": r"LR\_DECAY", "lr_decay": r"LR\_DECAY",
                              "nonmono": "NONMONO", "losses": "L"},
                     oracle="an AWD-LSTM-style training loop keeping every validation loss",
                     evaluator=evaluate_nonmono, checks=nonmono_checks)


def references() -> list[Reference]:
    return [_gd(), _sgd(), _heavy_ball(), _torch_sgd(), _rmsprop(), _adam(), _nonmono()]
