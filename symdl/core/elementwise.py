r"""Elementwise scalar functions of the course: one row of :data:`SCALARS` per function.

SymPy would differentiate ``tanh`` into ``1 - tanh(x)**2``; a worked solution
wants ``\tanh'(x)``.  Each derivative here is its own function class whose
``rewrite`` gives the explicit form, so a result prints the way a person
writes it and still reduces to elementary functions for a proof.

The table is the one place that says how symdl spells a scalar function
(HIPS/autograd's ``numpy_vjps.py``: one line per primitive): its SymPy class,
its LaTeX head, its derivative, the names a person may write for it, and its
numpy, torch and numba spellings.  The printers (:mod:`symdl.numeric`), the
reader's names and the grader's finite interpretation all read it, so a new
function is one row here (and a class, when SymPy has none).

A spelling is a function of the library it is written with (numpy, torch, or
``math`` for numba's scalar kernels) returning the elementwise function, so
that nothing here imports numpy or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import sympy as sp
from sympy.core.function import AppliedUndef, UndefinedFunction


class _Headed(sp.Function):
    r"""A function of the table printed by its LaTeX head: ``\sigma\left(x\right)``, ``\sigma^{2}\left(x\right)``."""

    nargs = 1

    def _latex(self, printer, exp=None):
        return print_head(printer, self, exp)


class _NamedDerivative(_Headed):
    """The derivative of a table function under its own name; each defines ``explicit(x)``, its elementary form."""

    def fdiff(self, argindex=1):
        x = self.args[0]
        return sp.diff(self.explicit(x), x)


class sigmoid(_Headed):
    r"""The logistic sigmoid :math:`\sigma(x) = 1/(1 + e^{-x})`."""

    def fdiff(self, argindex=1):
        return sigmoid_prime(self.args[0])

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))


class sigmoid_prime(_NamedDerivative):
    r""":math:`\sigma'(x) = \sigma(x)(1 - \sigma(x))`."""

    @staticmethod
    def explicit(x):
        return sigmoid(x) * (1 - sigmoid(x))

    def _eval_rewrite_as_sigmoid(self, x, **kwargs):
        return self.explicit(x)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        s = 1 / (1 + sp.exp(-x))
        return s * (1 - s)


class tanh_prime(_NamedDerivative):
    r""":math:`\tanh'(x) = 1 - \tanh^2(x)`."""

    @staticmethod
    def explicit(x):
        return 1 - sp.tanh(x) ** 2

    def _eval_rewrite_as_tanh(self, x, **kwargs):
        return self.explicit(x)


class softplus(sp.Function):
    r""":math:`\operatorname{softplus}(x) = \log(1 + e^{x})`."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_log(self, x, **kwargs):
        return sp.log(1 + sp.exp(x))


# --------------------------------------------------------------------------- spellings

def _library(name: str) -> Callable:
    """The function numpy, torch and math all call ``name``."""
    return lambda module: getattr(module, name)


def _logistic(m):
    """sigma through tanh (numpy or math): no overflow for large ``|x|``, and complex steps pass."""
    return lambda x: 0.5 * (1 + m.tanh(0.5 * x))


def _logistic_prime(m):
    """sigma' as s (1 - s) with s through tanh (numpy or math; numba compiles no call to a closure)."""
    def f(x):
        s = 0.5 * (1 + m.tanh(0.5 * x))
        return s * (1 - s)
    return f


def _torch_logistic_prime(torch):
    def f(x):
        s = torch.sigmoid(x)
        return s * (1 - s)
    return f


def _tanh_prime(m):
    return lambda x: 1 - m.tanh(x) ** 2


def _numpy_softplus(np):
    """``log(1 + e^x)`` without overflow; complex input (a complex step) takes the analytic form."""
    return lambda x: np.logaddexp(0, x) if not np.iscomplexobj(x) else np.log1p(np.exp(x))


def _scalar_softplus(m):
    return lambda x: max(x, 0.0) + m.log1p(m.exp(-abs(x)))


