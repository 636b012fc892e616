"""Compiling SymPy expressions to numpy and PyTorch functions.

SymPy 1.14's printers cannot print ``ElementwiseApplyFunction``, ``DiagMatrix``
(torch) or matrices of symbolic size.  :class:`ArrayPrinter` prints the matrix
expressions of symdl into calls on a small operations namespace, ``_ops``,
and ``lambdify`` compiles that text.  The same printed code runs on numpy
arrays and on torch tensors: the backend is the namespace it is given
(:mod:`symdl.numeric.ops_numpy` or :mod:`symdl.numeric.ops_torch`, imported only when used).

The printer knows the shapes: ``diag(v) A`` prints as ``v * A`` (a row
scaling), ``A diag(v)`` as ``A * v^T`` (a column scaling), so no diagonal
matrix is ever materialised inside a product.

Only expressions symdl builds are printed here; text a person wrote is never
compiled (the checker reads it into SymPy through a grammar first).
"""

from __future__ import annotations

import importlib
from typing import Callable, Mapping, Sequence

import sympy as sp
from sympy.core.function import AppliedUndef, UndefinedFunction
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.printing.str import StrPrinter

from ..core.elementwise import SCALARS
from ..core.vector import VECTORS
from . import fused
from .structure import scaled_product

BACKENDS = ("numpy", "torch")


class ArrayPrinter(StrPrinter):
    """Prints symdl's matrix expressions as calls on the ``_ops`` namespace."""

    def __init__(self, names: Mapping[sp.Basic, str], functions: Mapping[str, str], shared=()):
        super().__init__({"order": "none"})
        self._names = dict(names)
        self._functions = dict(functions)
        self._bound: dict = {}
        self._shared = {e: f"_s{i}" for i, e in enumerate(shared)}
        self._done: set = set()

    def _print(self, expr, **kwargs):
        """A subexpression used more than once is computed once: ``(_s0 := ...)``, then ``_s0``.

        Python evaluates left to right, so the first occurrence printed is the first computed.
        """
        name = self._shared.get(expr) if isinstance(expr, sp.Basic) else None
        if name is None:
            return super()._print(expr, **kwargs)
        if name in self._done:
            return name
        code = super()._print(expr, **kwargs)
        self._done.add(name)
        return f"({name} := {code})"

    def _print_Symbol(self, expr):
        if expr in self._bound:
            return self._bound[expr]
        if expr in self._names:
            return self._names[expr]
        raise NameError(f"the symbol {expr} is not an input of this expression")

    _print_Dummy = _print_Symbol
    _print_MatrixSymbol = _print_Symbol

    def _print_Integer(self, expr):
        return str(int(expr))

    def _print_Rational(self, expr):
        return "(%d/%d)" % (expr.p, expr.q)

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Pi(self, expr):
        return "_ops.pi"

    def _print_Exp1(self, expr):
        return "_ops.e"

    def _print_Add(self, expr):
        return "(" + " + ".join(self._print(a) for a in expr.args) + ")"

    def _print_Mul(self, expr):
        return "(" + " * ".join(self._print(a) for a in expr.args) + ")"

    def _print_Pow(self, expr):
        base, e = expr.args
        if e == sp.Rational(1, 2):
            return "_ops.sqrt(%s)" % self._print(base)
        return "(%s ** %s)" % (self._print(base), self._print(e))

    def _print_Function(self, expr):
        args = ", ".join(self._print(a) for a in expr.args)
        if isinstance(expr, AppliedUndef):
            name = self._functions.get(expr.func.__name__)
            if name is None:
                raise NameError(f"the function {expr.func} is not an input of this expression")
            return "%s(%s)" % (name, args)
        row = SCALARS.get(expr.func)
        if row is None:
            raise NotImplementedError(f"no array operation for {expr.func.__name__}")
        return "_ops.elementwise.%s(%s)" % (row.name, args)

    def _print_Max(self, expr):
        return "_ops.maximum(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_Min(self, expr):
        return "_ops.minimum(%s)" % ", ".join(self._print(a) for a in expr.args)

    def _print_ElementwiseApplyFunction(self, expr):
        lam = expr.function
        if not isinstance(lam, sp.Lambda):
            lam = sp.Lambda(sp.Dummy("d"), lam(sp.Dummy("d")))
        d = lam.variables[0]
        outer = self._bound.get(d)  # one variable may be bound in nested maps (see core.printing): restore it
        self._bound[d] = "(%s)" % self._print(expr.expr)
        try:
            return self._print(lam.expr)
        finally:
            if outer is None:
                del self._bound[d]
            else:
                self._bound[d] = outer

    def _print_HadamardProduct(self, expr):
        return "(" + " * ".join(self._print(a) for a in expr.args) + ")"

    def _print_VectorFunction(self, expr):
        return "_ops.vector.%s(%s)" % (VECTORS[type(expr)].name, self._print(expr.arg))

    def _print_HadamardPower(self, expr):
        return "(%s ** %s)" % (self._print(expr.base), self._print(expr.exp))

    def _print_MatAdd(self, expr):
        scaled, diags, others = [], [], []
        for term in expr.args:
            parts = scaled_product(term)
            if isinstance(term, DiagMatrix):
                diags.append(term.args[0])
            elif parts is not None:
                scaled.append(parts)
            else:
                others.append(term)
        if len(scaled) + len(diags) < 2 or not scaled:
            return "(" + " + ".join(self._print(a) for a in expr.args) + ")"
        # diag(a) X diag(b) terms accumulate in one buffer: row scales, a shared column scale, diagonals
        opt = lambda e: "None" if e is None else self._print(e)  # noqa: E731
        terms = ", ".join(f"({opt(a)}, {self._print(x)}, {opt(b)})" for a, x, b in scaled)
        return "_ops.fused_sum([%s], [%s], [%s])" % (
            terms, ", ".join(self._print(d) for d in diags), ", ".join(self._print(o) for o in others))

    def _print_MatMul(self, expr):
        scalars = [a for a in expr.args if not getattr(a, "is_Matrix", False)]
        mats = [a for a in expr.args if getattr(a, "is_Matrix", False)]
        # printed in the order Python evaluates them: a shared subexpression is bound where first printed
        scale = " * ".join(self._print(s) for s in scalars)
        code = self._matmul_chain(mats)
        return "(%s * %s)" % (scale, code) if scalars else code

    def _matmul_chain(self, mats: Sequence[sp.MatrixExpr]) -> str:
        """Left scalings ``diag(v) ...`` and right scalings ``... diag(v)`` become broadcasts."""
        if len(mats) == 1:
            return self._print(mats[0])
        if isinstance(mats[0], DiagMatrix):
            return "_ops.row_scale(%s, %s)" % (self._print(mats[0].args[0]), self._matmul_chain(mats[1:]))
        if isinstance(mats[-1], DiagMatrix):
            return "_ops.col_scale(%s, %s)" % (self._matmul_chain(mats[:-1]), self._print(mats[-1].args[0]))
        return "_ops.matmul(%s, %s)" % (self._print(mats[0]), self._matmul_chain(mats[1:]))

    def _print_DiagMatrix(self, expr):
        return "_ops.diag(%s)" % self._print(expr.args[0])

    def _print_Transpose(self, expr):
        return "_ops.T(%s)" % self._print(expr.arg)

    def _print_Identity(self, expr):
        return "_ops.eye(%s, _like)" % self._print(expr.rows)

    def _print_ZeroMatrix(self, expr):
        return "_ops.zeros(%s, %s, _like)" % (self._print(expr.rows), self._print(expr.cols))

    def _print_OneMatrix(self, expr):
        return "_ops.ones(%s, %s, _like)" % (self._print(expr.rows), self._print(expr.cols))

    def _print_BlockMatrix(self, expr):
        rows = ["[" + ", ".join(self._print(b) for b in row) + "]" for row in expr.blocks.tolist()]
        return "_ops.block([%s])" % ", ".join(rows)


