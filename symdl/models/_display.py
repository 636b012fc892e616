r"""Sums and products printed in the order REFERENCES.md writes them.

``CoursePrinter`` prints a SymPy ``Add`` in its own order (the positive
terms first, ``\epsilon + \sqrt{v}``) and a product with a reciprocal as one
fraction (``\frac{\sum_i \ldots}{N}``).  :func:`ordered_sum` and
:func:`ordered_product` build an unevaluated sum or product that prints its
terms in the order given, ``w_t - \gamma g_t + \beta (w_t - w_{t-1})`` and
``\frac{1}{N} \sum_i [\ldots]``, and is otherwise SymPy's ``Add`` or ``Mul``:
the classes keep SymPy's names, so code printers and :mod:`symdl.finite`,
which dispatch on the type's name, read them as sums and products, and any
arithmetic on them flattens them into ordinary ones.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE


class Add(sp.Add):
    """An unevaluated sum printed term by term in the order it was built; rebuilt, it is SymPy's ``Add``."""

    def __new__(cls, *args, evaluate=None, **kwargs):
        if evaluate is False:
            return super().__new__(cls, *args, evaluate=False, **kwargs)
        return sp.Add(*args, evaluate=evaluate, **kwargs)

    def _latex(self, printer, **_):
        out = []
        for k, term in enumerate(self.args):
            s = printer._print(term)
            if k == 0:
                out.append(s)
            elif s.startswith("-"):
                out.append("- " + s[1:].lstrip())
            else:
                out.append("+ " + s)
        return " ".join(out)


class Mul(sp.Mul):
    r"""An unevaluated product printed factor by factor (a reciprocal ``1/a`` as ``\frac{1}{a}``); rebuilt,
    it is SymPy's ``Mul``."""

    def __new__(cls, *args, evaluate=None, **kwargs):
        if evaluate is False:
            return super().__new__(cls, *args, evaluate=False, **kwargs)
        return sp.Mul(*args, evaluate=evaluate, **kwargs)

    def _latex(self, printer, **_):
        parts, sign = [], ""
        for factor in self.args:
            if factor == -1:
                sign = "-"
            elif isinstance(factor, sp.Pow) and factor.exp == -1:
                parts.append(r"\frac{1}{%s}" % printer._print(factor.base))
            elif isinstance(factor, (sp.Sum, sp.Integral)):
                parts.append(printer._print(factor))
            else:
                parts.append(printer.parenthesize(factor, PRECEDENCE["Mul"], strict=True))
        return sign + " ".join(parts)


class Sum(sp.Sum):
    r"""A ``Sum`` whose summand is printed in square brackets, ``\sum_{i=1}^{N} \Big[\ldots\Big]``."""

    def _latex(self, printer, **_):
        (var, low, high), = self.limits
        return r"\sum_{%s=%s}^{%s} \Big[%s\Big]" % (printer._print(var), printer._print(low), printer._print(high),
                                                   printer._print(self.function))



def ordered_sum(*terms) -> sp.Expr:
    """The sum of ``terms``, printed in this order."""
    return Add(*terms, evaluate=False)


def ordered_product(*factors) -> sp.Expr:
    """The product of ``factors``, printed in this order."""
    return Mul(*factors, evaluate=False)


def bracketed_sum(term, limits) -> sp.Expr:
    r"""``\sum`` of ``term`` over ``limits`` (``(i, 1, N)``), the summand printed in square brackets."""
    return Sum(term, limits)


def reciprocal(a) -> sp.Expr:
    r"""``1/a``, printed ``\frac{1}{a}`` as a factor of :func:`ordered_product`."""
    return sp.Pow(a, -1, evaluate=False)


def ordered_xreplace(expr, mapping) -> sp.Basic:
    """``expr.xreplace(mapping)`` that keeps the order of :func:`ordered_sum` and :func:`ordered_product` nodes
    (``xreplace`` rebuilds them as SymPy's own, which print in SymPy's order)."""
    if expr in mapping:
        return mapping[expr]
    if not expr.args:
        return expr
    args = [ordered_xreplace(a, mapping) for a in expr.args]
    if isinstance(expr, (Add, Mul)):
        return type(expr)(*args, evaluate=False)
    return expr.func(*args) if args != list(expr.args) else expr
