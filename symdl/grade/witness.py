r"""The numeric witness: a hand form and its reference at random points, in float64.

Values are drawn inside each input's domain (:meth:`symdl.model.domains.Domain.sample`) at two sizes,
the smallest first, with every abstract function instantiated several ways, and compared by relative
error, never rounded (:func:`symdl.numeric.compare.largest_difference`).  The first point where they
differ is the counterexample.

Where the reference compiles to array code (:func:`compilable`) both sides are evaluated by it
(:func:`numeric_witness`); else both go through the same finite interpretation, integrals as sums over
grids and abstract functions as random smooth ones (:func:`finite_witness`, :mod:`symdl.grade.finite`).
Either way a point is recorded by :func:`_compare`, the one place that decides "agrees", "differs" or
"overflowed", and described by :func:`symdl.grade.counterexample.counterexample`.  Nothing here
imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef

from ..core.calculus import substitute_definitions
from ..core.elementwise import ACTIVATIONS, SCALARS, prime
from ..model.domains import DOMAINS, concrete_shape
from ..model.reference import EvaluationError, evaluate_expression
from ..numeric import compile as backends
from ..numeric.compare import TOLERANCES, largest_difference
from ..reader.names import canon
from .counterexample import counterexample
from .finite import Evaluator, Unsupported, interpretations

#: Relative tolerance of the numeric witness in float64 (an entry of the one table, with its reason).
RTOL = TOLERANCES["witness"]
#: Random points per size and per instantiation of the abstract functions.
POINTS = 3

#: Concrete members an abstract elementwise function is instantiated by (numpy, complex-safe).
INSTANCES = tuple((SCALARS[f].name, SCALARS[f].numpy(np)) for f in ACTIVATIONS)


@dataclass
class Witness:
    """What the random points showed: how many agreed and how closely, or the counterexample that ended it."""

    agreed: int = 0
    max_error: float = 0.0
    skipped: int = 0
    counterexample: dict | None = None
    worst: dict | None = None  # the agreeing point with the largest relative error, as a counterexample
    nonzero: bool = False  # some agreeing point had a reference value that is not 0
    overflowed: int = 0  # points where the hand form was inf or NaN in float64 and the reference finite
    failure: str = ""
    sizes: list = field(default_factory=list)


def _compare(out: Witness, got, want, rtol: float, describe, broadcast_reference: bool = False) -> bool:
    """Record one point where the reference's value ``want`` is finite; ``True`` when it is a counterexample.

    ``describe(got, want, idx, err)`` builds the point's record; it is called only for the counterexample and
    for a new worst agreement.  A single value stands for every entry; under the finite interpretation
    (``broadcast_reference``) so does a single reference value, as a sum over a grid gives.
    """
    if _overflowed(out, got):
        return False
    if got.size == 1 and want.size == 1:
        got = got.reshape(want.shape)
    got = np.broadcast_to(got, want.shape) if got.size == 1 else got
    if broadcast_reference and want.size == 1:
        want = np.broadcast_to(want, got.shape)
    err, idx = (float("inf"), None) if got.shape != want.shape else largest_difference(got, want)
    if not err <= rtol:
        out.counterexample = describe(got, want, idx, err)
        return True
    if out.worst is None or err > out.max_error:
        out.worst = describe(got, want, idx, err)
    out.agreed += 1
    out.max_error = max(out.max_error, err)
    out.nonzero = out.nonzero or bool(np.any(want != 0))
    return False


def _overflowed(out: Witness, got) -> bool:
    """Whether the hand form's value is inf or NaN where the reference's is finite: float64 overflowed
    (or the form is undefined there, as the log of 0); such a point is counted, never a counterexample."""
    if np.all(np.isfinite(got)):
        return False
    out.overflowed += 1
    return True


# -- compiled array code ------------------------------------------------------------------------------


def numeric_witness(expr, ref, *, seed: int = 0, rtol: float = RTOL, first_step: int = 1) -> Witness:
    """The hand form and the reference at random points; stops at the first disagreement."""
    if not compilable(ref):
        return finite_witness(expr, ref, seed=seed, rtol=rtol)
    hand = substitute_definitions(expr, ref.definitions)
    rng = np.random.default_rng(seed)
    out = Witness()
    for at in _size_sets(ref):
        elementwise = at.pop("elementwise", 0)
        out.sizes.append({str(k): v for k, v in at.items()} or ({"elementwise": elementwise} if elementwise else {}))
        for labels, fns in _instances(ref):
            for point in range(POINTS):
                values = {**random_point(ref, at, rng, elementwise, point, first_step), **fns}
                if _numeric_point(out, hand, ref, values, labels, rtol):
                    return out
    return out


def _numeric_point(out: Witness, hand, ref, values: dict, labels: dict, rtol: float) -> bool:
    """One random point of :func:`numeric_witness`; ``True`` when the witness ends there."""
    try:
        want = np.asarray(ref.evaluate(values), dtype=np.float64)
    except (EvaluationError, FloatingPointError, ZeroDivisionError):
        want = None
    if want is None or not np.all(np.isfinite(want)):
        out.skipped += 1
        return False
    try:
        chosen = select_branches(hand, ref, values)
    except Uncovered as exc:  # the hand form's cases leave this point out, where the reference has a value
        out.counterexample = counterexample(out.sizes[-1], labels, {i.name: values[i.name] for i in ref.inputs},
                                            np.full(want.shape, np.nan), want, (0,) * want.ndim, float("inf"),
                                            undefined=str(exc))
        return True
    try:
        with np.errstate(all="ignore"):
            got = np.asarray(evaluate_expression(chosen, ref.inputs, ref.functions,
                                                 values, backends.ops("numpy"), "numpy", "the hand form"),
                             dtype=np.float64)
    except (NotImplementedError, NameError, TypeError, ValueError, OverflowError) as exc:
        out.failure = f"the hand form could not be evaluated numerically ({exc})"
        return True
    inputs = {i.name: values[i.name] for i in ref.inputs}
    size = out.sizes[-1]
    return _compare(out, got, want, rtol,
                    lambda g, w, idx, err: counterexample(size, labels, inputs, g, w, idx, err))


def _dims(ref) -> list:
    """The size symbols, in the order the inputs first use them (``n`` before ``m`` in lstm)."""
    return list(dict.fromkeys(d for i in ref.inputs for d in i.shape if isinstance(d, sp.Symbol)))


def _size_sets(ref) -> list[dict]:
    """Two sizes, the smallest first (n = 2), every dimension different from the others."""
    dims = _dims(ref)
    if not dims:
        return [{}, {"elementwise": 3}]
    first = dict(zip(dims, range(2, 2 + len(dims))))
    second = dict(zip(dims, range(4 + len(dims), 4, -1)))
    return [first, second]


def random_point(ref, at: dict, rng, elementwise: int = 0, point: int = 0, first_step: int = 1) -> dict:
    """Random float64 values inside each input's domain; scalar inputs as vectors of
    ``elementwise`` entries when asked (optimisers act coordinate by coordinate); a step
    counter runs through ``first_step`` ... 3."""
    out = {}
    for inp in ref.inputs:
        shape = concrete_shape(inp.shape, at)
        if not shape and elementwise and inp.domain not in ("step", "count"):
            shape = (elementwise,)
        if inp.domain == "step":  # 1, 2, 3 in turn: the first step is often special (b_1 = g_1)
            step = float(first_step + point % (4 - first_step))
            out[inp.name] = step if not shape else np.full(shape, step)
        else:
            out[inp.name] = DOMAINS[inp.domain].sample(shape, rng)
    return out


def _instances(ref) -> list[tuple[dict, dict]]:
    """``(labels, callables)`` for each way the abstract functions are instantiated."""
    if not ref.functions:
        return [({}, {})]
    out = []
    for label, fn in INSTANCES:
        out.append(({k: label for k in ref.functions}, {k: fn for k in ref.functions}))
    return out


def compilable(ref) -> bool:
    """Whether the reference's expression compiles to array code (else: the finite interpretation)."""
    for node in sp.preorder_traversal(ref.expanded()):
        if isinstance(node, (sp.Integral, sp.Sum, sp.Derivative, sp.Limit)):
            return False
        if isinstance(node, AppliedUndef):
            if node.func not in ref.functions.values() or len(node.args) != 1:
                return False
        elif isinstance(node, sp.Function) and node.func not in SCALARS \
                and not isinstance(node, (sp.Min, sp.Max, sp.Piecewise)):
            return False
    heads = [h for f in ref.functions.values() for h in (f, prime(f))]
    branchless = ref.expanded().replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0][0])
    try:
        backends.compile_expr(branchless, [i.symbol for i in ref.inputs], heads, _dims(ref), "numpy")
    except (NotImplementedError, NameError, TypeError, ValueError, AttributeError):
        return False
    return True


