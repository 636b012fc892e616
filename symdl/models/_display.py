r"""Sums, products, sums over samples and derivatives printed as REFERENCES.md writes them.

``CoursePrinter`` prints a SymPy ``Add`` in its own order (the positive
terms first, ``\epsilon + \sqrt{v}``), a product with a reciprocal as one
fraction (``\frac{\sum_i \ldots}{N}``) and a derivative as
``\frac{\partial}{\partial w} F``.  The builders here make nodes that print
in the order given, ``w_t - \gamma g_t + \beta (w_t - w_{t-1})``,
``\frac{1}{N} \sum_{i=1}^{N} \Big[\ldots\Big]``,
``\frac{\partial F_w(x_i, y)}{\partial w}``, and are otherwise SymPy's own:

- each class keeps its SymPy class's name, so code printers and
  :mod:`symdl.grade.finite`, which dispatch on the type's name, read it as a sum,
  a product or a derivative;
- a display node is equal to, and hashes like, the SymPy expression it
  stands for, so a proof that cancels a hand form against it still cancels;
- rebuilt (``xreplace``, ``expand``, arithmetic) it becomes SymPy's own node.
  :func:`ordered_xreplace` substitutes and keeps the order, for displays.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.precedence import PRECEDENCE

from ..core.printing import join_terms


class _Display:
    """Equality and hashing of the plain SymPy expression the node stands for."""

    _base: type

    def __new__(cls, *args, **kwargs):
        """Called as a class, a node is SymPy's own: only the builders below (``ordered_sum``...) make display nodes."""
        return cls._base(*args, **kwargs)

    @property
    def func(self):
        """SymPy's class: what rebuilds this node (``xreplace``, ``expand``, :mod:`symdl.grade.finite`) makes."""
        return self._base

    def plain(self) -> sp.Basic:
        cached = self.__dict__.get("_plain") if hasattr(self, "__dict__") else None
        if cached is None:
            cached = self._base(*self.args)
            try:
                self._plain = cached
            except AttributeError:
                pass
        return cached

    def __eq__(self, other):
        if isinstance(other, _Display):
            other = other.plain()
        return self.plain() == other

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self.plain())


class Add(_Display, sp.Add):
    """An unevaluated sum printed term by term in the order it was built."""

    _base = sp.Add

    def _latex(self, printer, **_):
        return join_terms(printer, self.args)


class Mul(_Display, sp.Mul):
    r"""An unevaluated product printed factor by factor: a leading reciprocal as ``\frac{1}{N} \ldots``, a last
    one under the factors before it, ``\frac{a b}{c}``."""

    _base = sp.Mul

    def _latex(self, printer, **_):
        factors = list(self.args)
        last = factors[-1]
        if len(factors) > 1 and _is_reciprocal(last) and not _is_reciprocal(factors[-2]):
            top = ordered_product(*factors[:-1]) if len(factors) > 2 else factors[0]
            return r"\frac{%s}{%s}" % (printer._print(top), printer._print(last.base))
        parts, sign = [], ""
        for factor in factors:
            if factor == -1:
                sign = "-"
            elif _is_reciprocal(factor):
                parts.append(r"\frac{1}{%s}" % printer._print(factor.base))
            elif isinstance(factor, (sp.Sum, sp.Integral)):
                parts.append(printer._print(factor))
            else:
                parts.append(printer.parenthesize(factor, PRECEDENCE["Mul"], strict=True))
        return sign + " ".join(parts)


def _is_reciprocal(e) -> bool:
    return isinstance(e, sp.Pow) and e.exp == -1


class exp(_Display, sp.exp):  # noqa: N801  (SymPy's name, read by name-dispatching code)
    r"""``\exp(s(u, v)/\tau)``: the exponential written as a function, a quotient argument inline."""

    _base = sp.exp

    def _latex(self, printer, **_):
        arg = self.args[0]
        if isinstance(arg, sp.Mul) and len(arg.args) == 2 and _is_reciprocal(arg.args[1]):
            body = "%s/%s" % (printer.parenthesize(arg.args[0], PRECEDENCE["Mul"], strict=True),
                              printer.parenthesize(arg.args[1].base, PRECEDENCE["Pow"]))
        else:
            body = printer._print(arg)
        return r"\exp\left(%s\right)" % body


