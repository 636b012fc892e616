r"""Pieces of a person's input that remember where each character came from.

A derivation is read out of a file by cutting, blanking and joining text (environments dropped,
``&`` blanked, a row continued on the next line).  Every error and every step must still name
the line and column of the *original* input, so a :class:`Text` carries, for each of its
characters, its offset in the original; :class:`Source` turns an offset into a line and column
(both from 1).  :func:`tokens` splits LaTeX into control sequences and characters, and
:func:`depths` says which tokens stand at the top level (outside braces, brackets and the
environments that keep their own ``\\`` and ``&``).  Nothing here evaluates anything.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass


class Source:
    """The original input: offsets to ``(line, column)``, both counted from 1."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1

    def line_text(self, line: int) -> str:
        start = self.starts[line - 1]
        end = self.starts[line] - 1 if line < len(self.starts) else len(self.text)
        return self.text[start:end]


@dataclass(frozen=True)
class Text:
    """A string and, for each character, its offset in the original input."""

    text: str
    origin: tuple

    @classmethod
    def of(cls, source: str, start: int = 0, end: int | None = None) -> "Text":
        end = len(source) if end is None else end
        return cls(source[start:end], tuple(range(start, end)))

    def __len__(self) -> int:
        return len(self.text)

    def __getitem__(self, key: slice) -> "Text":
        return Text(self.text[key], self.origin[key])

    def offset(self, i: int) -> int:
        """The original offset of character ``i`` (past the end: just after the last character)."""
        if not self.origin:
            return 0
        return self.origin[i] if 0 <= i < len(self.origin) else self.origin[-1] + 1

    def strip(self) -> "Text":
        s = self.text
        start = len(s) - len(s.lstrip())
        end = len(s.rstrip())
        return self[start:max(start, end)]

    def blank(self, start: int, end: int) -> "Text":
        """The same text with ``[start, end)`` replaced by spaces (positions kept)."""
        return Text(self.text[:start] + " " * (end - start) + self.text[end:], self.origin)

    def join(self, other: "Text") -> "Text":
        """This text, a space, then ``other`` (a row continued on the next line)."""
        gap = self.origin[-1:] or other.origin[:1] or (0,)
        return Text(self.text + " " + other.text, self.origin + gap + other.origin)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\\$|.", re.S)


def tokens(text: str) -> list[Token]:
    """Control sequences (``\\frac``, ``\\\\``, ``\\{``) and single characters, with their spans."""
    return [Token(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]


#: Environments inside a formula whose ``\\`` and ``&`` are their own (rows of a matrix, cases).
OPAQUE = ("cases", "dcases", "matrix", "pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix", "smallmatrix",
          "array", "subarray", "substack")

_ENV = re.compile(r"\\(begin|end)\s*\{([A-Za-z]+\*?)\}")


def environment(text: str, at: int) -> tuple[str, str, int] | None:
    """``("begin" | "end", name, end offset)`` when ``\\begin{name}``/``\\end{name}`` starts at ``at``."""
    m = _ENV.match(text, at)
    return (m.group(1), m.group(2), m.end()) if m else None


def depths(text: str, *, brackets: bool = False) -> list[tuple[Token, int]]:
    """Each token with its nesting depth: braces and opaque environments, and with ``brackets`` also
    ``( ) [ ]`` (never below 0: a half-open interval must not hide the rest of a line)."""
    out, depth, skip_to = [], 0, -1
    for tok in tokens(text):
        if tok.start < skip_to:
            continue
        env = environment(text, tok.start) if tok.text in ("\\begin", "\\end") else None
        if env is not None and env[1].rstrip("*") in OPAQUE:
            kind, _, end = env
            depth = depth + 1 if kind == "begin" else max(0, depth - 1)
            out.append((Token(text[tok.start:end], tok.start, end), depth if kind == "begin" else depth + 1))
            skip_to = end
            continue
        if tok.text == "{" or (brackets and tok.text in ("(", "[")):
            out.append((tok, depth))
            depth += 1
        elif tok.text == "}" or (brackets and tok.text in (")", "]")):
            depth = max(0, depth - 1)
            out.append((tok, depth))
        else:
            out.append((tok, depth))
    return out


def group_end(text: str, start: int) -> int | None:
    """The offset just past the brace group opening at ``start`` (``{...}``), or ``None``."""
    if start >= len(text) or text[start] != "{":
        return None
    depth = 0
    for tok in tokens(text[start:]):
        if tok.text == "{":
            depth += 1
        elif tok.text == "}":
            depth -= 1
            if depth == 0:
                return start + tok.end
    return None
