r"""The seed audit: every answer of the seed graded correct, imprecise or incorrect by checks, with evidence.

The document is one table: each answer of the seed, its grade, whether the checks behind the grade hold, the
evidence that decides it and where the worked solutions argue it.  The checks themselves are the document's
own (``Derivation.checks``, one item an answer, not displayed: each worked solution's appendix shows the forms),
so that ``symdl verify seed_audit`` and the build ledger make every one of them and a finding that no longer
holds fails the build as refuted.

Each answer the student wrote is a :class:`Claim`; its grade is decided by :class:`Finding` s, each a
symdl.verify.spec.CheckSpec that states one proposition about the answer (it agrees with a reference, it
differs from one, it holds only in a reading or under a condition it does not state).  The verdict is computed
from the outcomes of those checks (:func:`verdict_of`), never typed.  Equations go through symdl.check against
the reference they state (the lost \b, \t, \r escapes and minus signs repaired, each repair noted); claims in
words by a computation from the references, numpy or PyTorch.  The exam's own text is transcribed apart and not
graded.  The grading vocabulary is symdl.grade.rubric's; the parts live in derivations/_audit/, whose
sections.py gives each question's worked solution its full audit.
"""

from __future__ import annotations

import sys
from pathlib import Path

from symdl.document.derivation import Derivation, Section, prose
from symdl.grade.rubric import GRADES, NOT_GRADED, UNDECIDED, Claim, Finding, verdict_of

# The parts live in the private package derivations/_audit/; symdl's loader puts this folder on sys.path, and a
# module loaded by its path alone needs it too.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _audit.claims import CLAIMS, SEED_JACOBIAN_READ
from _audit.exam import QUESTION_TEXT
from _audit.sections import audit_section, tally
from _audit.summary import DOCUMENTS, audit_checks, summary_table

# Named here too, for the audit's tests: the grading, the findings' builder and the computations behind the claims.
from _audit.findings import differs
from _audit.q1_checks import _lstm_problem, bptt_sum, seed_bptt_chain
from _audit.q2_adaptive import per_coordinate_cost
from _audit.sections import _claim_blocks, evidence, graded
from _audit.summary import evidence_line


def _counts(runner=None) -> str:
    counts = tally(runner=runner)
    said = ", ".join(f"{counts[g]} {g}" for g in GRADES)
    for other in (NOT_GRADED, UNDECIDED):
        if counts[other]:
            said += f", {counts[other]} {other}"
    return said


def derivation(runner=None) -> Derivation:
    """The audit document; ``runner`` makes the findings' checks (the loader passes a build's, to share them out)."""
    where = ", ".join(f"q{q} for {name}" for q, name in DOCUMENTS.items())
    intro = Section("The grades", (
        prose(f"The seed's answers hold {len(CLAIMS)} claims: {_counts(runner)}. Where one sentence of the seed holds "
              "parts that deserve different grades, each part is a claim of its own. The exam's own text "
              f"(background, definitions, equations 1 and 2; {len(QUESTION_TEXT)} items) is not graded."),
        prose("Each grade is decided by checks, never typed: a check establishes one finding about the answer. "
              "An answer that a finding refutes is incorrect; else one that a finding shows right only in a "
              "reading, or under a condition it does not state, is imprecise; else correct. Whether the checks "
              "hold is a separate matter, shown under each grade: a check that holds may be the one that refutes "
              "the answer. If a finding stops holding, its check fails and so does the build."),
        prose(f"The last column, see, says where the worked solutions argue each answer ({where}, with the part "
              "in brackets); the appendix of each worked solution holds its question's full audit: the seed's forms, "
              "the correct ones and the checks behind each grade. The ledger below lists those checks, one line "
              "an answer."),
        summary_table(runner),
    ))
    return Derivation(
        slug="seed-audit",
        title="Seed audit: the midterm answers, claim by claim",
        description="every answer of the seed graded correct, imprecise or incorrect by checks, with their evidence",
        sections=(intro,),
        checks=audit_checks(runner),
    )
