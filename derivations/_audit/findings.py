"""The seed audit's grading machinery: grades, finding kinds, Finding, Claim, QuestionText, verdict_of, and
the builders of findings (agrees, differs, computed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from symdl.grade.check import check, describe_size
from symdl.verify.spec import CheckSpec


TIMEOUT = 1.0
GRADES = ("correct", "imprecise", "incorrect")
NOT_GRADED = "not graded"
UNDECIDED = "undecided"
#: What a finding establishes about the seed's answer.  ``holds``: it agrees with the reference as read;
#: ``fails``: it is false as read (a counterexample); ``loose``: right only in a charitable reading, under a
#: condition it does not state, or ambiguous; ``context``: checks the correct form shown beside it, and does
#: not bear on the grade.
KINDS = ("holds", "fails", "loose", "context")


# -- findings: one proposition about an answer, one check ---------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A proposition about the seed's answer (``kind`` says which way it bears on the grade) and its check."""

    kind: str
    spec: CheckSpec

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}; expected one of {KINDS}")


@dataclass(frozen=True)
class Claim:
    """One answer of the seed.  ``says`` is the answer in words; ``seed`` the seed's mathematics as transcribed
    (repaired) and ``correct`` the correct form, both displayed; ``findings`` decide the grade; a claim with no
    findings must say in ``not_graded`` why it is not graded."""

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


def _memo(fn):
    """Run ``fn`` once per process: the build's ledger and the grade see the same outcome."""
    box = []

    def run():
        if not box:
            try:
                box.append((True, fn()))
            except Exception as exc:  # re-raised each time, so run_check reports it as a failed check
                box.append((False, exc))
        ok, value = box[0]
        if not ok:
            raise value
        return value

    run.__name__ = getattr(fn, "__name__", "run")
    return run


def _v(form, against):
    return check(form, against=against, timeout=TIMEOUT)


def _cx_text(v) -> str:
    cx = v.counterexample
    if cx is None:
        return v.message
    where = describe_size(cx["sizes"])
    if "entry" in cx:
        at = f" entry {cx['entry']}" if cx["entry"] else ""
        return (f"not equivalent to {v.reference}: at a random point ({where}){at} the seed's form gives "
                f"{cx['hand_entry']:.6g}, the reference {cx['reference_entry']:.6g}")
    return f"not equivalent to {v.reference}: {v.message}"


def _ok_text(v) -> str:
    how = "proved by SymPy and " if v.method == "symbolic" else ""
    return (f"equivalent to {v.reference} ({how}agreeing at {v.trials} random points, largest relative error "
            f"{v.max_error:.2g})")


def agrees(form: str, against: str, kind: str = "holds", what: str = "the seed's form") -> Finding:
    """``form`` is equivalent to reference ``against`` (symdl.check)."""

    def run():
        v = _v(form, against)
        if v.verdict == "equivalent":
            return True, _ok_text(v).split(" (", 1)[1].rstrip(")"), v.max_error
        if v.verdict == "not_equivalent":
            return False, _cx_text(v), None
        return None, f"symdl.check gave {v.verdict}: {v.message}", None

    return Finding(kind, CheckSpec("numeric", f"symdl.check: {what} is equivalent to {against}", _memo(run)))


def differs(form: str, against: str, what: str = "the seed's form") -> Finding:
    """``form`` is not equivalent to reference ``against``: symdl.check finds a counterexample."""

    def run():
        v = _v(form, against)
        if v.verdict == "not_equivalent":
            return True, _cx_text(v).split(": ", 1)[1], None
        if v.verdict == "equivalent":
            return False, "no counterexample: " + _ok_text(v), None
        return None, f"symdl.check gave {v.verdict}: {v.message}", None

    return Finding("fails", CheckSpec("numeric", f"symdl.check: {what} differs from {against}", _memo(run)))


def computed(kind: str, method: str, description: str, fn) -> Finding:
    """A proposition decided by a computation ``fn() -> (passed, detail, max_error)``."""
    return Finding(kind, CheckSpec(method, description, _memo(fn)))


def _clean(text: str) -> str:
    return text.replace("$", "")