def shared_subexpressions(expr) -> list:
    """Matrix subexpressions (not symbols) that occur more than once, innermost first."""
    counts: dict = {}
    order: list = []

    def visit(e):
        for a in e.args:
            if isinstance(a, sp.Basic):
                visit(a)
        if isinstance(e, sp.MatrixExpr) and not isinstance(e, (sp.MatrixSymbol, sp.Identity, sp.ZeroMatrix,
                                                                 sp.OneMatrix, DiagMatrix)):
            if e not in counts:
                order.append(e)
            counts[e] = counts.get(e, 0) + 1

    visit(expr)
    return [e for e in order if counts[e] > 1]


def ops(backend: str):
    """The operations namespace of a backend (imports torch only when asked for)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    return importlib.import_module(f"symdl.numeric.ops_{backend}")


_CACHE: dict = {}


def compile_expr(expr: sp.Basic, inputs: Sequence[sp.Basic], functions: Sequence[UndefinedFunction],
                 dims: Sequence[sp.Symbol], backend: str) -> Callable:
    """A function ``f(_like, *dims, *inputs, *functions)`` computing ``expr`` on ``backend``.

    Compiled functions are cached by expression, signature and backend.
    """
    key = (expr, tuple(inputs), tuple(functions), tuple(dims), backend)
    fn = _CACHE.get(key)
    if fn is not None:
        return fn
    names = {s: f"a{i}" for i, s in enumerate(inputs)}
    names.update({d: f"d{i}" for i, d in enumerate(dims)})
    fnames = {f.__name__: f"f{i}" for i, f in enumerate(functions)}
    printer = ArrayPrinter(names, fnames, shared_subexpressions(expr))
    code = printer.doprint(expr)
    params = ["_like"] + [names[d] for d in dims] + [names[s] for s in inputs] + [fnames[f.__name__] for f in functions]
    args = [sp.Symbol(p) for p in params]
    fn = sp.lambdify(args, sp.Symbol("_result"), modules=[{"_ops": ops(backend)}], printer=_Verbatim(code))
    if not functions:  # a derived sum of scaled matrices may run as one fused pass over rows
        fn = fused.wrap(fn, expr, list(inputs), list(dims),
                        compile_column=lambda c: compile_expr(c, inputs, (), dims, "numpy"))
    _CACHE[key] = fn
    return fn


class _Verbatim(StrPrinter):
    """Hands lambdify the code already printed by :class:`ArrayPrinter`."""

    def __init__(self, code: str):
        super().__init__()
        self._code = code

    def doprint(self, expr, *args, **kwargs):
        if expr == sp.Symbol("_result"):
            return self._code
        return super().doprint(expr, *args, **kwargs)

