r"""Deciding a hand derivation against a reference: ``check(hand, against=NAME)``, and its two steps.

:func:`read` takes the hand form (LaTeX, or SymPy in the reference's symbols) to a :class:`HandForm`:
the expression and the reference it is held against (``rnn.jacobian_product`` at the gap the form is
written for: :func:`infer_gap`).  :func:`decide` gives its :class:`~symdl.grade.verdict.Verdict`:
the numeric witness first (:mod:`symdl.grade.witness`), then, unless a point already differs, a
bounded symbolic attempt (:mod:`symdl.grade.prove`) in a child process killed at the time limit.
:func:`check` is the two together, with every problem answered as a verdict (``error`` for a form it
cannot read).  Nothing here imports torch.

The batch workers, the CLI, :mod:`symdl.testing` and the seed audit import the checker's names from
this module, so it also names those that now live beside it (``Verdict``, ``numeric_witness``, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import sympy as sp

from ..core.printing import latex
from ..model import registry
from ..model.reference import Reference
from ..model.registry import UnknownNameError
from ..reader import ReadError, read as read_text
from ..reader.names import table_for
from .counterexample import describe_size, format_counterexample
from .prove import attempt, prove
from .verdict import VERDICTS, Verdict
from .witness import (INSTANCES, POINTS, RTOL, Witness, compilable, finite_witness, numeric_witness, random_point,
                      select_branches)

__all__ = ["HandForm", "INSTANCES", "MAX_GAP", "POINTS", "RTOL", "TIMEOUT", "VERDICTS", "Verdict", "Witness", "check",
           "compilable", "decide", "describe_size", "find_reference", "finite_witness", "format_counterexample",
           "infer_gap", "numeric_witness", "prove", "random_point", "read", "select_branches"]

#: Default wall-clock limit of the symbolic attempt, in seconds.
TIMEOUT = 10.0
#: Largest gap of rnn.jacobian_product a check builds (deriving gap 20 takes about 0.6 s, and the
#: cost grows faster than the gap).
MAX_GAP = 20

_LHS_GAP = re.compile(r"\\partial\s*(?:\\[A-Za-z]+\s*)?\{?\s*h\s*\}?\s*_\s*\{\s*t\s*\+\s*(\d+)\s*\}")
_STEP_INDEX = re.compile(r"(?<![A-Za-z\\])(?:x|a)\s*\}?\s*_\s*\{\s*t\s*\+\s*(\d+)\s*\}")


@dataclass(frozen=True)
class HandForm:
    """A hand form, read: SymPy in the reference's symbols, the reference at the parameters the form is
    written for, and ``note``, how those parameters were read (it ends the verdict's message)."""

    expr: sp.Basic
    reference: Reference
    note: str = ""
    readings: tuple = ()  # how the text was read where it could be read two ways (elementwise products)


# -- the check ---------------------------------------------------------------------------------------


def check(hand, against: str | Reference, *, timeout: float = TIMEOUT, seed: int = 0, rtol: float = RTOL) -> Verdict:
    """Decide whether ``hand`` (LaTeX or SymPy in the reference's symbols) equals reference ``against``, a
    name or a :class:`~symdl.model.reference.Reference` (``rnn.jacobian_product`` at the gap the hand form
    is written for: :func:`infer_gap`)."""
    try:
        ref, note = _variant(hand, find_reference(against))
    except (UnknownNameError, ValueError) as exc:
        return Verdict("error", None, str(exc), getattr(against, "name", against))
    try:
        expr, readings = _hand_expression(hand, ref)
    except ReadError as exc:
        return Verdict("error", None, str(exc), ref.name, position=exc.position, caret=exc.caret(),
                       details={"expected": exc.expected} if exc.expected else {})
    return decide(HandForm(expr, ref, note, readings), timeout=timeout, seed=seed, rtol=rtol)


def read(hand, against: str | Reference) -> HandForm:
    """``hand`` read against reference ``against``: the first step of :func:`check`, for callers that read a
    form once and decide it later or elsewhere (a chain of links, a batch).

    Raises :class:`~symdl.model.registry.UnknownNameError` for an unknown reference,
    :class:`~symdl.reader.ReadError` (with the position) for text it cannot read, and ``ValueError`` for
    a gap of rnn.jacobian_product outside 1 to :data:`MAX_GAP`.
    """
    ref, note = _variant(hand, find_reference(against))
    expr, readings = _hand_expression(hand, ref)
    return HandForm(expr, ref, note, readings)


def decide(form: HandForm, *, timeout: float = TIMEOUT, seed: int = 0, rtol: float = RTOL) -> Verdict:
    """The verdict on a form already read: ``not_equivalent`` at the first random point that differs, else the
    bounded proof's answer on top of the agreement (a proof, a definite difference, or neither)."""
    verdict = _decide(form.expr, form.reference, timeout, seed, rtol)
    if form.readings:
        verdict = replace(verdict, message=f"{verdict.message}; " + "; ".join(form.readings),
                          details={**verdict.details, "notes": list(form.readings)})
    return replace(verdict, message=verdict.message + form.note) if form.note else verdict


def _decide(expr, ref, timeout: float, seed: int, rtol: float) -> Verdict:
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
    if w.counterexample is not None:
        return _differs(expr, ref, w, seed, rtol)
    # prove is looked up here, in this module, so that a caller (or a test) may put another prover in its place
    proved, how = attempt(expr, ref, timeout, prove)
    if proved is False:
        refuted = _refuted(ref, w, how, rtol)
        if refuted is not None:
            return refuted
        how = f"no proof: {how.partition(': ')[2]}"
    return _settled(ref, w, proved, how)


def _differs(expr, ref, w: Witness, seed: int, rtol: float) -> Verdict:
    """``not_equivalent`` at the witness's counterexample."""
    cx = w.counterexample
    at = describe_size(cx["sizes"])
    what = (f"the shapes differ ({cx['shapes']['hand']} against {cx['shapes']['reference']})"
            if "shapes" in cx else f"relative error {cx['relative_error']:.3g} > {rtol:g}")
    if "undefined" in cx:
        what = f"the hand form has no value there: {cx['undefined']}"
    what += _first_step_note(expr, ref, cx, seed, rtol)
    return Verdict("not_equivalent", "numeric", f"differs from {ref.name} at a random point with {at}: {what}",
                   ref.name, counterexample=cx, max_error=cx["relative_error"], sizes=tuple(w.sizes),
                   trials=w.agreed + 1)


def _refuted(ref, w: Witness, how: str, rtol: float) -> Verdict | None:
    """``not_equivalent`` by the proof's definite difference where the numbers agreed inside the tolerance: a
    nonzero constant always, a multiple of the reference where the reference is not 0; else ``None``."""
    kind, _, why = how.partition(": ")
    if kind != "constant" and not w.nonzero:
        return None
    cx = w.worst
    tail = (f"; at the random point below the relative error is {cx['relative_error']:.3g}, inside the "
            f"float64 tolerance {rtol:g}, but the difference is exact" if cx is not None else "")
    return Verdict("not_equivalent", "symbolic", f"differs from {ref.name}: {why}{tail}", ref.name,
                   counterexample=cx, max_error=w.max_error if cx is not None else None, sizes=tuple(w.sizes),
                   trials=w.agreed, proof=how)


def _settled(ref, w: Witness, proved: bool | None, how: str) -> Verdict:
    """``equivalent`` when points agreed or a proof was found, else ``unknown`` with the reasons."""
    sizes = tuple(w.sizes)
    overflow = (f"the hand form overflowed float64 (inf or NaN, where the reference is finite) at {w.overflowed} "
                f"of the random points" if w.overflowed else "")
    if w.agreed:
        where = "; ".join(describe_size(s) for s in sizes)
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


# -- reading -------------------------------------------------------------------------------------


def find_reference(name: str | Reference):
    """The reference ``name`` (the registry builds only its own model module), or ``name`` itself when it is
    a reference already (``symdl.check(hand, against=symdl.ref("lstm.hidden"))``)."""
    return name if isinstance(name, Reference) else registry.ref(name)


def _hand_expression(hand, ref):
    """The hand form as SymPy in ``ref``'s symbols (read from LaTeX, or checked as given), and the notes on how
    the text was read."""
    if isinstance(hand, str):
        reading = read_text(hand, ref)
        return reading.expr, reading.notes
    if not isinstance(hand, sp.Basic):
        raise TypeError(f"a hand form is a LaTeX string or a SymPy expression, got {type(hand).__name__}")
    table = table_for(ref)
    known = {s for s in [*table.entries.values(), *table.own.values()] if isinstance(s, (sp.Symbol, sp.MatrixSymbol))}
    dims = {d for i in ref.inputs for d in i.shape if isinstance(d, sp.Symbol)}
    for s in hand.free_symbols:  # a variable bound by an integral or a sum (y', i) is no input
        if s not in known and s not in dims and not isinstance(s, sp.Dummy):
            raise ReadError(f"unknown symbol {s.name!r} in {ref.name}; it knows {table.known()}")
    return hand, ()


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


# -- what a verdict says besides the numbers ---------------------------------------------------------------


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
    return (f"; it differs only at the first step t = 1, where {ref.name} starts differently "
            f"({'; '.join(_piecewise_rules(ref))}: PyTorch's first step, REFERENCES.md), and agrees at {later.agreed} "
            "random points with t = 2 and 3: the hand form leaves out the first step's special case")


def _piecewise_rules(ref) -> list[str]:
    """Each piecewise definition of ``ref`` in words: ``b_t = g_t at t = 1, \\mu b_{t-1} + ... otherwise``."""
    rules = []
    for d, c in ref.definitions.items():
        if isinstance(c, sp.Piecewise):
            rules.append(f"{d.name} = " + ", ".join(
                f"{latex(value)} " + ("otherwise" if cond is sp.true else f"at {latex(cond.lhs)} = {latex(cond.rhs)}"
                                      if isinstance(cond, sp.Eq) else f"where {latex(cond)}")
                for value, cond in c.args))
    return rules
