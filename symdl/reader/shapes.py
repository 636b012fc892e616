r"""The shape rules: what a scalar, a vector and a matrix may be added to, multiplied by, raised to.

Shapes are checked as the expression is built, so a matrix plus a vector is an error at the ``+``
and names both shapes.  The rules of the course's notation: a scalar beside a vector broadcasts
(``1 - f_t``), juxtaposition and ``\cdot`` are matrix products, ``\odot`` and ``/`` are elementwise,
a function of a vector applies to each entry, a power of a vector is elementwise, and ``I`` takes
its size from the matrix beside it.  Sums and Hadamard products keep the order a person wrote
(:func:`symdl.core.calculus.add`, :func:`~symdl.core.calculus.hadamard`).
"""

from __future__ import annotations

import math

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix

from ..core.calculus import add as ordered_add
from ..core.calculus import hadamard as ordered_hadamard
from ..core.vector import Norm as VectorNorm
from ..core.vector import SumOf
from .errors import Source
from .names import Head
from .pieces import Group, Item, Norm, Ones, ScaledIdentity, as_scaled_identity, identity_scale, unsized

#: What an ``I`` with nothing beside it to size it is told, and a ``\mathbf{1}``.
NO_SIZE = "I (the identity) needs a matrix beside it to give its size"
NO_SIZE_ONES = "\\mathbf{1} (the vector of ones) needs a vector or matrix beside it to give its size"

#: Longest number read, and largest exact power computed (a tower 10^{10^{10^{10}}} never ends).
MAX_DIGITS = 1000


def shape_of(e):
    """A matrix expression's (rows, columns), or ``None`` for a scalar."""
    return tuple(e.shape) if getattr(e, "is_Matrix", False) else None


def show_shape(s) -> str:
    """A shape as a message shows it: ``(n, 1)``, or ``a scalar``."""
    return "a scalar" if s is None else "(" + ", ".join(str(d) for d in s) + ")"


def kind(shape) -> str:
    """``vector`` for one column, else ``matrix``."""
    if shape[1] == 1:
        return "vector"
    return "matrix"


def _digits(base, exponent) -> float:
    """About how many digits ``base ** exponent`` has (numerator or denominator)."""
    size, power = max(abs(base.p), abs(base.q)), abs(exponent)
    if size <= 1:
        return 0.0
    return float("inf") if power > 10**9 else float(power) * math.log10(size)


def _zero_blocks(rows: list) -> None:
    """A 0 among matrix blocks is the zero block its row's height and its column's width give."""
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if v != 0 or shape_of(v) is not None:
                continue
            height = next((b.rows for b in r if shape_of(b) is not None), None)
            width = next((row[j].cols for row in rows if shape_of(row[j]) is not None), None)
            if height is not None and width is not None:
                r[j] = sp.ZeroMatrix(height, width)


