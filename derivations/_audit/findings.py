"""The builders of the seed audit's findings: agrees, differs (through symdl.check) and computed.

The grading vocabulary they build with (Finding, Claim, verdict_of) is symdl.grade.rubric's.
"""

from __future__ import annotations

from symdl.grade.check import check, describe_size
from symdl.grade.rubric import Finding
from symdl.verify.spec import CheckSpec

TIMEOUT = 1.0


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
