r"""Functions of a whole vector: one row of :data:`VECTORS` per function.

An elementwise function (:mod:`symdl.core.elementwise`) acts on each entry alone; the functions here
read every entry at once: :math:`\operatorname{softmax}(u)` (a vector), and the scalars
:math:`\operatorname{logsumexp}(u)`, :math:`\lVert u \rVert` (its square is ``Norm(u)**2``),
:math:`\mathbf{1}^\top u` and :math:`\operatorname{mean}(u)`.  Each is a SymPy node of its own, so
that a derivation keeps it by name and prints it as a course writes it; its Jacobian rule is a row
of :data:`symdl.core.calculus.RULES`, beside the others.

A row here says everything else symdl spells about the function: its LaTeX, its explicit form at a
given size (for the proofs against SymPy's ``Matrix.jacobian``), and its numpy and torch spellings.
The spellings take a column (``(k, 1)``) and return a column or a 0-d array; the numpy ones stay
analytic in complex input, so the complex-step checks pass through them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp
from sympy.core.sympify import _sympify


class VectorFunction:
    """Mixed into each node of the table: its one argument, its LaTeX, its explicit form."""

    head = ""

    @property
    def arg(self):
        return self.args[0]

    def _latex(self, printer, exp=None):
        body = r"%s\left(%s\right)" % (self.head, printer._print(self.arg))
        return body if exp is None else r"%s^{%s}" % (body, exp)

    def explicit(self, u: sp.Matrix):
        """The value at an explicit column ``u`` (an ``sp.Matrix``), entries symbolic."""
        raise NotImplementedError


class _ScalarOfVector(VectorFunction, sp.Expr):
    """A scalar computed from a vector: commutative, real where its argument is."""

    is_commutative = True
    is_real = True

    def __new__(cls, u):
        u = _sympify(u)  # strict: a SymPy object only, never a string
        if not getattr(u, "is_Matrix", False) or u.shape[1] != 1:
            raise TypeError(f"{cls.__name__} takes a column vector, got {u}")
        return sp.Expr.__new__(cls, u)


class Softmax(VectorFunction, sp.MatrixExpr):
    r""":math:`\operatorname{softmax}(u)_i = e^{u_i} / \sum_j e^{u_j}`, a probability vector."""

    head = r"\operatorname{softmax}"

    def __new__(cls, u):
        u = _sympify(u)  # strict: a SymPy object only, never a string
        if not getattr(u, "is_Matrix", False) or u.shape[1] != 1:
            raise TypeError(f"softmax takes a column vector, got {u}")
        return sp.MatrixExpr.__new__(cls, u)

    @property
    def shape(self):
        return self.arg.shape

    def explicit(self, u):
        e = u.applyfunc(sp.exp)
        return e / sum(e)


class LogSumExp(_ScalarOfVector):
    r""":math:`\operatorname{logsumexp}(u) = \log \sum_j e^{u_j}`; its gradient is the softmax."""

    head = r"\operatorname{logsumexp}"

    def explicit(self, u):
        return sp.log(sum(u.applyfunc(sp.exp)))


class Norm(_ScalarOfVector):
    r""":math:`\lVert u \rVert = \sqrt{u^\top u}`; the squared norm is ``Norm(u)**2``."""

    is_nonnegative = True

    def _latex(self, printer, exp=None):
        body = r"\left\lVert %s \right\rVert" % printer._print(self.arg)
        return body if exp is None else r"%s^{%s}" % (body, exp)

    def explicit(self, u):
        return sp.sqrt(sum(x ** 2 for x in u))


class SumOf(_ScalarOfVector):
    r""":math:`\mathbf{1}^\top u`, the sum of the entries."""

    def _latex(self, printer, exp=None):
        u = self.arg
        inner = printer._print(u)
        if isinstance(u, (sp.MatAdd, sp.MatMul, sp.HadamardProduct)):
            inner = r"\left(%s\right)" % inner
        body = r"\mathbf{1}^\top %s" % inner
        return body if exp is None else r"\left(%s\right)^{%s}" % (body, exp)

    def explicit(self, u):
        return sum(u)


class Mean(_ScalarOfVector):
    r""":math:`\operatorname{mean}(u) = \frac{1}{n} \mathbf{1}^\top u` for ``u`` of size ``n``."""

    head = r"\operatorname{mean}"

    def explicit(self, u):
        return sum(u) / u.rows


# --------------------------------------------------------------------------- spellings

def _numpy_softmax(np):
    def softmax(u):
        e = np.exp(u - np.max(np.real(u), axis=-2, keepdims=True))  # shifted: no overflow; analytic in u
        return e / np.sum(e, axis=-2, keepdims=True)
    return softmax


def _numpy_logsumexp(np):
    def logsumexp(u):
        top = np.max(np.real(u), axis=-2, keepdims=True)
        return (np.log(np.sum(np.exp(u - top), axis=-2, keepdims=True)) + top)[..., 0, 0]
    return logsumexp


def _reduce(reduce, after=None) -> Callable:
    """A reduction over the entries of a column, the same text for numpy and torch, then ``after``."""
    def spelling(lib):
        def f(u):
            out = reduce(lib, u)[..., 0]
            return out if after is None else after(lib, out)
        return f
    return spelling


_SUM = _reduce(lambda lib, u: lib.sum(u, -2))
_MEAN = _reduce(lambda lib, u: lib.sum(u, -2) / u.shape[-2])
#: ``sqrt(u . u)`` without a conjugate: analytic, so the complex step differentiates it
_NORM = _reduce(lambda lib, u: lib.sum(u * u, -2), after=lambda lib, s: lib.sqrt(s))


# --------------------------------------------------------------------------- the table

@dataclass(frozen=True)
class Vectorial:
    """One function of a whole vector, everything symdl spells about it."""

    sympy: type        # the SymPy node
    name: str          # its name in compiled code (``_ops.vector.softmax``)
    reads: tuple       # the names a person may write for it (``\operatorname{softmax}``: ``softmax``)
    numpy: Callable    # numpy -> the function on a column
    torch: Callable    # torch -> the function on a column (autograd keeps working)


#: Every function of a whole vector symdl reads, derives, prints and evaluates, by SymPy class.
VECTORS: dict[type, Vectorial] = {}


def defvector(sympy, name, *, reads=(), numpy, torch) -> None:
    VECTORS[sympy] = Vectorial(sympy, name, tuple(reads), numpy, torch)


defvector(Softmax, "softmax", reads=("softmax",), numpy=_numpy_softmax,
          torch=lambda torch: lambda u: torch.softmax(u, dim=-2))
defvector(LogSumExp, "logsumexp", reads=("logsumexp", "LSE"), numpy=_numpy_logsumexp,
          torch=lambda torch: lambda u: torch.logsumexp(u, dim=-2)[..., 0])
defvector(Norm, "norm", numpy=_NORM, torch=_NORM)
defvector(SumOf, "total", numpy=_SUM, torch=_SUM)
defvector(Mean, "mean", reads=("mean",), numpy=_MEAN, torch=_MEAN)


def spelled_vectors(backend: str, module) -> dict[str, Callable]:
    """Every function of the table as ``backend`` ("numpy" or "torch") spells it, by name."""
    return {f.name: getattr(f, backend)(module) for f in VECTORS.values()}


def replace_vector_scalars(expr, to_explicit: Callable):
    """``expr`` with each scalar of a vector (``logsumexp(u)``, ``\\lVert u \\rVert``) written out,
    its argument made explicit by ``to_explicit``."""
    if not isinstance(expr, sp.Basic) or getattr(expr, "is_Matrix", False):
        return expr
    return expr.replace(lambda a: isinstance(a, _ScalarOfVector), lambda a: a.explicit(to_explicit(a.arg)))


def is_vector_scalar(e) -> bool:
    """A scalar computed from a whole vector (a node of the table other than softmax)."""
    return isinstance(e, _ScalarOfVector)
