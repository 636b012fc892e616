"""One link of a derivation decided: the new side against the person's claim so far.

The claim (the earlier side, or a reference's expression) becomes a copy of the reference the
link was read in with its ``expr`` replaced (``dataclasses.replace``); the new side is then held
against it by the existing numeric witness (:func:`symdl.grade.check.numeric_witness`): float64
at random points inside each input's domain, two sizes, abstract functions instantiated several
ways.  A disagreement is a counterexample, and :mod:`symdl.grade.diagnose` looks for the simple
change that explains it.  The answer is a plain :class:`Outcome` (picklable: a link may be decided
in a child process killed at its time limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from ..verify.bounded import run_bounded
from .check import RTOL, numeric_witness
from .diagnose import claim_reference, diagnose


@dataclass(frozen=True)
class Outcome:
    verdict: str
    method: str | None
    message: str
    counterexample: dict | None = None
    diagnosis: dict | None = None


def sizes_text(sizes) -> str:
    """``n = 2, m = 3; n = 6, m = 5``, or ``scalar inputs`` (as the single check words them)."""
    return "; ".join(f"vectors of {s['elementwise']} entries, elementwise" if "elementwise" in s else
                     ", ".join(f"grids of {v} points" if k == "grid" else f"{k} = {v}" for k, v in s.items())
                     or "scalar inputs" for s in sizes)


def compare(claim, hand, ref, *, seed: int = 0, rtol: float = RTOL, diagnose_it: bool = True) -> Outcome:
    """Whether ``hand`` equals ``claim`` (both SymPy in ``ref``'s symbols)."""
    model = claim_reference(ref, claim)
    try:
        with np.errstate(all="ignore"):  # a side undefined at some points (1/(1 - beta^0)) skips them
            w = numeric_witness(hand, model, seed=seed, rtol=rtol)
    except (RecursionError, SyntaxError):
        return Outcome("unknown", None, "the expressions are too large to evaluate (compiling them nested too deeply)")
    except (NotImplementedError, NameError, TypeError, ValueError, AttributeError) as exc:
        return Outcome("unknown", None, f"the two sides could not be evaluated numerically ({exc})")
    if w.counterexample is not None:
        cx = w.counterexample
        what = (f"the shapes differ ({cx['shapes']['hand']} against {cx['shapes']['reference']})" if "shapes" in cx
                else f"relative error {cx['relative_error']:.3g} > {rtol:g}")
        found = diagnose(hand, claim, ref, seed=seed) if diagnose_it else None
        return Outcome("not_equivalent", "numeric", f"differs at a random point with {sizes_text([cx['sizes']])}: "
                       f"{what}", cx, found)
    if w.agreed:
        return Outcome("equivalent", "numeric", f"agrees at {w.agreed} random points in float64 "
                       f"({sizes_text(w.sizes)}), largest relative error {w.max_error:.3g}")
    why = w.failure or f"no random point gave finite values ({w.skipped} tried)"
    return Outcome("unknown", None, why)


def bounded_compare(claim, hand, ref, *, timeout: float | None, seed: int = 0, diagnose_it: bool = True) -> Outcome:
    """:func:`compare` in a child process killed after ``timeout`` seconds (in this process when ``None``)."""
    if timeout is None:
        return compare(claim, hand, ref, seed=seed, diagnose_it=diagnose_it)
    outcome = run_bounded(partial(compare, seed=seed, diagnose_it=diagnose_it), claim, hand, ref, timeout=timeout,
                          memory=None)
    if outcome.status == "ok":
        return outcome.value
    if outcome.status == "timeout":
        return Outcome("unknown", None, f"the check of this link timed out after {timeout:g} s")
    return Outcome("unknown", None, f"the check of this link failed: {outcome.message}")
