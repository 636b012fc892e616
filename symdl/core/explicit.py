r"""Derived results at explicit sizes: the independent check of the engine (:mod:`symdl.core.calculus`).

The engine derives with sizes that are symbols (``n``); a proof instantiates its result at ``n = 1, 2,
3`` and compares it entry by entry with SymPy's own ``Matrix.jacobian`` of the forward definitions,
written out here the same way.  A scalar of a vector (``logsumexp(u)``, ``\lVert u \rVert``) is
written out by its explicit form (:mod:`symdl.core.vector`).
"""

from __future__ import annotations

from functools import reduce
from typing import Mapping

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix

from .vector import Softmax, replace_vector_scalars

Definitions = Mapping[sp.MatrixSymbol, sp.MatrixExpr]


def _is_matrix(e) -> bool:
    return getattr(e, "is_Matrix", False)



def substitute_definitions(e: sp.Basic, definitions: Definitions) -> sp.Basic:
    """Replace every defined name by its definition, repeatedly, until none is left."""
    for _ in range(len(definitions) + 1):
        names = [s for s in e.atoms(sp.Symbol, sp.MatrixSymbol) if s in definitions]
        if not names:
            return e
        e = e.xreplace({s: definitions[s] for s in names})
    raise ValueError("the definitions are circular")


def instantiate(e: sp.Basic, sizes: Mapping[sp.Symbol, int]) -> sp.Matrix:
    """``e`` as an explicit matrix at the given sizes (``{n: 2, m: 3}``), entries symbolic."""
    e = e.subs(dict(sizes))
    return _explicit(e)


def _explicit(e):
    if not _is_matrix(e):  # a scalar, perhaps of vectors (logsumexp(u)): a 1 x 1 matrix
        return sp.Matrix([replace_vector_scalars(e, _explicit)])
    if isinstance(e, ElementwiseApplyFunction):
        return _explicit(e.expr).applyfunc(e.function)
    if isinstance(e, Softmax):
        return e.explicit(_explicit(e.arg))
    if isinstance(e, sp.HadamardPower):
        return _explicit(e.base).applyfunc(lambda a: a ** e.exp)
    if isinstance(e, sp.Transpose):
        return _explicit(e.arg).T
    if isinstance(e, DiagMatrix):
        v = _explicit(e.args[0])
        return sp.diag(*list(v))
    if isinstance(e, sp.HadamardProduct):
        return reduce(lambda a, b: a.multiply_elementwise(b), [_explicit(a) for a in e.args])
    if isinstance(e, sp.MatAdd):
        return reduce(lambda a, b: a + b, [_explicit(a) for a in e.args])
    if isinstance(e, sp.MatMul):
        scal = replace_vector_scalars(sp.Mul(*[a for a in e.args if not _is_matrix(a)]), _explicit)
        mats = [_explicit(a) for a in e.args if _is_matrix(a)]
        return scal * reduce(lambda a, b: a * b, mats)
    if isinstance(e, sp.BlockMatrix):
        return sp.Matrix(sp.BlockMatrix([[_explicit(b) for b in row] for row in e.blocks.tolist()]).as_explicit())
    if isinstance(e, sp.MatrixExpr):
        return sp.Matrix(e.as_explicit())
    return sp.Matrix(e)


def explicit_jacobian(e: sp.MatrixExpr, x: sp.MatrixSymbol, sizes: Mapping[sp.Symbol, int],
                      definitions: Definitions | None = None) -> sp.Matrix:
    """SymPy's own ``Matrix.jacobian`` of ``e`` at explicit sizes: the independent check."""
    full = substitute_definitions(e, definitions or {})
    ex = instantiate(full, sizes)
    xs = instantiate(x, sizes)
    return ex.jacobian(xs)
