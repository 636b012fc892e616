"""The audit document's own view: one table grading every answer, with a line of evidence each and where each is
argued; the checks behind the grades are made by the build and listed in the ledger, one item an answer.

The worked solutions argue each part at length (and show their question's full audit in an appendix,
derivations/_audit/sections.py); this table does not repeat them.
"""

from __future__ import annotations

from symdl.document.derivation import Table, tex
from symdl.grade.rubric import GRADES, NOT_GRADED, Claim

from _audit.cells import mixed_cell
from _audit.sections import graded

#: The worked solution of each question, by the name of its PDF.
DOCUMENTS = {1: "q1-recurrent", 2: "q2-optimisation", 3: "q3-energy"}
#: Answers a worked solution argues under another part than the one the seed wrote them in.
ARGUED_UNDER = {"2.optimum": "(f)"}
#: The kind of finding that decides each grade: its check's detail is the line of evidence.
DECIDING = dict(zip(GRADES, ("holds", "loose", "fails")))
#: Column widths, as fractions of the text width; and the evidence column's width in characters.
WIDTHS = (0.12, 0.195, 0.105, 0.39, 0.06)
EVIDENCE_CHARACTERS = 36


def argued_in(c: Claim) -> str:
    """Where the worked solutions argue the answer: the question's document and its part."""
    part = ARGUED_UNDER.get(c.key, c.part)
    return f"q{c.question}" + (f" {part}" if part.startswith("(") else "")


def first_sentence(text: str) -> str:
    """``text`` up to its first full stop outside mathematics (a check's detail opens with its evidence)."""
    inside = False
    for i, ch in enumerate(text):
        if ch == "$":
            inside = not inside
        elif ch == "." and not inside and text[i + 1:i + 2] == " ":
            return text[:i]
    return text


def evidence_line(c: Claim, verdict: str, checks) -> str:
    """The first sentence of the detail of the check that decides the grade (of the first failed one, if any
    failed), without the check's description."""
    if not c.findings:
        return c.not_graded
    pairs = list(zip(c.findings, checks))
    failed = [(f, ch) for f, ch in pairs if not (ch.made and ch.passed)]
    kind = DECIDING.get(verdict)
    f, ch = failed[0] if failed else next(((f, ch) for f, ch in pairs if f.kind == kind), pairs[0])
    prefix = f.spec.description + ": "
    detail = first_sentence(ch.detail[len(prefix):] if ch.detail.startswith(prefix) else ch.detail)
    return detail[:1].upper() + detail[1:] + "."


def _grade_cell(verdict: str, checks) -> str:
    held = all(ch.made and ch.passed for ch in checks)
    status = "checks hold" if held else ("a check fails" if any(ch.made for ch in checks if not ch.passed)
                                         else "not made")
    return tex(r"\begin{aligned}[t] & \boxed{\text{%s}} \\ & \text{%s} \end{aligned}" % (verdict, status))


def summary_table(runner=None) -> Table:
    rows = tuple((c.key + (f" {c.part}" if c.part.startswith("(") else ""), c.says, _grade_cell(verdict, checks),
                  mixed_cell(evidence_line(c, verdict, checks), EVIDENCE_CHARACTERS), argued_in(c))
                 for c, verdict, checks in graded(runner))
    return Table(("answer", "the seed says", "grade", "evidence", "see"), rows, widths=WIDTHS)


def audit_checks(runner=None) -> tuple:
    """``(name, checks)`` of every graded answer: the audit makes each check and lists it in its ledger, without
    displaying the forms again (each worked solution shows its question's forms and checks in its appendix)."""
    return tuple((f"audit {c.key}", tuple(f.spec for f in c.findings))
                 for c, verdict, _ in graded(runner) if verdict != NOT_GRADED)
