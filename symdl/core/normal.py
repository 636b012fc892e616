r"""A normal form for symdl's matrix expressions, to prove two of them equal for every size.

An expression becomes a sum of terms, each a scalar coefficient times an
ordered product of factors.  Products are expanded over sums, ``diag(u)
diag(v)`` becomes ``diag(u \odot v)``, Hadamard products are unordered, and
a function applied elementwise is keyed by its body and the normal form of
its argument.  Two expressions with equal normal forms are equal at every
size; different normal forms prove nothing (the check then says "no proof").
"""

from __future__ import annotations

from itertools import product

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix

_X = sp.Symbol("_x")


def _mul_terms(lists):
    out = []
    for combo in product(*lists):
        coeff = sp.Integer(1)
        factors = []
        for c, f in combo:
            coeff *= c
            factors.extend(f)
        out.append((coeff, _merge(tuple(factors))))
    return out


def _merge(factors: tuple) -> tuple:
    out = []
    for f in factors:
        if out and f[0] == "diag" and out[-1][0] == "diag":
            out[-1] = ("diag", tuple(sorted(out[-1][1] + f[1], key=repr)))
        else:
            out.append(f)
    return tuple(out)


def _operand(factors: tuple) -> tuple:
    """The Hadamard operands of one term's factors (a product is one operand)."""
    if len(factors) == 1 and factors[0][0] == "had":
        return factors[0][1]
    return (("prod", factors),)


def key(e) -> tuple:
    """The normal form of ``e`` as a hashable, order-free key."""
    total: dict = {}
    for c, f in terms(e):
        total[f] = total.get(f, 0) + c
    return tuple(sorted(((f, sp.srepr(sp.expand(c))) for f, c in total.items() if sp.expand(c) != 0), key=repr))


def terms(e) -> list[tuple]:
    """``[(coefficient, factors), ...]`` whose sum is ``e``."""
    if not getattr(e, "is_Matrix", False):
        return [(e, ())]
    if isinstance(e, sp.MatAdd):
        return [t for a in e.args for t in terms(a)]
    if isinstance(e, sp.MatMul):
        return _mul_terms([terms(a) for a in e.args])
    if isinstance(e, sp.HadamardProduct):
        out = []
        for combo in product(*[terms(a) for a in e.args]):
            coeff, ops = sp.Integer(1), []
            for c, f in combo:
                coeff *= c
                ops.extend(_operand(f))
            out.append((coeff, (("had", tuple(sorted(ops, key=repr))),)))
        return out
    if isinstance(e, DiagMatrix):
        return [(c, (("diag", tuple(sorted(_operand(f), key=repr))),)) for c, f in terms(e.args[0])]
    if isinstance(e, sp.Transpose):
        return [(c, tuple(_transpose(x) for x in reversed(f))) for c, f in terms(e.arg)]
    if isinstance(e, sp.Identity):
        return [(sp.Integer(1), ())]
    if isinstance(e, sp.ZeroMatrix):
        return []
    if isinstance(e, ElementwiseApplyFunction):
        lam = e.function
        body = lam.expr.xreplace({lam.variables[0]: _X}) if isinstance(lam, sp.Lambda) else lam(_X)
        return [(sp.Integer(1), (("fn", sp.srepr(body), key(e.expr)),))]
    if isinstance(e, sp.HadamardPower):
        return [(sp.Integer(1), (("pow", key(e.base), sp.srepr(e.exp)),))]
    if isinstance(e, sp.MatrixSymbol):
        return [(sp.Integer(1), (("sym", e.name, str(e.shape)),))]
    return [(sp.Integer(1), (("raw", sp.srepr(e)),))]


def _transpose(f: tuple) -> tuple:
    if f[0] == "diag":
        return f
    if f[0] == "T":
        return f[1]
    return ("T", f)


def _totals(e) -> dict:
    total: dict = {}
    for c, f in terms(e):
        total[f] = total.get(f, 0) + c
    return {f: sp.expand(c) for f, c in total.items() if sp.expand(c) != 0}


def difference(a, b):
    r"""A definite reason why ``a`` and ``b`` differ, as ``(kind, text)``, or ``None``.

    ``("constant", ...)``: ``a - b`` is a nonzero number times the identity, so the two differ at
    every point and every size.  ``("multiple", ...)``: ``a`` is ``q b`` for a number ``q \ne 1``,
    so the two differ wherever ``b`` is not zero (the caller shows such a point).
    """
    ta, tb = _totals(a), _totals(b)
    diff = {f: sp.expand(ta.get(f, 0) - tb.get(f, 0)) for f in set(ta) | set(tb)}
    diff = {f: c for f, c in diff.items() if c != 0}
    if len(diff) == 1:
        (f, c), = diff.items()
        if f == () and c.is_number and c.is_zero is False:
            return "constant", f"the hand form minus the reference is {c} I, not 0, at every point and every size"
    if tb and set(ta) == set(tb):
        ratios = {sp.cancel(ta[f] / tb[f]) for f in tb}
        if len(ratios) == 1:
            q, = ratios
            if q.is_number and q != 1:
                return "multiple", f"the hand form is {q} times the reference, term by term"
    return None


def same(a, b) -> bool:
    """Whether ``a`` and ``b`` have one normal form (then they are equal for every size)."""
    return key(a) == key(b)
