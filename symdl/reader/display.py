r"""Display mathematics out of a person's file: the rows of a derivation, and the prose skipped.

REFERENCES.md, "Checking a whole derivation / What it reads": ``align``, ``align*``, ``aligned``,
``gather``, ``equation``, ``split``, ``multline``, ``\[ \]``, ``$$ $$`` and a line that is nothing
but one ``$...$`` hold the mathematics; the text around them is prose.  Input with no display
mathematics is one formula a line, a line without a relation being prose, except that input
without any relation at all is one formula (a right-hand side alone, as a single check reads it).

``\\`` ends a row and ``&`` aligns, both only at the top level (not inside braces, ``cases`` or
a matrix); ``\label``, ``\tag``, ``\nonumber`` and ``\notag`` are dropped; a ``%`` comment or a
trailing ``\quad\text{...}`` is the person's reason.  A row beginning with an operator (``&+``,
``&\quad -``) continues the row before: one expression broken across lines.

This is text processing alone: nothing is expanded, evaluated or run.  Commands that would
define or read anything (``\newcommand``, ``\def``, ``\input``, ``\write``, ``\csname`` ...),
unbalanced environments, control characters and input past the limits are a
:class:`DisplayError` naming the line and column, counted from 1 in the original input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .chain import begins_with_operator, relations, split_row
from .source import Source, Text, depths

MAX_LINES = 2_000
MAX_CHARS = 200_000
MAX_LINE = 20_000

#: Environments that hold display mathematics; nested in one another, their rows are the block's rows.
DISPLAY = ("align", "aligned", "gather", "gathered", "equation", "split", "multline", "flalign", "alignat",
           "alignedat", "eqnarray", "displaymath", "math")

_FORBIDDEN = re.compile(r"\\(newcommand|renewcommand|providecommand|DeclareMathOperator|def|edef|gdef|xdef|let|"
                        r"input|include|includeonly|write|immediate|openout|openin|read|csname|endcsname|catcode|"
                        r"expandafter|special)(?![A-Za-z])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SCAN = re.compile(r"\\begin\s*\{([A-Za-z]+\*?)\}|\\end\s*\{([A-Za-z]+\*?)\}|\\\[|\\\]|\$\$|\$|\\[A-Za-z]+|\\.",
                   re.S)
_DROP = re.compile(r"\\(?:label|tag\*?)\s*\{[^{}]*\}|\\(?:nonumber|notag|displaystyle|allowdisplaybreaks)"
                   r"(?![A-Za-z])|\\(?:begin\s*\{(?:aligned|gathered|split|alignedat)\}(?:\s*\[[a-z]\])?"
                   r"(?:\s*\{\d+\})?|end\s*\{(?:aligned|gathered|split|alignedat)\})")
_PROSE_ROW = re.compile(r"\s*\\(?:intertext|shortintertext|text|textrm|mbox)\s*\{.*\}\s*[.,]?\s*", re.S)


class DisplayError(ValueError):
    """Input that is not read at all: where (line and column, from 1) and why."""

    def __init__(self, message: str, line: int, column: int = 1):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


@dataclass(frozen=True)
class Row:
    """One row of mathematics: the formula, the person's reason, an inline definition."""

    math: Text
    line: int
    column: int
    reason: str | None = None
    definition: Text | None = None
    block: int = 0  # rows of one display block (or consecutive formula lines) continue one another


@dataclass
class Display:
    """What was read: rows in order, the prose skipped, and whether the input is one bare formula."""

    source: Source
    rows: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # {"line": L, "text": "..."}
    single: bool = False

    def position(self, text: Text, i: int = 0) -> tuple[int, int]:
        return self.source.position(text.offset(i))


def read_display(text: str) -> Display:
    """The rows of display mathematics in ``text`` (a file, standard input or one argument)."""
    source = Source(text)
    _check_limits(source)
    _check_commands(source)
    work, comments = _without_comments(text)
    regions = _regions(work, source)
    display = Display(source)
    if regions:
        _read_regions(display, work, regions, comments)
    else:
        _read_lines(display, work, comments)
    display.rows = _merge_continuations(display.rows)
    display.single = len(display.rows) == 1 and not relations(display.rows[0].math.text)
    return display


