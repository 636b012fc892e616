r"""Deciding a hand derivation against a reference: ``check(hand, against=NAME)``.

The answer (REFERENCES.md, "What a check answers") is a :class:`Verdict`:

- ``equivalent``: every numeric trial agreed; ``method`` is ``"symbolic"`` when a
  proof was also found, ``"numeric"`` when the agreement is the evidence;
- ``not_equivalent``: a point where the two differ, at the smallest size;
- ``unknown``: neither the numbers nor a proof decided it within the limit;
- ``error``: the hand form could not be read (where, and why).

The numeric witness runs first: float64 at random points inside each input's
domain, at two sizes, with every abstract function instantiated several ways,
compared by relative error (never rounded).  Only then does a bounded symbolic
attempt run, in a child process killed at the time limit.  Nothing here imports
torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from ..core.elementwise import ACTIVATIONS, SCALARS
from ..numeric import compile as backends
from ..verify.bounded import run_bounded
from ..core.calculus import substitute_definitions
from ..model.reference import EvaluationError, evaluate_expression
from ..verify.spec import sample

VERDICTS = ("equivalent", "not_equivalent", "unknown", "error")
#: Relative tolerance of the numeric witness in float64.  The correct forms of the test corpus and
#: the seed audit (tests/test_check*.py, derivations/seed_audit.py; seeds 0-2) agree to at most
#: 6.6e-15 (ebm.nll_gradient, a complex-step derivative under sums), most to 0 or ~3e-16: 1e-12 leaves
#: a margin of 150 over that and still calls a factor 1 + 1e-10 or a term 1e-12 I a difference.
RTOL = 1e-12
#: Random points per size and per instantiation of the abstract functions.
POINTS = 3
#: Default wall-clock limit of the symbolic attempt, in seconds.
TIMEOUT = 10.0

#: Concrete members an abstract elementwise function is instantiated by (numpy, complex-safe).
INSTANCES = tuple((SCALARS[f].name, SCALARS[f].numpy(np)) for f in ACTIVATIONS)


@dataclass(frozen=True)
class Verdict:
    """The answer of :func:`check`; ``bool(verdict)`` is true only for ``equivalent``."""

    verdict: str
    method: str | None
    message: str
    reference: str = ""
    counterexample: dict | None = None
    position: int | None = None
    caret: str = ""
    max_error: float | None = None
    sizes: tuple = ()
    trials: int = 0
    proof: str = ""
    details: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.verdict == "equivalent"

    def to_json(self) -> dict:
        out: dict[str, Any] = {"verdict": self.verdict, "method": self.method, "message": self.message,
                               "reference": self.reference}
        if self.counterexample is not None:
            out["counterexample"] = self.counterexample
        if self.position is not None:
            out["position"] = self.position
        if self.details.get("expected"):
            out["expected"] = self.details["expected"]
        if self.max_error is not None:
            out["max_error"] = self.max_error
        if self.trials:
            out["trials"] = self.trials
            out["sizes"] = list(self.sizes)
        if self.proof:
            out["proof"] = self.proof
        return _strict_json(out)

    def __str__(self) -> str:
        lines = [f"{self.verdict}" + (f" ({self.method})" if self.method else "") + f": {self.message}"]
        if self.caret:
            lines.append(self.caret)
        if self.counterexample is not None:
            lines.append(format_counterexample(self.counterexample))
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        return "```\n" + str(self) + "\n```"


def _strict_json(x):
    """``x`` with every infinite or NaN float as the string "Infinity", "-Infinity" or "NaN":
    ``json.dumps`` would write bare ``Infinity``, which strict JSON readers (jq, browsers) reject."""
    if isinstance(x, float) and not np.isfinite(x):
        return "NaN" if np.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    if isinstance(x, dict):
        return {k: _strict_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_strict_json(v) for v in x]
    return x


# -- reading -------------------------------------------------------------------------------------


def _hand_expression(hand, ref):
    """The hand form as SymPy in ``ref``'s symbols (read from LaTeX, or checked as given)."""
    if isinstance(hand, str):
        from ..reader import read

        return read(hand, ref).expr
    if not isinstance(hand, sp.Basic):
        raise TypeError(f"a hand form is a LaTeX string or a SymPy expression, got {type(hand).__name__}")
    from ..reader import ReadError
    from ..reader.names import table_for

    table = table_for(ref)
    known = {s for s in table.entries.values() if isinstance(s, (sp.Symbol, sp.MatrixSymbol))}
    dims = {d for i in ref.inputs for d in i.shape if isinstance(d, sp.Symbol)}
    for s in hand.atoms(sp.Symbol, sp.MatrixSymbol):
        if s not in known and s not in dims and not isinstance(s, sp.Dummy):
            raise ReadError(f"unknown symbol {s.name!r} in {ref.name}; it knows {table.known()}")
    return hand


