r"""From a parse tree to SymPy objects in one reference's symbols.

Every SymPy object is built directly (``MatMul``, ``HadamardProduct``,
``ElementwiseApplyFunction`` ...): the text a person wrote is never handed to
``eval``, ``sympify`` or ``parse_expr``.  Shapes are checked as the
expression is built, so a matrix plus a vector is an error at the ``+``.

:class:`Builder` dispatches each tree node ``x`` to its method ``b_x``, which
its parts define by job: :mod:`~symdl.reader.atoms` (names, numbers,
brackets), :mod:`~symdl.reader.scripts` (subscripts, powers, primes),
:mod:`~symdl.reader.arithmetic` (sums and products),
:mod:`~symdl.reader.operators` (sums, integrals, minima, derivatives) and
:mod:`~symdl.reader.shapes` (the shape rules every operation goes through).
What stays here is the dispatch and the lookup of names.
"""

from __future__ import annotations

import re

import sympy as sp

from .arithmetic import Arithmetic
from .atoms import Atoms
from .names import Head, NameTable, builtin, canon
from .operators import Operators
from .pieces import IDENTITY, BigOp, Conditional, Derivative, Group, Item, Marker, Name, Norm, Ones, identity_scale, span
from .scripts import Scripts
from .shapes import NO_SIZE, NO_SIZE_ONES, ShapeRules


class Builder(Atoms, Scripts, Arithmetic, Operators, ShapeRules):
    """Builds the SymPy expression of a tree against a :class:`NameTable`."""

    def __init__(self, text: str, table: NameTable):
        self.text, self.table = text, table
        self.scope: dict = {}  # bound variables of the sums, integrals and minima being read
        self.entry_sizes: dict = {}  # a bound index -> the size of the vector whose entries it reads (z_j)
        self.notes: list = []  # how a form was read where it could be read two ways (said in the answer)

    # -- dispatch -----------------------------------------------------------------------
    def build(self, node) -> Item:
        start, end = span(node)
        method = getattr(self, "b_" + node.data)
        obj = method(node, start, end)
        if obj is sp.nan or obj is sp.zoo:  # where it first appears: \infty - \infty, 0 \cdot \infty
            raise self.error(f"'{self.src(start, end).strip()[:40]}' is undefined", start, "a defined value")
        return Item(obj, start, end)

    def value(self, node):
        """A finished value: names resolved, nothing left waiting for an argument."""
        item = self.build(node)
        return self.as_value(item)

    def as_value(self, item: Item):
        obj = self.resolve(item)
        if isinstance(obj, Norm):
            return self.norm_value(obj, item.start)
        if isinstance(obj, list):
            return self.product([Item(o, item.start, item.end) for o in obj])
        if isinstance(obj, Conditional):
            raise self.error("a conditional (y | x) is only read as the argument of P or P_w", item.start)
        if isinstance(obj, Group):
            if len(obj.items) != 1:
                raise self.error("a list (a, b, ...) is only the argument of a function", item.start)
            return self.finish(Item(obj.items[0], item.start, item.end), obj.suffixes)
        if isinstance(obj, Head):
            raise self.error(f"{obj.name} needs an argument", item.end, "an argument")
        if isinstance(obj, Derivative):
            if obj.value is not None:
                return obj.value
            raise self.error("a derivative \\frac{\\partial a}{\\partial b} of vectors may only be the left side "
                             "of an equation", item.start)
        if isinstance(obj, BigOp):
            raise self.error(f"\\{obj.kind} needs something to act on", item.end, "an expression")
        if identity_scale(obj) is not None:
            raise self.error(NO_SIZE, item.start)
        if isinstance(obj, Ones):
            raise self.error(NO_SIZE_ONES, item.start)
        if isinstance(obj, Marker):
            raise self.error(f"\\{obj.kind} cannot stand here", item.start)
        return obj

    # -- names ----------------------------------------------------------------------------
    def resolve(self, item: Item):
        """The value or function a name stands for; a run of letters may be a product."""
        obj = item.obj
        if isinstance(obj, list):
            return obj
        if not isinstance(obj, Name):
            return obj
        text = self.src(item.start, item.end)
        key = canon(text)
        found = self.scope.get(key)
        if found is None:
            found = self.table.get(text)
        if found is None:
            found = builtin(key, self.table)
        if found is None:
            found = self.table.own.get(key)
        if found is not None:
            return found
        if key == "e":
            return sp.E
        if key == "I":
            return IDENTITY
        if obj.letters and len(key.split("_")[0].rstrip("'")) > 1:
            return self._split(item)
        entry = self._entry(key)
        if entry is not None:
            return entry
        if re.search(r"_[^_]*,", key):
            raise self.error(f"'{text.strip()}' is the index form (one entry of a vector or matrix), which is not "
                             "read; write the whole vector or matrix, such as \\frac{\\partial h_t}{\\partial "
                             "h_{t-1}} = \\operatorname{diag}(\\sigma'(a_t)) W_1", item.start, "a whole vector")
        raise self.error(f"unknown symbol '{text.strip()}' in {self.table.reference}; "
                         f"it knows {self.table.known()}", item.start, "a symbol of the reference")

    def _entry(self, key: str):
        r"""``z_j`` inside a sum over ``j``, for the vector ``z``: its entry j, a scalar (the size of ``z`` gives
        the sum's limits when it has none)."""
        found = re.fullmatch(r"(.+)_([A-Za-z])", key)
        if not found or found.group(2) not in self.scope:
            return None
        base = self.table.get(found.group(1))
        if not isinstance(base, sp.MatrixSymbol) or base.shape[1] != 1:
            return None
        self.entry_sizes[found.group(2)] = base.shape[0]
        return sp.Symbol(key, real=True)

    def _split(self, item: Item):
        """``Wh_{t-1}`` read as ``W h_{t-1}``: every letter a name, scripts on the last."""
        text = self.src(item.start, item.end)
        head = len(text) - len(text.lstrip())
        letters = 0
        while item.start + head + letters < item.end and self.text[item.start + head + letters].isalpha():
            letters += 1
        out = []
        for k in range(letters):
            s = item.start + head + k
            e = item.end if k == letters - 1 else s + 1
            out.append(self.resolve(Item(Name(s, e, False), s, e)))
        return out
