"""The seed audit's sections, one per question: each answer of the seed graded by its checks, with evidence.

Both the audit document (derivations/seed_audit.py) and each question's worked solution show these
sections, so they live here, in the private package both import, and no worked solution imports the
audit document.
"""

from __future__ import annotations

from functools import lru_cache

from symdl.document.derivation import Section, Step, Table, prose, tex
from symdl.grade.rubric import GRADES, NOT_GRADED, UNDECIDED, Claim, verdict_of
from symdl.verify.spec import Runner, run_many

from _audit.claims import CLAIMS
from _audit.exam import QUESTION_TEXT
from _audit.findings import _clean


# -- grading: the checks decide ----------------------------------------------------------------------


def graded(runner: Runner | None = None) -> tuple:
    """``(claim, verdict, checks)`` for every answer: each finding's check made once per process and runner (all
    of them together by ``runner``, so that a build's workers share them out: symdl.verify.spec.run_many), the
    verdict computed from their outcomes by :func:`verdict_of`."""
    return _graded(runner)


@lru_cache(maxsize=None)
def _graded(runner: Runner | None) -> tuple:
    for c in CLAIMS:
        if not c.findings and not c.not_graded:
            raise ValueError(f"claim {c.key}: no findings and no reason for not grading it")
    made = iter(run_many([f.spec for c in CLAIMS for f in c.findings], runner))
    out = []
    for c in CLAIMS:
        checks = tuple(next(made) for _ in c.findings)
        out.append((c, verdict_of(c.findings, checks), checks))
    return tuple(out)


def evidence(claim: Claim, checks) -> str:
    """What the checks found, in words (each check's description and detail)."""
    if not claim.findings:
        return "Not graded: " + claim.not_graded + "."
    return _clean(" ".join(f"{c.mark.capitalize()}: {c.detail}." for c in checks))


def tally(question: int | None = None, runner: Runner | None = None) -> dict:
    keys = (*GRADES, NOT_GRADED, UNDECIDED)
    out = {k: 0 for k in keys}
    for c, verdict, _ in graded(runner):
        if question is None or c.question == question:
            out[verdict] += 1
    return out


def _display(c: Claim):
    rows = ([r"\text{seed:} \quad & " + c.seed] if c.seed else []) + [r"\text{correct:} \quad & " + c.correct]
    return tex(r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}")


def _question_table(question: int) -> Table | None:
    rows = [(_label(q.key, q.part), tex(q.text) if q.math else q.text, q.repairs or "none")
            for q in QUESTION_TEXT if q.key.startswith(f"{question}.")]
    if not rows:
        return None
    return Table(("item", "the question says (transcribed)", "transcription repairs"), tuple(rows),
                 caption=f"Question {question}'s own text, as transcribed from the seed: not graded.",
                 widths=(0.12, 0.5, 0.26))


def _overview(question: int, runner: Runner | None) -> Table:
    rows = [(_label(c.key, c.part), verdict, c.says) for c, verdict, _ in graded(runner) if c.question == question]
    return Table(("answer", "verdict", "the seed says"), tuple(rows),
                 caption=f"The answers to question {question}, graded by the checks below.",
                 widths=(0.15, 0.11, 0.62))


def _label(key: str, part: str) -> str:
    return f"{key} {part}" if part.startswith("(") else f"{key} ({part})"


def _claim_blocks(c: Claim, verdict: str, checks) -> tuple:
    head = f"{_label(c.key, c.part)}, {verdict}. The seed: {c.says}."
    if c.repairs:
        head += f" Transcription: {c.repairs}."
    if not c.findings:
        return (prose(_clean(f"{head} Not graded: {c.not_graded}.")),)
    return (prose(_clean(head)),
            Step(f"audit {c.key}", _display(c), evidence(c, checks), checks=tuple(f.spec for f in c.findings)))


def audit_section(question: int, runner: Runner | None = None) -> Section:
    """The audit of the seed's answers to one question, for that question's worked solution; ``runner`` makes the
    findings' checks (:func:`graded`)."""
    if question not in (1, 2, 3):
        raise ValueError(f"invalid question {question!r}: the seed has questions 1, 2 and 3")
    counts = tally(question, runner)
    summary = ", ".join(f"{k} {v}" for k, v in counts.items() if v or k != UNDECIDED)
    blocks = [prose(f"Each answer is transcribed from the seed, repaired where the extraction lost a backslash "
                    f"escape or a minus sign, and graded by checks: equations by symdl.check against the reference "
                    f"they state, answers in words by a computation from the references. The verdict follows from "
                    f"the checks (any finding that fails makes an answer incorrect, one that holds only in a reading "
                    f"or under an unstated condition imprecise). Grades: {summary}.")]
    qt = _question_table(question)
    if qt is not None:
        blocks.append(prose("The question's own background and definitions are the exam's text, not the student's "
                            "answers: they are transcribed here and not graded."))
        blocks.append(qt)
    blocks.append(_overview(question, runner))
    for c, verdict, checks in graded(runner):
        if c.question == question:
            blocks.extend(_claim_blocks(c, verdict, checks))
    return Section(f"Audit of the seed's answers to question {question}", tuple(blocks))
