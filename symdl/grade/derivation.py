r"""Checking a whole derivation, line by line: ``check_derivation(text, model=None, against=None)``.

REFERENCES.md, "Checking a whole derivation", is the contract.  The display mathematics is read
out of the text (:mod:`symdl.reader.display`), each row cut at its relations
(:mod:`symdl.reader.chain`); every link is one step, numbered from 0 in reading order:

- a left side that is one symbol the model does not know is a ``definition`` (``:=`` always is;
  ``:=`` on a model name, or a name close to a model name, is an ``error`` naming it); one that
  sets a family's first value (``m_0 = 0``) is ``given``;
- a relation other than ``=`` is a ``relation`` step, ``unknown``, the relation named;
- any other link is checked: both sides read in the model's symbols (:class:`~symdl.grade.scope.Scope`),
  the new side held against the earlier one, the person's claim so far
  (:func:`~symdl.grade.compare.compare`).

With ``against``, the last right side is also checked against the reference when the derivation
ends on the reference's quantity (or has no left side).  One formula with no relation is a single
check, as :func:`symdl.check` makes it, with ``steps`` beside its keys.
"""

from __future__ import annotations

import re
import time

from ..reader import lhs_key, read
from ..reader.chain import chain, is_symbol, without_let
from ..reader.display import DisplayError, read_display
from ..reader.names import canon
from ..reader.source import Text
from .answer import DerivationVerdict, Step, whole_verdict
from .check import TIMEOUT, check
from .compare import bounded_compare
from .diagnose import diagnose
from .scope import PairError, Scope, SideError
from .topics import TopicError, infer, references, resolve


def check_derivation(text: str, model: str | None = None, against: str | None = None, *,
                     timeout: float | None = None, total_timeout: float | None = None,
                     seed: int = 0) -> DerivationVerdict:
    """Every link of the derivation in ``text`` checked against the model (``model``, or the topic of
    ``against``, or the one topic whose symbols the text uses).  ``timeout`` bounds each link (in a
    child process killed at the limit; ``None``: no limit, in this process), ``total_timeout`` the
    whole: links not yet checked by then are ``unknown``."""
    try:
        display = read_display(text)
    except DisplayError as exc:
        return DerivationVerdict("error", f"could not be read: {exc}", where={"line": exc.line, "column": exc.column})
    if display.single and against is None:
        return DerivationVerdict("error", "one formula without a relation is a right-hand side alone: give "
                                 "--against NAME to say which reference it is", model, skipped=display.skipped)
    try:
        topic, ref = resolve(model, against)
        topic = topic or infer("\n".join(_texts(display)))
    except TopicError as exc:
        return DerivationVerdict("error", str(exc), skipped=display.skipped)
    if display.single or (ref is not None and len(display.rows) == 1 and names_quantity(display.rows[0].math.text, ref)):
        return _single(display, topic, ref, timeout)
    run = _Run(display, Scope(references(topic), ref), timeout, total_timeout, seed)
    for row in display.rows:
        run.row(row)
    final = run.final()
    return _answer(run, topic, final)


def _texts(display) -> list[str]:
    return [r.math.text for r in display.rows] + [r.definition.text for r in display.rows if r.definition]


