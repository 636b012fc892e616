r"""What a reference's ``quantity`` (or ``symdl derive``'s argument) asks for, read from how a course writes it.

- a name (``h_t``): the value of a definition;
- ``\frac{\partial X}{\partial Y}``: the Jacobian of ``X`` by ``Y``, numerator layout;
- ``\left.\frac{\partial X}{\partial Y}\right|_{Z, W}``: the same with ``Z`` and ``W`` held fixed;
- ``\frac{\partial (X_1, X_2)}{\partial (Y_1, Y_2)}``: the block Jacobian of the stacked outputs by the stacked
  variables (the LSTM's state Jacobian);
- ``\nabla_{Y} X`` (or ``\nabla_Y X``): the gradient of a scalar, as a column.

Only the shape of the text is read here; the names are looked up in the model by the caller, which can then
say which name is unknown and at which column (:attr:`Part.column`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FRAC = r"\\frac\s*\{\s*\\partial\s*(?P<num>.+?)\s*\}\s*\{\s*\\partial\s*(?P<den>.+?)\s*\}"
_DERIVATIVE = re.compile(r"\s*" + _FRAC + r"\s*\Z", re.S)
_RESTRICTED = re.compile(r"\s*\\left\s*\.\s*" + _FRAC + r"\s*\\right\s*\|\s*_\s*\{(?P<fixed>.+)\}\s*\Z", re.S)
_GRADIENT = re.compile(r"\s*\\nabla\s*_\s*(\{\s*(?P<den>.+?)\s*\}|(?P<letter>[A-Za-z]))\s*(?P<num>.+?)\s*\Z", re.S)


@dataclass(frozen=True)
class Part:
    """One name of the quantity as written, and its column (1-based) in the text."""

    text: str
    column: int


@dataclass(frozen=True)
class Quantity:
    """``kind`` is "value", "jacobian" or "gradient"; ``outs`` and ``wrts`` hold more than one name only for a
    block Jacobian; ``fixed`` are the names after ``\\right|_{...}``."""

    kind: str
    outs: tuple[Part, ...]
    wrts: tuple[Part, ...] = ()
    fixed: tuple[Part, ...] = ()

    @property
    def blocks(self) -> bool:
        return len(self.outs) > 1 or len(self.wrts) > 1


def _split(text: str, start: int) -> tuple[Part, ...]:
    """``(a, b_{t-1})`` as its names (commas inside braces are kept), or the one name ``text``."""
    stripped = text.strip()
    offset = start + (len(text) - len(text.lstrip()))
    if not (stripped.startswith("(") and stripped.endswith(")")):
        return (Part(stripped, offset + 1),)
    parts, depth, begin = [], 0, 1
    for k, ch in enumerate(stripped):
        depth += {"{": 1, "}": -1, "(": 1, ")": -1, "[": 1, "]": -1}.get(ch, 0) if 0 < k < len(stripped) - 1 else 0
        if (ch == "," and depth == 0) or k == len(stripped) - 1:
            piece = stripped[begin:k]
            lead = len(piece) - len(piece.lstrip())
            parts.append(Part(piece.strip(), offset + begin + lead + 1))
            begin = k + 1
    return tuple(parts)


def parse(text: str) -> Quantity:
    """The quantity ``text`` asks for; a text that is none of the derivative forms is a value (a name or an
    expression, for the caller to read)."""
    match = _RESTRICTED.match(text) or _DERIVATIVE.match(text)
    if match is not None:
        fixed = _split("(" + match["fixed"] + ")", match.start("fixed") - 1) if "fixed" in match.re.groupindex else ()
        return Quantity("jacobian", _split(match["num"], match.start("num")), _split(match["den"], match.start("den")),
                        fixed)
    match = _GRADIENT.match(text)
    if match is not None:
        den = "den" if match["den"] is not None else "letter"
        return Quantity("gradient", (Part(match["num"].strip(), match.start("num") + 1),),
                        (Part(match[den].strip(), match.start(den) + 1),))
    return Quantity("value", (Part(text.strip(), len(text) - len(text.lstrip()) + 1),))
