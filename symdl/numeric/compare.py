"""Comparing float64 values: one relative error, and the one table of the tolerances symdl compares with.

Values are compared by relative error and never rounded or chopped (DESIGN.md: a comparison that
chops small values would call 1/2^99 equal to 1/2^98).  Every tolerance is a named entry of
:data:`TOLERANCES` with the reason for its value; the modules that once defined a constant of their own
keep its name as an alias of their entry (``symdl.verify.spec.RTOL``, ``symdl.grade.check.RTOL``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

#: Relative tolerances in float64, by what they decide.
TOLERANCES = {
    # The numeric and oracle checks of derived results (symdl.verify): a closed form against its definition at
    # random points, or against PyTorch.
    "check": 1e-10,
    # The numeric witness of a hand form (symdl.grade).  The correct forms of the test corpus and the seed audit
    # (tests/grade, derivations/seed_audit.py; seeds 0-2) agree to at most 6.6e-15 (ebm.nll_gradient, a
    # complex-step derivative under sums), most to 0 or ~3e-16: 1e-12 leaves a margin of 150 over that and still
    # calls a factor 1 + 1e-10 or a term 1e-12 I a difference.
    "witness": 1e-12,
    # Central differences (symdl.verify.differences), where the forward map is not analytic and the complex step
    # does not hold: with the step eps^(1/3) their error is about eps^(2/3) ~ 4e-11 times the third derivative's
    # scale; 1e-6 leaves room for a curved map and still calls a factor 1 + 1e-5 a difference.
    "central": 1e-6,
    # The optimisers against torch.optim, at every step of a whole trajectory (symdl.models.optim.ORACLE_RTOL).
    "optim_oracle": 1e-12,
}


def relative_error(got, want) -> float:
    """``max|got - want| / max|want|``: one relative error for a whole array, never rounded."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise ValueError(f"shapes differ: {got.shape} and {want.shape}")
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(want))):
        return float("inf") if not np.array_equal(got, want, equal_nan=True) else 0.0
    return largest_difference(got, want)[0]


def largest_difference(got: np.ndarray, want: np.ndarray) -> tuple[float, tuple]:
    """The relative error of two finite float64 arrays of one shape, and the index where they differ most
    (``()`` for scalars): a counterexample shows that entry."""
    diff = np.abs(got - want)
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    idx = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
    worst = float(np.max(diff)) if diff.size else 0.0
    return (worst / scale if scale else worst), tuple(int(i) for i in idx)


def compare_trials(trials: Sequence[tuple[str, object, object]], rtol: float = TOLERANCES["check"]) -> tuple:
    """``(passed, detail, max_error)`` over trials ``(label, got, want)``.

    Labels of the form ``"n = 2, m = 3 | tanh"`` are grouped by the part before
    ``" | "`` (the size), and the detail gives the largest error of each group.
    """
    worst, groups = 0.0, {}
    for label, got, want in trials:
        err = relative_error(got, want)
        if not err <= rtol:
            return False, f"relative error {err:.3g} > {rtol:g} at {label}", err
        worst = max(worst, err)
        key = label.split(" | ")[0]
        groups[key] = max(groups.get(key, 0.0), err)
    if 1 < len(groups) <= 8:
        per = "; ".join(f"{k}: {e:.2g}" for k, e in groups.items())
        return True, f"{len(trials)} trials, largest relative error {worst:.3g} (by size: {per})", worst
    return True, f"{len(trials)} trials, largest relative error {worst:.3g}", worst
