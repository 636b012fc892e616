r"""Reading a person's LaTeX into SymPy, in one reference's symbols.

``read(text, ref)`` parses ``text`` with the grammar of :mod:`symdl.reader.grammar`
(the notation of REFERENCES.md) and builds a SymPy expression whose symbols
are ``ref``'s own: its inputs, its defined names (``f_t``, ``h_{t-1}``), its
abstract functions (``\sigma`` in rnn) and its aliases (``g_t``).  A whole
equation ``LHS = RHS`` is accepted when its left side names the reference's
quantity.

Nothing here calls ``eval``, ``exec``, ``sympify`` or ``parse_expr``: the
parse tree is turned into SymPy objects node by node.  A problem is a
:class:`ReadError` with the character offset, the reason and what was
expected there; an unknown symbol lists the symbols the reference knows.

The modules, by job: ``reading`` (``read``, the limits on the input, the left
side's key), ``grammar`` (the grammar and its cached parser), ``names`` (the
names a reference knows), ``errors`` (``ReadError`` and the words of syntax
errors), ``builder`` (the tree to SymPy) with its parts ``pieces``, ``atoms``,
``scripts``, ``arithmetic``, ``operators`` and ``shapes``.
"""

from __future__ import annotations

from .builder import Builder
from .errors import TERMINALS, ReadError
from .grammar import parser
from .names import NameTable, canon, table_for
from .pieces import Derivative
from .reading import MAX_DEPTH, MAX_LENGTH, Reading, lhs_key, parse, read

__all__ = [
    "MAX_DEPTH", "MAX_LENGTH", "TERMINALS", "Builder", "Derivative", "NameTable", "ReadError", "Reading", "canon",
    "lhs_key", "parse", "parser", "read", "table_for",
]
