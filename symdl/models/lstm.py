r"""The LSTM cell of seed question 1.

:math:`c_t = f_t \odot c_{t-1} + i_t \odot \tilde c_t`, :math:`h_t = o_t \odot \tanh(c_t)`,
each gate an affine map of :math:`(h_{t-1}, x_t)` through :math:`\sigma` (tanh for
:math:`\tilde c_t`).  The cell-state Jacobian is derived twice: through every
path, with :math:`h_{t-1} = o_{t-1} \odot \tanh(c_{t-1})` (four terms), and
with :math:`h_{t-1}` held fixed (``diag(f_t)`` alone).
"""

from __future__ import annotations

import sympy as sp

from ..verify.oracles import recurrent as oracles
from ..core.calculus import add, elementwise, hadamard, jacobian
from ..verify.builders import complex_step_check, explicit_proof, oracle_check
from ..core.elementwise import sigmoid
from ..model.reference import Input, Reference
from ..core.symbols import m, matrix, n, vector

GATES = {"f": sigmoid, "i": sigmoid, "g": sp.tanh, "o": sigmoid}
GATE_MEANING = {"f": "forget gate", "i": "input gate", "g": "candidate cell", "o": "output gate"}

c_prev, o_prev, h_prev, x = vector("c_{t-1}"), vector("o_{t-1}"), vector("h_{t-1}"), vector("x_t", m)
Wh = {g: matrix(f"W_{{{g}h}}") for g in GATES}
Wx = {g: matrix(f"W_{{{g}x}}", n, m) for g in GATES}
b = {g: vector(f"b_{g}") for g in GATES}
gate = {"f": vector("f_t"), "i": vector("i_t"), "g": vector(r"\tilde{c}_t"), "o": vector("o_t")}
c_t, h_t = vector("c_t"), vector("h_t")

WEIGHTS = tuple(Input(s, meaning=f"{GATE_MEANING[g]} {what}") for g in GATES
                for s, what in ((Wh[g], "recurrent weights"), (Wx[g], "input weights"), (b[g], "bias")))
#: Inputs when h_{t-1} is defined through the previous output gate (REFERENCES.md, lstm).
INPUTS = (Input(c_prev, meaning="previous cell state"), Input(o_prev, meaning="previous output gate, held fixed"),
          Input(x, meaning="input"), *WEIGHTS)
#: Inputs when c_{t-1} and h_{t-1} are both free (lstm.state_jacobian).
STATE_INPUTS = (Input(c_prev, meaning="previous cell state"), Input(h_prev, meaning="previous hidden state"),
                Input(x, meaning="input"), *WEIGHTS)
ALIASES = {r"g_t": r"\tilde{c}_t"}

GATE_DEFS = {gate[g]: elementwise(f, add(Wh[g] * h_prev, Wx[g] * x, b[g])) for g, f in GATES.items()}
CELL = add(hadamard(gate["f"], c_prev), hadamard(gate["i"], gate["g"]))
HIDDEN = hadamard(gate["o"], elementwise(sp.tanh, c_t))
#: Everything named, h_{t-1} through the previous output gate.
DEFS = {h_prev: hadamard(o_prev, elementwise(sp.tanh, c_prev)), **GATE_DEFS, c_t: CELL}
#: h_{t-1} free.
FREE_DEFS = {**GATE_DEFS, c_t: CELL}
DIMS = (n, m)


