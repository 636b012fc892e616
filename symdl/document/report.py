r"""A graded report: a person's derivation typeset as they wrote it, each line with its mark, and the first
wrong step with its counterexample and diagnosis (``symdl check --file F --report out.pdf``).

What a teaching assistant hands back is the script itself, marked: the prose and the display mathematics
in reading order, a tick or a cross at the right of every line, a comment under a line only where
something is wrong or undecided, and under the first wrong line the point where its two sides differ
and what the difference is.  The answer comes from :func:`symdl.grade.derivation.check_derivation`;
this module only lays it out (:func:`report_context`) and typesets it through the documents' Jinja
environment and latexmk (:mod:`symdl.document.render`: no shell escape, every value escaped).  The PDF
is made in a private folder and renamed into place, so a failed build leaves the last good one.
REFERENCES.md: a line that cannot be read is shown verbatim in typewriter type beside its error,
never passed to TeX.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..files import copy_atomic
from ..grade.check import find_reference
from ..reader.chain import SPACING, begins_with_operator
from ..reader.display import DisplayError, read_display
from . import report_tex as rt
from .derivation import TeX
from .render import LATEXMK_TIMEOUT, TEX_PACKAGES, BuildError, compile_pdf, environment, latexmk_available

#: The mark of each verdict (a macro of the template) and its words.
MARKS = {"equivalent": (r"\markok", "equivalent"), "not_equivalent": (r"\markbad", "not equivalent"),
         "unknown": (r"\markunknown", "unknown"), "error": (r"\markerror", "error"),
         "defined": (r"\markdefined", "definition"), "given": (r"\markgiven", "given")}
#: Verdicts a line is commented on.
COMMENTED = ("not_equivalent", "unknown", "error")


class ReportError(RuntimeError):
    """The report could not be made; the message says why.  No file was written."""


def write_report(path, text: str, answer, *, title: str = "", against: str | None = None,
                 timeout: float = LATEXMK_TIMEOUT) -> Path:
    """Typeset ``answer`` (the check of ``text``) into ``path``, atomically.  When TeX cannot set a line
    of the person's, every line is set verbatim instead; when it still fails, :class:`ReportError`."""
    path = Path(path)
    if not latexmk_available():
        raise ReportError(f"the report needs TeX: latexmk or pdflatex was not found; install them with:\n"
                          f"  apt-get install {TEX_PACKAGES}")
    with tempfile.TemporaryDirectory(prefix="symdl-report-") as work:
        tex_path = Path(work) / "report.tex"
        failure = None
        for plain in (False, True):
            tex_path.write_text(render_report(text, answer, title=title, against=against, plain=plain),
                                encoding="utf-8")
            try:
                pdf = compile_pdf(tex_path, Path(work), timeout=timeout)
            except BuildError as exc:
                failure = exc
                continue
            copy_atomic(pdf, path)
            return path
    raise ReportError(f"TeX could not typeset the report; {path} was not written:\n{failure}")


def render_report(text: str, answer, *, title: str = "", against: str | None = None, plain: bool = False) -> str:
    """The report's LaTeX source (:func:`report_context` through ``report.tex.j2``)."""
    template = environment(None).get_template("symdl/report.tex.j2")
    return template.render(doc=report_context(text, answer, title=title, against=against, plain=plain))


def report_context(text: str, answer, *, title: str = "", against: str | None = None, plain: bool = False) -> dict:
    """The template's view of a checked derivation: a summary, the body in reading order, the final answer.
    With ``plain``, every line of mathematics is shown verbatim (TeX could not set one of them)."""
    against = against or (answer.final or {}).get("against")
    body = _body(text, answer, plain, _labels(answer))
    return {"title": rt.text_safe(title or "Marked derivation"), "summary": _summary(answer),
            "model": rt.text_safe(answer.model or ""), "against": _reference(against), "body": body,
            "final": _final(answer), "plain": plain}


def _labels(answer) -> tuple[str, str]:
    """What the two values of a counterexample are: a single answer's and the reference's, or a link's sides."""
    return ("your answer", "the reference") if answer.single is not None else ("this side", "the side before it")


def _reference(name: str | None) -> dict | None:
    if not name:
        return None
    try:
        ref = find_reference(name)
    except LookupError:
        return {"quantity": None, "description": rt.parts(name)}
    return {"quantity": rt.safe_math(ref.lhs), "description": rt.parts(ref.description)}


def _summary(answer) -> dict:
    """The verdict of the whole, as a teaching assistant writes it at the top of the script."""
    mark, word = MARKS.get(answer.verdict, MARKS["unknown"])
    wrong = answer.first_wrong_step()
    counts: dict = {}
    for s in answer.steps:
        counts[s.verdict] = counts.get(s.verdict, 0) + 1
    tally = ", ".join(f"{n} {MARKS.get(v, (None, v))[1]}" for v, n in counts.items())
    if wrong is not None:
        what = f" ({wrong.diagnosis['kind'].replace('_', ' ')})" if wrong.diagnosis else ""
        sentence = f"The first wrong step is on line {wrong.line}{what}: the comment under it shows why."
    elif answer.verdict == "equivalent":
        sentence = "Every step that could be checked follows from the one before it."
    else:
        sentence = answer.message.rstrip(".") + "."
    return {"mark": TeX(mark), "word": word, "sentence": rt.text_safe(sentence), "tally": tally}


# -- the body ----------------------------------------------------------------------------------------


