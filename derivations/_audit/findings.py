r"""The builders of the seed audit's findings: agrees, differs (through symdl.check) and computed.

The grading vocabulary they build with (Finding, Claim, verdict_of) is symdl.grade.rubric's.

A check's detail is the evidence a reader sees: one or two sentences in words, with the mathematics between
``$`` signs so that a document typesets it (a Step's reason and the audit's table go through the checked-math
path, symdl.document.derivation.prose).  Numbers are put into it by :func:`num`, never typed.
"""

from __future__ import annotations

import math
import re

from symdl.grade.check import check, describe_size
from symdl.grade.rubric import Finding
from symdl.verify.spec import CheckSpec

TIMEOUT = 1.0


def num(x, digits: int = 2) -> str:
    r"""``x`` as TeX for between ``$`` signs, to ``digits`` significant digits: ``0.42``, ``250``,
    ``3.6 \times 10^{-4}`` (powers of ten below 0.001 and from 10000 on)."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    exponent = math.floor(math.log10(abs(x)))
    if -3 <= exponent < 4:
        places = max(0, digits - 1 - exponent)
        text = f"{round(x, places):.{places}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa = f"{x / 10 ** exponent:.{digits}g}"
    if mantissa == "10":  # rounding carried into the next power
        mantissa, exponent = "1", exponent + 1
    power = r"10^{%d}" % exponent
    return power if mantissa == "1" else rf"{mantissa} \times {power}"


def _where(sizes) -> str:
    """The sizes of a counterexample in words, each ``name = value`` as mathematics."""
    return ", ".join(f"${piece}$" if re.fullmatch(r"[|A-Za-z_]+ = \d+", piece) else piece
                     for piece in describe_size(sizes).split(", "))


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


def verdict(form, against):
    """symdl.check's verdict on ``form`` against reference ``against``, under the audit's time limit."""
    return check(form, against=against, timeout=TIMEOUT)


def counterexample_text(v) -> str:
    """Where ``v`` (a not_equivalent verdict) found the seed's form and the reference apart, in words."""
    cx = v.counterexample
    if cx is None:
        return v.message
    where = _where(cx["sizes"])
    if "entry" in cx:
        at = f" entry {cx['entry']}" if cx["entry"] else ""
        return (f"the seed's form gives ${num(cx['hand_entry'], 5)}$ where the reference gives "
                f"${num(cx['reference_entry'], 5)}$, at a random point ({where}){at}")
    return v.message


def agreement_text(v) -> str:
    """How ``v`` (an equivalent verdict) found the two equal, in words."""
    how = "proved symbolically and " if v.method == "symbolic" else ""
    return f"{how}agreeing at {v.trials} random points, largest relative error ${num(v.max_error)}$"


def agrees(form: str, against: str, kind: str = "holds", what: str = "the seed's form") -> Finding:
    """``form`` is equivalent to reference ``against`` (symdl.check)."""

    def run():
        v = verdict(form, against)
        if v.verdict == "equivalent":
            how = "equal to the reference" if kind == "holds" else f"equal to the reference only as {what}"
            return True, f"{how}: {agreement_text(v)}", v.max_error
        if v.verdict == "not_equivalent":
            return False, counterexample_text(v), None
        return None, f"symdl.check gave {v.verdict}: {v.message}", None

    return Finding(kind, CheckSpec("numeric", f"symdl.check: {what} is equivalent to {against}", _memo(run)))


def differs(form: str, against: str, what: str = "the seed's form", kind: str = "fails") -> Finding:
    """``form`` is not equivalent to reference ``against``: symdl.check finds a counterexample.  ``kind`` is
    ``fails`` unless the difference leaves the answer right in a weaker sense (``loose``)."""

    def run():
        v = verdict(form, against)
        if v.verdict == "not_equivalent":
            return True, counterexample_text(v), None
        if v.verdict == "equivalent":
            return False, "no counterexample: " + agreement_text(v), None
        return None, f"symdl.check gave {v.verdict}: {v.message}", None

    return Finding(kind, CheckSpec("numeric", f"symdl.check: {what} differs from {against}", _memo(run)))


def computed(kind: str, method: str, description: str, fn) -> Finding:
    """A proposition decided by a computation ``fn() -> (passed, detail, max_error)``."""
    return Finding(kind, CheckSpec(method, description, _memo(fn)))
