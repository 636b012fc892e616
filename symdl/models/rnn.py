r"""The vanilla RNN of seed question 1: :math:`h_t = \sigma(W_1 h_{t-1} + W_2 x_t)`.

The model is the file ``rnn.toml`` beside this module (its sizes, inputs, definitions, ``rnn.state`` and
``rnn.state_jacobian``).  One reference stays in Python, because a file of fixed definitions cannot say it:
``rnn.jacobian_product`` is one reference for every gap :math:`\tau - t`, unrolled to the gap a hand form is
written for (``ref("rnn.jacobian_product").at(gap=5)``), with an evaluator that reads the gap from the
inputs given.  :math:`\sigma` is any elementwise activation, kept abstract; the checks instantiate tanh, the
logistic sigmoid and softplus.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import sympy as sp

from ..verify.oracles import recurrent as oracles
from ..core.calculus import elementwise, jacobian
from ..verify.builders import complex_step_check, explicit_proof, oracle_check
from ..model.model import Model
from ..model.reference import Input, Reference, evaluate_expression
from ..numeric.compile import ops
from ..core.symbols import m, matrix, n, vector
from . import INSTANCES, load_file

FILE = Path(__file__).with_name("rnn.toml")
sigma = sp.Function("sigma")
FUNCTIONS = {r"\sigma": sigma}
W1, W2 = matrix("W_1"), matrix("W_2", n, m)

#: The activations the checks instantiate the abstract sigma with (numpy callables).  These are the
#: textbook formulas, not the elementwise table's overflow-safe spellings: the worked solution reports
#: the errors they give.
ACTIVATIONS = tuple((label, {r"\sigma": f}) for label, f in INSTANCES)


def step(h_prev, x, a_name):
    """``(a, h, definitions)``: the pre-activation named ``a_name`` and the new state."""
    a = vector(a_name)
    return a, elementwise(sigma, a), {a: sp.MatAdd(W1 * h_prev, W2 * x, evaluate=False)}


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


@lru_cache(maxsize=1)
def model() -> Model:
    """The model of rnn.toml, with rnn.jacobian_product (shown for a gap of 3) after the file's references."""
    base = load_file(FILE)
    return replace(base, references=(*base.references, jacobian_product(3)),
                   source="symdl/models/rnn.toml, symdl/models/rnn.py")


def references() -> list[Reference]:
    return list(model().references)
