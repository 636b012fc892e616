r"""The vanilla RNN of seed question 1: :math:`h_t = \sigma(W_1 h_{t-1} + W_2 x_t)`.

:math:`\sigma` is any elementwise activation, kept abstract: the Jacobians are
derived with :math:`\sigma'` and hold for every activation; the checks
instantiate tanh, the logistic sigmoid and softplus.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from ..verify.oracles import recurrent as oracles
from ..core.calculus import elementwise, jacobian
from ..verify.builders import complex_step_check, explicit_proof, oracle_check
from ..model.reference import Input, Reference, evaluate_expression
from ..numeric.compile import ops
from ..core.symbols import m, matrix, n, vector

sigma = sp.Function("sigma")
FUNCTIONS = {r"\sigma": sigma}
W1, W2 = matrix("W_1"), matrix("W_2", n, m)

#: The activations the checks instantiate the abstract sigma with (numpy callables).  These are the
#: textbook formulas, not the elementwise table's overflow-safe spellings: the worked solution reports
#: the errors they give.
ACTIVATIONS = (
    ("tanh", {r"\sigma": np.tanh}),
    ("sigmoid", {r"\sigma": lambda x: 1 / (1 + np.exp(-x))}),
    ("softplus", {r"\sigma": lambda x: np.log1p(np.exp(x))}),
)


def step(h_prev, x, a_name):
    """``(a, h, definitions)``: the pre-activation named ``a_name`` and the new state."""
    a = vector(a_name)
    return a, elementwise(sigma, a), {a: sp.MatAdd(W1 * h_prev, W2 * x, evaluate=False)}


def _state_refs() -> list[Reference]:
    h_prev, x = vector("h_{t-1}"), vector("x_t", m)
    a, h_t, defs = step(h_prev, x, "a_t")
    inputs = (Input(h_prev, meaning="previous state"), Input(x, meaning="input"),
              Input(W1, meaning="recurrent weights"), Input(W2, meaning="input weights"))
    state = Reference(
        "rnn.state", r"the RNN state $h_t = \sigma(W_1 h_{t-1} + W_2 x_t)$", "h_t",
        elementwise(sigma, defs[a]), inputs, {}, FUNCTIONS,
        oracle="torch.nn.RNNCell (tanh) and explicit torch steps (sigmoid, softplus)",
        checks=lambda ref: [oracle_check(ref.evaluate, oracles.rnn_state, inputs, (n, m),
                                         "torch.nn.RNNCell / torch step", ACTIVATIONS)])

    J = jacobian(h_t, h_prev, defs)
    sj = Reference(
        "rnn.state_jacobian", r"one step's Jacobian $\partial h_t / \partial h_{t-1}$, numerator layout",
        r"\frac{\partial h_t}{\partial h_{t-1}}", J, inputs, defs, FUNCTIONS,
        oracle="torch.func.jacrev of the torch step", checks=lambda ref: [
            explicit_proof(J, h_t, h_prev, defs, (n, m), description="against SymPy's explicit Jacobian"),
            complex_step_check(J, h_t, defs, inputs, FUNCTIONS, "h_{t-1}", (n, m), ACTIVATIONS),
            oracle_check(ref.evaluate, oracles.rnn_state_jacobian, inputs, (n, m),
                         "torch.func.jacrev of the torch step", ACTIVATIONS),
        ])
    return [state, sj]


@lru_cache(maxsize=16)
def jacobian_product(gap: int = 3) -> Reference:
    r""":math:`\partial h_{t+k} / \partial h_t` for the gap ``k``, derived by unrolling ``k`` steps."""
    if not isinstance(gap, int) or gap < 1:
        raise ValueError(f"rnn.jacobian_product: invalid gap {gap!r} (must be an integer >= 1)")
    h = vector("h_t")
    defs, xs = {}, []
    for k in range(1, gap + 1):
        x = vector(f"x_{{t+{k}}}", m)
        a, h_next, d = step(h, x, f"a_{{t+{k}}}")
        defs.update(d)
        hk = vector(f"h_{{t+{k}}}")
        defs[hk] = h_next
        xs.append(x)
        h = hk
    J = jacobian(h, vector("h_t"), defs)
    inputs = (Input(vector("h_t"), meaning="state at time t"),
              *[Input(x, meaning="input") for x in xs], Input(W1, meaning="recurrent weights"),
              Input(W2, meaning="input weights"))
    forward = defs[h]
    return Reference(
        "rnn.jacobian_product",
        r"$\partial h_\tau / \partial h_t$ as the ordered product of the step Jacobians, later factors on the left",
        rf"\frac{{\partial h_{{t+{gap}}}}}{{\partial h_t}}", J, inputs, defs, FUNCTIONS,
        oracle="torch.func.jacrev through an unrolled loop", evaluator=_evaluate_product,
        variants=jacobian_product, params={"gap": gap}, checks=lambda ref: [
            explicit_proof(J, forward, vector("h_t"), defs, (n, m), sizes=(1, 2),
                           description="against SymPy's explicit Jacobian of the unrolled map"),
            complex_step_check(J, forward, defs, inputs, FUNCTIONS, "h_t", (n, m), ACTIVATIONS),
            oracle_check(ref.evaluate, lambda v: oracles.rnn_jacobian_product(v, gap), inputs,
                         (n, m), "torch.func.jacrev through an unrolled loop", ACTIVATIONS),
        ])


def _evaluate_product(ref: Reference, values, backend):
    """The gap is read from the inputs given: ``x_{t+1}`` ... ``x_{t+k}``."""
    gap = sum(1 for k in values if k.startswith("x_{t+"))
    target = ref if gap == ref.params["gap"] or gap == 0 else jacobian_product(gap)
    return evaluate_expression(target.expanded(), target.inputs, target.functions, values, ops(backend),
                               backend, target.name)


def references() -> list[Reference]:
    return [*_state_refs(), jacobian_product(3)]