class _Run:
    """The state of one reading: the steps so far, the chain being continued, the clock."""

    def __init__(self, display, scope: Scope, timeout, total_timeout, seed: int):
        self.display, self.scope, self.seed = display, scope, seed
        self.timeout = timeout
        self.deadline = time.monotonic() + total_timeout if total_timeout is not None else None
        self.total = total_timeout
        self.steps: list[Step] = []
        self.chain_lhs = None  # the left side the current chain began with
        self.last_right = None  # the last right side (Text), continued by a row beginning with "="
        self.last_good = None  # the last side that was read, the claim when a side cannot be

    def add(self, step: Step) -> Step:
        step.index = len(self.steps)
        self.steps.append(step)
        return step

    def where(self, text, i: int = 0) -> tuple[int, int]:
        return self.display.position(text, i)

    # -- rows ------------------------------------------------------------------------------------
    def row(self, row) -> None:
        mark, good = len(self.steps), self.last_good
        if row.definition is not None:  # applied to its own line: read first, reported after the line
            self.links(chain(row.definition), row.definition, list(chain(row.definition).sides), row.reason, True)
        pending, self.last_good = self.steps[mark:], good
        del self.steps[mark:]
        ch = chain(row.math)
        sides = list(ch.sides)
        if not ch.relations or (ch.continues and self.last_right is None):
            why = ("a formula without a relation in a derivation: write it as a link (A = B), or give it alone to "
                   "check it against a reference" if not ch.relations else
                   "the line begins with a relation, but no formula comes before it")
            self.add(Step(0, row.line, row.column, None, row.math.text, "link", "error", None, why, row.reason))
        else:
            if ch.continues:
                sides[0] = self.last_right
            else:
                self.chain_lhs = sides[0]
            self.links(ch, row.math, sides, row.reason, not ch.continues)
            self.last_right = sides[-1]
        for step in pending:
            self.add(step)

    def links(self, ch, text, sides, reason, starts: bool) -> None:
        """Each link of a row's chain, the first classified when the row starts a chain."""
        for k, rel in enumerate(ch.relations):
            self.link(sides[k], sides[k + 1], rel, self.where(text, ch.at[k]), reason, first=k == 0 and starts)

    def link(self, left, right, rel: str, at: tuple, reason, first: bool) -> None:
        kind = self.classify(left, rel) if first else ("link" if rel == "=" else "relation")
        if isinstance(kind, Step):
            kind.line, kind.column, kind.reason, kind.rhs = *at, reason, right.text
            self.add(kind)
        elif kind in ("definition", "given"):
            self.definition(without_let(left), rel, kind, right, reason, at)
        elif kind == "relation":
            self.add(Step(0, *at, left.text, right.text, "relation", "unknown", None,
                          f"{rel} is a relation symdl does not check (only = is): this step is not decided",
                          reason, relation=rel))
            self.last_good = right
        else:
            self.add(self.check(left, right, at, reason))

    def classify(self, left, rel: str):
        """``"definition"``, ``"given"``, ``"link"``, ``"relation"``, or an error :class:`Step`."""
        name = without_let(left).text
        if rel not in ("=", ":="):
            return "relation"
        if not is_symbol(name):
            if rel == ":=":
                return _error(left, ":= defines one name; its left side is not one symbol")
            return "link"
        key = canon(name)
        if rel == ":=":
            if self.scope.is_model_name(key):
                return _error(left, f"{name} is a name of the model; := would redefine it: choose another name")
            return "definition"
        if key in self.scope.defined or self.scope.is_model_name(key):
            return "link"
        close = self.scope.resembles(key)
        if close is not None:
            return _error(left, f"{name} is not a name of the model, but it resembles {close}: write {close}, or "
                                "a name that is not close to one of the model's")
        return "given" if re.fullmatch(r".+_0", key) else "definition"

    def definition(self, left, rel, kind, right, reason, at=None) -> Step:
        """``left`` defined (or given) as ``right``'s value, for this line and the lines after."""
        at = at or self.where(left)
        try:
            value = self.scope.side(right.text, prefer=self.scope.against)
        except SideError as exc:
            return self.add(self.unread(left, right, exc, right, at, reason))
        self.scope.define(left.text, value.expr)
        self.last_good = right
        what = "the first value of a family, used by the lines after it" if kind == "given" else \
            "a name of the person's own, defined for this line and the lines after it"
        return self.add(Step(0, *at, left.text, right.text, kind, "defined" if kind == "definition" else "given",
                             None, f"{left.text}: {what}", reason))

    # -- links ------------------------------------------------------------------------------------
    def check(self, left, right, at, reason) -> Step:
        if self.deadline is not None and time.monotonic() > self.deadline:
            return Step(0, *at, left.text, right.text, "link", "unknown", None,
                        f"not checked: the derivation's time limit of {self.total:g} s was reached", reason)
        notes = []
        try:
            a, b = self.scope.pair(left.text, right.text)
        except PairError as exc:
            failed = left if exc.which == "left" else right
            if exc.which == "right" or self.last_good is None or self.last_good is left:
                return self.unread(left, right, exc, failed, at, reason)
            try:  # the earlier side is unreadable: the claim so far is the last side that was read
                a, b = self.scope.pair(self.last_good.text, right.text)
            except PairError as again:
                return self.unread(left, right, again, right if again.which == "right" else failed, at, reason)
            notes.append(f"compared with the last side that could be read (line {self.where(self.last_good)[0]})")
        self.last_good = right
        outcome = bounded_compare(a.expr, b.expr, a.ref, timeout=self._limit(), seed=self.seed)
        notes += [f"read in the symbols of {a.ref.name}"]
        return Step(0, *at, left.text, right.text, "link", outcome.verdict, outcome.method, outcome.message, reason,
                    notes=notes, counterexample=outcome.counterexample, diagnosis=outcome.diagnosis)

    def _limit(self) -> float | None:
        if self.deadline is None:
            return self.timeout
        left = max(0.1, self.deadline - time.monotonic())
        return left if self.timeout is None else min(self.timeout, left)

    def unread(self, left, right, exc: SideError, failed, at, reason) -> Step:
        line, column = self.where(failed, exc.position or 0) if exc.position is not None else self.where(failed)
        return Step(0, line, column, left.text, right.text, "link", "error", None,
                    f"could not be read: {exc.message} (line {line}, column {column})", reason)

    # -- the final answer ---------------------------------------------------------------------------
    def final(self) -> dict | None:
        ref = self.scope.against
        if ref is None or self.last_right is None:
            return None
        if self.chain_lhs is not None and not _names(self.chain_lhs.text, ref):
            return {"verdict": None, "against": ref.name, "method": None,
                    "message": f"the derivation ends on {self.chain_lhs.text}, not on {ref.lhs}: the final answer "
                               f"is not checked against {ref.name}, and the verdict rests on the links"}
        try:
            expr = self.scope.read(self.last_right.text, ref)
        except SideError as exc:
            return {"verdict": "error", "against": ref.name, "method": None,
                    "message": f"the last right side could not be read in {ref.name}'s symbols: {exc.message}"}
        v = check(expr, against=ref.name, timeout=self.timeout or TIMEOUT, seed=self.seed)
        out = {"verdict": v.verdict, "against": ref.name, "method": v.method, "message": v.message}
        if v.counterexample is not None:
            out["counterexample"] = v.counterexample
        if v.verdict == "not_equivalent":
            out["diagnosis"] = diagnose(expr, ref.expr, ref, seed=self.seed)
        return out