def _first_step_note(expr, ref, cx, seed, rtol) -> str:
    """When the counterexample is at step t = 1 of a reference whose first step is special
    (optim.sgd_momentum_torch: b_1 = g_1) and the hand form agrees at every later step tried, say so."""
    steps = [i.name for i in ref.inputs if i.domain == "step"]
    special = any(isinstance(c, sp.Eq) for pw in ref.expanded().atoms(sp.Piecewise) for _, c in pw.args)
    if not steps or not special or any(np.any(np.asarray(cx["inputs"].get(t)) != 1) for t in steps):
        return ""
    later = numeric_witness(expr, ref, seed=seed, rtol=rtol, first_step=2)
    if later.counterexample is not None or not later.agreed:
        return ""
    from ..core.printing import latex

    rules = []
    for d, c in ref.definitions.items():
        if isinstance(c, sp.Piecewise):
            rules.append(f"{d.name} = " + ", ".join(
                f"{latex(value)} " + ("otherwise" if cond is sp.true else f"at {latex(cond.lhs)} = {latex(cond.rhs)}"
                                      if isinstance(cond, sp.Eq) else f"where {latex(cond)}")
                for value, cond in c.args))
    return (f"; it differs only at the first step t = 1, where {ref.name} starts differently ({'; '.join(rules)}: "
            f"PyTorch's first step, REFERENCES.md), and agrees at {later.agreed} random points with t = 2 and 3: "
            "the hand form leaves out the first step's special case")


def _infinite_part(expr):
    """How an infinite or undefined constant in ``expr`` reads (outside an integral's limits), or ``None``."""
    if not isinstance(expr, sp.Basic):
        return None
    stack = [expr]
    while stack:
        e = stack.pop()
        if e is sp.zoo or e is sp.nan:
            return "an undefined value (complex infinity or NaN, as the log of 0 gives)"
        if e is sp.oo or e is sp.S.NegativeInfinity:
            return "\\infty"
        if isinstance(e, sp.Integral):
            stack.append(e.function)
            continue
        if isinstance(e, sp.Basic):
            stack.extend(a for a in e.args if isinstance(a, sp.Basic))
    return None


# -- the numeric witness ---------------------------------------------------------------------------


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
        shape = tuple(int(at[s]) if isinstance(s, sp.Symbol) else int(s) for s in inp.shape)
        if not shape and elementwise and inp.domain not in ("step", "count"):
            shape = (elementwise,)
        if inp.domain == "step":  # 1, 2, 3 in turn: the first step is often special (b_1 = g_1)
            step = float(first_step + point % (4 - first_step))
            out[inp.name] = step if not shape else np.full(shape, step)
        else:
            out[inp.name] = sample(inp.domain, shape, rng)
    return out


def _instances(ref) -> list[tuple[dict, dict]]:
    """``(labels, callables)`` for each way the abstract functions are instantiated."""
    if not ref.functions:
        return [({}, {})]
    out = []
    for label, fn in INSTANCES:
        out.append(({k: label for k in ref.functions}, {k: fn for k in ref.functions}))
    return out


