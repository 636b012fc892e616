r"""A derived Jacobian against differences of the forward definitions, with the method each point allows.

Where every function of the forward map is analytic (tanh, exp, log, the softmax, a norm away from 0),
the complex step gives the derivative exact to rounding.  Where one is not (``|u|``, ``\operatorname{sign}``,
a maximum), the complex step is wrong, and central differences are used instead, with a tolerance of their
own.  At a point where the map is not differentiable (a kink of ``|u|``, a norm at 0) no difference says
what the derivative is: the check there is "not made" (``unknown``), never "passed" and never "refuted".
The two one-sided differences tell a kink from a smooth point: they agree to the central difference's
accuracy where the map is differentiable, and differ by a jump where it is not.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import sympy as sp

from ..core.calculus import substitute_definitions
from ..model.reference import Input, evaluate_expression
from ..numeric import compile as backends
from ..numeric.compare import TOLERANCES, compare_trials, relative_error
from .builders import complex_step_jacobian, random_trials
from .spec import CheckSpec

#: Functions whose complex-step derivative is wrong (not analytic): central differences instead.
NOT_ANALYTIC = (sp.Abs, sp.sign, sp.Max, sp.Min, sp.Heaviside, sp.Piecewise, sp.floor, sp.ceiling, sp.re, sp.im)


def analytic(expr) -> bool:
    """Every function of ``expr`` is analytic where it is differentiable (the complex step holds there)."""
    return not isinstance(expr, sp.Basic) or not expr.has(*NOT_ANALYTIC)


def _step(x: np.ndarray) -> np.ndarray:
    """The central difference's step: the cube root of float64's epsilon, relative to each entry."""
    return np.cbrt(np.finfo(np.float64).eps) * np.maximum(1.0, np.abs(x))


def difference_jacobians(forward, values: dict, wrt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(central, from the right, from the left)`` numerator-layout Jacobians of ``forward`` by the names
    ``wrt`` (one, or a tuple whose columns come side by side)."""
    here = np.asarray(forward(values), dtype=np.float64).reshape(-1)
    cols = {"c": [], "r": [], "l": []}
    for name in (wrt,) if isinstance(wrt, str) else wrt:
        x = np.asarray(values[name], dtype=np.float64)
        steps = _step(x.reshape(-1))
        for j in range(x.size):
            moved = {}
            for sign in (1, -1):
                xj = x.astype(np.float64).reshape(-1).copy()
                xj[j] += sign * steps[j]
                moved[sign] = np.asarray(forward({**values, name: xj.reshape(x.shape)}), dtype=np.float64).reshape(-1)
            cols["c"].append((moved[1] - moved[-1]) / (2 * steps[j]))
            cols["r"].append((moved[1] - here) / steps[j])
            cols["l"].append((here - moved[-1]) / steps[j])
    return tuple(np.stack(cols[k], axis=1) for k in "crl")


def _kink(right: np.ndarray, left: np.ndarray) -> bool:
    """The one-sided differences differ by more than a one-sided difference's error (about its step): a jump."""
    return relative_error(right, left) > 1e-3


def _point_label(values: dict, inputs: Sequence[Input]) -> str:
    return ", ".join(f"{i.name} = {np.round(np.asarray(values[i.name], dtype=float).reshape(-1), 4).tolist()}"
                     for i in inputs if i.name in values)


def derivative_check(derived, forward, definitions: Mapping, inputs: Sequence[Input], functions: Mapping, wrt,
                     dims: Sequence[sp.Symbol], function_values=(("", {}),), seed: int = 0, sizes=None,
                     points: Sequence[dict] | None = None) -> CheckSpec:
    """``derived`` against differences of ``forward``: the complex step where the forward definitions are
    analytic, central differences otherwise; "not made" at a point where the map is not differentiable.

    ``points`` (values dictionaries) replaces the random points, for a point a person chooses."""
    derived = substitute_definitions(derived, definitions)
    forward = substitute_definitions(forward, definitions)
    smooth = analytic(forward)
    method = "complex-step derivative" if smooth else "central differences"

    def run():
        ops = backends.ops("numpy")

        def forward_at(v):
            return evaluate_expression(forward, inputs, functions, v, ops, "numpy", "forward")

        if points is not None:
            given = [(f"the point {k + 1}", dict(p), {}, "") for k, p in enumerate(points)]
        else:
            given = random_trials(inputs, dims, function_values, seed, **({"sizes": sizes} if sizes else {}))
        trials = []
        for label, vals, fns, _ in given:
            vals = {**vals, **fns}
            try:
                with np.errstate(all="ignore"):
                    got = np.asarray(evaluate_expression(derived, inputs, functions, vals, ops, "numpy", "derived"))
                    central, right, left = difference_jacobians(forward_at, vals, wrt)
            except Exception as exc:  # a form numpy cannot evaluate decides nothing: "not made", with the reason
                return None, f"could not be evaluated ({type(exc).__name__}: {exc})", None
            if _kink(right, left):
                return None, f"not differentiable at {_point_label(vals, inputs)}: the one-sided differences " \
                             "differ", None
            if not np.all(np.isfinite(got)):
                return None, f"the derived expression is not defined at {_point_label(vals, inputs)}", None
            want = complex_step_jacobian(forward_at, vals, wrt) if smooth else central
            trials.append((label, got.reshape(want.shape) if got.size == want.size else got, want))
        return compare_trials(trials, rtol=TOLERANCES["check"] if smooth else TOLERANCES["central"])

    return CheckSpec("numeric", f"{method} of the forward definitions", run)