def names_quantity(text: str, ref) -> bool:
    """Whether ``text`` is one equation ``LHS = RHS`` whose left side names ``ref``'s quantity: a single
    form, read as :func:`symdl.check` reads it."""
    ch = chain(Text.of(text))
    return ch.relations == ("=",) and _names(ch.sides[0].text, ref)


def _names(lhs: str, ref) -> bool:
    """Whether a left side names ``ref``'s quantity (any gap of a product of Jacobians)."""
    got, want = lhs_key(lhs), lhs_key(ref.lhs) if ref.lhs else None
    if got == want:
        return True
    gap = re.compile(r"d\(h_[^)]*\)/d\(h_t\)")
    return bool(ref.variants and want and gap.fullmatch(got) and gap.fullmatch(want))


def _error(text, message: str, line: int = 0, column: int = 0) -> Step:
    return Step(0, line, column, text.text, None, "link", "error", None, message)


def _answer(run: _Run, topic: str, final: dict | None) -> DerivationVerdict:
    steps = run.steps
    counted = final if final and final.get("verdict") else None
    verdict = whole_verdict(steps, counted)
    wrong = next((s for s in steps if s.verdict == "not_equivalent"), None)
    first = next((s for s in steps if s.verdict == verdict and verdict != "equivalent"), None)
    if first is not None:
        message = f"step {first.index} (line {first.line}): {first.verdict.replace('_', ' ')}: {first.message}"
        if first.diagnosis:
            message += f" ({first.diagnosis['kind']}: {first.diagnosis['detail']})"
    elif counted and counted["verdict"] == verdict and verdict != "equivalent":
        message = f"the final answer against {counted['against']}: {counted['message']}"
    else:
        links = sum(1 for s in steps if s.kind == "link")
        message = (f"{links} link{'s' if links != 1 else ''} checked, all equivalent" if links else "no link checked")
        if final:
            message += f"; final answer against {final['against']}: {final['verdict'] or 'not checked'}"
        if final and final.get("verdict") == "not_equivalent" and final.get("diagnosis"):
            message += f" ({final['diagnosis']['kind']}: {final['diagnosis']['detail']})"
    return DerivationVerdict(verdict, message, topic, steps, run.display.skipped, final,
                             wrong.index if wrong else None)


def _single(display, topic: str, ref, timeout) -> DerivationVerdict:
    """One formula, no relation: a right-hand side alone, checked as :func:`symdl.check` checks it."""
    row = display.rows[0]
    v = check(row.math.text, against=ref.name, timeout=timeout or TIMEOUT)
    found = diagnose_form(row.math.text, ref.name) if v.verdict == "not_equivalent" else None
    return single_answer(v, row.math.text, found, line=row.line, column=row.column, reason=row.reason,
                         skipped=display.skipped)


def diagnose_form(text: str, against: str) -> dict | None:
    """The diagnosis of a single form that is not equivalent to ``against`` (``None`` when none holds)."""
    from ..model.registry import ref as find

    ref = find(against)
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
    step = Step(0, line, column, None, text, "link", v.verdict, v.method, v.message, reason,
                counterexample=v.counterexample, diagnosis=diagnosis)
    section = v.reference.split(".", 1)[0] if v.reference else None
    return DerivationVerdict(v.verdict, v.message, section, [step], list(skipped), None,
                             0 if v.verdict == "not_equivalent" else None, v.method, single=v)
