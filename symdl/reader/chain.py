r"""One row of a derivation, as text: its relations, its reason, an inline definition, its left side.

A row such as ``f_t &= \sigma(u) = \sigma(u_t) \quad \text{(gate)}`` is cut at its top-level
relations into sides (``f_t``, ``\sigma(u)``, ``\sigma(u_t)``) and the relations between them;
the trailing ``\quad\text{...}`` (or ``&&\text{...}``) is the person's reason, never read as
mathematics; a trailing ``\text{where } X = ...`` or ``, \quad X = ...`` is a definition of X.
Relations inside braces, brackets, ``cases`` or matrices (``\sum_{i=1}``, ``P(Y = y)``) are
not the row's.  Everything here cuts text (:class:`~symdl.reader.source.Text`, positions kept);
nothing is evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .source import Text, depths, group_end

#: Relation commands and what they are reported as (``\leftarrow`` is an assignment: ``=``).
RELATIONS = {
    "=": "=", ":=": ":=", r"\coloneqq": ":=", r"\coloneq": ":=", r"\leftarrow": "=", r"\gets": "=",
    r"\approx": r"\approx", r"\simeq": r"\simeq", r"\sim": r"\sim", r"\equiv": r"\equiv",
    r"\le": r"\le", r"\leq": r"\le", r"\leqslant": r"\le", r"\ge": r"\ge", r"\geq": r"\ge",
    r"\geqslant": r"\ge", "<": "<", ">": ">", r"\ne": r"\ne", r"\neq": r"\ne", r"\propto": r"\propto",
    r"\to": r"\to", r"\rightarrow": r"\to", r"\longrightarrow": r"\to", r"\Rightarrow": r"\Rightarrow",
    r"\implies": r"\Rightarrow", r"\Longrightarrow": r"\Rightarrow", r"\Leftarrow": r"\Leftarrow",
    r"\impliedby": r"\Leftarrow", r"\Longleftarrow": r"\Leftarrow", r"\iff": r"\iff", r"\Leftrightarrow": r"\iff",
    r"\Longleftrightarrow": r"\iff",
    "\u2264": r"\le", "\u2265": r"\ge", "\u2260": r"\ne", "\u21d2": r"\Rightarrow", "\u21d4": r"\iff",
    "\u2192": r"\to", "\u2248": r"\approx",
}
#: Relations that join statements, not expressions: ``\gamma = 1 \Rightarrow \alpha = 1`` is one claim, whose
#: ``=`` are parts of its statements, never links of a chain.
CONNECTIVES = (r"\Rightarrow", r"\Leftarrow", r"\iff")

#: What a row continuing the previous right side begins with.
OPERATORS = ("+", "-", r"\pm", r"\mp", r"\cdot", r"\odot", r"\times", r"\circ")

#: Commands that only space or align: skipped when looking for what a row begins or ends with.
SPACING = re.compile(r"(?:\s|&|~|\\[,;:! ]|\\q?quad(?![A-Za-z])|\\displaystyle(?![A-Za-z]))*")

_TEXT_COMMANDS = (r"\text", r"\textrm", r"\mathrm", r"\textit", r"\mbox", r"\textnormal")


@dataclass(frozen=True)
class Relation:
    start: int
    end: int
    symbol: str  # as reported: "=", ":=", "\approx", ...


def relations(text: str) -> list[Relation]:
    """The top-level relations of ``text``, in order (``:=`` as one)."""
    out: list[Relation] = []
    for tok, depth in depths(text, brackets=True):
        if depth or tok.text not in RELATIONS:
            continue
        start, symbol = tok.start, RELATIONS[tok.text]
        if tok.text == "=" and text[:tok.start].rstrip().endswith(":"):
            start, symbol = text[:tok.start].rstrip().rfind(":"), ":="
        out.append(Relation(start, tok.end, symbol))
    return out


@dataclass(frozen=True)
class Chain:
    """A row cut at its relations: ``sides[k] relations[k] sides[k+1]``; ``sides[0]`` is empty when
    the row begins with a relation (it continues the chain of the row before)."""

    sides: tuple
    relations: tuple
    at: tuple = ()  # where each relation begins, in the row's text

    @property
    def continues(self) -> bool:
        return bool(self.relations) and not self.sides[0].text.strip()


def chain(text: Text) -> Chain:
    rels = relations(text.text)
    cuts = [0] + [p for r in rels for p in (r.start, r.end)] + [len(text)]
    sides = tuple(text[cuts[i]:cuts[i + 1]].strip() for i in range(0, len(cuts), 2))
    return Chain(sides, tuple(r.symbol for r in rels), tuple(r.start for r in rels))


def begins_with_operator(text: str) -> bool:
    """Whether ``text`` (after alignment and spacing) begins with ``+``, ``-``, ``\\cdot`` ..."""
    rest = text[SPACING.match(text).end():]
    return any(rest.startswith(op) and not (op[0] == "\\" and rest[len(op):len(op) + 1].isalpha())
               for op in OPERATORS)


@dataclass(frozen=True)
class Parts:
    """A row's mathematics, the person's reason and an inline definition (each may be absent)."""

    math: Text
    reason: str | None = None
    definition: Text | None = None


def split_row(text: Text) -> Parts:
    """The row without its trailing reason or inline definition (``&`` still in place)."""
    found = _where_clause(text) or _comma_definition(text)
    if found is not None:
        return found
    reason = _trailing_text(text.text)
    if reason is not None:
        cut, words = reason
        return Parts(_trim(text[:cut]), words)
    return Parts(_trim(text))


def _trim(text: Text) -> Text:
    """``text`` without trailing spacing, alignment and punctuation (``... ,`` ``... .``)."""
    s = text.text
    end = len(s)
    while True:
        m = re.search(r"(?:\s|&|~|\\[,;:! ]|\\q?quad|[.,;])+$", s[:end])
        if not m or m.start() == end:
            break
        end = m.start()
    return text[:end].strip()


def _text_groups(text: str):
    """``(start, content start, end)`` of each top-level ``\\text{...}`` (and alike) in ``text``."""
    for tok, depth in depths(text):
        if depth == 0 and tok.text in _TEXT_COMMANDS:
            brace = tok.end + len(text[tok.end:]) - len(text[tok.end:].lstrip())
            end = group_end(text, brace)
            if end is not None:
                yield tok.start, brace + 1, end


def _trailing_text(s: str) -> tuple[int, str] | None:
    r"""``(where the mathematics ends, the words)`` of a trailing ``\quad\text{...}`` or ``&&\text{...}``."""
    groups = list(_text_groups(s))
    if not groups:
        return None
    start, content, end = groups[-1]
    if not re.fullmatch(r"\s*\)?\s*[.,;]?\s*", s[end:]):
        return None
    before = s[:start]
    lead = re.search(r"(?:\s|&|~|\\[,;:! ]|\\q?quad|\()*$", before)
    spacer = before[lead.start():]
    if not re.search(r"\\q?quad|&", spacer):
        return None
    return lead.start(), s[content:end - 1].strip()


_WHERE = re.compile(r"\s*(where|with|for)\b\s*$", re.I)


def _where_clause(text: Text) -> Parts | None:
    r"""``X = ... \text{where } u = ...``: the mathematics before, the definition after."""
    s = text.text
    for start, content, end in _text_groups(s):
        if _WHERE.fullmatch(s[content:end - 1]) and _defines(s[end:]):
            return Parts(_trim(text[:start]), None, _trim(text[end:]))
    return None


def _comma_definition(text: Text) -> Parts | None:
    r"""``X = ..., \quad u = ...`` (or ``, \; u = ...``): a definition after a top-level comma and a space."""
    s = text.text
    for tok, depth in depths(s, brackets=True):
        if depth or tok.text != ",":
            continue
        gap = SPACING.match(s, tok.end)
        if not re.search(r"\\q?quad|\\[;:]", s[tok.end:gap.end()]):
            continue
        if _defines(s[gap.end():]) and _where_clause(text[gap.end():]) is None:
            return Parts(_trim(text[:tok.start]), None, _trim(text[gap.end():]))
    return None


def _defines(text: str) -> bool:
    """Whether ``text`` is ``name = ...`` (or ``name := ...``): one symbol, then a relation."""
    rels = relations(text)
    return bool(rels) and rels[0].symbol in ("=", ":=") and is_symbol(text[:rels[0].start])


_LET = re.compile(r"\s*\\(?:text|textrm|mathrm)\s*\{\s*(?:let|define|set)\s*\}", re.I)


def without_let(text: Text) -> Text:
    r"""``\text{let } u = ...`` as ``u = ...`` (positions kept)."""
    m = _LET.match(text.text)
    return text.blank(0, m.end()).strip() if m else text


# -- the left side: one symbol? ------------------------------------------------------------------------

_DECORATIONS = (r"\boldsymbol", r"\mathbf", r"\bm", r"\pmb", r"\vec", r"\hat", r"\tilde", r"\bar", r"\widehat",
                r"\widetilde", r"\overline", r"\mathcal", r"\mathbb", r"\mathrm", r"\mathit", r"\dot")
_LETTER = re.compile(r"[A-Za-z]$|\\(alpha|beta|gamma|delta|epsilon|varepsilon|zeta|eta|theta|vartheta|iota|kappa|"
                     r"lambda|mu|nu|xi|pi|rho|sigma|tau|upsilon|phi|varphi|chi|psi|omega|Gamma|Delta|Theta|"
                     r"Lambda|Xi|Pi|Sigma|Phi|Psi|Omega|ell)$")


def is_symbol(text: str) -> bool:
    r"""Whether ``text`` is one symbol: decorations, one letter, subscripts and primes
    (``u_t``, ``\hat{m}_{t+1}``, ``\boldsymbol{\delta}_t``, ``f_t'``), not a product or a power."""
    s = text.strip()
    s = _strip_decorations(s)
    if s is None:
        return False
    m = re.match(r"[A-Za-z]|\\[A-Za-z]+", s)
    if not m or not _LETTER.match(m.group(0)):
        return False
    return _scripts_only(s[m.end():])


def _strip_decorations(s: str) -> str | None:
    """``s`` with its outer decorations taken off (``\\hat{m}_t`` -> ``m_t``), ``None`` if unbalanced."""
    while True:
        m = re.match(r"\\([A-Za-z]+)\s*", s)
        if not m or "\\" + m.group(1) not in _DECORATIONS:
            return s
        rest = s[m.end():]
        if rest.startswith("{"):
            arg = _argument(rest)
            if arg is None:
                return None
            rest = arg[0].strip() + arg[1]
        s = rest


def _argument(rest: str) -> tuple[str, str] | None:
    """The argument at the start of ``rest`` (a brace group, or one token) and what follows it."""
    if rest.startswith("{"):
        end = group_end(rest, 0)
        return None if end is None else (rest[1:end - 1], rest[end:])
    one = re.match(r"\\[A-Za-z]+|.", rest)
    return (one.group(0), rest[one.end():]) if one else None


def _scripts_only(s: str) -> bool:
    """Whether ``s`` is nothing but subscripts, primes and ``^{(i)}`` sample indices."""
    s = s.strip()
    while s:
        if s[0] == "'":
            s = s[1:].strip()
            continue
        m = re.match(r"([_^])\s*", s)
        arg = _argument(s[m.end():]) if m else None
        if arg is None:
            return False
        body, s = arg[0], arg[1].strip()
        if m.group(1) == "^" and not re.fullmatch(r"\s*(\\prime|'+|\(\s*[A-Za-z]\s*\))\s*", body):
            return False  # a power, not a name
    return True