def _rel_error(got, want) -> tuple[float, tuple]:
    diff = np.abs(got - want)
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    idx = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
    worst = float(np.max(diff)) if diff.size else 0.0
    return (worst / scale if scale else worst), tuple(int(i) for i in idx)


@dataclass
class Witness:
    agreed: int = 0
    max_error: float = 0.0
    skipped: int = 0
    counterexample: dict | None = None
    worst: dict | None = None  # the agreeing point with the largest relative error, as a counterexample
    nonzero: bool = False  # some agreeing point had a reference value that is not 0
    overflowed: int = 0  # points where the hand form was inf or NaN in float64 and the reference finite
    failure: str = ""
    sizes: list = field(default_factory=list)


def compilable(ref) -> bool:
    """Whether the reference's expression compiles to array code (else: the finite interpretation)."""
    from sympy.core.function import AppliedUndef

    from ..core.elementwise import prime

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


def _sample(domain: str, shape: tuple, rng):
    if domain == "step":
        return rng.integers(1, 4, shape).astype(float) if shape else float(rng.integers(1, 4))
    return sample(domain, shape, rng)


def _interpret(it, expr):
    """``expr``'s real value under one finite interpretation, or the :class:`Unsupported` that stopped it."""
    from .finite import Evaluator, Unsupported

    try:
        with np.errstate(all="ignore"):
            return np.real(np.asarray(Evaluator(it).ev(expr), dtype=np.complex128))
    except Unsupported as exc:
        return exc


def finite_witness(expr, ref, *, seed: int = 0, rtol: float = RTOL) -> Witness:
    """Both sides under the same random finite interpretations (:mod:`symdl.grade.finite`)."""
    from .finite import Unsupported, interpretations
    from ..reader.names import canon

    hand = substitute_definitions(expr, ref.definitions)
    want_expr = ref.expanded()
    out = Witness()
    sets = _size_sets(ref)
    sizes = [(2, 4, {k: v for k, v in sets[0].items() if k != "elementwise"}),
             (3, 5, {k: v for k, v in sets[-1].items() if k != "elementwise"})]
    rng = np.random.default_rng(seed)
    written = {canon(i.name): i.name for i in ref.inputs}
    functions = _function_names(ref)
    for label, it in interpretations(ref, [hand, want_expr], sizes, rng, sample=_sample):
        if not out.sizes or out.sizes[-1] != {k: v for k, v in label.items() if k != "functions"}:
            out.sizes.append({k: v for k, v in label.items() if k != "functions"})
        want = _interpret(it, want_expr)
        if isinstance(want, Unsupported):
            out.failure = f"{ref.name} has no finite interpretation here ({want})"
            return out
        if not np.all(np.isfinite(want)):
            out.skipped += 1
            continue
        got = _interpret(it, hand)
        if isinstance(got, Unsupported):
            out.failure = f"the hand form has no finite interpretation here ({got})"
            return out
        if _overflowed(out, got):
            continue
        if got.size == 1 and want.size == 1:
            got = got.reshape(want.shape)
        got = np.broadcast_to(got, want.shape) if got.size == 1 else got
        want = np.broadcast_to(want, got.shape) if want.size == 1 else want
        err, idx = (float("inf"), None) if got.shape != want.shape else _rel_error(got, want)
        if not err <= rtol or err > out.max_error or out.worst is None:
            values = {**{written[k]: _plain(v) for k, v in it.values.items() if k in written},
                      **{f"grid of {g}": _plain(v) for g, v in it.grids.items()}}
            cx = {"sizes": {k: v for k, v in label.items() if k != "functions"},
                  "functions": {functions.get(f, f): what for f, what in label.get("functions", {}).items()},
                  "inputs": values,
                  "hand": _plain(got), "reference": _plain(want), "relative_error": err,
                  "interpretation": "integrals as sums over the grids, abstract functions instantiated"}
            if idx is not None:
                cx["entry"] = list(idx)
                cx["hand_entry"] = float(got[idx]) if idx else float(got)
                cx["reference_entry"] = float(want[idx]) if idx else float(want)
            else:
                cx["shapes"] = {"hand": list(np.shape(got)), "reference": list(np.shape(want))}
            if not err <= rtol:
                out.counterexample = cx
                return out
            out.worst = cx
        out.agreed += 1
        out.max_error = max(out.max_error, err)
        out.nonzero = out.nonzero or bool(np.any(want != 0))
    return out


