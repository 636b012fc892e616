r"""A model: the sizes, inputs, definitions and references of one topic, as one value.

A model is what a derivation is checked against and what a course registers from outside
(``symdl.register``).  The built-in topics of the seed are models, and so is every model file
(``gru.toml``): the registry treats them alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

import sympy as sp
from sympy.core.function import UndefinedFunction

from .reference import Input, Reference


@dataclass(frozen=True, eq=False)
class Model:
    """One topic: ``name`` is the prefix of each of its references' names (``gru`` for ``gru.state``)."""

    name: str
    description: str = ""
    sizes: Mapping[str, str] = field(default_factory=dict)  # size symbol name -> meaning
    inputs: tuple[Input, ...] = ()
    functions: Mapping[str, UndefinedFunction] = field(default_factory=dict)
    definitions: Mapping[sp.Basic, sp.Basic] = field(default_factory=dict)  # in order
    aliases: Mapping[str, str] = field(default_factory=dict)
    references: tuple[Reference, ...] = ()
    source: str = ""  # the file it was read from, or the module that built it

    def symbol(self, name: str):
        """The input or defined symbol written ``name`` (exactly as the model writes it), or None."""
        for inp in self.inputs:
            if inp.name == name:
                return inp.symbol
        for sym in self.definitions:
            if getattr(sym, "name", None) == name:
                return sym
        return None

    @classmethod
    def of_references(cls, name: str, references, description: str = "", source: str = "") -> "Model":
        """The model that a module of references implies: their inputs, functions, aliases and definitions,
        and each value a reference names on its left side (``h_t`` of ``rnn.state``) as a definition."""
        inputs, functions, aliases, definitions = {}, {}, {}, {}
        for ref in references:
            for inp in ref.inputs:
                inputs.setdefault(inp.name, inp)
            functions.update({k: v for k, v in ref.functions.items() if k not in functions})
            aliases.update({k: v for k, v in ref.aliases.items() if k not in aliases})
            for sym, value in ref.definitions.items():
                definitions.setdefault(sym, value)
        for ref in references:  # a named value wins over an input of the same name (h_t of a gap's product)
            named = _named_value(ref)
            if named is not None and named not in definitions:
                definitions[named] = ref.expr
                inputs.pop(named.name, None)
        sizes = {str(d): "" for i in inputs.values() for d in getattr(i.symbol, "shape", ()) if isinstance(d, sp.Symbol)}
        return cls(name, description, sizes, tuple(inputs.values()), functions, definitions, aliases,
                   tuple(references), source)

    def __repr__(self) -> str:
        return f"<Model {self.name}: {len(self.references)} references from {self.source or 'Python'}>"


def _named_value(ref: Reference):
    """The symbol of a reference whose left side is one plain name (``h_t``), shaped like its value."""
    if not ref.lhs or not _PLAIN.fullmatch(ref.lhs) or not isinstance(ref.expr, sp.Basic):
        return None
    if getattr(ref.expr, "is_Matrix", False):
        return sp.MatrixSymbol(ref.lhs, *ref.expr.shape)
    return sp.Symbol(ref.lhs, real=True)


_PLAIN = re.compile(r"[A-Za-z](_\{[A-Za-z0-9+-]+\}|_[A-Za-z0-9])?")
