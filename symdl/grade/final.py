r"""A derivation's final answer against ``--against``, and a single formula as a derivation of one step.

REFERENCES.md, "Which model, which names": with ``--against NAME`` the last line's right side is
checked against the reference when the last left side is the reference's quantity or there is none;
a derivation that ends on another quantity (``m_{t+1} = ...`` against optim.adam) has ``final`` null,
with a message.  The check is the existing one (:func:`symdl.grade.check.check`, given the side as
SymPy in the reference's symbols), except for a side with a range (``\prod_{k=t+1}^{\tau}``), which
is written out at each range length (:mod:`symdl.reader.ranges`) and held against the reference at
that length.  A single formula keeps the keys of a single check and gains ``steps``.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..core.calculus import substitute_definitions
from ..reader import lhs_key, read
from ..reader.chain import chain
from ..reader.ranges import has_range, unroll
from ..reader.source import Text
from .answer import DerivationVerdict, Step
from .check import TIMEOUT, Verdict, check, find_reference
from .compare import compare
from .diagnose import diagnose
from .scope import SideError, gradient_key


def final_answer(scope, lhs, right, timeout, seed: int) -> dict | None:
    """The last right side (``right``, a Text) against ``scope.against``; ``lhs`` is where its chain began."""
    ref = scope.against
    if ref is None or right is None:
        return None
    if lhs is not None and not names(lhs.text, ref):
        return {"verdict": None, "against": ref.name, "method": None,
                "message": f"the derivation ends on {lhs.text}, not on {ref.lhs}: the final answer is not checked "
                           f"against {ref.name}, and the verdict rests on the links"}
    try:
        v, lengths, found = at_lengths(scope, right.text, ref, timeout, seed)
    except SideError as exc:
        return {"verdict": "error", "against": ref.name, "method": None,
                "message": f"the last right side could not be read in {ref.name}'s symbols: {exc.message}"}
    out = {"verdict": v.verdict, "against": ref.name, "method": v.method, "message": v.message}
    if lengths:
        out["lengths"] = lengths
    if v.counterexample is not None:
        out["counterexample"] = v.counterexample
    if v.verdict == "not_equivalent":
        out["diagnosis"] = found
    return out


def at_lengths(scope, text: str, ref, timeout, seed: int = 0) -> tuple:
    """``(verdict, range lengths or None, diagnosis)`` of ``text`` against ``ref``."""
    if not (has_range(text) and ref.variants is not None and "gap" in (ref.params or {})):
        side = scope.side(text, prefer=ref)  # a name of the topic (a_t beside rnn.state) expanded into inputs
        expr = side.expr if side.ref is ref else substitute_definitions(side.expr, side.ref.definitions)
        v = check(expr, against=ref.name, timeout=timeout or TIMEOUT, seed=seed)
        return v, None, (diagnose(expr, ref.expr, ref, seed=seed) if v.verdict == "not_equivalent" else None)
    lengths = []
    for length in scope.lengths:
        at = ref.at(gap=length)
        outcome = compare(at.expr, scope.read(unroll(text, length), at), at, seed=seed)
        lengths.append(length)
        if outcome.verdict != "equivalent":
            break
    what = f"against {ref.name} at range length{'s' if len(lengths) > 1 else ''} {', '.join(map(str, lengths))}"
    v = Verdict(outcome.verdict, outcome.method, f"{what}: {outcome.message}", ref.name,
                counterexample=outcome.counterexample)
    return v, lengths, outcome.diagnosis


def names_quantity(text: str, ref) -> bool:
    """Whether ``text`` is one equation ``LHS = RHS`` whose left side names ``ref``'s quantity and has no
    range: a single form, read as :func:`symdl.check` reads it."""
    ch = chain(Text.of(text))
    return ch.relations == ("=",) and names(ch.sides[0].text, ref, gradient=False) and not has_range(text)


def names(lhs: str, ref, gradient: bool = True) -> bool:
    """Whether a left side names ``ref``'s quantity (any gap of a product of Jacobians); with ``gradient``,
    ``\\nabla_w X`` names ``\\frac{\\partial X}{\\partial w}``, the same derivative (REFERENCES.md, "Derivatives")."""
    got, want = lhs_key(lhs), lhs_key(ref.lhs) if ref.lhs else None
    got = gradient_key(got) if gradient else got
    if got == want:
        return True
    gap = re.compile(r"d\(h_[^)]*\)/d\(h_t\)")
    return bool(ref.variants and want and gap.fullmatch(got) and gap.fullmatch(want))


def single(display, scope, timeout) -> DerivationVerdict:
    """One formula (a right-hand side alone, or ``LHS = RHS`` naming the quantity), checked as
    :func:`symdl.check` checks it; with a range, at each range length."""
    row, ref = display.rows[0], scope.against
    text = row.math.text
    if has_range(text):
        try:
            v, lengths, found = at_lengths(scope, text, ref, timeout)
        except SideError as exc:
            v, lengths, found = Verdict("error", None, f"could not be read: {exc.message}", ref.name), None, None
    else:
        v, lengths = check(text, against=ref.name, timeout=timeout or TIMEOUT), None
        found = diagnose_form(text, ref.name) if v.verdict == "not_equivalent" else None
    answer = single_answer(v, text, found, line=row.line, column=row.column, reason=row.reason,
                           skipped=display.skipped)
    answer.steps[0].lengths = lengths
    return answer


def diagnose_form(text: str, against) -> dict | None:
    """The diagnosis of a single form that is not equivalent to ``against``, a name or a reference (``None``
    when none holds)."""
    ref = find_reference(against)
    if ref.variants:  # a product of Jacobians is compared at the gap the form is written for
        return None
    try:
        hand = read(text, ref).expr
    except Exception:  # the check has read it already; a diagnosis is only ever extra
        return None
    return diagnose(hand, ref.expr, ref)


def single_answer(v, text: str, diagnosis: dict | None = None, *, line: int = 1, column: int = 1, reason=None,
                  skipped=()) -> DerivationVerdict:
    """A single check's verdict as a derivation of one step: its own keys, and ``steps``."""
    ch = chain(Text.of(text))
    lhs, rhs = (ch.sides[0].text, ch.sides[1].text) if ch.relations == ("=",) else (None, text)
    step = Step(0, line, column, lhs, rhs, "link", v.verdict, v.method, v.message, reason,
                notes=list(v.details.get("notes", ())), counterexample=v.counterexample, diagnosis=diagnosis)
    section = v.reference.split(".", 1)[0] if v.reference else None
    return DerivationVerdict(v.verdict, v.message, section, [step], list(skipped), None,
                             0 if v.verdict == "not_equivalent" else None, v.method, single=replace(v))
