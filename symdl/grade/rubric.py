"""Grading written answers by findings: the vocabulary of an audit such as derivations/seed_audit.py.

An answer is a :class:`Claim`.  Its grade is never typed: each :class:`Finding` states one proposition
about the answer (it agrees with a reference, it is false as read, it holds only in a charitable
reading) and carries the check that decides it, and :func:`verdict_of` computes the grade from the
outcomes of those checks.  A finding that stops holding fails its check, so a build that makes the
checks fails instead of keeping a stale grade.  The exam's own text (:class:`QuestionText`) is
transcribed beside the answers and never graded.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..verify.spec import CheckSpec

GRADES = ("correct", "imprecise", "incorrect")
NOT_GRADED = "not graded"
UNDECIDED = "undecided"
#: What a finding establishes about an answer.  ``holds``: it agrees with the reference as read;
#: ``fails``: it is false as read (a counterexample); ``loose``: right only in a charitable reading, under a
#: condition it does not state, or ambiguous; ``context``: checks the correct form shown beside it, and does
#: not bear on the grade.
KINDS = ("holds", "fails", "loose", "context")


@dataclass(frozen=True)
class Finding:
    """A proposition about an answer (``kind`` says which way it bears on the grade) and its check."""

    kind: str
    spec: CheckSpec

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}; expected one of {KINDS}")


@dataclass(frozen=True)
class Claim:
    """One answer.  ``says`` is the answer in words; ``seed`` the answer's mathematics as transcribed (repaired:
    ``repairs`` says how) and ``correct`` the correct form, both displayed; ``findings`` decide the grade; a claim
    with no findings must say in ``not_graded`` why it is not graded."""

    key: str
    question: int
    part: str
    says: str
    correct: str
    seed: str = ""
    repairs: str = ""
    findings: tuple = ()
    not_graded: str = ""


@dataclass(frozen=True)
class QuestionText:
    """A line of the exam's own text, transcribed; not graded."""

    key: str
    part: str
    text: str
    repairs: str = ""
    math: bool = True


def verdict_of(findings, checks) -> str:
    """The grade the outcomes of the checks give: any check not passed leaves the claim undecided (and a refuted
    one fails the build); else a verified ``fails`` makes it incorrect, a ``loose`` imprecise, a ``holds`` correct."""
    if not findings:
        return NOT_GRADED
    if any(not (c.made and c.passed) for c in checks):
        return UNDECIDED
    kinds = {f.kind for f in findings}
    if "fails" in kinds:
        return "incorrect"
    if "loose" in kinds:
        return "imprecise"
    if "holds" in kinds:
        return "correct"
    return UNDECIDED
