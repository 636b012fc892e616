r"""The seed audit: every answer of the seed graded correct, imprecise or incorrect by checks, with evidence.

The exam's own text (background, definitions, equations 1 and 2) is transcribed
in a table of its own and not graded.  Each answer the student wrote is a
:class:`Claim`; its grade is decided by :class:`Finding` s, each a
symdl.verify.spec.CheckSpec that states one proposition about the answer (it agrees
with a reference, it differs from one, it holds only in a reading or under a
condition it does not state).  The verdict is computed from the outcomes of
those checks (:func:`verdict_of`), never typed, and each claim is a Step, so
``symdl verify seed_audit`` and the build ledger list the checks and a finding
that no longer holds fails the build as refuted.  Equations go through
symdl.check against the reference they state (the lost \b, \t, \r escapes and
minus signs repaired, each repair noted); claims in words by a computation from
the references.  A claim whose only possible form would be the reference itself
or the transcriber's own construction is marked not graded, with the reason.
audit_section(q) gives the audit of one question for that question's worked solution.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from symdl.document.derivation import Derivation, Section, Step, Table, prose, tex
from symdl.grade.rubric import GRADES, NOT_GRADED, UNDECIDED, Claim, Finding, verdict_of
from symdl.verify.spec import run_many

# The parts live in the private package derivations/_audit/; symdl's loader puts this folder on sys.path, and a
# module loaded by its path alone needs it too.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _audit.findings import _clean, differs
from _audit.q1_checks import _lstm_problem, bptt_sum, seed_bptt_chain
from _audit.q2_checks import per_coordinate_cost
from _audit.exam import QUESTION_TEXT
from _audit.claims import CLAIMS, SEED_JACOBIAN_READ


# -- grading: the checks decide ----------------------------------------------------------------------


@lru_cache(maxsize=None)
def graded() -> tuple:
    """``(claim, verdict, checks)`` for every answer: each finding's check run once per process (all of them
    together, so that a build's workers share them out: symdl.verify.spec.run_many), the verdict computed from their
    outcomes by :func:`verdict_of`."""
    for c in CLAIMS:
        if not c.findings and not c.not_graded:
            raise ValueError(f"claim {c.key}: no findings and no reason for not grading it")
    made = iter(run_many([f.spec for c in CLAIMS for f in c.findings]))
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


def tally(question: int | None = None) -> dict:
    keys = (*GRADES, NOT_GRADED, UNDECIDED)
    out = {k: 0 for k in keys}
    for c, verdict, _ in graded():
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


def _overview(question: int) -> Table:
    rows = [(_label(c.key, c.part), verdict, c.says) for c, verdict, _ in graded() if c.question == question]
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


def audit_section(question: int) -> Section:
    """The audit of the seed's answers to one question, for that question's worked solution."""
    if question not in (1, 2, 3):
        raise ValueError(f"invalid question {question!r}: the seed has questions 1, 2 and 3")
    counts = tally(question)
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
    blocks.append(_overview(question))
    for c, verdict, checks in graded():
        if c.question == question:
            blocks.extend(_claim_blocks(c, verdict, checks))
    return Section(f"Audit of the seed's answers to question {question}", tuple(blocks))


def derivation() -> Derivation:
    counts = tally()
    graded_n = sum(counts[g] for g in GRADES)
    intro = Section("How the seed was graded", (
        prose(f"The seed's answers hold {len(CLAIMS)} claims: "
              + ", ".join(f"{counts[g]} {g}" for g in GRADES) + f" and {counts[NOT_GRADED]} not graded"
              + (f", {counts[UNDECIDED]} undecided" if counts[UNDECIDED] else "") +
              f" ({graded_n} graded). The exam's own text (background, definitions, equations 1 and 2, "
              f"{len(QUESTION_TEXT)} items) is transcribed and not graded."),
        prose("Each answer is a step whose checks decide its grade. A check states one finding: the answer agrees "
              "with its reference (symdl.check finds them equivalent: a numeric witness in float64 at random points, "
              "two sizes, abstract functions instantiated several ways, and a bounded SymPy proof where one exists), "
              "it differs from it (a counterexample), or it holds only in a charitable reading or under a condition "
              "it does not state. An answer with a finding that fails is incorrect; else one with a loose finding is "
              "imprecise; else correct. If a finding stops holding, its check fails and so does the build. An "
              "answer whose only possible form would be the reference itself is not graded."),
        prose("The text was extracted from a PDF: the escapes \\b, \\t, \\r and \\f were eaten (egin, ilde, anh, "
              "oldsymbol, extbf, ight, rac) and some minus signs lost; each repair is noted with its item."),
    ))
    return Derivation(
        slug="seed-audit",
        title="Seed audit: the midterm answers, claim by claim",
        description="every answer of the seed graded correct, imprecise or incorrect by checks, with their evidence",
        sections=(intro, *(audit_section(q) for q in (1, 2, 3))),
    )