def _check_limits(source: Source) -> None:
    text = source.text
    if len(text) > MAX_CHARS:
        line, col = source.position(MAX_CHARS)
        raise DisplayError(f"the input is {len(text)} characters long; at most {MAX_CHARS:,} are read "
                           f"(the limit falls on this line)", line, col)
    lines = len(source.starts) - (1 if text.endswith("\n") else 0)  # a last newline ends a line, begins none
    if lines > MAX_LINES:
        raise DisplayError(f"the input has {lines} lines; at most {MAX_LINES:,} are read", MAX_LINES + 1)
    for k in range(1, len(source.starts) + 1):
        if len(source.line_text(k)) > MAX_LINE:
            raise DisplayError(f"the line is {len(source.line_text(k))} characters long; at most {MAX_LINE:,} "
                               "a line are read", k, MAX_LINE + 1)


def _check_commands(source: Source) -> None:
    bad = _CONTROL.search(source.text)
    if bad:
        line, col = source.position(bad.start())
        raise DisplayError(f"a control character (U+{ord(bad.group(0)):04X}) is not LaTeX", line, col)
    found = _FORBIDDEN.search(source.text)
    if found:
        line, col = source.position(found.start())
        raise DisplayError(f"{found.group(0)} defines, reads or writes something: symdl never expands or runs it; "
                           "write the mathematics out in full", line, col)


def _without_comments(text: str) -> tuple[str, dict]:
    """``text`` with each ``% ...`` comment blanked, and the comments by line (from 1)."""
    out, comments = [], {}
    for k, line in enumerate(text.split("\n"), start=1):
        cut = next((tok.start for tok, _ in depths(line) if tok.text == "%"), None)
        if cut is not None:
            comments[k] = line[cut + 1:].strip() or None
            line = line[:cut] + " " * (len(line) - cut)
        out.append(line)
    return "\n".join(out), comments


@dataclass(frozen=True)
class _Region:
    start: int  # the mathematics, inside the delimiters
    end: int
    kind: str
    outer: tuple = (0, 0)  # the delimiters included


def _regions(work: str, source: Source) -> list[_Region]:
    """The spans of display mathematics; an unbalanced environment or delimiter is an error."""
    regions, stack, start, begun, pos = [], [], 0, 0, 0
    while True:
        m = _SCAN.search(work, pos)
        if m is None:
            break
        pos, tok, begin, end = m.end(), m.group(0), m.group(1), m.group(2)
        if not stack:
            if begin and begin.rstrip("*") in DISPLAY or tok in ("\\[", "$$"):
                stack, start, begun = [(begin or tok, m.start())], m.end(), m.start()
            elif end and end.rstrip("*") in DISPLAY or tok == "\\]":
                raise DisplayError(f"{tok} closes nothing: no display mathematics is open here",
                                   *source.position(m.start()))
            elif tok == "$":
                pos = _inline(work, m, regions)
            continue
        if begin:
            stack.append((begin, m.start()))
        elif end or tok in ("\\]", "$$"):
            want = {"\\]": "\\[", "$$": "$$"}.get(tok, end)
            if stack[-1][0] != want:
                opened = source.position(stack[-1][1])
                raise DisplayError(f"{tok} does not close {_opener(stack[-1][0])} opened at line {opened[0]}, "
                                   f"column {opened[1]}", *source.position(m.start()))
            stack.pop()
            if not stack:
                regions.append(_Region(start, m.start(), want, (begun, m.end())))
        elif tok in ("\\[", "$"):
            raise DisplayError(f"{tok} inside display mathematics", *source.position(m.start()))
    if stack:
        raise DisplayError(f"{_opener(stack[-1][0])} is never closed", *source.position(stack[-1][1]))
    return regions


def _opener(kind: str) -> str:
    return kind if kind in ("\\[", "$$") else f"\\begin{{{kind}}}"


def _inline(work: str, m, regions: list) -> int:
    """After a ``$``: a line that is nothing but ``$...$`` is a region; inline mathematics in prose is
    skipped.  Returns where scanning goes on."""
    line_start = work.rfind("\n", 0, m.start()) + 1
    line_end = work.find("\n", m.start())
    line_end = len(work) if line_end < 0 else line_end
    close = work.find("$", m.end(), line_end)
    if close < 0:
        return m.end()
    if not work[line_start:m.start()].strip() and re.fullmatch(r"\s*[.,]?\s*", work[close + 1:line_end]):
        regions.append(_Region(m.end(), close, "$", (m.start(), close + 1)))
    return close + 1


