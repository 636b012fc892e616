r"""``read``: a person's LaTeX, as SymPy in one reference's symbols.

The steps: limits on the input (its length, then the parse tree's depth), the parse
(:mod:`~symdl.reader.grammar`, its syntax errors in a person's words), the names of the
reference (:mod:`~symdl.reader.names`), and the tree built into SymPy
(:mod:`~symdl.reader.builder`).  A whole equation ``LHS = RHS`` is accepted when its left side
names the reference's quantity: both sides are compared by :func:`lhs_key`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .builder import Builder
from .errors import SYNTAX_ERRORS, ReadError, syntax_error
from .grammar import parser
from .names import NameTable, canon, table_for
from .pieces import Derivative

#: Longest input read: 20x the longest form in the tests; reading 100k characters of ``w_t w_t ...``
#: took 5 s (parsing, then SymPy merging each factor into the product).
MAX_LENGTH = 20_000

#: Deepest parse tree the builder reads: 6x the deepest form in the tests, far inside the
#: Python stack (the builder recurses about twice per level, SymPy more on what it builds).
MAX_DEPTH = 200


#: A subscript holding an entry's index beside a name's own (``h_{t,i}``, ``h_{t-1,j}``).
INDEX_FORM = re.compile(r"_\s*\{[^{}]*,\s*[A-Za-z]\s*\}")


@dataclass(frozen=True)
class Reading:
    """What was read: the expression (right-hand side) and the left side's key, if any."""

    expr: object
    lhs: str | None
    text: str
    notes: tuple = ()  # how the form was read where it could be read two ways


def parse(text: str):
    """The parse tree of ``text``, or a :class:`ReadError` saying where and what was expected."""
    try:
        return parser().parse(text)
    except SYNTAX_ERRORS as exc:
        raise syntax_error(exc, text) from None


def read(text: str, ref, table: NameTable | None = None) -> Reading:
    """``text`` (a right-hand side, or ``LHS = RHS``) as SymPy in ``ref``'s symbols."""
    if not text.strip():
        raise ReadError("the input is empty; expected a formula", 0, text, "a formula")
    if len(text) > MAX_LENGTH:
        raise ReadError(f"the input is {len(text)} characters long; at most {MAX_LENGTH} are read", MAX_LENGTH, text,
                        "a shorter formula")
    tree = parse(text)
    _check_depth(tree, text)
    table = table or table_for(ref)
    builder = Builder(text, table)
    lhs = None
    if tree.data == "equation":
        left, _, right = tree.children
        s, e = left.meta.start_pos, left.meta.end_pos
        lhs = _lhs_of(builder, left, text[s:e])
        want = lhs_key(ref.lhs) if ref.lhs else None
        # the key read with the reference's names, or the one lhs_key gives the reference's own left side
        # (a tuple such as (c_t, h_t) builds only with names: the two keys differ for the same text)
        if want is not None and want not in (lhs, lhs_key(text[s:e])) and INDEX_FORM.search(text[s:e]):
            raise ReadError(f"the left side '{text[s:e].strip()}' is the index form (one entry of the Jacobian), "
                            f"which is not read; write the whole matrix: '{ref.lhs} = ...', such as "
                            "\\operatorname{diag}(\\sigma'(a_t)) W_1", s, text, ref.lhs)
        if want is not None and want not in (lhs, lhs_key(text[s:e])):
            raise ReadError(f"the left side '{text[s:e].strip()}' is not what {ref.name} gives; "
                            f"expected '{ref.lhs}' (or write the right-hand side alone)", s, text, ref.lhs)
        expr = builder.value(right)
    else:
        expr = builder.value(tree.children[0])
    return Reading(expr, lhs, text, tuple(builder.notes))


def _check_depth(tree, text: str) -> None:
    """A :class:`ReadError` at the first node nested deeper than :data:`MAX_DEPTH` (5,000 brackets,
    or a sum of thousands of terms, would otherwise end in a RecursionError)."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            pos = getattr(getattr(node, "meta", None), "start_pos", None)
            pos = node.start_pos if pos is None and hasattr(node, "start_pos") else pos
            raise ReadError(f"the formula is nested more than {MAX_DEPTH} levels deep (brackets inside brackets, "
                            "or a very long chain of terms); split it or write it more flatly", pos, text,
                            "a shallower formula")
        stack.extend((child, depth + 1) for child in getattr(node, "children", ()))


# -- the left side of an equation ----------------------------------------------------------
def lhs_key(text: str) -> str:
    """A left side's key: ``d(c_t)/d(c_t-1)`` for a Jacobian, else the name's canonical form."""
    text = _strip_evaluation_bar(text)
    try:
        tree = parser().parse(text)
        item = Builder(text, NameTable("")).build(tree.children[0]) if tree.data == "start" else None
    except Exception:  # a left side the grammar or the builder does not read is compared as text
        return _loose(text)
    if item is not None and isinstance(item.obj, Derivative):
        return item.obj.text
    return _loose(text)


def _lhs_of(builder: Builder, node, source: str) -> str:
    try:
        item = builder.build(node)
    except ReadError:
        return _loose(source)
    if isinstance(item.obj, Derivative):
        return item.obj.text
    return _loose(source)


def _strip_evaluation_bar(text: str) -> str:
    r"""``\left.X\right|_{h_{t-1}}`` (held fixed) compared as ``X``."""
    text = re.sub(r"\\left\s*\.", "", text)
    return re.sub(r"\\right\s*\|\s*_\s*(\{[^{}]*(\{[^{}]*\}[^{}]*)*\}|\S)", "", text)


def _loose(text: str) -> str:
    r"""A left side's text key: ``\mathbb{P}`` is ``P``, ``\mid`` is ``|``, argument lists kept."""
    text = re.sub(r"\\mathbb\s*\{?\s*([A-Za-z])\s*\}?", r"\1", text)
    return canon(re.sub(r"\\mid(?![A-Za-z])", "|", text))
