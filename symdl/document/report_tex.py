r"""The pieces of a graded report that reach TeX: a person's mathematics, only once it is safe, and the
evidence of a wrong step (its counterexample and diagnosis) in the course's LaTeX.

A person's text is the one input of the report that nobody vetted.  It reaches TeX as mathematics only
when :func:`~symdl.document.derivation.tex` accepts every command in it and it holds nothing else TeX
would act on (``$``, control characters, characters pdfLaTeX cannot set); anything else is shown
verbatim in typewriter type, escaped character by character (:func:`verbatim`).  Everything made here
is :class:`~symdl.document.derivation.TeX` or plain text that the renderer escapes.
"""

from __future__ import annotations

import math as _m
import re

from ..core.printing import escape_text
from ..reader.chain import relations
from ..reader.source import depths
from .derivation import TeX, UnsafeTeX, tex

#: Characters pdfLaTeX sets in text (T1, UTF-8 input) beyond ASCII: Latin-1 and common punctuation.
_TEXT_EXTRA = {chr(c) for c in range(0xA0, 0x100)} | set("“”‘’–—…")
#: A row's physical line is broken at a top-level + or - past about this many typeset characters.
WIDE = 70
#: Arrays with more entries than this are described by their shape, not written out.
MOST_ENTRIES = 36

KIND_WORDS = {"transpose": "The transpose", "sign": "A sign", "factor": "A factor", "symbol_slip": "A symbol slip",
              "missing_term": "A missing term", "extra_term": "An extra term", "wrong_term": "A wrong term"}


def safe_math(source: str | None) -> TeX | None:
    """``source`` as mathematics when TeX may read it, else ``None`` (the caller shows it verbatim)."""
    if source is None or not source.strip() or "$" in source or not source.isascii():
        return None
    if re.search(r"[\x00-\x08\x0b-\x1f\x7f]", source):
        return None
    try:
        return tex(source)
    except UnsafeTeX:
        return None


def text_safe(value) -> str:
    """Plain text pdfLaTeX can set: characters it has no glyph for are named (``[U+03C3]``)."""
    return "".join(ch if ch.isascii() or ch in _TEXT_EXTRA else f"[U+{ord(ch):04X}]" for ch in str(value))


def verbatim(source: str) -> TeX:
    """``source`` in typewriter type, every character literal (runs of spaces as one), breakable after
    spaces and operators."""
    out = escape_text(text_safe(" ".join(source.split())))
    out = re.sub(r"([+=,(])", r"\1\\allowbreak{}", out)
    return TeX(r"{\ttfamily\raggedright " + out + "}")


def parts(source: str) -> list[dict]:
    """A paragraph of the person's prose: ``$...$`` as mathematics where safe, all else as text."""
    pieces = source.split("$")
    if len(pieces) % 2 == 0:
        return [{"math": False, "value": text_safe(source)}]
    out = []
    for k, piece in enumerate(pieces):
        math = safe_math(piece) if k % 2 else None
        if math is not None:
            out.append({"math": True, "value": math})
        elif piece:
            out.append({"math": False, "value": text_safe(f"${piece}$" if k % 2 else piece)})
    return out


# -- a row of mathematics ------------------------------------------------------------------------------


def aligned_lines(source: str, breaks: list[int]) -> list[TeX] | None:
    """A row as ``align*`` lines: ``&`` before its first relation, broken where the person broke it
    (``breaks``, offsets in ``source``) and wherever a line runs past :data:`WIDE` characters, at a
    top-level ``+`` or ``-``.  ``None`` when the row is not safe to typeset."""
    if safe_math(source) is None:
        return None
    rels = relations(source)
    at = rels[0].start if rels else 0
    cuts = sorted({b for b in breaks if b > at} | set(_wide_cuts(source, at)))
    pieces = [source[a:b].strip() for a, b in zip([0, *cuts], [*cuts, len(source)])]
    head = pieces[0]
    lines = [head[:at].rstrip() + " &" + (" " if at else "") + head[at:].lstrip()]
    lines += [r"&\quad " + p for p in pieces[1:]]
    try:
        return [tex(line) for line in lines]
    except UnsafeTeX:  # a cut split a group: the row goes unbroken
        return [tex(source[:at].rstrip() + " &" + source[at:])]


def _wide_cuts(source: str, start: int) -> list[int]:
    """Offsets of top-level ``+``/``-`` (outside braces, brackets and ``\\left ... \\right``) at which the
    row is cut so that no line is much wider than :data:`WIDE` typeset characters."""
    signs, left = [], 0
    for tok, depth in depths(source, brackets=True):
        left += tok.text == "\\left"
        left -= tok.text == "\\right"
        if tok.start > start and not depth and not left and tok.text in "+-" and tok.text:
            signs.append(tok.start)
    cuts, last = [], start
    for here, after in zip(signs, [*signs[1:], len(source)]):
        if width(source[last:after]) > WIDE and width(source[last:here]) > WIDE // 4 and width(source[here:]) > 6:
            cuts.append(here)
            last = here
    return cuts


