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

from typing import Callable, Mapping

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix

from .elementwise import derivative_of
from .explicit import explicit_jacobian, instantiate, substitute_definitions  # noqa: F401  (their old home)
from .vector import LogSumExp, Mean, Norm, Softmax, SumOf

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
    (d,) = lam.variables
    # Differentiate in a real variable: every input of a network is real, and SymPy differentiates
    # |d| of a complex d through re and im, a result no printer can evaluate.
    r = sp.Dummy(d.name, real=True)
    return ElementwiseApplyFunction(sp.Lambda(r, sp.diff(lam.expr.subs(d, r), r)), node.expr)


def _is_matrix(e) -> bool:
    return getattr(e, "is_Matrix", False)


def _zero(e, x):
    """The Jacobian of what does not depend on ``x``: a row of zeros for a scalar."""
    return sp.ZeroMatrix(e.rows if _is_matrix(e) else 1, x.rows)


def _scaled(c, m: sp.MatrixExpr) -> sp.MatrixExpr:
    return m if c == 1 else sp.MatMul(c, m)


def _ones_row(k) -> sp.MatrixExpr:
    r""":math:`\mathbf{1}^\top` of size ``k``."""
    return sp.Transpose(sp.OneMatrix(k, 1))


class Engine:
    r"""Jacobians with respect to one column vector, through named definitions.

    A column vector's Jacobian is a matrix; a scalar's (``\operatorname{logsumexp}(u)``, a defined
    scalar such as a mean) is a row, the gradient transposed.
    """

    def __init__(self, definitions: Definitions | None = None):
        self.definitions = dict(definitions or {})
        self._names = {value: name for name, value in self.definitions.items()}
        self._memo: dict = {}

    def named(self, e):
        """The defined name whose definition is ``e`` (``a`` for ``a := softmax(u)``), else ``e``."""
        return self._names.get(e, e)

    def depends(self, e: sp.Basic, x: sp.MatrixSymbol) -> bool:
        """Whether ``e`` depends on ``x``, looking through definitions."""
        if e == x:
            return True
        for s in e.atoms(sp.MatrixSymbol, sp.Symbol):
            if s == x:
                return True
            if s in self.definitions and self.depends(self.definitions[s], x):
                return True
        return False

    def jacobian(self, e, x: sp.MatrixSymbol) -> sp.MatrixExpr:
        if x.cols != 1:
            raise NotDifferentiable(f"the variable {x} must be a column vector, has shape {x.shape}")
        if _is_matrix(e) and e.cols != 1:
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
        if isinstance(e, (sp.MatrixSymbol, sp.Symbol)):
            return self.jacobian(self.definitions[e], x)
        rule = next((RULES[c] for c in type(e).__mro__ if c in RULES), None)
        if rule is None:
            raise NotDifferentiable(f"no Jacobian rule for {type(e).__name__}: {e}")
        return rule(self, e, x)


def _rule_add(eng: Engine, e, x):
    return add(*[eng.jacobian(a, x) for a in e.args])


def _rule_mul(eng: Engine, e, x):
    r"""``c A_1 ... A_k v``: only the last factor may depend on ``x`` (a product with a diag factor is
    rewritten as a Hadamard product first), or the row of :math:`u^\top v`; a scalar ``c`` that depends
    on ``x`` adds :math:`(A_1 \dots v) \, J(c)`, a column times a row."""
    scalars = [a for a in e.args if not _is_matrix(a)]
    mats = [a for a in e.args if _is_matrix(a)]
    if len(mats) >= 2 and isinstance(mats[-2], DiagMatrix):
        rest = hadamard(mats[-2].args[0], mats[-1])
        return _rule_mul(eng, sp.MatMul(*scalars, *mats[:-2], rest), x)
    if not any(eng.depends(s, x) for s in scalars):
        return sp.MatMul(*scalars, *_product_jacobian(eng, e, mats, x))
    c = sp.Mul(*scalars)
    body = mats[0] if len(mats) == 1 else sp.MatMul(*mats)
    terms = [sp.MatMul(body, eng.jacobian(c, x))]
    if eng.depends(body, x):
        terms.append(sp.MatMul(c, *_product_jacobian(eng, e, mats, x)))
    return add(*terms)


