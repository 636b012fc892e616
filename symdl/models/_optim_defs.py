r"""The symbols and SymPy pieces of the optimisers (see :mod:`symdl.models.optim`).

Every optimiser acts coordinate by coordinate, so each symbol is a scalar.
Here too are the printing-only functions of the GD / SGD updates and the
recurrences unrolled symbolically, which the checks and the worked solution
(``derivations/q2_optimisation.py``) share.
"""

from __future__ import annotations

import sympy as sp
from sympy.logic.boolalg import BooleanFunction

from ..core.symbols import scalar

S = scalar
gamma, beta, mu, tau, alpha, eps = S(r"\gamma"), S(r"\beta"), S(r"\mu"), S(r"\tau"), S(r"\alpha"), S(r"\epsilon")
beta1, beta2 = S(r"\beta_1"), S(r"\beta_2")
t = sp.Symbol("t", integer=True, nonnegative=True)
THETA_K, N_SAMPLES, BATCH, CARD_B = S(r"\theta_k"), sp.Symbol("N", integer=True, positive=True), S("B"), S("|B|")
SAMPLE = sp.Symbol("i", integer=True, positive=True)


# -- printing-only pieces of the GD / SGD updates ------------------------------------------


class sample_gradient(sp.Function):
    r""":math:`\nabla \ell_i(\theta_k)`, the gradient of sample ``i``'s loss at the current point."""

    nargs = 1

    def _latex(self, printer, exp=None):
        return r"\nabla \ell_{%s}(\theta_k)" % printer._print(self.args[0])


class batch_gradient_sum(sp.Function):
    r""":math:`\sum_{j \in B} \nabla \ell_j(\theta_k)` over the mini-batch ``B``."""

    nargs = 1

    def _latex(self, printer, exp=None):
        return r"\sum_{j \in %s} \nabla \ell_j(\theta_k)" % printer._print(self.args[0])


class nonmono_condition(BooleanFunction):
    r"""``e > NONMONO`` and :math:`L_e > \min(L_1, \ldots, L_{e - NONMONO})`, printed in that order."""

    nargs = 3

    def _latex(self, printer, exp=None):
        e, L_e, k = (printer._print(a) for a in self.args)
        return r"%s > %s \text{ and } %s > \min(L_1, \ldots, L_{%s - %s})" % (e, k, L_e, e, k)


# -- symbolic unrolling, shared with the worked solution ---------------------------------------


def unroll_torch_sgd(K: int, theta0, grads, rates, momentum, dampening) -> list:
    r"""PyTorch's SGD for ``K`` steps: ``[theta_0, ..., theta_K]`` (``b_1 = g_1``)."""
    thetas, buf = [theta0], None
    for k in range(K):
        buf = grads[k] if buf is None else momentum * buf + (1 - dampening) * grads[k]
        thetas.append(thetas[-1] - rates[k] * buf)
    return thetas


def unroll_heavy_ball(K: int, w0, grads, rates, betas) -> list:
    r"""Heavy ball from rest (``w_{-1} = w_0``) for ``K`` steps: ``[w_0, ..., w_K]``."""
    ws = [w0, w0]
    for k in range(K):
        ws.append(ws[-1] - rates[k] * grads[k] + betas[k] * (ws[-1] - ws[-2]))
    return ws[1:]


def unroll_sutskever(K: int, theta0, grads, rates, momentum) -> list:
    r"""Sutskever et al.'s form ``v_t = \mu v_{t-1} + \gamma_t g_t``, ``\theta_t = \theta_{t-1} - v_t``."""
    thetas, v = [theta0], 0
    for k in range(K):
        v = momentum * v + rates[k] * grads[k]
        thetas.append(thetas[-1] - v)
    return thetas


def unroll_ema(K: int, decay, xs, start=0) -> list:
    """An exponential moving average ``a_t = decay a_{t-1} + (1 - decay) x_t`` from ``start``: ``[a_0..a_K]``."""
    out = [start]
    for k in range(K):
        out.append(decay * out[-1] + (1 - decay) * xs[k])
    return out


def adam_forms(ref) -> tuple:
    """``(textbook, pytorch)``: optim.adam's update and PyTorch's rearrangement of it, in the
    positive quantities ``M = m_{t+1}``, ``V = v_{t+1}``, ``c_1 = 1 - beta_1^s``, ``c_2 = 1 - beta_2^s``
    (``s = t + 1``, PyTorch's step count)."""
    M, V, c1, c2 = S("M", positive=True), S("V", positive=True), S("c_1", positive=True), S("c_2", positive=True)
    d = {k.name: k for k in ref.definitions}
    textbook = ref.expr.xreplace({d[r"\hat{m}_{t+1}"]: ref.definitions[d[r"\hat{m}_{t+1}"]],
                                  d[r"\hat{v}_{t+1}"]: ref.definitions[d[r"\hat{v}_{t+1}"]]})
    textbook = textbook.xreplace({d["m_{t+1}"]: M, d["v_{t+1}"]: V}).subs({beta1 ** (t + 1): 1 - c1,
                                                                          beta2 ** (t + 1): 1 - c2})
    w = ref.symbols["w_t"]
    pytorch = w - (gamma / c1) * M / (sp.sqrt(V) / sp.sqrt(c2) + eps)
    return textbook, pytorch
