r"""The built-in models, and what a course needs to write a model of its own in Python.

A model module defines ``references()`` (a list of :class:`Reference`) or ``model()`` (a :class:`Model`),
and is registered by naming it: ``symdl.register("gru2.py")`` or ``--models gru2.py`` (the model ``gru2``),
the entry-point group ``symdl.models``, or shipped here.  A Python file in a folder of model files is never
imported by finding it there (docs/notation.md says why).
Everything such a module needs is imported from this package::

    from symdl.models import Input, Reference, elementwise, hadamard, jacobian, matrix, n, m, vector
    from symdl.models import complex_step_check, explicit_proof

    h, x, W, U = vector("h_{t-1}"), vector("x_t", m), matrix("W"), matrix("U", n, m)
    defs = {vector("h_t"): elementwise(sp.tanh, W * h + U * x)}
    J = jacobian(vector("h_t"), h, defs)          # derived: diag(tanh'(W h_{t-1} + U x_t)) W

Most courses need no Python at all: a model file (TOML) says the same, see docs/notation.md.
"""

import numpy as np

from ..core.calculus import add, diag, elementwise, hadamard, jacobian
from ..core.symbols import m, matrix, n, scalar, vector
from ..model.model import Model
from ..model.reference import Input, Reference
from ..verify.builders import complex_step_check, explicit_proof, numeric_equal, oracle_check, symbolic_equal

__all__ = ["INSTANCES", "Input", "Model", "Reference", "add", "complex_step_check", "diag", "elementwise",
           "explicit_proof", "hadamard", "jacobian", "load_file", "m", "matrix", "n", "numeric_equal", "oracle_check",
           "scalar", "symbolic_equal", "vector"]

#: How checks instantiate a model's abstract elementwise function (numpy callables, each analytic).
INSTANCES = (
    ("tanh", np.tanh),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("softplus", lambda x: np.log1p(np.exp(x))),
)


def load_file(path) -> Model:
    """The :class:`Model` of the model file at ``path`` (TOML and LaTeX read by the grammar; nothing is run)."""
    from ._modelfile import load

    return load(path)