def _product_jacobian(eng: Engine, e, mats, x) -> list:
    r"""The factors of :math:`J(A_1 \dots A_k)`: only the last may depend on ``x``, or ``u^T v``."""
    if not any(eng.depends(m, x) for m in mats[:-1]):
        return [*mats[:-1], eng.jacobian(mats[-1], x)]
    if len(mats) == 2 and isinstance(mats[0], sp.Transpose) and mats[0].arg.cols == 1:
        u, v = mats[0].arg, mats[1]  # u^T v = v^T u: a row for each factor that depends on x
        terms = [sp.MatMul(sp.Transpose(b), eng.jacobian(a, x)) for a, b in ((u, v), (v, u)) if eng.depends(a, x)]
        return [add(*terms)]
    raise NotDifferentiable(f"a matrix factor of {e} depends on {x}; only the last factor may")


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


def _constant_exponent(eng: Engine, e, exponent, x):
    if eng.depends(exponent, x):
        raise NotDifferentiable(f"the exponent of {e} depends on {x}")


def _rule_hadamard_power(eng: Engine, e, x):
    r""":math:`J(u^{\circ p}) = \operatorname{diag}(p u^{\circ (p-1)}) J(u)`, ``p`` constant."""
    _constant_exponent(eng, e, e.exp, x)
    slope = ElementwiseApplyFunction(sp.Lambda(_ARG, e.exp * _ARG ** (e.exp - 1)), e.base)
    return sp.MatMul(diag(slope), eng.jacobian(e.base, x))


def _rule_softmax(eng: Engine, e, x):
    r""":math:`J(s) = (\operatorname{diag}(s) - s s^\top) J(u)` for :math:`s = \operatorname{softmax}(u)`."""
    s = eng.named(e)
    return sp.MatMul(add(diag(s), sp.MatMul(-1, s, sp.Transpose(s))), eng.jacobian(e.arg, x))


def _rule_constant(eng: Engine, e, x):
    return _zero(e, x)


# -- scalars: their Jacobian is a row -------------------------------------------------------


def _rule_scalar_add(eng: Engine, e, x):
    return add(*[eng.jacobian(a, x) for a in e.args])


def _rule_scalar_mul(eng: Engine, e, x):
    r""":math:`J(a b) = b J(a) + a J(b)`."""
    terms = [_scaled(sp.Mul(*e.args[:i], *e.args[i + 1:]), eng.jacobian(a, x))
             for i, a in enumerate(e.args) if eng.depends(a, x)]
    return add(*terms)


def _rule_pow(eng: Engine, e, x):
    r""":math:`J(a^p) = p a^{p-1} J(a)`, ``p`` constant."""
    base, p = e.args
    _constant_exponent(eng, e, p, x)
    return _scaled(p * base ** (p - 1), eng.jacobian(base, x))


def _rule_scalar_function(eng: Engine, e, x):
    r""":math:`J(f(a)) = f'(a) J(a)` for a scalar function of one scalar."""
    if len(e.args) != 1:
        raise NotDifferentiable(f"no Jacobian rule for a function of several arguments: {e}")
    named = derivative_of(e.func)
    (a,) = e.args
    r = sp.Dummy("d", real=True)  # real, as in _elementwise_derivative
    slope = named(a) if named is not None else sp.diff(e.func(r), r).subs(r, a)
    return _scaled(slope, eng.jacobian(a, x))


def _rule_logsumexp(eng: Engine, e, x):
    r""":math:`J(\operatorname{logsumexp}(u)) = \operatorname{softmax}(u)^\top J(u)`."""
    return sp.MatMul(sp.Transpose(eng.named(Softmax(e.arg))), eng.jacobian(e.arg, x))


def _rule_norm(eng: Engine, e, x):
    r""":math:`J(\lVert u \rVert) = u^\top J(u) / \lVert u \rVert`."""
    return sp.MatMul(1 / e, sp.Transpose(e.arg), eng.jacobian(e.arg, x))


