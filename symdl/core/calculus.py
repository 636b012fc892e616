r"""Jacobians of vector expressions, dimension-free, in numerator layout.

``jacobian(e, x)`` returns the matrix expression whose entry (i, j) is
:math:`\partial e_i / \partial x_j` (the layout of ``torch.func.jacrev``).
It works on SymPy matrix expressions whose sizes are symbols (``n``, ``m``),
so the result holds for every size.  The rules are data: one function per
operation in :data:`RULES`, each the chain rule for that node.

Named intermediates (``f_t``, ``h_{t-1}``) are kept as symbols with a
definition; the engine differentiates through a definition when the symbol
depends on the variable, and leaves the name in the result so that it reads
the way a person writes it.

SymPy's own matrix ``diff`` returns the transpose of this layout and raises on
Hadamard products of elementwise functions; :func:`explicit_jacobian` is the
independent cross-check at explicit sizes.
"""

from __future__ import annotations

from functools import reduce
from typing import Callable, Mapping

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix

from .elementwise import derivative_of

Definitions = Mapping[sp.MatrixSymbol, sp.MatrixExpr]
_ARG = sp.Dummy("d")


class NotDifferentiable(ValueError):
    """An expression shape the engine has no rule for, named in the message."""


def diag(v: sp.MatrixExpr) -> sp.MatrixExpr:
    r""":math:`\operatorname{diag}(v)` of a column vector."""
    return DiagMatrix(v)


def hadamard(*factors: sp.MatrixExpr) -> sp.MatrixExpr:
    """The Hadamard product of the factors, flattened, in the order given."""
    flat = []
    for f in factors:
        flat.extend(f.args if isinstance(f, sp.HadamardProduct) else [f])
    return flat[0] if len(flat) == 1 else sp.HadamardProduct(*flat, evaluate=False)


def add(*terms: sp.MatrixExpr) -> sp.MatrixExpr:
    """The sum of the terms, flattened, in the order given (``+`` would sort them)."""
    flat = []
    for t in terms:
        flat.extend(t.args if isinstance(t, sp.MatAdd) else [t])
    return flat[0] if len(flat) == 1 else sp.MatAdd(*flat, evaluate=False)


def elementwise(func, v: sp.MatrixExpr) -> ElementwiseApplyFunction:
    """``func`` applied to every entry of ``v`` (``func`` a SymPy function class).

    One shared bound variable, so that equal applications are equal expressions.
    """
    return ElementwiseApplyFunction(sp.Lambda(_ARG, func(_ARG)), v)


def applied_function(node: ElementwiseApplyFunction):
    """The function class of ``f.(u)`` when its body is ``f(d)``, else ``None``."""
    lam = node.function
    if isinstance(lam, sp.Lambda):
        (d,), body = lam.variables, lam.expr
        if isinstance(body, sp.Function) and body.args == (d,):
            return body.func
        return None
    return lam


def _elementwise_derivative(node: ElementwiseApplyFunction) -> sp.MatrixExpr:
    func = applied_function(node)
    named = derivative_of(func) if func is not None else None
    if named is not None:
        return elementwise(named, node.expr)
    lam = node.function
    d = lam.variables[0]
    return ElementwiseApplyFunction(sp.Lambda(d, sp.diff(lam.expr, d)), node.expr)


def _zero(e, x):
    return sp.ZeroMatrix(e.rows, x.rows)


class Engine:
    """Jacobians with respect to one column vector, through named definitions."""

    def __init__(self, definitions: Definitions | None = None):
        self.definitions = dict(definitions or {})
        self._memo: dict = {}

    def depends(self, e: sp.Basic, x: sp.MatrixSymbol) -> bool:
        """Whether ``e`` depends on ``x``, looking through definitions."""
        if e == x:
            return True
        for s in e.atoms(sp.MatrixSymbol):
            if s == x:
                return True
            if s in self.definitions and self.depends(self.definitions[s], x):
                return True
        return False

    def jacobian(self, e: sp.MatrixExpr, x: sp.MatrixSymbol) -> sp.MatrixExpr:
        if x.cols != 1:
            raise NotDifferentiable(f"the variable {x} must be a column vector, has shape {x.shape}")
        if e.cols != 1:
            raise NotDifferentiable(f"{e} must be a column vector, has shape {e.shape}")
        key = (e, x)
        if key not in self._memo:
            self._memo[key] = tidy(self._jacobian(e, x))
        return self._memo[key]

    def _jacobian(self, e, x):
        if e == x:
            return sp.Identity(x.rows)
        if not self.depends(e, x):
            return _zero(e, x)
        if isinstance(e, sp.MatrixSymbol):
            return self.jacobian(self.definitions[e], x)
        rule = RULES.get(type(e))
        if rule is None:
            raise NotDifferentiable(f"no Jacobian rule for {type(e).__name__}: {e}")
        return rule(self, e, x)