class ShapeRules(Source):
    """The operations of the builder, each checking the shapes of its operands (``self.table`` for norms)."""

    # -- the identity and the ones vector, sized by their neighbour ---------------------------
    def _fit_identity(self, a, b, pos):
        ua, ub = unsized(a), unsized(b)
        if ua or ub:
            other = b if ua else a
            if unsized(other) or shape_of(other) is None:  # I + w_t, I I: no size
                raise self.error(NO_SIZE_ONES if isinstance(a, Ones) or isinstance(b, Ones) else NO_SIZE, pos)
        if ua:
            a = self._sized(a, b, pos)
        if ub:
            b = self._sized(b, a, pos)
        return a, b

    def _sized(self, v, like, pos):
        """``I``, ``c I + k 1 1^T`` or ``c 1`` at the size of the matrix ``like`` beside it."""
        if not isinstance(v, Ones):
            return self._sized_identity(v, like.rows)
        if like.cols != 1 and like.rows != 1:
            raise self.error(NO_SIZE_ONES, pos)
        ones = sp.OneMatrix(1, like.cols) if v.row else sp.OneMatrix(like.rows, 1)
        return self.scale(v.c, ones) if v.c != 1 else ones

    def _sized_identity(self, v, size):
        v = as_scaled_identity(v)
        eye = self.scale(v.c, sp.Identity(size)) if v.c != 1 else sp.Identity(size)
        if v.ones == 0:
            return eye
        ones = self.scale(v.ones, sp.OneMatrix(size, size)) if v.ones != 1 else sp.OneMatrix(size, size)
        return ones if v.c == 0 else ordered_add(eye, ones)

    def _mul_ones(self, x, y, pos):
        r"""A product with :math:`\mathbf{1}`: a scale, :math:`\mathbf{1}^\top u` (a sum), :math:`M \mathbf{1}`,
        or :math:`\mathbf{1}\mathbf{1}^\top` (a matrix whose size is still to come)."""
        if isinstance(x, Ones) and isinstance(y, Ones) and not x.row and y.row:
            return ScaledIdentity(sp.Integer(0), x.c * y.c)
        if isinstance(x, Ones) and shape_of(y) is None and not unsized(y):
            return x.times(y)
        if isinstance(y, Ones) and shape_of(x) is None and not unsized(x):
            return y.times(x)
        if isinstance(x, Ones) and x.row and shape_of(y) is not None:
            total = SumOf(y) if y.cols == 1 else sp.MatMul(sp.OneMatrix(1, y.rows), y)
            return self.scale(x.c, total) if x.c != 1 else total
        if isinstance(y, Ones) and not y.row and shape_of(x) is not None:
            return self.scale(y.c, sp.MatMul(x, sp.OneMatrix(x.cols, 1)))
        raise self.error(NO_SIZE_ONES, pos)

    # -- sums and products ------------------------------------------------------------------
    def scale(self, c, v):
        return sp.MatMul(c, v) if shape_of(v) else c * v

    def broadcast(self, s, like, pos):
        shape = shape_of(like)
        if shape[1] != 1:
            raise self.error(f"a scalar plus a {show_shape(shape)} matrix: write I for the identity", pos)
        return self.scale(s, sp.OneMatrix(*shape)) if s != 1 else sp.OneMatrix(*shape)

    def add(self, a, b, op, negate=False):
        pos = op.start_pos
        if identity_scale(a) is not None and identity_scale(b) is not None:  # I - \frac{1}{n} 1 1^T: size to come
            a, b = as_scaled_identity(a), as_scaled_identity(b).times(-1 if negate else 1)
            return ScaledIdentity(a.c + b.c, a.ones + b.ones)
        a, b = self._fit_identity(a, b, pos)
        if unsized(a):
            raise self.error(NO_SIZE_ONES if isinstance(a, Ones) else NO_SIZE, pos)
        if negate:
            b = self.scale(-1, b)
        sa, sb = shape_of(a), shape_of(b)
        if sa is None and sb is None:
            return a + b
        if sa is None:
            a = self.broadcast(a, b, pos)
        elif sb is None:
            b = self.broadcast(b, a, pos)
        elif sa != sb:
            raise self.error(f"cannot add a {show_shape(sa)} {kind(sa)} and a {show_shape(sb)} {kind(sb)}", pos,
                             "two terms of the same shape")
        return ordered_add(a, b)

    def hadamard(self, a, b, op):
        pos = op.start_pos
        sa, sb = shape_of(a), shape_of(b)
        if sa is None or sb is None:
            return self.scale(a, b) if sa is None else self.scale(b, a)
        if sa != sb:
            raise self.error(f"\\odot needs two operands of one shape, got {show_shape(sa)} and {show_shape(sb)}",
                             pos, "operands of the same shape")
        return ordered_hadamard(a, b)

    def mul(self, a: Item, b: Item, cdot: bool = False):
        if isinstance(a.obj, Ones) or isinstance(b.obj, Ones):
            return self._mul_ones(a.obj, b.obj, b.start)
        dot = self._dot(a.obj, b.obj)
        if dot is None:
            dot = self.vector_product(a, b, cdot)
        if dot is not None:
            return dot
        ca, cb = identity_scale(a.obj), identity_scale(b.obj)
        if (ca is None) != (cb is None):  # c I times a scalar is a multiple of I, its size still to come
            unsized_one, other = (a.obj, b.obj) if ca is not None else (b.obj, a.obj)
            if shape_of(other) is None:
                return as_scaled_identity(unsized_one).times(other)
        x, y = self._fit_identity(a.obj, b.obj, a.start)
        sx, sy = shape_of(x), shape_of(y)
        if sx is None or sy is None:
            if sx is None and sy is None:
                return x * y
            return self.scale(x, y) if sx is None else self.scale(y, x)
        if sx == sy and sx[1] == 1 and not cdot:
            return self._elementwise_product(a, b, x, y)
        if sx[1] != sy[0]:
            hint = "; for the elementwise product write \\odot" if sx == sy and sx[1] == 1 else ""
            raise self.error(f"cannot multiply '{self.src(a.start, a.end).strip()}' {show_shape(sx)} by "
                             f"'{self.src(b.start, b.end).strip()}' {show_shape(sy)}: the inner sizes differ{hint}",
                             b.start, "a factor whose rows match the columns before it")
        if not isinstance(x, sp.MatMul):
            return sp.MatMul(x, y)
        # one flat product, as SymPy's own MatMul would be, but without re-checking every factor's shape
        # (checked above): a nested MatMul is asked its shape recursively, and re-checking a flat one on
        # every factor made a product of n factors cost n^2 (2,800 factors: 12 s)
        return sp.Basic.__new__(sp.MatMul, *x.args, y)

    def _elementwise_product(self, a: Item, b: Item, x, y):
        r"""Two column vectors side by side (``\sigma(a_t)(1 - \sigma(a_t))``) have no matrix product: read as
        the elementwise product, and say so (the note goes into the answer)."""
        u, v = self.src(a.start, a.end).strip(), self.src(b.start, b.end).strip()
        self.notes.append(f"read {u} {v} as {u} \\odot {v}: two column vectors side by side have no matrix "
                          "product, so they were multiplied elementwise")
        return ordered_hadamard(x, y)

    def _dot(self, a, b):
        r"""``v_I^\top v_{I^t}`` of two feature vectors (scalar symbols that stand for vectors): their dot
        product, kept apart from the scalars so that no algebra of scalars cancels a vector."""
        if type(a).__name__ == "Transposed" and self.table.is_vector(a.args[0]) and self.table.is_vector(b):
            return self.table.construct("Dot", a.args[0], b)
        return None

    def vector_product(self, a: Item, b: Item, cdot: bool):
        r"""Two feature vectors side by side: ``u \cdot v`` is their dot product; ``u v`` is refused."""
        if not (self.table.is_vector(a.obj) and self.table.is_vector(b.obj)):
            return None
        if cdot:
            return self.table.construct("Dot", a.obj, b.obj)
        u, v = self.src(a.start, a.end).strip(), self.src(b.start, b.end).strip()
        raise self.error(f"'{u} {v}': two feature vectors side by side; for their dot product write {u}^\\top {v} "
                         f"or {u} \\cdot {v}", a.start, "a dot product")

    def divide(self, a, b, pos):
        sa, sb = shape_of(a), shape_of(b)
        if sb is None:
            if b.is_zero:
                raise self.error("division by zero", pos, "a denominator that is not 0")
            return self.scale(1 / b, a) if sa else a / b
        inv = sp.HadamardPower(b, -1)
        if sa is None:
            return self.scale(a, inv)
        if sa != sb:
            raise self.error(f"cannot divide a {show_shape(sa)} by a {show_shape(sb)} elementwise", pos)
        return ordered_hadamard(a, inv)

    def power(self, value, exponent, pos):
        if shape_of(exponent):
            raise self.error("an exponent must be a scalar", pos)
        s = shape_of(value)
        if s is None:
            if value.is_Rational and exponent.is_Rational and _digits(value, exponent) > MAX_DIGITS:
                raise self.error(f"this power of {str(value)[:20]} has more than {MAX_DIGITS} digits; it is not "
                                 "computed", pos, "a smaller power")
            out = sp.Pow(value, exponent)
            if out in (sp.zoo, sp.nan):
                raise self.error(f"{value}^{{{exponent}}} is undefined (division by zero)", pos, "a defined power")
            return out
        if s[1] != 1:
            raise self.error(f"a power of a {show_shape(s)} matrix is not read (only vectors, elementwise)", pos)
        return sp.HadamardPower(value, exponent)

    # -- functions: elementwise on vectors, diag of a column -------------------------------
    def apply(self, head: Head, group: Group, pos: int):
        if head.kind == "derivative":
            if len(group.items) != 1 or shape_of(group.items[0]) is not None:
                raise self.error(f"{head.name} takes one scalar expression", pos)
            return sp.Derivative(group.items[0], head.func)
        if head.kind == "vector":
            return self._vector_function(head, group, pos)
        if head.kind == "diag":
            if len(group.items) != 1:
                raise self.error("diag takes one vector", pos)
            v = group.items[0]
            s = shape_of(v)
            if s is None or s[1] != 1:
                raise self.error(f"diag takes a column vector, got {show_shape(s)}", pos)
            out = DiagMatrix(v)
        elif len(group.items) == 1:
            out = self.apply_function(head.func, group.items[0], pos)
        else:
            if any(shape_of(v) for v in group.items):
                raise self.error(f"{head.name} of several arguments takes scalars", pos)
            try:
                out = head.func(*group.items)
            except TypeError:  # \exp(x, y): SymPy's exp takes one argument
                raise self.error(f"{head.name} does not take {len(group.items)} arguments", pos) from None
        if head.power is not None:
            out = self.power(out, head.power, pos)
        return out

    def apply_function(self, func, v, pos):
        if shape_of(v) is None:
            out = func(v)
            if out in (sp.zoo, sp.nan):
                shown = "0" if v.is_zero else (str(v) if len(str(v)) < 40 and not v.has(sp.Integral) else "this argument")
                raise self.error(f"{func.__name__}({shown}) is undefined", pos, "an argument inside the function's domain")
            return out
        if isinstance(v, sp.ZeroMatrix) and func(sp.Integer(0)) in (sp.zoo, sp.nan):  # \log(f_t - f_t)
            raise self.error(f"{func.__name__}(0) is undefined: its argument is 0 in every entry", pos,
                             "an argument inside the function's domain")
        d = sp.Dummy("d")
        return ElementwiseApplyFunction(sp.Lambda(d, func(d)), v)

    def vector_norm(self, v):
        r"""``\lVert v \rVert`` (or ``|v|``) of a feature vector, else ``None``."""
        return self.norm_value(Norm(v)) if self.table.is_vector(v) else None

    def _vector_function(self, head: Head, group: Group, pos: int):
        r"""``\operatorname{softmax}(u)``, ``\operatorname{logsumexp}(u)``: one column vector in."""
        v = group.items[0] if len(group.items) == 1 else None
        if v is None or shape_of(v) is None or shape_of(v)[1] != 1:
            got = f"{len(group.items)} arguments" if v is None else show_shape(shape_of(v))
            raise self.error(f"{head.name} takes one column vector, got {got}", pos, "a vector")
        out = head.func(v)
        return self.power(out, head.power, pos) if head.power is not None else out

    def norm_value(self, norm: Norm, pos: int | None = None):
        if norm.p == 1:
            return self.table.construct("L1Norm", norm.v)
        # a reference that writes its own norm (latent) reads as written, and so does a feature vector the
        # reference keeps as one symbol (PIRL's v_I, a vector only to its cosine s)
        if "SquaredNorm" in self.table.classes or shape_of(norm.v) is None:
            return sp.sqrt(self.table.construct("SquaredNorm", norm.v))
        if shape_of(norm.v)[1] != 1:
            raise self.error(f"the norm of a {show_shape(shape_of(norm.v))} matrix is not read (only of vectors)", pos)
        return VectorNorm(norm.v)

    # -- matrices written out: scalars, or blocks whose sizes fit ---------------------------
    def matrix(self, rows: list, start: int):
        """``\\begin{bmatrix} ... \\end{bmatrix}`` of the read entries ``rows``."""
        if len({len(r) for r in rows}) != 1:
            raise self.error("the rows of the matrix have different lengths", start)
        for r in rows:  # I takes its size from the other blocks of its row
            size = next((v.rows for v in r if identity_scale(v) is None and shape_of(v)), None)
            if size is None and any(identity_scale(v) is not None for v in r):
                raise self.error("I (the identity) needs a matrix beside it to give its size", start)
            r[:] = [v if identity_scale(v) is None else self._sized_identity(v, size) for v in r]
        if all(shape_of(v) is None for r in rows for v in r):
            return sp.ImmutableMatrix(rows)
        return self._block_matrix(rows, start)

    def _block_matrix(self, rows: list, start: int):
        _zero_blocks(rows)
        for r in rows:
            for v in r:
                if shape_of(v) is None:
                    raise self.error("a block matrix mixes scalars and matrices", start)
            if len({v.rows for v in r}) != 1:
                raise self.error("the blocks of a row have different numbers of rows: "
                                 + ", ".join(show_shape(shape_of(v)) for v in r), start)
        for j in range(len(rows[0])):
            if len({r[j].cols for r in rows}) != 1:
                raise self.error(f"the blocks of column {j + 1} have different numbers of columns", start)
        return sp.BlockMatrix(rows)