def select_branches(expr, ref, values):
    """``expr`` with each ``Piecewise`` replaced by the branch its conditions pick at ``values``
    (conditions on scalar inputs such as the step ``t``; compiled code has no branches)."""
    pieces = expr.atoms(sp.Piecewise)
    if not pieces:
        return expr
    scalars = {i.symbol: values[i.name] for i in ref.inputs if not i.shape and np.ndim(values[i.name]) == 0}
    chosen = {}
    for pw in pieces:
        for branch, cond in pw.args:
            decided = cond.xreplace({k: sp.Float(v) for k, v in scalars.items()})
            if decided is sp.true:
                chosen[pw] = branch
                break
            if decided is not sp.false:
                raise NotImplementedError(f"cannot decide the condition {cond} at this point")
        else:
            at = ", ".join(f"{k} = {v:g}" for k, v in scalars.items())
            raise Uncovered(f"no branch of the cases holds at {at}")
    return expr.xreplace(chosen)


class Uncovered(ValueError):
    """No branch of a piecewise form holds at a point: the form has no value there."""


# -- the finite interpretation ----------------------------------------------------------------------------

#: What a counterexample of the finite interpretation says its point is.
INTERPRETATION = "integrals as sums over the grids, abstract functions instantiated"


def finite_witness(expr, ref, *, seed: int = 0, rtol: float = RTOL) -> Witness:
    """Both sides under the same random finite interpretations (:mod:`symdl.grade.finite`)."""
    hand = substitute_definitions(expr, ref.definitions)
    want_expr = ref.expanded()
    out = Witness()
    sets = _size_sets(ref)
    sizes = [(2, 4, {k: v for k, v in sets[0].items() if k != "elementwise"}),
             (3, 5, {k: v for k, v in sets[-1].items() if k != "elementwise"})]
    rng = np.random.default_rng(seed)
    written = {canon(i.name): i.name for i in ref.inputs}
    functions = _function_names(ref)
    for label, it in interpretations(ref, [hand, want_expr], sizes, rng):
        size = {k: v for k, v in label.items() if k != "functions"}
        if not out.sizes or out.sizes[-1] != size:
            out.sizes.append(size)
        inputs = {**{written[k]: v for k, v in it.values.items() if k in written},
                  **{f"grid of {g}": v for g, v in it.grids.items()}}
        named = {functions.get(f, f): what for f, what in label.get("functions", {}).items()}
        if _finite_point(out, it, hand, want_expr, ref, rtol,
                         lambda g, w, idx, err: counterexample(size, named, inputs, g, w, idx, err,
                                                               interpretation=INTERPRETATION)):
            return out
    return out


def _finite_point(out: Witness, it, hand, want_expr, ref, rtol: float, describe) -> bool:
    """One interpretation of :func:`finite_witness`; ``True`` when the witness ends there."""
    want = _interpret(it, want_expr)
    if isinstance(want, Unsupported):
        out.failure = f"{ref.name} has no finite interpretation here ({want})"
        return True
    if not np.all(np.isfinite(want)):
        out.skipped += 1
        return False
    got = _interpret(it, hand)
    if isinstance(got, Unsupported):
        out.failure = f"the hand form has no finite interpretation here ({got})"
        return True
    return _compare(out, got, want, rtol, describe, broadcast_reference=True)


def _interpret(it, expr):
    """``expr``'s real value under one finite interpretation, or the :class:`Unsupported` that stopped it."""
    try:
        with np.errstate(all="ignore"):
            return np.real(np.asarray(Evaluator(it).ev(expr), dtype=np.complex128))
    except Unsupported as exc:
        return exc


def _function_names(ref) -> dict:
    """Each abstract function's SymPy name (``sigma``, ``sigma'``) to its name as written (``\\sigma``)."""
    out = {}
    for name, f in ref.functions.items():
        out[f.__name__] = name
        out[prime(f).__name__] = name + "'"
    return out
