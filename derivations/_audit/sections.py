"""The seed audit's sections, one per question: each answer of the seed graded by its checks, with evidence.

Each question's worked solution shows its section (in its appendix), so it lives here, in the private package
both import, and no worked solution imports the audit document.  The audit document itself
(derivations/seed_audit.py) shows the one-table summary of derivations/_audit/summary.py instead.
"""

from __future__ import annotations

import re
from functools import lru_cache

from symdl.document.derivation import Section, Step, Table, prose, tex
from symdl.grade.rubric import GRADES, NOT_GRADED, UNDECIDED, Claim, verdict_of
from symdl.verify.spec import run_many

from _audit.claims import CLAIMS
from _audit.exam import QUESTION_TEXT

#: How a finding of each kind bears on the answer, said beside the check's outcome (a check that holds can
#: refute the answer: the two are different statements).
ROLE = {"holds": "Supports the answer", "fails": "Refutes the answer", "loose": "Qualifies the answer",
        "context": "Checks the correct form"}

_NAMES = re.compile(r"\s*\((?:[a-z]+(?:\.[a-z_]+)+(?:, )?)+\)")
_CHECKED = re.compile(r"^symdl\.check: (.*) (is equivalent to|differs from) [a-z]+\.[a-z_]+$")


def plain(description: str) -> str:
    """A check's description for a reader: without the names of references and modules (the ledger and
    ``symdl verify`` keep them)."""
    checked = _CHECKED.match(description)
    if checked:
        what, relation = checked.groups()
        return f"{what} {'equals' if relation == 'is equivalent to' else 'differs from'} the reference"
    return _NAMES.sub("", description)


# -- grading: the checks decide ----------------------------------------------------------------------


@lru_cache(maxsize=None)
def graded(runner=None) -> tuple:
    """``(claim, verdict, checks)`` for every answer: each finding's check run once per process (all of them
    together, so that a build's workers share them out: symdl.verify.spec.run_many), the verdict computed from their
    outcomes by :func:`verdict_of`."""
    for c in CLAIMS:
        if not c.findings and not c.not_graded:
            raise ValueError(f"claim {c.key}: no findings and no reason for not grading it")
    made = iter(run_many([f.spec for c in CLAIMS for f in c.findings], runner))
    out = []
    for c in CLAIMS:
        checks = tuple(next(made) for _ in c.findings)
        out.append((c, verdict_of(c.findings, checks), checks))
    return tuple(out)


def checks_status(checks) -> str:
    """Whether the checks hold, in words, apart from the grade they give."""
    held = sum(1 for c in checks if c.made and c.passed)
    if held == len(checks):
        return "1 check holds" if held == 1 else f"{held} checks hold"
    refuted = sum(1 for c in checks if c.made and not c.passed)
    return f"{refuted} of {len(checks)} checks fail" if refuted else f"{len(checks) - held} of {len(checks)} not made"


def evidence(claim: Claim, checks) -> str:
    """What the checks found, in words: how each finding bears on the answer, and the check's detail (with its
    mathematics between $ signs)."""
    if not claim.findings:
        return "Not graded: " + claim.not_graded + "."
    said = []
    for f, c in zip(claim.findings, checks):
        outcome = "" if c.made and c.passed else f" (the check {c.mark})"
        prefix = f.spec.description + ": "
        detail = c.detail[len(prefix):] if c.detail.startswith(prefix) else c.detail
        said.append(f"{ROLE[f.kind]}{outcome}: {plain(f.spec.description)}: {detail}.")
    return " ".join(said)


def tally(question: int | None = None, runner=None) -> dict:
    keys = (*GRADES, NOT_GRADED, UNDECIDED)
    out = {k: 0 for k in keys}
    for c, verdict, _ in graded(runner):
        if question is None or c.question == question:
            out[verdict] += 1
    return out


def display(c: Claim):
    """The seed's form (where it wrote one) above the correct form."""
    rows = ([r"\text{seed:} \quad & " + c.seed] if c.seed else []) + [r"\text{correct:} \quad & " + c.correct]
    return tex(r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}")


def _question_table(question: int) -> Table | None:
    rows = [(label(q.key, q.part), tex(q.text) if q.math else q.text, q.repairs or "none")
            for q in QUESTION_TEXT if q.key.startswith(f"{question}.")]
    if not rows:
        return None
    return Table(("item", "the question says (transcribed)", "transcription repairs"), tuple(rows),
                 caption=f"Question {question}'s own text, as transcribed from the seed: not graded.",
                 widths=(0.12, 0.5, 0.26))


def _overview(question: int, runner=None) -> Table:
    rows = [(label(c.key, c.part), verdict, c.says) for c, verdict, _ in graded(runner) if c.question == question]
    return Table(("answer", "verdict", "the seed says"), tuple(rows),
                 caption=f"The answers to question {question}, graded by the checks below.",
                 widths=(0.15, 0.11, 0.62))


def label(key: str, part: str) -> str:
    return f"{key} {part}" if part.startswith("(") else f"{key} ({part})"


def _claim_blocks(c: Claim, verdict: str, checks) -> tuple:
    head = f"{label(c.key, c.part)}. The seed: {c.says}."
    if c.repairs:
        head += f" Transcription: {c.repairs}."
    if not c.findings:
        return (prose(f"{head} Not graded: {c.not_graded}."),)
    head += f" The answer is {verdict}; {checks_status(checks)}."
    return (prose(head),
            Step(f"audit {c.key}", display(c), evidence(c, checks), checks=tuple(f.spec for f in c.findings)))


def audit_section(question: int, runner=None) -> Section:
    """The audit of the seed's answers to one question, for that question's worked solution."""
    if question not in (1, 2, 3):
        raise ValueError(f"invalid question {question!r}: the seed has questions 1, 2 and 3")
    counts = tally(question, runner)
    summary = ", ".join(f"{k} {v}" for k, v in counts.items() if v or k not in (UNDECIDED, NOT_GRADED))
    blocks = [prose("Each answer is transcribed from the seed, repaired where the extraction lost a backslash "
                    "escape or a minus sign, and graded by checks: equations by the hand-derivation checker against "
                    "the reference they state, answers in words by a computation. The grade follows from what the "
                    "checks establish (an answer that a check refutes is incorrect; one that a check shows right "
                    "only in a reading or under an unstated condition is imprecise); whether each check holds is "
                    f"said apart from the grade. Grades: {summary}.")]
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
