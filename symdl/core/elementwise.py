"""Elementwise scalar functions of the course, with derivatives that print by name.

SymPy would differentiate ``tanh`` into ``1 - tanh(x)**2``; a worked solution
wants ``\\tanh'(x)``.  Each derivative here is its own function class whose
``rewrite`` gives the explicit form, so a result prints the way a person
writes it and still reduces to elementary functions for a proof.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.function import AppliedUndef, UndefinedFunction


class sigmoid(sp.Function):
    r"""The logistic sigmoid :math:`\sigma(x) = 1/(1 + e^{-x})`."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid_prime(self.args[0])

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))

    def _latex(self, printer, exp=None):
        base = r"\sigma"
        if exp is not None:
            base += "^{%s}" % exp
        return r"%s\left(%s\right)" % (base, printer._print(self.args[0]))


class sigmoid_prime(sp.Function):
    r""":math:`\sigma'(x) = \sigma(x)(1 - \sigma(x))`."""

    nargs = 1

    def fdiff(self, argindex=1):
        x = self.args[0]
        return sp.diff(self._eval_rewrite_as_sigmoid(x), x)

    def _eval_rewrite_as_sigmoid(self, x, **kwargs):
        return sigmoid(x) * (1 - sigmoid(x))

    def _eval_rewrite_as_exp(self, x, **kwargs):
        s = 1 / (1 + sp.exp(-x))
        return s * (1 - s)

    def _latex(self, printer, exp=None):
        return r"\sigma'\left(%s\right)" % printer._print(self.args[0])


class tanh_prime(sp.Function):
    r""":math:`\tanh'(x) = 1 - \tanh^2(x)`."""

    nargs = 1

    def fdiff(self, argindex=1):
        x = self.args[0]
        return sp.diff(1 - sp.tanh(x) ** 2, x)

    def _eval_rewrite_as_tanh(self, x, **kwargs):
        return 1 - sp.tanh(x) ** 2

    def _latex(self, printer, exp=None):
        return r"\tanh'\left(%s\right)" % printer._print(self.args[0])


class softplus(sp.Function):
    r""":math:`\operatorname{softplus}(x) = \log(1 + e^{x})`."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_log(self, x, **kwargs):
        return sp.log(1 + sp.exp(x))


_PRIMES: dict[str, UndefinedFunction] = {}


def prime(f: UndefinedFunction) -> UndefinedFunction:
    """The derivative of an abstract scalar function ``f``, as a function named ``f'``."""
    name = f.__name__ + "'"
    if name not in _PRIMES:
        _PRIMES[name] = sp.Function(name)
    return _PRIMES[name]


def prime_base(fp) -> UndefinedFunction | None:
    """For ``f'`` made by :func:`prime`, the abstract ``f``; else ``None``."""
    name = getattr(fp, "__name__", "")
    if name.endswith("'") and _PRIMES.get(name) is fp:
        return sp.Function(name[:-1])
    return None


#: Derivative rules for elementwise functions, one line a rule (HIPS/autograd style).
DERIVATIVES = {
    sp.tanh: tanh_prime,
    sigmoid: sigmoid_prime,
    softplus: sigmoid,
    sp.exp: sp.exp,
}


def derivative_of(func):
    """The elementwise derivative of a scalar function class, named where it has a name."""
    if func in DERIVATIVES:
        return DERIVATIVES[func]
    if isinstance(func, UndefinedFunction):
        return prime(func)
    return None


def expand_primes(expr: sp.Expr) -> sp.Expr:
    """Named derivatives of concrete functions (``tanh'``, ``sigma'``) in elementary form."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(expand_primes)
    return expr.rewrite(sp.tanh).rewrite(sigmoid)


def collapse_derivatives(expr: sp.Expr) -> sp.Expr:
    """SymPy's derivatives of an abstract ``f`` (``Subs(Derivative(f(x), x), x, u)``,
    ``Derivative(f(u), u)``) written as ``f'(u)``, the form the engine derives."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(collapse_derivatives)

    def is_abstract_derivative(e):
        return (isinstance(e, sp.Derivative) and len(e.variables) == 1 and isinstance(e.expr, AppliedUndef)
                and e.expr.args == e.variables and e.derivative_count == 1)

    def subs_form(e):
        return isinstance(e, sp.Subs) and len(e.variables) == 1 and is_abstract_derivative(e.expr)

    expr = expr.replace(subs_form, lambda e: prime(e.expr.expr.func)(e.point[0]))
    return expr.replace(is_abstract_derivative, lambda e: prime(e.expr.func)(e.variables[0]))
