r"""The names a reference knows, looked up the way a person writes them.

A name is keyed by :func:`canon`: bold commands, spaces and braces dropped,
so ``\boldsymbol{c}_{t-1}``, ``\mathbf{c}_{t-1}``, ``c_{t - 1}`` and the
reference's own ``c_{t-1}`` are one key.  The table holds the reference's
inputs, its defined names (expanded later), its abstract functions with their
primes, and its aliases (``g_t`` for ``\tilde{c}_t``, ``\beta`` for ``\beta_1``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy as sp

from sympy.core.function import UndefinedFunction

from ..core.elementwise import SCALARS, derivative_of, prime
from ..core.vector import VECTORS

_DECORATION = re.compile(r"\\(boldsymbol|mathbf|bm|pmb|vec|textbf|emph|left|right|mathrm|operatorname|text)"
                         r"(?![A-Za-z])|\\[,;:! ]")


def canon(text: str) -> str:
    """The lookup key of a name: decorations, spaces and braces removed, ``\\prime`` as ``'``."""
    s = _DECORATION.sub("", text)
    s = re.sub(r"\^\s*\{?\s*(\\prime|')\s*\}?", "'", s)
    s = re.sub(r"\^\s*\{\s*\(\s*([A-Za-z])\s*\)\s*\}", r"_\1", s)  # x^{(i)}, the sample index, is x_i
    s = re.sub(r"\\dfrac|\\tfrac", r"\\frac", s)
    # a space ends a TeX command; keep that boundary, drop every other space
    s = re.sub(r"(\\[A-Za-z]+)\s+(?=[A-Za-z])", r"\1{}", s)
    return re.sub(r"[\s{}]", "", s)


@dataclass(frozen=True)
class Head:
    """A function waiting for its argument: ``\\tanh``, ``\\sigma'``, ``F``, ``diag``."""

    name: str
    func: Any = None  # a SymPy function class, or a callable building a SymPy expression
    kind: str = "fn"  # "fn" (elementwise on vectors), "diag"
    power: Any = None
    deriv: Callable | None = None

    def derivative(self) -> "Head":
        d = self.deriv() if self.deriv else None
        if d is None:
            return None
        return Head(self.name + "'", d, self.kind)

    def with_power(self, p) -> "Head":
        return Head(self.name, self.func, self.kind, p, self.deriv)


def function_head(name: str, f) -> Head:
    return Head(name, f, deriv=lambda: derivative_of(f))


@dataclass
class NameTable:
    """Canonical name → what it stands for (a SymPy symbol or a :class:`Head`).

    ``own`` holds what the reference's own expression uses besides its inputs
    (``N``, ``D_N``, bound variables, functions such as PIRL's ``s``), and
    ``classes`` its constructs by name (``SumOverSet``, ``MinOver``), so that a
    hand form is built from the same objects as the reference.
    """

    reference: str
    entries: dict = field(default_factory=dict)
    shown: list = field(default_factory=list)
    own: dict = field(default_factory=dict)
    classes: dict = field(default_factory=dict)
    sums: dict = field(default_factory=dict)
    integrals: set = field(default_factory=set)  # letters the reference integrates over (y for y and y')
    aliases: dict = field(default_factory=dict)
    vectors: set = field(default_factory=set)  # scalar symbols that stand for vectors: what s(u, v) compares

    def is_vector(self, e) -> bool:
        """Whether ``e`` is a symbol the reference's similarity ``s(u, v)`` compares (PIRL's ``v_I``): a
        feature vector behind a scalar symbol, whose transpose, dot product and norm mean what they say."""
        return isinstance(e, sp.Symbol) and e in self.vectors

    def variable(self, name: str) -> sp.Symbol:
        """The symbol of a bound variable: the reference's own when it uses that name."""
        found = self.own.get(canon(name))
        if isinstance(found, sp.Symbol):
            return found
        return sp.Symbol(name.strip(), real=True)

    def construct(self, name: str, *args):
        """``name(*args)`` with the reference's class of that name, or a plain one."""
        cls = self.classes.get(name) or _generic(name)
        return cls(*args)

    def limits_of(self, var):
        return self.sums.get(var)

    def add(self, name: str, obj, show: bool = True) -> None:
        key = canon(name)
        if key not in self.entries:
            self.entries[key] = obj
            if show:
                self.shown.append(name)

    def get(self, text: str):
        return self.entries.get(canon(text))

    def known(self) -> str:
        return ", ".join(self.shown)


def table_for(ref) -> NameTable:
    """The names of ``ref``: inputs, defined names, functions, aliases."""
    table = NameTable(ref.name)
    for inp in ref.inputs:
        table.add(inp.name, inp.symbol)
    for sym in ref.definitions:
        if isinstance(sym, (sp.Symbol, sp.MatrixSymbol)):
            table.add(sym.name, sym)
    for name, f in ref.functions.items():
        table.add(name, function_head(name, f))
        table.add(name + "'", Head(name + "'", prime(f)), show=False)
    for alias, target in ref.aliases.items():
        obj = table.get(target)
        if obj is not None:
            table.add(alias, obj)
            table.aliases[alias] = target
    _own_names(table, ref)
    return table


def _own_names(table: NameTable, ref) -> None:
    exprs = [ref.expr, *ref.definitions.values()]
    for e in exprs:
        if not isinstance(e, sp.Basic):
            continue
        for s in e.atoms(sp.Symbol):
            if not isinstance(s, sp.Dummy):  # a Lambda's variable (``d`` in an elementwise map) is no name
                table.own.setdefault(canon(s.name), s)
        for f in e.atoms(sp.Function):
            head = f.func
            if isinstance(head, UndefinedFunction) and head.__name__ == "s" and len(f.args) == 2:
                table.vectors.update(a for a in f.args if isinstance(a, sp.Symbol))
            if isinstance(head, UndefinedFunction):
                if table.get(head.__name__) is None:
                    table.own.setdefault(canon(head.__name__), function_head(head.__name__, head))
            elif head.__module__.startswith("symdl.models"):
                table.classes.setdefault(head.__name__, head)
        for sm in e.atoms(sp.Sum):
            for var, low, high in sm.limits:
                table.sums.setdefault(var, (low, high))
        for it in e.atoms(sp.Integral):
            for lim in it.limits:
                table.integrals.add(canon(lim[0].name).replace("'", ""))


_GENERIC: dict = {}


def _generic(name: str):
    """A construct the reference does not use (``MaxOver``), as an inert SymPy function."""
    if name not in _GENERIC:
        _GENERIC[name] = type(name, (sp.Function,), {})
    return _GENERIC[name]


def builtin(key: str, table: NameTable):
    """A function every reference knows (``\\tanh``, ``\\sigma'``, ``diag``), unless it gives the name another meaning."""
    return BUILTINS.get(key)


def _builtins() -> dict:
    """The heads of the names the elementwise and vector tables say a person may write, and ``diag``.

    A command is its own head (``\\ln``); a bare word takes the row's LaTeX (``sigmoid`` reads as ``\\sigma``).
    A function of a whole vector (``\\operatorname{softmax}``) has no derivative read as ``softmax'``.
    """
    heads = {"diag": Head("diag", kind="diag")}
    for row in SCALARS.values():
        for name in row.reads:
            heads[canon(name)] = function_head(name if name.startswith("\\") else row.latex, row.sympy)
    for row in VECTORS.values():
        for name in row.reads:
            heads[canon(name)] = Head(name, row.sympy, kind="vector")
    return heads


BUILTINS = _builtins()
