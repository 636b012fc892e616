"""The array operations compiled code calls, for numpy (see :mod:`symdl.numeric.compile`)."""

from types import SimpleNamespace

import numpy as np

from ..core.elementwise import spelled
from ..core.vector import spelled_vectors
from .structure import by_column_scale

pi = np.pi
e = np.e
sqrt, maximum, minimum, matmul, block = np.sqrt, np.maximum, np.minimum, np.matmul, np.block
#: The scalar functions of :data:`symdl.core.elementwise.SCALARS` as numpy spells them (``elementwise.sigmoid``).
elementwise = SimpleNamespace(**spelled("numpy", np))
#: The functions of a whole vector of :data:`symdl.core.vector.VECTORS` (``vector.softmax``), on columns.
vector = SimpleNamespace(**spelled_vectors("numpy", np))


def row_scale(v, a):
    return v * a


def col_scale(a, v):
    return a * np.swapaxes(v, -1, -2)


def diag(v):
    return np.diagflat(v)


def T(a):
    return np.swapaxes(a, -1, -2)


def eye(n, like):
    return np.eye(int(n), dtype=np.result_type(like, np.float64))


def zeros(r, c, like):
    return np.zeros((int(r), int(c)), dtype=np.result_type(like, np.float64))


def ones(r, c, like):
    return np.ones((int(r), int(c)), dtype=np.result_type(like, np.float64))


def asarray(x):
    return np.asarray(x, dtype=np.result_type(x, np.float64))


def derivative(f):
    """The derivative of an elementwise numpy function, by the complex step.

    ``Im f(x + ih) / h`` has no subtractive cancellation, so it is exact to
    rounding for any analytic ``f`` that accepts complex input; a function that
    does not is differentiated by a central difference instead.
    """

    def fprime(x):
        x = np.asarray(x, dtype=np.float64)
        h = 1e-30
        try:
            y = f(x + 1j * h)
            if np.iscomplexobj(y):
                return np.imag(y) / h
        except (TypeError, ValueError):
            pass
        eps = 1e-6 * np.maximum(1.0, np.abs(x))
        return (f(x + eps) - f(x - eps)) / (2 * eps)

    return fprime


def fused_sum(scaled, diags, others):
    """``sum_k diag(a_k) X_k diag(b_k) + sum diag(d) + others`` without diagonal matrices."""
    out = None
    for b, items in by_column_scale(scaled):
        acc = None
        for a, x in items:
            term = x if a is None else a * x
            acc = term.copy() if acc is None and a is None else (term if acc is None else acc + term)
        if b is not None:
            acc = acc * np.swapaxes(b, -1, -2)
        out = acc if out is None else out + acc
    if diags:
        out = out.copy()
        idx = np.arange(out.shape[0])
        for d in diags:
            out[idx, idx] += d.reshape(-1)
    for o in others:
        out = out + o
    return out
