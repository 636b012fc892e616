r"""Table cells that hold words and mathematics together.

A table cell is plain text or TeX (symdl.document.derivation.Table), and a TeX cell is set as one box
(``\fitmath``), never broken into lines.  :func:`mixed_cell` turns a sentence with ``$...$`` mathematics into
such a box: the words in ``\text{}``, the mathematics as written, broken into lines of about ``width``
characters in a top-aligned ``aligned``, so that the box has the column's shape and the mathematics is typeset,
not printed as markup.  Everything goes through :func:`~symdl.document.derivation.tex`, the checked-math path.
"""

from __future__ import annotations

import re

from symdl.document.derivation import TeX, prose, tex

#: Characters a \text{} run cannot hold as they are, and how they are written there.
_TEXT_ESCAPES = {"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_"}
_REFUSED = set("\\{}$^~")
_SCRIPT = re.compile(r"[_^]\{([^}]*)\}|[_^](.)")


def _text(run: str) -> str:
    bad = _REFUSED & set(run)
    if bad:
        raise ValueError(f"a table cell's words cannot hold {sorted(bad)}: {run!r}")
    return r"\text{%s}" % "".join(_TEXT_ESCAPES.get(ch, ch) for ch in run)


def _width(text: str) -> float:
    """About how wide ``text`` is when set, in widths of a lower-case letter."""
    return sum(1.4 if ch.isupper() else 0.6 if ch in " ,.;:()'[]|!" else 1.8 if ch in "=<>+" else 1.0
               for ch in text)


def _math_width(source: str) -> float:
    """About how wide the mathematics ``source`` is when set: a command is one symbol, scripts count half."""
    bare = re.sub(r"\\(?:text|mathrm|operatorname)\{([^}]*)\}", r"\1", source)
    bare = re.sub(r"\\(?:frac|sqrt|left|right|big|Big|,|;|quad)", "", bare)
    bare = re.sub(r"\\[A-Za-z]+", "x", bare)
    scripts = "".join(braced or single for braced, single in _SCRIPT.findall(bare))
    body = re.sub(r"[{}\s]", "", _SCRIPT.sub("", bare))
    return max(1.0, _width(body) + 0.7 * _width(scripts))


def _tokens(sentence: str) -> list[tuple[str, str, float]]:
    """``(kind, source, width)`` for each word and each piece of mathematics of ``sentence``."""
    out = []
    for part in prose(sentence).parts:
        if isinstance(part, TeX):
            out.append(("math", str(part), _math_width(part)))
        else:
            text = part.text
            if text[:1].isspace() and out:
                out.append(("space", " ", 0.6))
            words = text.split()
            for i, word in enumerate(words):
                out.append(("text", word, _width(word)))
                if i < len(words) - 1 or text[-1:].isspace():
                    out.append(("space", " ", 0.6))
    return out


def _line(tokens) -> str:
    """One line of a cell: runs of words in one \\text{}, the mathematics between them."""
    pieces, run = [], ""
    for kind, source, _ in tokens:
        if kind == "math":
            if run:
                pieces.append(_text(run))
                run = ""
            pieces.append("{%s}" % source)
        else:
            run += source
    if run.strip():
        pieces.append(_text(run.rstrip()))
    return " ".join(pieces)


def _units(tokens) -> list[list]:
    """The tokens in runs that no line break may split: a word or formula with the punctuation that touches it."""
    units = []
    for token in tokens:
        if token[0] == "space" or not units or units[-1][-1][0] == "space":
            units.append([token])
        else:
            units[-1].append(token)
    return units


def mixed_cell(sentence: str, width: int) -> TeX:
    """``sentence`` (words with ``$...$`` mathematics) as a TeX cell of lines about ``width`` letters wide."""
    lines, current, used = [], [], 0.0
    for unit in _units(_tokens(sentence)):
        w = sum(t[2] for t in unit)
        if unit[0][0] == "space":
            if current:
                current.extend(unit)
                used += w
            continue
        if used + w > width and current:
            lines.append(current)
            current, used = [], 0.0
        current.extend(unit)
        used += w
    if current:
        lines.append(current)
    body = r" \\ ".join("& " + _line(line) for line in lines)
    return tex(r"\begin{aligned}[t] %s \end{aligned}" % body)
