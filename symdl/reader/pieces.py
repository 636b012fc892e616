r"""What a piece of the parse tree is before it is a value.

The builder reads a tree bottom-up, but a piece often cannot be a SymPy value yet: a name waits for
its subscript (``c`` then ``c_{t-1}``), a bracket may be a function's argument, ``\sum`` waits for
its limits and its body, ``I`` for a matrix beside it to give its size.  These small objects carry
such pieces until what follows them decides; :class:`Item` adds where they stand in the text.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from lark import Token


@dataclass
class Name:
    """A name not yet looked up (``c``, then ``c_{t-1}`` once its subscript is read)."""

    start: int
    end: int
    letters: bool  # a bare run of letters, which may be a product of one-letter names


@dataclass
class Group:
    """A bracketed value or list ``(a, b)``: a function's argument, or a plain value.

    Scripts after the closing bracket (``^\\top``, ``^2``) wait in ``suffixes``: after a function's
    argument they apply to the function's value (``\\operatorname{diag}(f_t)^\\top`` is the transpose
    of the diagonal matrix), otherwise to the bracket's value."""

    items: list
    suffixes: tuple = ()


@dataclass
class BigOp:
    r"""``\sum``, ``\int``, ``\min`` ... before its limits, its bound variable and its body are read."""

    kind: str
    lower: object = None
    upper: object = None
    var: object = None  # the bound variable, once read
    written: str = ""  # the bound variable's name as written (its key), when the symbol is named otherwise


@dataclass
class Derivative:
    r"""``\frac{\partial a}{\partial b}``: a key for the left side of an equation, and, for
    scalars, ``sp.Derivative`` on the right."""

    text: str
    items: list = None
    value: object = None


@dataclass
class Conditional:
    """``(y \\mid x)`` or ``(y, z \\mid x)``: the argument of a distribution (``of`` a tuple of one or more)."""

    of: tuple
    given: object
    start: int


@dataclass
class Gradient:
    r"""``\nabla_w`` before what it acts on: ``script`` is the subscript's tree (the variable)."""

    script: object
    start: int


@dataclass
class Norm:
    r"""``\lVert v \rVert`` before its subscript (1 or 2) is known."""

    v: object
    p: int = 2


class Marker:
    """A symbol that is no value on its own (``\\partial``, ``\\nabla``, the identity ``I``)."""

    def __init__(self, kind):
        self.kind = kind


PARTIAL, NABLA, IDENTITY = Marker("partial"), Marker("nabla"), Marker("identity")


@dataclass(frozen=True)
class ScaledIdentity:
    r"""``c I + k \mathbf{1}\mathbf{1}^\top`` (``10^{-12} I``, ``I - \frac{1}{n}\mathbf{1}\mathbf{1}^\top``)
    before a matrix beside it gives its size."""

    c: object
    ones: object = sp.Integer(0)

    def times(self, s) -> "ScaledIdentity":
        return ScaledIdentity(self.c * s, self.ones * s)


@dataclass(frozen=True)
class Ones:
    r"""``c \mathbf{1}`` (a column) or ``c \mathbf{1}^\top`` (a row) before a vector beside it gives its size."""

    c: object = sp.Integer(1)
    row: bool = False

    def times(self, s) -> "Ones":
        return Ones(self.c * s, self.row)


def identity_scale(obj):
    """The scalar ``c`` of ``c I + k 1 1^T`` (1 for ``I``), or ``None`` for anything else."""
    if obj is IDENTITY:
        return sp.Integer(1)
    return obj.c if isinstance(obj, ScaledIdentity) else None


def unsized(obj) -> bool:
    r"""``I``, ``c I``, ``\mathbf{1}`` and the like: a value whose size the matrix beside it gives."""
    return identity_scale(obj) is not None or isinstance(obj, Ones)


def as_scaled_identity(obj) -> ScaledIdentity:
    return obj if isinstance(obj, ScaledIdentity) else ScaledIdentity(sp.Integer(1))


@dataclass
class Item:
    """A built piece and where it is in the text."""

    obj: object
    start: int
    end: int


def span(node) -> tuple[int, int]:
    """Where a tree node or a token stands in the text: (start, end) offsets."""
    if isinstance(node, Token):
        return node.start_pos, node.end_pos
    return node.meta.start_pos, node.meta.end_pos