def references() -> list[Reference]:
    cell = Reference("lstm.cell_update", "the cell state (equation 1 of the seed)", "c_t",
                     CELL, INPUTS, DEFS, aliases=ALIASES, oracle="torch.nn.LSTMCell",
                     checks=lambda ref: [oracle_check(ref.evaluate, lambda v: oracles.lstm_step(v)[0], INPUTS, DIMS,
                                                      "torch.nn.LSTMCell, cell state")])
    hidden = Reference("lstm.hidden", "the hidden state (equation 2 of the seed)", "h_t",
                       HIDDEN, INPUTS, DEFS, aliases=ALIASES, oracle="torch.nn.LSTMCell",
                       checks=lambda ref: [oracle_check(ref.evaluate, lambda v: oracles.lstm_step(v)[1], INPUTS,
                                                        DIMS, "torch.nn.LSTMCell, hidden state")])

    J = jacobian(c_t, c_prev, DEFS)
    full = Reference(
        "lstm.cell_jacobian", r"$\partial c_t / \partial c_{t-1}$ through every path, $h_{t-1} = o_{t-1} \odot \tanh(c_{t-1})$: four terms",
        r"\frac{\partial c_t}{\partial c_{t-1}}", J, INPUTS, DEFS, aliases=ALIASES,
        oracle="torch.func.jacrev of torch.nn.LSTMCell", checks=lambda ref: [
            explicit_proof(J, c_t, c_prev, DEFS, DIMS, sizes=(1, 2, 3),
                           description="against SymPy's explicit Matrix.jacobian"),
            complex_step_check(J, c_t, DEFS, INPUTS, {}, c_prev.name, DIMS),
            oracle_check(ref.evaluate, oracles.lstm_cell_jacobian, INPUTS, DIMS,
                         "torch.func.jacrev of torch.nn.LSTMCell"),
        ])

    # h_{t-1} held fixed: differentiate with h_{t-1} as an independent symbol, evaluate with its definition.
    Jd = jacobian(c_t, c_prev, FREE_DEFS)
    direct = Reference(
        "lstm.cell_jacobian_direct", r"$\partial c_t / \partial c_{t-1}$ with $h_{t-1}$ held fixed",
        r"\left.\frac{\partial c_t}{\partial c_{t-1}}\right|_{h_{t-1}}", Jd, INPUTS, DEFS, aliases=ALIASES,
        oracle="torch.func.jacrev of torch.nn.LSTMCell, h_{t-1} fixed", checks=lambda ref: [
            explicit_proof(Jd, c_t, c_prev, FREE_DEFS, DIMS, description="against SymPy's explicit Matrix.jacobian"),
            complex_step_check(Jd, c_t, FREE_DEFS, STATE_INPUTS, {}, "c_{t-1}", DIMS),
            oracle_check(ref.evaluate, lambda v: oracles.lstm_cell_jacobian(v, through_hidden=False),
                         INPUTS, DIMS, "torch.func.jacrev of torch.nn.LSTMCell, h_{t-1} fixed"),
        ])

    FREE_ALL = {**FREE_DEFS, h_t: HIDDEN}
    blocks = [[jacobian(out, var, FREE_ALL) for var in (c_prev, h_prev)] for out in (c_t, h_t)]
    S = sp.BlockMatrix(blocks)
    state = Reference(
        "lstm.state_jacobian", r"the $2n \times 2n$ Jacobian of $(c_t, h_t)$ with respect to $(c_{t-1}, h_{t-1})$, both free",
        r"\frac{\partial (c_t, h_t)}{\partial (c_{t-1}, h_{t-1})}", S, STATE_INPUTS, FREE_ALL, aliases=ALIASES,
        oracle="torch.func.jacrev of torch.nn.LSTMCell over (c, h)", checks=lambda ref: [
            *[explicit_proof(blocks[i][j], out, var, FREE_ALL, DIMS, sizes=(1, 2),
                             description=f"block ({i + 1}, {j + 1}) against SymPy's explicit Matrix.jacobian")
              for i, out in enumerate((c_t, h_t)) for j, var in enumerate((c_prev, h_prev))],
            oracle_check(ref.evaluate, oracles.lstm_state_jacobian, STATE_INPUTS, DIMS,
                         "torch.func.jacrev of torch.nn.LSTMCell over (c, h)"),
        ])
    return [cell, hidden, full, direct, state]

