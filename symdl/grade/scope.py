r"""The model a derivation is read in: its references, the person's own names, the sides as SymPy.

A derivation is read in one topic (``lstm``).  Each side of a link is read with the existing
reader (:func:`symdl.reader.read`) in the symbols of one of the topic's references, the one named
by ``--against`` first, then the others in the registry's order: the first under which both sides
of the link read, and use only that reference's inputs, is the one the link is checked in.

What the person adds is substituted as SymPy before anything is compared:

- their definitions (``u_t = W_{fh} h_{t-1} + ...``) and premises (``m_0 = 0``);
- a reference's quantity written as a name (``h_t`` for ``rnn.state``, ``w_{t+1}``), as its
  reference's expression;
- every derivative ``\frac{\partial X}{\partial Y}`` in the text, derived by the engine
  (:mod:`symdl.grade.derivatives`).

The model's own defined names (``f_t``, ``h_{t-1}``) stay names; the numeric witness expands them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import sympy as sp

from ..core.calculus import NotDifferentiable, substitute_definitions
from ..reader import ReadError, lhs_key, read
from ..reader.chain import is_symbol
from ..reader.names import builtin, canon, table_for
from ..reader.ranges import LENGTHS
from .derivatives import derive, find, placeholder, placeholder_key


class SideError(ValueError):
    """A side that could not be read: why, and where (an offset into the side's text)."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.message, self.position = message, position


@dataclass(frozen=True)
class Side:
    """A side read: SymPy in the model's symbols, and the reference it was read in."""

    expr: object
    ref: object


class Scope:
    """The references of one topic (``against`` first), and the names the person defined."""

    def __init__(self, refs: list, against=None):
        self.refs = [against, *[r for r in refs if r is not against]] if against is not None else list(refs)
        self.against = against
        self.defined: dict = {}  # canonical key -> (name as written, symbol, value)
        self.tables = {r: table_for(r) for r in self.refs}  # by reference: the variants of one share a name
        self.quantities = _quantities(self.refs, self.tables)
        self.names = set().union(*(t.entries for t in self.tables.values()), self.quantities)
        self.lengths = LENGTHS  # the range lengths a link with a range or a family is checked at
        self.readings: list[str] = []  # the reader's notes on the sides read since the caller cleared it

    def variable_range(self):
        """The reference whose parameter is a range length (``rnn.jacobian_product``'s gap), or ``None``."""
        return next((r for r in self.refs if r.variants is not None and "gap" in (r.params or {})), None)

    # -- names ---------------------------------------------------------------------------------
    def is_model_name(self, key: str) -> bool:
        return key in self.names

    def is_function(self, key: str) -> bool:
        """Whether ``key`` is a function every reference knows (``\\sigma``, ``\\tanh``, ``\\exp``)."""
        return any(builtin(key, table) is not None for table in self.tables.values())

    def resembles(self, key: str) -> str | None:
        """The model name ``key`` looks like a slip of (``f_t'`` for ``f_t``, ``W_{fhh}`` for
        ``W_{fh}``), as the reference shows it; ``None`` when there is none."""
        for ref in self.refs:
            table = self.tables[ref]
            for name in table.shown + [r.lhs for r in self.refs if r.lhs]:
                if _close(key, canon(name)):
                    return name
        return None

    def define(self, name: str, expr) -> None:
        """``name`` stands for ``expr`` (SymPy, the person's names already substituted) from now on."""
        shape = getattr(expr, "shape", None) if getattr(expr, "is_Matrix", False) else None
        symbol = sp.MatrixSymbol(name.strip(), *shape) if shape else sp.Symbol(name.strip(), real=True)
        self.defined[canon(name)] = (name.strip(), symbol, expr)

    # -- reading sides ----------------------------------------------------------------------------
    def side(self, text: str, prefer=None) -> Side:
        """``text`` read in the first reference it fits (``prefer`` first); the first reference's
        error when it fits none."""
        order = [prefer, *[r for r in self.refs if r is not prefer]] if prefer is not None else self.refs
        first = None
        for ref in order:
            try:
                return Side(self.read(text, ref), ref)
            except SideError as exc:
                first = _first(first, exc)
        raise first

    def pair(self, left: str, right: str, refs=None) -> tuple[Side, Side]:
        """Both sides of a link read in one reference, the first of ``refs`` (default: the topic's)
        they both fit."""
        first = None
        for ref in refs or self.refs:
            try:
                a = self.read(left, ref)
            except SideError as exc:
                first = _first(first, ("left", exc))
                continue
            try:
                return Side(a, ref), Side(self.read(right, ref), ref)
            except SideError as exc:  # the left side read: the right side's error says more
                first = _first(first if first and first[0] == "right" else None, ("right", exc))
        raise PairError(*first)

    def read(self, text: str, ref):
        """``text`` as SymPy in ``ref``'s symbols, the person's names and derivatives substituted."""
        try:
            return self._read(text, ref)
        except RecursionError:
            raise SideError("the formula is nested too deeply to read") from None
        except (TypeError, ValueError, AttributeError, NotImplementedError) as exc:
            if isinstance(exc, SideError):
                raise
            raise SideError(f"{type(exc).__name__}: {exc}") from None

    def _read(self, text: str, ref):
        _refuse_applied_alias(text, self.refs)
        if ref not in self.tables:
            self.tables[ref] = table_for(ref)
        table = replace(self.tables[ref], entries=dict(self.tables[ref].entries), shown=list(self.tables[ref].shown))
        subs = self._names_into(table, ref)
        text = self._derivatives_into(text, table, ref, subs)
        try:
            reading = read(text, ref, table)
        except ReadError as exc:
            if ref.lhs and gradient_key(lhs_key(text)) == lhs_key(ref.lhs):
                return ref.expr  # the reference's quantity as it prints it, or as \nabla_w X for d X / d w
            raise SideError(exc.message, exc.position) from None
        expr = reading.expr
        self._check_ambiguous(expr, ref)
        expr = expr.xreplace(subs) if subs else expr
        self._check_symbols(expr, ref)
        self.readings += [n for n in reading.notes if n not in self.readings]
        return expr

    def _check_ambiguous(self, expr, ref) -> None:
        """Without ``--against``, a quantity two references give (``w_{t+1}`` in optim) is not guessed."""
        if self.against is not None:
            return
        for s in getattr(expr, "free_symbols", ()):
            owners = self.quantities.get(canon(getattr(s, "name", "")), [])
            if len(owners) > 1 and ref in owners:
                raise AmbiguousName(f"{s.name} means a different thing in each of {', '.join(r.name for r in owners)}: "
                                "give --against NAME to say which")

    def _names_into(self, table, ref) -> dict:
        """The person's names and the topic's quantities into ``table``; their values by symbol."""
        subs = {}
        for key, (name, symbol, value) in self.defined.items():
            table.entries[key] = symbol
            subs[symbol] = value
        for key, owners in self.quantities.items():
            if key in table.entries:
                continue
            owner = ref if ref in owners else (owners[0] if len(owners) == 1 else None)
            if owner is None:
                continue
            symbol = _symbol_for(owner)
            table.entries[key] = symbol
            subs[symbol] = substitute_definitions(owner.expr, owner.definitions)
        return subs

    def _derivatives_into(self, text: str, table, ref, subs: dict) -> str:
        """Each derivative in ``text`` replaced by a placeholder whose value is derived."""
        for k, found in enumerate(find(text)):
            try:
                of = self._plain(found.of, ref, table, subs)
                by = self._variable(found.by, ref, table)
                held = [self._variable(z, ref, table) for z in _held_names(found.held)]
                value = derive(of, by, dict(ref.definitions), held)
            except (SideError, NotDifferentiable) as exc:
                if ref.lhs and lhs_key(text[found.start:found.end]) == lhs_key(ref.lhs):
                    value = ref.expr  # a block Jacobian (c_t, h_t) by (c_{t-1}, h_{t-1}): the reference's own
                else:
                    raise SideError(f"the derivative {text[found.start:found.end].strip()} is not derived: "
                                    f"{getattr(exc, 'message', exc)}", found.start) from None
            shape = value.shape if getattr(value, "is_Matrix", False) else None
            symbol = sp.MatrixSymbol(f"{placeholder_key(k)}", *shape) if shape else sp.Symbol(placeholder_key(k))
            table.entries[canon(placeholder_key(k))] = symbol
            subs[symbol] = value
            text = text[:found.start] + placeholder(k, found.end - found.start) + text[found.end:]
        return text

    def _plain(self, text: str, ref, table, subs: dict):
        try:
            expr = read(text, ref, table).expr
        except ReadError as exc:
            raise SideError(exc.message) from None
        return expr.xreplace(subs) if subs else expr

    def _variable(self, text: str, ref, table):
        """A symbol of the model (an input or a defined name) to differentiate by or hold fixed."""
        try:
            found = read(text, ref, table).expr
        except ReadError as exc:
            raise SideError(exc.message) from None
        if found in set(ref.definitions) or found in {i.symbol for i in ref.inputs}:
            return found
        raise SideError(f"{text} is not an input or a defined name of {ref.name}")

    def _check_symbols(self, expr, ref) -> None:
        allowed = {i.symbol for i in ref.inputs} | set(ref.definitions) | ref.expanded().free_symbols
        allowed |= {d for i in ref.inputs for d in i.shape if isinstance(d, sp.Symbol)}
        extra = [s for s in getattr(expr, "free_symbols", ()) if s not in allowed and not isinstance(s, sp.Dummy)]
        if extra:
            names = ", ".join(sorted(getattr(s, "name", str(s)) for s in extra))
            raise SideError(f"{names} {'is' if len(extra) == 1 else 'are'} not among the inputs of {ref.name}")


class AmbiguousName(SideError):
    """A name two references of the topic give different meanings; it outranks any other error."""


def _first(kept, new):
    """The error to report: the first one, unless a later one is an :class:`AmbiguousName`."""
    return new if kept is None or (isinstance(new[1] if isinstance(new, tuple) else new, AmbiguousName)) else kept


class PairError(SideError):
    """Neither reference read both sides of a link; ``which`` side failed first."""

    def __init__(self, which: str, error: SideError):
        super().__init__(error.message, error.position)
        self.which = which


def _quantities(refs, tables) -> dict:
    """Each reference's quantity written as one name (``h_t``, ``w_{t+1}``) that its table lacks."""
    out: dict = {}
    for ref in refs:
        for name in (ref.lhs, *_quantity_aliases(ref)):
            if name and is_symbol(name) and canon(name) not in tables[ref].entries:
                out.setdefault(canon(name), []).append(ref)
    return out


def _quantity_aliases(ref) -> list[str]:
    """The other spellings a reference declares for its own quantity (``L_{\\mathrm{NCE}}`` for
    ``L_{NCE}(I, I^t)``): an alias whose target is the reference's left side, never a guess."""
    return [alias for alias, target in ref.aliases.items() if ref.lhs and target == ref.lhs]


def _refuse_applied_alias(text: str, refs) -> None:
    """A quantity's alias written with arguments (``L_{\\mathrm{NCE}}(v_I)``) is not read as a product."""
    for ref in refs:
        for alias in _quantity_aliases(ref):
            found = re.search(re.escape(alias) + r"\s*(\\left\s*)?\(", text)
            if found and lhs_key(text) != lhs_key(ref.lhs):  # the contract's own left side still reads
                raise SideError(f"{alias} names {ref.name}, {ref.lhs}: write it without arguments, or as "
                                f"{ref.lhs}", found.start())


def _symbol_for(ref):
    if getattr(ref.expr, "is_Matrix", False):
        return sp.MatrixSymbol(ref.lhs, *ref.expr.shape)
    return sp.Symbol(ref.lhs, real=True)


_NABLA = re.compile(r"\\nabla_(\\[A-Za-z]+|[A-Za-z0-9])(.+)")


def gradient_key(key: str) -> str:
    """The left-side key of ``\\nabla_w X`` written as that of ``\\frac{\\partial X}{\\partial w}``, the same
    derivative (REFERENCES.md, "Derivatives"); any other key as it is."""
    m = _NABLA.fullmatch(key)
    return f"d({m.group(2)})/d({m.group(1)})" if m else key


def _held_names(held: str | None) -> list[str]:
    return [h for h in re.split(r",(?![^{]*\})", held) if h.strip()] if held else []


def _close(key: str, model: str) -> bool:
    """A slip of ``model``: the same but for primes, hats or case, or a letter subscript with one
    letter more, fewer or swapped (``W_fhh``, ``W_hf`` for ``W_fh``); index arithmetic (``h_t+1``
    beside ``h_t-1``) is never a slip."""
    if key == model:
        return False
    plain = re.sub(r"'|\\(hat|bar|tilde|widehat|widetilde)", "", key)
    if plain == re.sub(r"'|\\(hat|bar|tilde|widehat|widetilde)", "", model) or key.lower() == model.lower():
        return True
    kb, _, ks = key.partition("_")
    mb, _, ms = model.partition("_")
    if kb != mb or not ks.isalpha() or not ms.isalpha() or len(ms) < 2:
        return False
    return sorted(ks) == sorted(ms) or (abs(len(ks) - len(ms)) == 1 and (set(ks) <= set(ms) or set(ms) <= set(ks)))