def _rule_add(eng: Engine, e, x):
    return add(*[eng.jacobian(a, x) for a in e.args])


def _rule_mul(eng: Engine, e, x):
    """``c A_1 ... A_k v``: only the last factor may depend on ``x`` (a product with a
    diag factor is rewritten as a Hadamard product first)."""
    scalars = [a for a in e.args if not getattr(a, "is_Matrix", False)]
    mats = [a for a in e.args if getattr(a, "is_Matrix", False)]
    if len(mats) >= 2 and isinstance(mats[-2], DiagMatrix):
        rest = hadamard(mats[-2].args[0], mats[-1])
        return _rule_mul(eng, sp.MatMul(*scalars, *mats[:-2], rest), x)
    if any(eng.depends(s, x) for s in scalars) or any(eng.depends(m, x) for m in mats[:-1]):
        raise NotDifferentiable(f"a matrix factor of {e} depends on {x}; only the last factor may")
    inner = eng.jacobian(mats[-1], x)
    return sp.MatMul(*scalars, *mats[:-1], inner)


def _rule_hadamard(eng: Engine, e, x):
    r""":math:`J(u \odot v) = \operatorname{diag}(v) J(u) + \operatorname{diag}(u) J(v)`."""
    terms = []
    for i, a in enumerate(e.args):
        if not eng.depends(a, x):
            continue
        others = [b for j, b in enumerate(e.args) if j != i]
        other = hadamard(*others)
        terms.append(sp.MatMul(diag(other), eng.jacobian(a, x)))
    return add(*terms)


def _rule_elementwise(eng: Engine, e, x):
    r""":math:`J(f(u)) = \operatorname{diag}(f'(u)) J(u)`."""
    return sp.MatMul(diag(_elementwise_derivative(e)), eng.jacobian(e.expr, x))


def _rule_constant(eng: Engine, e, x):
    return _zero(e, x)


RULES: dict[type, Callable] = {
    sp.MatAdd: _rule_add,
    sp.MatMul: _rule_mul,
    sp.HadamardProduct: _rule_hadamard,
    ElementwiseApplyFunction: _rule_elementwise,
    sp.OneMatrix: _rule_constant,
    sp.ZeroMatrix: _rule_constant,
}


def jacobian(e: sp.MatrixExpr, x: sp.MatrixSymbol, definitions: Definitions | None = None) -> sp.MatrixExpr:
    """The numerator-layout Jacobian of ``e`` with respect to the column vector ``x``."""
    return Engine(definitions).jacobian(e, x)


# -- tidying: what a person would write ------------------------------------------------


def _merge_diags(factors):
    out = []
    for f in factors:
        if out and isinstance(f, DiagMatrix) and isinstance(out[-1], DiagMatrix):
            out[-1] = DiagMatrix(hadamard(out[-1].args[0], f.args[0]))
        else:
            out.append(f)
    return out


def tidy(e: sp.MatrixExpr) -> sp.MatrixExpr:
    """Drop zero terms and identities, merge adjacent diag factors into one."""
    if isinstance(e, sp.MatAdd):
        terms = []
        for a in e.args:
            a = tidy(a)
            terms.extend(a.args if isinstance(a, sp.MatAdd) else [a])
        terms = [t for t in terms if not isinstance(t, sp.ZeroMatrix)]
        if not terms:
            return sp.ZeroMatrix(*e.shape)
        return add(*terms)
    if isinstance(e, sp.MatMul):
        factors = []
        for a in e.args:
            a = tidy(a) if getattr(a, "is_Matrix", False) else a
            factors.extend(a.args if isinstance(a, sp.MatMul) else [a])
        if any(isinstance(f, sp.ZeroMatrix) for f in factors):
            return sp.ZeroMatrix(*e.shape)
        factors = [f for f in factors if not isinstance(f, sp.Identity)]
        factors = _merge_diags(factors)
        if not any(getattr(f, "is_Matrix", False) for f in factors):  # -I keeps its identity: -1 is no matrix
            factors.append(sp.Identity(e.rows))
        return factors[0] if len(factors) == 1 else sp.MatMul(*factors)
    return e


# -- instantiation at explicit sizes ------------------------------------------------------


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
    if isinstance(e, ElementwiseApplyFunction):
        return _explicit(e.expr).applyfunc(e.function)
    if isinstance(e, DiagMatrix):
        v = _explicit(e.args[0])
        return sp.diag(*list(v))
    if isinstance(e, sp.HadamardProduct):
        return reduce(lambda a, b: a.multiply_elementwise(b), [_explicit(a) for a in e.args])
    if isinstance(e, sp.MatAdd):
        return reduce(lambda a, b: a + b, [_explicit(a) for a in e.args])
    if isinstance(e, sp.MatMul):
        scal = sp.Mul(*[a for a in e.args if not getattr(a, "is_Matrix", False)])
        mats = [_explicit(a) for a in e.args if getattr(a, "is_Matrix", False)]
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
