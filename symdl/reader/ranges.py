r"""Products and sums over a symbolic range, written out at one range length.

``\prod_{k=t+1}^{\tau} \operatorname{diag}(\sigma'(W_1 h_{k-1} + W_2 x_k)) W_1`` holds for every
``\tau > t``; SymPy cannot hold a matrix product over a symbolic range, and the model has no
``h_{k-1}``.  So a link with a range is checked at several range lengths ``L`` (REFERENCES.md,
"Families and ranges"): ``\tau`` becomes ``t+L`` and each product or sum whose bounds are ``t``
or ``\tau`` plus a number is written out, later factors on the left, the bound letter in every
subscript of the body replaced by its value (``h_{k-1}`` at ``k = t+2`` is ``h_{t+1}``).  The result
is text in the model's own names, for the ordinary reader.

Bounds that are not ``t`` or ``\tau`` plus a number (``\sum_{i=1}^{N}``) are left alone: they are the
reader's own sums.  Text processing only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .source import depths

#: Range lengths a link with a range is checked at.
LENGTHS = (1, 2, 3, 4)

_OP = re.compile(r"\\(prod|sum)(?![A-Za-z])(\s*\\limits)?")
_SCRIPT = r"\s*([_^])\s*(\{(?:[^{}]|\{[^{}]*\})*\}|\\[A-Za-z]+|[A-Za-z0-9])"
_BOUND = re.compile(r"\s*(t|\\tau)\s*(?:([+-])\s*(\d+))?\s*")
_BOLD_LETTER = re.compile(r"\\(?:mathbf|boldsymbol|bm|pmb)\s*\{\s*([A-Za-z])\s*\}")
_TAU = re.compile(r"_\s*(?:\{\s*\\tau\s*(?:([+-])\s*(\d+))?\s*\}|\\tau(?![A-Za-z]))")


@dataclass(frozen=True)
class _Op:
    start: int
    body: int  # where the body begins
    end: int  # where the body ends
    kind: str
    var: str
    low: str
    high: str


#: The letter of a family outside any range (``h_k = \sigma(W_1 h_{k-1} + W_2 x_k)``).
FAMILY = "k"


def has_family(text: str) -> bool:
    """Whether ``text`` indexes a symbol by the family letter ``k`` (``h_k``, ``x_{k+1}``)."""
    return bool(_bound_re(FAMILY).search(text))


def at_index(text: str, offset: int) -> str:
    """``text`` with the family letter at ``k = t + offset`` (``h_{k-1}`` at offset 2 is ``h_{t+1}``)."""
    return _subscripts(text, _bound_re(FAMILY), offset)


def has_range(text: str) -> bool:
    """Whether ``text`` has ``\\tau`` in a subscript or a product or sum over ``t``/``\\tau`` bounds."""
    text = _plain_letters(text)
    return bool(_TAU.search(text)) or _next_op(text, 0) is not None


def _plain_letters(text: str) -> str:
    r"""``text`` with bold taken off single letters (``\mathbf{k}``, ``\boldsymbol{h}_k``): bold is decoration
    (REFERENCES.md), and a bound index or a family's letter is found by its plain letter."""
    return _BOLD_LETTER.sub(r"\1", text)


def unroll(text: str, length: int) -> str:
    """``text`` at range length ``length``: ``\\tau = t + length``, every range written out."""
    text = _plain_letters(text)
    while True:
        op = _next_op(text, 0)
        if op is None:
            return _subscripts(text, _TAU, length)
        lo, hi = _offset(op.low, length), _offset(op.high, length)
        body = text[op.body:op.end]
        pieces = [_subscripts(body, _bound_re(op.var), k) for k in range(hi, lo - 1, -1)]
        if op.kind == "prod":
            written = " ".join("{" + p + "}" for p in pieces) if pieces else "1"
        else:
            written = "(" + " + ".join("(" + p + ")" for p in pieces) + ")" if pieces else "0"
        text = text[:op.start] + " " + written + " " + text[op.end:]


def _next_op(text: str, at: int) -> _Op | None:
    """The first product or sum from ``at`` whose bounds are ``t`` or ``\\tau`` plus a number."""
    for m in _OP.finditer(text, at):
        scripts, pos = {}, m.end()
        for _ in range(2):
            s = re.compile(_SCRIPT).match(text, pos)
            if not s:
                break
            scripts[s.group(1)], pos = s.group(2).strip("{}"), s.end()
        low = re.fullmatch(r"\s*([A-Za-z])\s*=(.*)", scripts.get("_", ""), re.S)
        if not low or "^" not in scripts or not _BOUND.fullmatch(low.group(2)) or not _BOUND.fullmatch(scripts["^"]):
            continue
        return _Op(m.start(), pos, _body_end(text, pos), m.group(1), low.group(1), low.group(2), scripts["^"])
    return None


def _body_end(text: str, start: int) -> int:
    """Where the body of a product or sum starting at ``start`` ends: a ``+``, ``-`` or relation at its
    own level, or the bracket that closes the group it is in."""
    level = None
    for tok, depth in depths(text, brackets=True):
        if tok.start < start:
            continue
        if level is None:
            level = depth
        if depth < level or (depth == level and tok.text in ("+", "-", "=", "&", "\\\\")):
            return tok.start
    return len(text)


def _offset(bound: str, length: int) -> int:
    """``t+1`` -> 1, ``\\tau`` -> ``length``, ``\\tau-1`` -> ``length - 1``."""
    m = _BOUND.fullmatch(bound)
    base = length if m.group(1) == "\\tau" else 0
    step = int(m.group(3) or 0)
    return base + (step if m.group(2) != "-" else -step)


def _bound_re(var: str) -> re.Pattern:
    v = re.escape(var)
    return re.compile(rf"_\s*(?:\{{\s*{v}\s*(?:([+-])\s*(\d+))?\s*\}}|{v}(?![A-Za-z0-9]))")


def _subscripts(text: str, pattern: re.Pattern, value: int) -> str:
    """Each subscript ``pattern`` matches (the letter, plus or minus a number) as ``_{t+n}``."""
    def name(m) -> str:
        step = int(m.group(2) or 0)
        off = value + (step if m.group(1) != "-" else -step)
        return "_t" if off == 0 else (f"_{{t+{off}}}" if off > 0 else f"_{{t-{-off}}}")
    return pattern.sub(name, text)