def _rule_sum(eng: Engine, e, x):
    r""":math:`J(\mathbf{1}^\top u) = \mathbf{1}^\top J(u)`."""
    return sp.MatMul(_ones_row(e.arg.rows), eng.jacobian(e.arg, x))


def _rule_mean(eng: Engine, e, x):
    r""":math:`J(\operatorname{mean}(u)) = \frac{1}{n} \mathbf{1}^\top J(u)`."""
    return sp.MatMul(1 / e.arg.rows, _ones_row(e.arg.rows), eng.jacobian(e.arg, x))


#: One rule per operation, found by the node's class (or the nearest base class listed).
RULES: dict[type, Callable] = {
    sp.MatAdd: _rule_add,
    sp.MatMul: _rule_mul,
    sp.HadamardProduct: _rule_hadamard,
    sp.HadamardPower: _rule_hadamard_power,
    ElementwiseApplyFunction: _rule_elementwise,
    Softmax: _rule_softmax,
    sp.OneMatrix: _rule_constant,
    sp.ZeroMatrix: _rule_constant,
    # scalars (the rows of their Jacobians)
    sp.Add: _rule_scalar_add,
    sp.Mul: _rule_scalar_mul,
    sp.Pow: _rule_pow,
    sp.Function: _rule_scalar_function,
    LogSumExp: _rule_logsumexp,
    Norm: _rule_norm,
    SumOf: _rule_sum,
    Mean: _rule_mean,
}


def jacobian(e, x: sp.MatrixSymbol, definitions: Definitions | None = None) -> sp.MatrixExpr:
    """The numerator-layout Jacobian of ``e`` with respect to the column vector ``x`` (a row for a scalar)."""
    return Engine(definitions).jacobian(e, x)


def gradient(e, x: sp.MatrixSymbol, definitions: Definitions | None = None) -> sp.MatrixExpr:
    """The gradient of the scalar ``e`` (a 1 x 1 matrix or a scalar) as a column: the Jacobian's transpose."""
    J = jacobian(e, x, definitions)
    if J.rows != 1:
        raise NotDifferentiable(f"{e} is not a scalar: its gradient is its Jacobian, of shape {J.shape}")
    return tidy(transpose(J))


def transpose(e: sp.MatrixExpr) -> sp.MatrixExpr:
    """``e^T`` pushed to the leaves: sums and products transposed term by term, ``(u^T)^T = u``."""
    if isinstance(e, sp.MatAdd):
        return add(*[transpose(a) for a in e.args])
    if isinstance(e, sp.MatMul):
        return sp.MatMul(*[a if not _is_matrix(a) else transpose(a) for a in reversed(e.args)])
    if isinstance(e, sp.Transpose):
        return e.arg
    if isinstance(e, (DiagMatrix, sp.Identity)):
        return e
    if isinstance(e, (sp.ZeroMatrix, sp.OneMatrix)):
        return type(e)(e.cols, e.rows)
    return sp.Transpose(e)


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
        factors = [f for f in factors if not isinstance(f, sp.Identity) and not _one_by_one_ones(f, factors)]
        scalars = [f for f in factors if not _is_matrix(f)]
        if len(scalars) > 1:  # 2 \lVert u \rVert and 1 / \lVert u \rVert cancel as one coefficient
            factors = [sp.Mul(*scalars)] + [f for f in factors if _is_matrix(f)]
        factors = _merge_diags([f for f in factors if f != 1])
        if not any(_is_matrix(f) for f in factors):  # -I keeps its identity: -1 is no matrix
            factors.append(sp.Identity(e.rows))
        return factors[0] if len(factors) == 1 else sp.MatMul(*factors)
    return e


def _one_by_one_ones(f, factors) -> bool:
    """A 1 x 1 matrix of ones (a scalar broadcast to 1 x 1) beside other matrices: the identity there."""
    return isinstance(f, sp.OneMatrix) and f.shape == (1, 1) and sum(_is_matrix(g) for g in factors) > 1