def _function_names(ref) -> dict:
    """Each abstract function's SymPy name (``sigma``, ``sigma'``) to its name as written (``\\sigma``)."""
    from ..core.elementwise import prime

    out = {}
    for name, f in ref.functions.items():
        out[f.__name__] = name
        out[prime(f).__name__] = name + "'"
    return out


def _overflowed(out: Witness, got) -> bool:
    """Whether the hand form's value is inf or NaN where the reference's is finite: float64 overflowed
    (or the form is undefined there, as the log of 0); such a point is counted, never a counterexample."""
    if np.all(np.isfinite(got)):
        return False
    out.overflowed += 1
    return True


def numeric_witness(expr, ref, *, seed: int = 0, rtol: float = RTOL, first_step: int = 1) -> Witness:
    """The hand form and the reference at random points; stops at the first disagreement."""
    if not compilable(ref):
        return finite_witness(expr, ref, seed=seed, rtol=rtol)
    ops = backends.ops("numpy")
    hand = substitute_definitions(expr, ref.definitions)
    rng = np.random.default_rng(seed)
    out = Witness()
    for at in _size_sets(ref):
        elementwise = at.pop("elementwise", 0)
        out.sizes.append({str(k): v for k, v in at.items()} or ({"elementwise": elementwise} if elementwise else {}))
        for labels, fns in _instances(ref):
            for point in range(POINTS):
                values = {**random_point(ref, at, rng, elementwise, point, first_step), **fns}
                try:
                    want = np.asarray(ref.evaluate(values), dtype=np.float64)
                except (EvaluationError, FloatingPointError, ZeroDivisionError):
                    out.skipped += 1
                    continue
                if not np.all(np.isfinite(want)):
                    out.skipped += 1
                    continue
                try:
                    with np.errstate(all="ignore"):
                        got = np.asarray(evaluate_expression(select_branches(hand, ref, values), ref.inputs, ref.functions, values, ops, "numpy",
                                                             "the hand form"), dtype=np.float64)
                except (NotImplementedError, NameError, TypeError, ValueError, OverflowError) as exc:
                    out.failure = f"the hand form could not be evaluated numerically ({exc})"
                    return out
                if _overflowed(out, got):
                    continue
                if got.size == 1 and want.size == 1:
                    got = got.reshape(want.shape)
                got = np.broadcast_to(got, want.shape) if got.size == 1 and want.shape else got
                if got.shape != want.shape:
                    out.counterexample = _counterexample(ref, out.sizes[-1], labels, values, got, want, None,
                                                         float("inf"))
                    return out
                err, idx = _rel_error(got, want)
                if not err <= rtol:
                    out.counterexample = _counterexample(ref, out.sizes[-1], labels, values, got, want, idx, err)
                    return out
                if out.worst is None or err > out.max_error:
                    out.worst = _counterexample(ref, out.sizes[-1], labels, values, got, want, idx, err)
                out.agreed += 1
                out.max_error = max(out.max_error, err)
                out.nonzero = out.nonzero or bool(np.any(want != 0))
    return out


def describe_size(size: dict) -> str:
    """``n = 2, m = 3``; ``N = 2, grids of 4 points``; ``|D_N| = 2, d = 3``; ``scalar inputs``."""
    if not size:
        return "scalar inputs"
    if "elementwise" in size:
        return f"vectors of {size['elementwise']} entries, elementwise"
    return ", ".join(f"grids of {v} points" if k == "grid" else f"{k} = {v}" for k, v in size.items())


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
    return expr.xreplace(chosen)