def width(source: str) -> int:
    """About how many characters wide ``source`` is once typeset: a command is one glyph (or none, for
    ``\\operatorname`` and the like), braces, scripts markers and spaces are nothing."""
    out = re.sub(r"\\(?:operatorname|mathrm|text|left|right|big|Big|bigg|Bigg|quad|qquad|mathbf|boldsymbol|bm)"
                 r"(?![A-Za-z])|\\[,;:! ]", "", source)
    out = re.sub(r"\\[A-Za-z]+", "x", out)
    return len(re.sub(r"[{}_^\s]", "", out))


# -- the evidence of a wrong step ----------------------------------------------------------------------


def number(x) -> str:
    """A value for a reader: four significant digits, and TeX's minus sign."""
    if isinstance(x, str):
        return r"\text{" + escape_text(text_safe(x)) + "}"
    if not _m.isfinite(x):
        return r"\text{NaN}" if _m.isnan(x) else ("" if x > 0 else "-") + r"\infty"
    if float(x).is_integer() and abs(x) < 1e6:
        return str(int(x))
    mantissa, _, exponent = f"{x:.4g}".partition("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}" if exponent else mantissa


def value(v, small: bool = False) -> TeX:
    """A scalar, a vector (as a column) or a matrix (a list of rows) in LaTeX; ``small`` for a line of text."""
    if not isinstance(v, list):
        return TeX(number(v))
    rows = v if v and isinstance(v[0], list) else [[x] for x in v]
    entries = sum(len(r) for r in rows)
    if entries > MOST_ENTRIES:
        return TeX(rf"\text{{a {len(rows)} $\times$ {len(rows[0]) if rows else 0} array}}")
    body = r" \\ ".join(" & ".join(number(x) for x in row) for row in rows)
    if small:
        return TeX(r"\left(\begin{smallmatrix} " + body + r" \end{smallmatrix}\right)")
    return TeX(r"\begin{pmatrix} " + body + r" \end{pmatrix}")


def name(source: str) -> TeX:
    """A symbol's name as mathematics, or in typewriter type when it is not safe to typeset."""
    return safe_math(source) or TeX(r"\text{" + verbatim(source) + "}")


def counterexample(cx: dict, labels: tuple[str, str]) -> dict:
    """What the template shows of a counterexample: sizes, functions, inputs, both values and the entry
    where they differ most; ``labels`` names the two values (``("your line", "the line before")``)."""
    sizes = ", ".join(f"{k} = {v}" for k, v in cx.get("sizes", {}).items())
    out = {"sizes": text_safe(sizes or "scalar inputs"),
           "functions": [{"name": name(k), "label": text_safe(v)} for k, v in cx.get("functions", {}).items()],
           "inputs": [TeX(f"{name(k)} = {value(v, small=True)}") for k, v in cx.get("inputs", {}).items()],
           "sides": [{"label": labels[0], "value": value(cx.get("hand"))},
                      {"label": labels[1], "value": value(cx.get("reference"))}],
           "entry": None, "error": TeX(number(float(cx.get("relative_error", float("nan")))))}
    if cx.get("entry") is not None:
        where = "(" + ", ".join(str(i + 1) for i in cx["entry"]) + ")" if cx["entry"] else ""
        out["entry"] = {"where": where, "hand": TeX(number(cx["hand_entry"])),
                        "reference": TeX(number(cx["reference_entry"]))}
    return out


def diagnosis(found: dict | None) -> dict | None:
    """A diagnosis as a heading and a paragraph: its LaTeX pieces typeset, its words as text."""
    if not found:
        return None
    kind, detail = found.get("kind", ""), str(found.get("detail", ""))
    if kind in ("missing_term", "extra_term", "factor"):
        words = {"missing_term": ("the term ", " is missing"), "extra_term": ("the term ", " should not be there"),
                 "factor": ("the whole side is scaled by ", "")}[kind]
        pieces = [("text", words[0]), ("math", detail), ("text", words[1])]
    elif " in place of " in detail:
        a, b = detail.split(" in place of ", 1)
        pieces = [("math", a), ("text", " in place of "), ("math", b)]
    elif m := re.fullmatch(r"the term (.*) has the opposite sign", detail):
        pieces = [("text", "the term "), ("math", m.group(1)), ("text", " has the opposite sign")]
    else:
        pieces = [("text", detail)]
    rendered = []
    for what, piece in pieces:
        math = safe_math(piece) if what == "math" else None
        if math is not None:
            rendered.append({"math": True, "value": math})
        elif piece:
            rendered.append({"math": False, "value": text_safe(piece)})
    return {"kind": KIND_WORDS.get(kind, text_safe(kind)), "parts": rendered}
