"""The GRU of models/gru.toml written in Python with symdl.models, for the model-file loading benchmark.

The two must give the same references; benchmarks/run.py --only models times both to the point where
symdl.ref returns the derived Jacobian, each in a fresh process.
"""

import sympy as sp

from symdl.core.elementwise import sigmoid
from symdl.models import Input, Model, Reference, add, elementwise, hadamard, jacobian, m, matrix, n, vector
from symdl.models import INSTANCES  # noqa: F401  (the same import cost as the file's loader)

h, x = vector("h_{t-1}"), vector("x_t", m)
W = {f"W_{{{s}{g}}}": matrix(f"W_{{{s}{g}}}", n, m if s == "i" else n) for g in "rzn" for s in "ih"}
b = {f"b_{{{s}{g}}}": vector(f"b_{{{s}{g}}}") for g in "rzn" for s in "ih"}


def gate(g, f, inner=None):
    hidden = add(W[f"W_{{h{g}}}"] * h, b[f"b_{{h{g}}}"])
    return elementwise(f, add(W[f"W_{{i{g}}}"] * x, b[f"b_{{i{g}}}"], inner(hidden) if inner else hidden))


def model() -> Model:
    r, z, nt, ht = vector("r_t"), vector("z_t"), vector("n_t"), vector("h_t")
    defs = {r: gate("r", sigmoid), z: gate("z", sigmoid), nt: gate("n", sp.tanh, lambda u: hadamard(r, u)),
            ht: add(hadamard(add(sp.OneMatrix(n, 1), -z), nt), hadamard(z, h))}
    inputs = (Input(h), Input(x), *[Input(s) for s in (*W.values(), *b.values())])
    J = jacobian(ht, h, defs)
    return Model("gru", references=(Reference("gru.state_jacobian", "", "", J, inputs, defs),), source="python")