def _plain(x):
    """A JSON value: a column vector as a flat list, a matrix as a list of rows."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x.reshape(-1)
    return x.tolist() if x.shape else float(x)


def _counterexample(ref, at, labels, values, got, want, idx, err) -> dict:
    inputs = {i.name: _plain(values[i.name]) for i in ref.inputs}
    out = {"sizes": dict(at), "functions": dict(labels), "inputs": inputs,
           "hand": _plain(got), "reference": _plain(want), "relative_error": err}
    if idx is not None:
        out["entry"] = list(idx)
        out["hand_entry"] = float(got[idx]) if idx else float(got)
        out["reference_entry"] = float(want[idx]) if idx else float(want)
    else:
        out["shapes"] = {"hand": list(np.shape(got)), "reference": list(np.shape(want))}
    return out


def format_counterexample(cx: dict) -> str:
    """A counterexample for a person: sizes, inputs, both values and where they differ most."""
    def arr(v):
        if isinstance(v, str):
            return v
        a = np.asarray(v)
        if a.size and np.all(np.isfinite(a)) and np.all(a == np.round(a)):  # a step t, a count, a batch
            a = a.astype(np.int64)
        return np.array2string(a, precision=6, suppress_small=False, max_line_width=100, separator=", ")

    lines = [f"counterexample at {describe_size(cx['sizes'])}:"]
    width = max([len(k) for k in cx["inputs"]] + [len("reference")])
    for name, label in cx.get("functions", {}).items():
        lines.append(f"  {name:>{width}} = {label}")
    rows = list(cx["inputs"].items()) + [("hand", cx["hand"]), ("reference", cx["reference"])]
    for name, v in rows:
        text = arr(v).replace("\n", "\n" + " " * (width + 5))
        lines.append(f"  {name:>{width}} = {text}")
    if "entry" in cx:
        where = f"largest difference at entry {cx['entry']}" if cx["entry"] else "the values differ"
        lines.append(f"  {where}: hand {cx['hand_entry']:.17g}, "
                     f"reference {cx['reference_entry']:.17g} (relative error {cx['relative_error']:.3g})")
    else:
        lines.append(f"  the shapes differ: hand {cx['shapes']['hand']}, reference {cx['shapes']['reference']}")
    return "\n".join(lines)


# -- the symbolic attempt ----------------------------------------------------------------------------


def prove(hand, reference) -> tuple:
    """``(True, how)`` when SymPy shows the two equal for every size; ``(False, why)`` when it finds a
    definite difference (a nonzero constant, or a constant factor other than 1: see
    :func:`symdl.core.normal.difference`), ``why`` then beginning with ``constant:`` or ``multiple:``;
    else ``(None, why)``.

    Run in a child process (:func:`symdl.verify.bounded.run_bounded`): ``simplify`` may not return.
    """
    from ..core import normal

    if getattr(reference, "is_Matrix", False) or getattr(hand, "is_Matrix", False):
        if getattr(hand, "shape", None) != getattr(reference, "shape", None):
            return None, f"the shapes differ: {getattr(hand, 'shape', ())} and {getattr(reference, 'shape', ())}"
        if normal.same(hand, reference):
            return True, "SymPy: equal term by term after expanding products and merging diag factors, for every n"
        found = normal.difference(hand, reference)
        if found is not None:
            return False, f"{found[0]}: {found[1]}"
        return None, "the terms did not match after expanding products (no proof for every n)"
    from ..core.elementwise import expand_primes

    diff = expand_primes(sp.expand(hand - reference))
    if diff == 0:
        return True, "SymPy simplifies the difference to 0"
    if diff.is_number and diff.is_zero is False and diff.is_finite:
        return False, f"constant: the hand form minus the reference is {diff}, not 0, at every point"
    simple = sp.simplify(diff)
    if simple == 0:
        return True, "SymPy simplifies the difference to 0"
    if simple.is_number and simple.is_zero is False and simple.is_finite:
        return False, f"constant: the hand form minus the reference simplifies to {simple}, not 0, at every point"
    if reference != 0:
        q = sp.cancel(expand_primes(sp.expand(hand)) / expand_primes(sp.expand(reference)))
        if q.is_number and q != 1 and q.is_finite:
            return False, f"multiple: the hand form is {q} times the reference"
    return None, "SymPy could not reduce the difference to 0"


def _attempt_proof(expr, ref, timeout: float) -> tuple[bool | None, str]:
    """``(True, how)`` proved, ``(False, why)`` a definite difference found, ``(None, why)`` neither."""
    hand = substitute_definitions(expr, ref.definitions)
    outcome = run_bounded(prove, hand, ref.expanded(), timeout=timeout)
    if outcome.status == "ok":
        proved, how = outcome.value
        return (True if proved else (False if proved is False else None)), how
    if outcome.status == "timeout":
        return None, f"the symbolic attempt timed out after {timeout:g} s"
    return None, f"the symbolic attempt failed: {outcome.message}"


def find_reference(name: str):
    """The reference ``name`` (the registry builds only its own model module)."""
    from ..model import registry

    return registry.ref(name)


#: Largest gap of rnn.jacobian_product a check builds (deriving gap 20 takes about 0.6 s, and the
#: cost grows faster than the gap).
MAX_GAP = 20

_LHS_GAP = re.compile(r"\\partial\s*(?:\\[A-Za-z]+\s*)?\{?\s*h\s*\}?\s*_\s*\{\s*t\s*\+\s*(\d+)\s*\}")
_STEP_INDEX = re.compile(r"(?<![A-Za-z\\])(?:x|a)\s*\}?\s*_\s*\{\s*t\s*\+\s*(\d+)\s*\}")


def infer_gap(hand) -> tuple[int | None, str]:
    r"""The gap of an ``rnn.jacobian_product`` hand form and where it was read: the left side
    ``\partial h_{t+k} / \partial h_t``, else the largest ``k`` of the ``x_{t+k}`` and ``a_{t+k}`` it uses."""
    if isinstance(hand, str):
        left = _LHS_GAP.search(hand)
        if left:
            return int(left.group(1)), f"the left side's h_{{t+{left.group(1)}}}"
        found = [int(k) for k in _STEP_INDEX.findall(hand)]
    else:
        found = [int(m.group(1)) for s in getattr(hand, "free_symbols", ())
                 for m in [re.fullmatch(r"(?:x|a)_\{t\+(\d+)\}", getattr(s, "name", ""))] if m]
    if not found:
        return None, ""
    return max(found), f"the latest step the form uses, t+{max(found)} (in x_{{t+k}} or a_{{t+k}})"


def _variant(hand, ref):
    """``ref`` at the parameters the hand form is written for (the gap of rnn.jacobian_product)."""
    if ref.variants is None or "gap" not in (ref.params or {}):
        return ref, ""
    gap, where = infer_gap(hand)
    if gap is None or gap == ref.params["gap"]:
        return ref, (f" (gap {ref.params['gap']}, read from {where})" if gap else
                     f" (gap {ref.params['gap']}, the default: no h_{{t+k}} on a left side, no x_{{t+k}} used)")
    if not 1 <= gap <= MAX_GAP:
        raise ValueError(f"{ref.name}: gap {gap} (read from {where}) is not read; the checker builds gaps 1 to "
                         f"{MAX_GAP}")
    return ref.at(gap=gap), f" (gap {gap}, read from {where})"



# -- the check ---------------------------------------------------------------------------------------


def check(hand, against: str, *, timeout: float = TIMEOUT, seed: int = 0, rtol: float = RTOL) -> Verdict:
    """Decide whether ``hand`` (LaTeX or SymPy in the reference's symbols) equals reference ``against``
    (``rnn.jacobian_product`` at the gap the hand form is written for: :func:`infer_gap`)."""
    from ..model.registry import UnknownNameError

    try:
        ref = find_reference(against)
    except UnknownNameError as exc:
        return Verdict("error", None, str(exc), against)
    try:
        ref, gap_note = _variant(hand, ref)
    except ValueError as exc:
        return Verdict("error", None, str(exc), against)
    verdict = _check(hand, ref, timeout=timeout, seed=seed, rtol=rtol)
    if gap_note and verdict.verdict != "error":
        from dataclasses import replace

        return replace(verdict, message=verdict.message + gap_note)
    return verdict


def _check(hand, ref, *, timeout: float, seed: int, rtol: float) -> Verdict:
    from ..reader import ReadError

    try:
        expr = _hand_expression(hand, ref)
    except ReadError as exc:
        return Verdict("error", None, str(exc), ref.name, position=exc.position, caret=exc.caret(),
                       details={"expected": exc.expected} if exc.expected else {})
    infinite = _infinite_part(expr)
    if infinite is not None:
        return Verdict("unknown", None, f"the hand form is infinite or undefined at every point: it contains {infinite}, "
                       "so no point compares it with the reference",
                       ref.name)
    try:
        w = numeric_witness(expr, ref, seed=seed, rtol=rtol)
    except (RecursionError, SyntaxError):  # printers recurse, and Python nests calls at most 200 deep, per factor
        return Verdict("unknown", None, "the hand form is too large to evaluate (compiling it nested too deeply, "
                       "as for a product of hundreds of matrices); no proof was attempted", ref.name)
    sizes = tuple(w.sizes)
    where = "; ".join(describe_size(s) for s in sizes)
    if w.counterexample is not None:
        cx = w.counterexample
        at = describe_size(cx["sizes"])
        what = (f"the shapes differ ({cx['shapes']['hand']} against {cx['shapes']['reference']})"
                if "shapes" in cx else f"relative error {cx['relative_error']:.3g} > {rtol:g}")
        what += _first_step_note(expr, ref, cx, seed, rtol)
        return Verdict("not_equivalent", "numeric", f"differs from {ref.name} at a random point with {at}: {what}",
                       ref.name, counterexample=cx, max_error=cx["relative_error"], sizes=sizes, trials=w.agreed + 1)
    proved, how = _attempt_proof(expr, ref, timeout)
    if proved is False:
        kind, _, why = how.partition(": ")
        if kind == "constant" or w.nonzero:  # a multiple of the reference differs where it is not 0
            cx = w.worst
            tail = (f"; at the random point below the relative error is {cx['relative_error']:.3g}, inside the "
                    f"float64 tolerance {rtol:g}, but the difference is exact" if cx is not None else "")
            return Verdict("not_equivalent", "symbolic", f"differs from {ref.name}: {why}{tail}", ref.name,
                           counterexample=cx, max_error=w.max_error if cx is not None else None, sizes=sizes,
                           trials=w.agreed, proof=how)
        how = f"no proof: {why}"
    overflow = (f"the hand form overflowed float64 (inf or NaN, where the reference is finite) at {w.overflowed} "
                f"of the random points" if w.overflowed else "")
    if w.agreed:
        agreement = (f"agrees with {ref.name} at {w.agreed} random points in float64 ({where}), "
                     f"largest relative error {w.max_error:.3g}" + (f"; {overflow}, not counted" if overflow else ""))
        if proved:
            return Verdict("equivalent", "symbolic", f"{how}; {agreement}", ref.name, max_error=w.max_error,
                           sizes=sizes, trials=w.agreed, proof=how)
        return Verdict("equivalent", "numeric", f"{agreement}; no symbolic proof: {how}", ref.name,
                       max_error=w.max_error, sizes=sizes, trials=w.agreed, proof=how)
    if proved:
        return Verdict("equivalent", "symbolic", how, ref.name, proof=how)
    if overflow and not w.failure:
        why = (f"the hand form is not finite in float64 (inf or NaN) at any of the {w.overflowed} random points "
               "tried, where the reference is finite: it overflows float64, or is undefined there (such as the log "
               "of 0 or a division by 0), so no point compares the two")
    else:
        why = w.failure or f"no random point gave finite values ({w.skipped} tried)"
    return Verdict("unknown", None, f"{why}; {how}", ref.name, proof=how)