def _read_regions(display: Display, work: str, regions: list, comments: dict) -> None:
    pos = 0
    for block, region in enumerate(regions):
        _skip_prose(display, work, pos, region.outer[0])
        pieces = _split_rows(Text.of(work, region.start, region.end))
        rows = [r for r in (_row(display, piece, comments, block) for piece in pieces) if r is not None]
        if region.kind.startswith("multline") and rows:
            joined = rows[0]
            for r in rows[1:]:
                joined = replace(joined, math=joined.math.join(r.math), reason=r.reason or joined.reason)
            rows = [joined]
        display.rows.extend(rows)
        pos = region.outer[1]
    _skip_prose(display, work, pos, len(work))


def _skip_prose(display: Display, work: str, start: int, end: int) -> None:
    """Lines of prose between ``start`` and ``end``, listed under ``skipped``."""
    for m in re.finditer(r"[^\n]+", work[start:end]):
        words = m.group(0).strip()
        line, _ = display.source.position(start + m.start())
        if words and words not in (".", ",") and not any(s["line"] == line for s in display.skipped):
            display.skipped.append({"line": line, "text": display.source.line_text(line).strip()})


def _split_rows(text: Text) -> list[Text]:
    """A block cut at its top-level ``\\\\`` (with any ``[2pt]`` after it), labels and tags dropped."""
    text = Text(_DROP.sub(lambda m: " " * len(m.group(0)), text.text), text.origin)
    pieces, start = [], 0
    for tok, depth in depths(text.text):
        if tok.text == "\\\\" and depth == 0 and tok.start >= start:
            after = re.match(r"\*?\s*(\[[^\]]*\])?", text.text[tok.end:])
            pieces.append(text[start:tok.start])
            start = tok.end + after.end()
    pieces.append(text[start:])
    return pieces


def _row(display: Display, piece: Text, comments: dict, block: int) -> Row | None:
    """A row out of one piece of text; ``None`` for an empty piece, prose (``\\intertext``) skipped."""
    piece = piece.strip()
    if not piece.text:
        return None
    line, column = display.position(piece)
    if _PROSE_ROW.fullmatch(piece.text) and not relations(piece.text):
        display.skipped.append({"line": line, "text": piece.text})
        return None
    parts = split_row(piece)
    last_line = display.position(piece, len(piece) - 1)[0]
    reason = parts.reason or comments.get(last_line)
    math = _unalign(parts.math)
    if not math.text:
        return None
    line, column = display.position(math)
    definition = _unalign(parts.definition) if parts.definition is not None else None
    return Row(math, line, column, reason, definition, block)


def _unalign(text: Text) -> Text:
    """``text`` with its top-level ``&`` blanked."""
    for tok, depth in depths(text.text):
        if tok.text == "&" and depth == 0:
            text = text.blank(tok.start, tok.end)
    return text.strip()


def _read_lines(display: Display, work: str, comments: dict) -> None:
    """No display mathematics: one formula a line; input without any relation is one formula."""
    lines = [Text.of(work, m.start(), m.end()) for m in re.finditer(r"[^\n]+", work)]
    lines = [t for t in lines if t.text.strip()]
    if not any(relations(t.text) for t in lines):
        rows = [r for r in (_row(display, t, comments, 0) for t in lines) if r is not None]
        if rows:
            whole = rows[0]
            for r in rows[1:]:
                whole = replace(whole, math=whole.math.join(r.math))
            display.rows.append(whole)
        return
    for t in lines:
        pieces = [p for p in _split_rows(t) if p.text.strip()]
        if not any(relations(p.text) or (display.rows and begins_with_operator(p.text)) for p in pieces):
            line, _ = display.position(t)
            display.skipped.append({"line": line, "text": t.text.strip()})
            continue
        for piece in pieces:
            row = _row(display, piece, comments, 0)
            if row is not None:
                display.rows.append(row)


def _merge_continuations(rows: list) -> list:
    """A row of a block without a relation (``&+ ...``, the rest of a long right side) continues the
    row before it."""
    out: list = []
    for row in rows:
        rels = relations(row.math.text)
        if out and not rels and out[-1].block == row.block:
            prev = out[-1]
            out[-1] = replace(prev, math=prev.math.join(row.math), reason=row.reason or prev.reason,
                              definition=prev.definition or row.definition)
        else:
            out.append(row)
    return out
