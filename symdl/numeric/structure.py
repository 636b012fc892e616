"""The shape the printers share: scaled products ``diag(a) X diag(b)`` and their column scales.

A derived Jacobian is often a sum of such products (the LSTM cell Jacobian:
three weight matrices scaled by gate derivatives, plus ``diag(f_t)``).
:mod:`symdl.numeric.compile` prints that sum as one ``fused_sum`` call, the
array namespaces (:mod:`symdl.numeric.ops_numpy`, :mod:`symdl.numeric.ops_torch`)
accumulate the terms that share a column scale before applying it, and the fused
kernel (:mod:`symdl.numeric.fused`) prints the same terms row by row.  The
structure lives here so that each of them imports this module and none imports another.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix


def scaled_product(term):
    """``(a, X, b)`` when ``term`` is ``[diag(a)] X [diag(b)]`` with one plain matrix ``X``, else ``None``."""
    if not isinstance(term, sp.MatMul):
        return None
    factors = list(term.args)
    if any(not getattr(f, "is_Matrix", False) for f in factors):
        return None
    a = factors.pop(0).args[0] if isinstance(factors[0], DiagMatrix) else None
    b = factors.pop().args[0] if factors and isinstance(factors[-1], DiagMatrix) else None
    if len(factors) != 1 or isinstance(factors[0], DiagMatrix):
        return None
    return a, factors[0], b


def distributed(term) -> list:
    """``term`` as a list of products, each factor a plain matrix or a diagonal: a product with a sum
    inside is multiplied out (``diag(a) (diag(b) X + Y)`` is ``diag(a) diag(b) X + diag(a) Y``) and
    adjacent diagonals are merged (``diag(a) diag(b)`` is ``diag(a (.) b)``).

    The GRU's state Jacobian has such a product; multiplied out, it is a sum of scaled matrices, the
    form the fused kernel reads row by row.
    """
    if isinstance(term, sp.MatAdd):
        return [p for t in term.args for p in distributed(t)]
    if not isinstance(term, sp.MatMul):
        return [term]
    factors = [g for f in term.args for g in (f.args if isinstance(f, sp.MatMul) else (f,))]
    for k, f in enumerate(factors):
        if isinstance(f, sp.MatAdd):
            return [p for t in f.args for p in distributed(sp.MatMul(*factors[:k], t, *factors[k + 1:]))]
    scalars = [f for f in factors if not getattr(f, "is_Matrix", False)]  # (-1) in diag(a) (-1) diag(b) X: in front
    merged = []
    for f in (f for f in factors if getattr(f, "is_Matrix", False)):
        if merged and isinstance(f, DiagMatrix) and isinstance(merged[-1], DiagMatrix):
            merged[-1] = DiagMatrix(sp.HadamardProduct(merged[-1].args[0], f.args[0], evaluate=False))
        else:
            merged.append(f)
    return [merged[0] if len(merged) == 1 and not scalars else sp.MatMul(*scalars, *merged)]


def by_column_scale(scaled) -> list:
    """Terms ``(a, X, b)`` of a fused sum grouped by their column scale ``b`` (the same object)."""
    groups: dict = {}
    for a, x, b in scaled:
        groups.setdefault(id(b), (b, []))[1].append((a, x))
    return list(groups.values())
