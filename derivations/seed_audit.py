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
The grading vocabulary is symdl.grade.rubric's; the audit of each question is built in
derivations/_audit/sections.py, which that question's worked solution imports too.
"""

from __future__ import annotations

import sys
from pathlib import Path

from symdl.document.derivation import Derivation, Section, prose
from symdl.grade.rubric import GRADES, NOT_GRADED, UNDECIDED, Claim, Finding, verdict_of
from symdl.verify.spec import Runner

# The parts live in the private package derivations/_audit/; symdl's loader puts this folder on sys.path, and a
# module loaded by its path alone needs it too.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _audit.claims import CLAIMS, SEED_JACOBIAN_READ
from _audit.exam import QUESTION_TEXT
from _audit.sections import audit_section, tally

# Named here too, for the audit's tests: the grading, the findings' builder and the computations behind the claims.
from _audit.findings import differs
from _audit.q1_checks import _lstm_problem, bptt_sum, seed_bptt_chain
from _audit.q2_checks import per_coordinate_cost
from _audit.sections import _claim_blocks, evidence, graded


def derivation(runner: Runner | None = None) -> Derivation:
    """The audit document; ``runner`` makes the findings' checks (the loader passes a build's, to share them out)."""
    counts = tally(runner=runner)
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
        sections=(intro, *(audit_section(q, runner) for q in (1, 2, 3))),
    )