def _body(text: str, answer, plain: bool, labels) -> list[dict]:
    """Prose paragraphs, blocks of marked rows (``align``), rows shown verbatim and the comments under a row,
    in reading order (a sort by line is stable: a row's comments follow it)."""
    try:
        display = read_display(text)
    except DisplayError as exc:
        return [_unread(text, exc.line, exc.message)]
    owners = _owners(display.rows, answer.steps)
    items = [(s["line"], {"kind": "prose", "parts": rt.parts(s["text"])}) for s in display.skipped]
    block, current = None, None
    for row, steps in zip(display.rows, owners):
        shown = _row(display, row, steps, plain, answer.first_wrong, labels)
        if shown["lines"] is None:
            current = None
            items.append((row.line, {"kind": "verbatim", "row": shown}))
        elif current is None or row.block != block:
            current = {"kind": "align", "rows": [shown]}
            items.append((row.line, current))
        else:
            current["rows"].append(shown)
        block = row.block
        if shown["notes"]:
            current = None
            items.append((row.line, {"kind": "notes", "notes": shown["notes"]}))
    items.sort(key=lambda item: item[0])
    return _merge_prose([item for _, item in items])


def _merge_prose(items: list[dict]) -> list[dict]:
    out: list[dict] = []
    for item in items:
        if item["kind"] == "prose" and out and out[-1]["kind"] == "prose":
            out[-1] = {"kind": "prose", "parts": out[-1]["parts"] + [{"math": False, "value": " "}] + item["parts"]}
        else:
            out.append(item)
    return out


def _owners(rows: list, steps: list) -> list[list]:
    """The steps of each row: a step belongs to the last row that begins on or before its line."""
    owners: list[list] = [[] for _ in rows]
    for step in steps:
        k = max((i for i, r in enumerate(rows) if r.line <= step.line), default=0)
        if owners:
            owners[k].append(step)
    return owners


def _row(display, row, steps: list, plain: bool, first_wrong, labels) -> dict:
    """One row: its lines of mathematics (or its text verbatim), its mark, its comments."""
    source = row.math.text
    definition = row.definition.text if row.definition is not None else None
    unread = plain or any(s.verdict == "error" for s in steps)
    written = source if definition is None else f"{source}, \\quad {definition}"
    lines = None if unread else rt.aligned_lines(written, _breaks(display, row.math))
    notes = [_note(s, first_wrong, labels) for s in steps if s.verdict in COMMENTED]
    marks = [MARKS.get(s.verdict, MARKS["unknown"]) for s in steps]
    words = list(dict.fromkeys(word for _, word in marks))
    return {"lines": lines, "verbatim": None if lines is not None else rt.verbatim(written),
            "reason": rt.text_safe(row.reason) if row.reason else None, "line": row.line,
            "marks": [TeX(m) for m, _ in marks], "words": ", ".join(words),
            "color": _color(steps), "notes": notes}


def _breaks(display, math) -> list[int]:
    """Where the person began a new line with an operator (``&\\quad + ...``): offsets in ``math``."""
    out, prev = [], None
    for i, ch in enumerate(math.text):
        if ch.isspace():
            continue
        line = display.position(math, i)[0]
        if prev is not None and line > prev and begins_with_operator(math.text[i:]):
            out.append(SPACING.match(math.text, i).end())
        prev = line
    return out


def _color(steps: list) -> str:
    verdicts = {s.verdict for s in steps}
    if verdicts & {"not_equivalent", "error"}:
        return "refuted"
    return "verified" if "equivalent" in verdicts and "unknown" not in verdicts else "unverified"


def _note(step, first_wrong, labels) -> dict:
    """The comment under a line: what is wrong or undecided; for the first wrong step, its evidence."""
    evidence = None
    if step.index == first_wrong:
        evidence = _evidence(step.counterexample, step.diagnosis, labels)
    word = MARKS.get(step.verdict, MARKS["unknown"])[1]
    return {"color": "refuted" if step.verdict in ("not_equivalent", "error") else "unverified",
            "first": step.index == first_wrong, "word": word, "text": rt.text_safe(step.message),
            "evidence": evidence}


def _evidence(cx: dict | None, found: dict | None, labels) -> dict | None:
    if cx is None and not found:
        return None
    return {"diagnosis": rt.diagnosis(found), "counterexample": rt.counterexample(cx, labels) if cx else None}


def _final(answer) -> dict | None:
    """The last line against the reference, with its evidence when no link was wrong before it."""
    final = answer.final
    if not final:
        return None
    verdict = final.get("verdict")
    mark, word = MARKS.get(verdict, (r"\markunknown", "not checked")) if verdict else (r"\markunknown", "not checked")
    evidence = None
    if verdict == "not_equivalent" and answer.first_wrong is None:
        evidence = _evidence(final.get("counterexample"), final.get("diagnosis"), ("your answer", "the reference"))
    return {"mark": TeX(mark), "word": word, "text": rt.text_safe(final.get("message") or ""), "evidence": evidence}


def _unread(text: str, line: int, message: str) -> dict:
    """Input not read at all: the lines around the one at fault, verbatim, and why."""
    lines = text.split("\n")
    window = range(max(1, line - 3), min(len(lines), line + 3) + 1)
    return {"kind": "unread", "message": rt.text_safe(f"line {line}: {message}"),
            "lines": [{"number": k, "bad": k == line, "text": rt.verbatim(lines[k - 1][:200])} for k in window]}