def _scalar_sign(m):
    return lambda x: (x > 0) - (x < 0)


# --------------------------------------------------------------------------- the table

@dataclass(frozen=True)
class Scalar:
    """One elementwise scalar function, everything symdl spells about it."""

    sympy: type                 # the SymPy function class
    name: str                   # its name in compiled code (``_ops.elementwise.sigmoid``) and kernels
    latex: str | None           # the head written before the argument (``\sigma``); None: written around it (|x|)
    derivative: Any             # the SymPy function of its derivative, None when it has no name
    reads: tuple[str, ...]      # the names a person may write for it (a command or a bare word)
    numpy: Callable             # numpy -> the function on arrays
    torch: Callable             # torch -> the function on tensors (autograd keeps working)
    numba: Callable             # math -> the function on floats, compiled by numba for fused kernels


#: Every elementwise scalar function symdl prints, reads or evaluates, by SymPy class.
SCALARS: dict[type, Scalar] = {}


def defscalar(sympy, latex, derivative=None, *, reads=(), numpy=None, torch=None, numba=None) -> None:
    """One row of :data:`SCALARS`; a spelling left out is the library function of the same name."""
    name = sympy.__name__.lower()  # SymPy's class name (``Abs`` is ``abs``)
    same = _library(name)
    SCALARS[sympy] = Scalar(sympy, name, latex, derivative, tuple(reads),
                            numpy or same, torch or same, numba or same)


#         SymPy class    LaTeX head                 derivative     names read, then spellings where not the library's
defscalar(sp.tanh,       r"\tanh",                  tanh_prime,    reads=(r"\tanh", "tanh"))
defscalar(sp.exp,        r"\exp",                   sp.exp,        reads=(r"\exp", "exp"))
defscalar(sp.log,        r"\log",                                  reads=(r"\log", r"\ln", "log"))
defscalar(sp.sin,        r"\sin",                                  reads=(r"\sin",))
defscalar(sp.cos,        r"\cos",                                  reads=(r"\cos",))
defscalar(sp.Abs,        None,                                     numba=lambda m: abs)
defscalar(sp.sign,       r"\operatorname{sign}",                   numba=_scalar_sign)
defscalar(sigmoid,       r"\sigma",                 sigmoid_prime, reads=(r"\sigma", "sigmoid"),
          numpy=_logistic, torch=_library("sigmoid"), numba=_logistic)
defscalar(sigmoid_prime, r"\sigma'",                               reads=(r"\sigma'",),
          numpy=_logistic_prime, torch=_torch_logistic_prime, numba=_logistic_prime)
defscalar(tanh_prime,    r"\tanh'",                                reads=(r"\tanh'",),
          numpy=_tanh_prime, torch=_tanh_prime, numba=_tanh_prime)
defscalar(softplus,      r"\operatorname{softplus}", sigmoid,
          numpy=_numpy_softplus, torch=lambda torch: torch.nn.functional.softplus, numba=_scalar_softplus)

#: The concrete functions an abstract elementwise activation is instantiated by, in checks and witnesses.
ACTIVATIONS = (sp.tanh, sigmoid, softplus)


def spelled(backend: str, module) -> dict[str, Callable]:
    """Every function of the table as ``backend`` ("numpy", "torch" or "numba") spells it, by name.

    ``module`` is the library the spelling is written with: numpy, torch, or math for numba.
    """
    return {f.name: getattr(f, backend)(module) for f in SCALARS.values()}


def print_head(printer, expr, exp=None) -> str:
    r"""``head^{exp}\left(x\right)`` with the head of ``expr``'s row: how symdl prints a named function."""
    head = SCALARS[expr.func].latex
    if exp is not None:
        head += "^{%s}" % exp
    return r"%s\left(%s\right)" % (head, printer._print(expr.args[0]))


# --------------------------------------------------------------------------- derivatives

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


def derivative_of(func):
    """The elementwise derivative of a scalar function class, named where it has a name."""
    row = SCALARS.get(func)
    if row is not None and row.derivative is not None:
        return row.derivative
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