class Sum(_Display, sp.Sum):
    r"""A sum over one index whose summand is printed in square brackets, ``\sum_{i=1}^{N} \Big[\ldots\Big]``."""

    _base = sp.Sum

    def _latex(self, printer, **_):
        (var, low, high), = self.limits
        return r"\sum_{%s=%s}^{%s} \Big[%s\Big]" % (printer._print(var), printer._print(low), printer._print(high),
                                                   printer._print(self.function))


class Derivative(_Display, sp.Derivative):
    r"""A first derivative printed as ``\frac{\partial F_w(x_i, y)}{\partial w}``."""

    _base = sp.Derivative

    def _latex(self, printer, **_):
        (var, _count), = self.variable_count
        return r"\frac{\partial %s}{\partial %s}" % (printer._print(self.expr), printer._print(var))


class Named(sp.Symbol):
    r"""A defined name that reads as a function of its arguments, ``P_w(y | x_i)``; ``|`` prints as ``\mid``.

    It is a key of the reference's ``definitions``, so ``expanded()`` replaces it by what it stands for.
    """

    def _latex(self, printer, **_):
        return self.name.replace(" | ", r" \mid ")


def ordered_sum(*terms) -> sp.Expr:
    """The sum of ``terms``, printed in this order."""
    return sp.Add.__new__(Add, *terms, evaluate=False)


def ordered_product(*factors) -> sp.Expr:
    r"""The product of ``factors``, printed in this order (``-1`` as a leading minus)."""
    return sp.Mul.__new__(Mul, *factors, evaluate=False)


def bracketed_sum(term, limits) -> sp.Expr:
    r"""``\sum`` of ``term`` over ``limits`` (``(i, 1, N)``), the summand printed in square brackets."""
    return sp.Sum.__new__(Sum, term, limits)


def partial(f, var) -> sp.Expr:
    r"""``\frac{\partial f}{\partial var}``, unevaluated."""
    return sp.Derivative.__new__(Derivative, f, var, evaluate=False)


def exp_of(numerator, denominator) -> sp.Expr:
    r"""``\exp(numerator/denominator)``, printed with the quotient inline."""
    return sp.Function.__new__(exp, ordered_product(numerator, reciprocal(denominator)), evaluate=False)


def reciprocal(a) -> sp.Expr:
    r"""``1/a``, printed ``\frac{1}{a}`` as a factor of :func:`ordered_product`."""
    return sp.Pow(a, -1, evaluate=False)


def ordered_xreplace(expr, mapping) -> sp.Basic:
    """``expr.xreplace(mapping)`` that keeps the display nodes (``xreplace`` rebuilds them as SymPy's own)."""
    if any(expr is k for k in mapping) or (not isinstance(expr, _Display) and expr in mapping):
        return mapping[expr]
    if not expr.args:
        return expr
    args = [ordered_xreplace(a, mapping) for a in expr.args]
    if isinstance(expr, Add):
        return ordered_sum(*args)
    if isinstance(expr, Mul):
        return ordered_product(*args)
    return expr.func(*args) if args != list(expr.args) else expr


def with_partials(expr) -> sp.Basic:
    r"""``expr`` with every first derivative printed as ``\frac{\partial f}{\partial v}`` (for a display;
    ``replace`` would not see the change, a display node being equal to what it stands for)."""
    if isinstance(expr, sp.Derivative) and not isinstance(expr, _Display) and len(expr.variables) == 1:
        return partial(expr.expr, expr.variables[0])
    if not expr.args:
        return expr
    args = [with_partials(a) for a in expr.args]
    if all(a is b for a, b in zip(args, expr.args)):
        return expr
    if isinstance(expr, Add):
        return ordered_sum(*args)
    if isinstance(expr, Mul):
        return ordered_product(*args)
    if isinstance(expr, (sp.Add, sp.Mul)):  # the terms as they were, not re-evaluated
        return type(expr)._from_args(args)
    return expr.func(*args)
