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
  (:func:`~symdl.grade.compare.compare`);
- a link with a range or a family is written out at several lengths: in a model with a range
  (rnn.jacobian_product) at range lengths 1 to 4, in one whose references are a loop's pass
  (optim.adam) at ``t = 0, 1, 2, 3``, the loop unrolled from the premises given so far
  (:mod:`symdl.grade.recurrence`).

With ``against``, the last right side is also checked against the reference when the derivation
ends on the reference's quantity (or has no left side).  One formula with no relation is a single
check, as :func:`symdl.check` makes it, with ``steps`` beside its keys.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from functools import partial

from ..reader.chain import CONNECTIVES, chain, is_symbol, relations, without_let
from ..reader.display import DisplayError, read_display
from ..reader.names import canon
from ..reader.ranges import at_index, has_family, has_range, unroll
from ..verify.bounded import run_bounded
from .answer import DerivationVerdict, Step, whole_verdict
from .compare import Outcome, bounded_compare
from .diagnose import diagnose
from .final import final_answer, names_quantity, single
from .recurrence import at_step, over_steps, unrollable, unrolled
from .scope import PairError, Scope, SideError
from .topics import TopicError, infer, names_in, references, resolve


def check_derivation(text: str, model: str | None = None, against: str | None = None, *,
                     timeout: float | None = None, total_timeout: float | None = None,
                     seed: int = 0, lengths: int | None = None) -> DerivationVerdict:
    """Every link of the derivation in ``text`` checked against the model (``model``, or the topic of
    ``against``, or the one topic whose symbols the text uses).  ``timeout`` bounds each link (in a
    child process killed at the limit; ``None``: no limit, in this process), ``total_timeout`` the
    whole: links not yet checked by then are ``unknown``.  A link with a range or a family is checked
    at range lengths 1 to ``lengths`` (default 4)."""
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
    scope = Scope(references(topic), ref)
    if lengths is not None:
        scope.lengths = tuple(range(1, lengths + 1))
    rows = display.rows
    inline = bool(rows) and rows[0].definition is not None  # one line and its definition: read as a derivation
    if not inline and (display.single or (ref is not None and len(rows) == 1 and
                                          names_quantity(rows[0].math.text, ref))):
        answer = single(display, scope, timeout)
        answer.model = topic
        return answer
    run = _Run(display, scope, timeout, total_timeout, seed)
    for row in display.rows:
        run.row(row)
    if run.deadline is not None and time.monotonic() > run.deadline and ref is not None:
        final = {"verdict": "unknown", "against": ref.name, "method": None,
                 "message": f"not checked: the derivation's time limit of {total_timeout:g} s was reached"}
    else:
        final = final_answer(scope, run.chain_lhs, run.last_right, run.timeout, seed)
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
        self.explicit: set | None = None  # while an inline definition is read: the names its line uses

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
            self.explicit = names_in(row.math.text) | names_in(row.definition.text)
            try:
                self.links(chain(row.definition), row.definition, list(chain(row.definition).sides), row.reason, True)
            finally:
                self.explicit = None
        pending, self.last_good = self.steps[mark:], good
        del self.steps[mark:]
        ch = chain(row.math)
        sides = list(ch.sides)
        if any(rel in CONNECTIVES for rel in ch.relations):
            self.statement(row, ch)
        elif not ch.relations and self.display.single:  # a right side alone, its definition read: the final answer
            self.chain_lhs, self.last_right = None, sides[0]
        elif not ch.relations or (ch.continues and self.last_right is None):
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

    def statement(self, row, ch) -> None:
        """A row joined by an implication or an equivalence: one claim about statements, not decided.

        Its ``=`` belong to the statements (``\\gamma = 1 \\Rightarrow \\alpha = 1``), so none is a link; the
        chain of the rows before ends here."""
        text = row.math.text
        k = next(i for i, rel in enumerate(ch.relations) if rel in CONNECTIVES)
        cut = relations(text)[k]
        self.add(Step(0, *self.where(row.math, cut.start), text[:cut.start].strip(), text[cut.end:].strip(),
                      "relation", "unknown", None, f"{ch.relations[k]} joins statements, which symdl does not check (only = between two "
                      "expressions is): this line is not decided; to have the consequence checked, write it as an "
                      "equation on a line of its own", row.reason, relation=ch.relations[k]))
        self.chain_lhs = self.last_right = None

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
            self.add(self.check(left, right, at, reason, continued=not first))

    def classify(self, left, rel: str):
        """``"definition"``, ``"given"``, ``"link"``, ``"relation"``, or an error :class:`Step`."""
        name = without_let(left).text
        if rel not in ("=", ":="):
            return "relation"
        if not is_symbol(name) or has_range(name) or has_family(name):
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
        if self.scope.is_function(key):
            return _error(left, f"{name} is a function of the model; it is not redefined: choose another name")
        close = self.scope.resembles(key)
        if close is not None and not self.deliberate(close):
            return _error(left, f"{name} is not a name of the model, but it resembles {close}: write {close}, or "
                                "a name that is not close to one of the model's")
        return "given" if re.fullmatch(r".+_0", key) else "definition"

    def deliberate(self, close: str) -> bool:
        r"""Whether a name close to the model's ``close`` is a deliberate definition: one written inline
        (``, \; Z = \int_y ...``, ``\text{where } u_t = ...``) on a line that does not use ``close``
        itself.  Such a definition is explicit, and its line cannot confuse it with the model's name
        (``Z`` beside ``z``); a row that merely begins with a near name (``f_t' = ...``) keeps the guard."""
        return self.explicit is not None and canon(close) not in self.explicit

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
    def check(self, left, right, at, reason, continued: bool = True) -> Step:
        """The link ``left = right``; when ``left`` continues a chain and cannot be read, the claim so far
        is the last side that was read."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            return Step(0, *at, left.text, right.text, "link", "unknown", None,
                        f"not checked: the derivation's time limit of {self.total:g} s was reached", reason)
        if self.scope.variable_range() is None and (over_steps(left.text) or over_steps(right.text)):
            return self.check_steps(left, right, at, reason)
        if has_range(left.text) or has_range(right.text) or has_family(left.text) or has_family(right.text):
            return self.check_range(left, right, at, reason)
        notes = []
        self.scope.readings.clear()
        try:
            a, b = self.scope.pair(left.text, right.text)
        except PairError as exc:
            failed = left if exc.which == "left" else right
            if exc.which == "right" or not continued or self.last_good is None or self.last_good is left:
                return self.unread(left, right, exc, failed, at, reason)
            try:  # the earlier side is unreadable: the claim so far is the last side that was read
                a, b = self.scope.pair(self.last_good.text, right.text)
            except PairError as again:
                return self.unread(left, right, again, right if again.which == "right" else failed, at, reason)
            notes.append(f"compared with the last side that could be read (line {self.where(self.last_good)[0]})")
        self.last_good = right
        readings = list(self.scope.readings)
        outcome = self.decide(a.expr, b.expr, a.ref)
        notes += [f"read in the symbols of {a.ref.name}", *readings]
        return Step(0, *at, left.text, right.text, "link", outcome.verdict, outcome.method,
                    with_readings(outcome.message, readings), reason, notes=notes,
                    counterexample=outcome.counterexample, diagnosis=outcome.diagnosis)

    def check_range(self, left, right, at, reason) -> Step:
        """A link with a product or sum over a range (or ``\\tau``), or a family ``h_k``, in a model with a
        range (rnn.jacobian_product): at each range length ``L``, or each index ``k = t + L``."""
        family = self.scope.variable_range()
        if family is None:
            return Step(0, *at, left.text, right.text, "link", "error", None, "a product or sum over a range, "
                        "\\tau or a family h_k is read only in a model with a range (rnn.jacobian_product), or "
                        "one whose references are a loop's pass (optim.adam)", reason)
        ranged = has_range(left.text) or has_range(right.text)
        write, what, note = (unroll, "range length", "\\tau = t + L") if ranged else \
            (at_index, "index k = t +", "k = t + L")
        return self.at_lengths(left, right, at, reason, what, note,
                               lambda length: (write(left.text, length), write(right.text, length),
                                               [family.at(gap=length)]))

    def check_steps(self, left, right, at, reason) -> Step:
        """A link over a loop's steps (``\\sum_{k=0}^{t} \\beta_1^{t-k} g_k``): the model unrolled from its
        first values (the premises given so far) and the link written out at ``t = L - 1``, for each L."""
        loops = [r for r in self.scope.refs if unrollable(r)]
        if not loops:
            return self.check_range(left, right, at, reason)
        given = {key: value for key, (_, _, value) in self.scope.defined.items()}
        return self.at_lengths(left, right, at, reason, "t + 1 =", "t + 1 = L: the loop unrolled from its first "
                               "values, for each L listed under lengths",
                               lambda length: (at_step(left.text, length - 1), at_step(right.text, length - 1),
                                               [unrolled(r, length - 1, given) for r in loops]))

    def at_lengths(self, left, right, at, reason, what: str, note: str, written) -> Step:
        """The link checked at each length ``L`` in turn (``written(L)``: both sides as text and the
        references to read them in), until one is not equivalent."""
        lengths = []
        self.scope.readings.clear()
        for length in self.scope.lengths:
            left_text, right_text, refs = written(length)
            try:
                a, b = self.scope.pair(left_text, right_text, refs=refs)
            except PairError as exc:
                return Step(0, *at, left.text, right.text, "link", "error", None,
                            f"could not be read at {what} {length}: {exc.message}", reason)
            outcome = self.decide(a.expr, b.expr, a.ref)
            lengths.append(length)
            if outcome.verdict != "equivalent":
                break
        self.last_good = right
        where = f"at {what} {', '.join(map(str, lengths))}"
        readings = list(self.scope.readings)
        return Step(0, *at, left.text, right.text, "link", outcome.verdict, outcome.method,
                    with_readings(f"{where}: {outcome.message}", readings), reason, lengths, [note, *readings],
                    outcome.counterexample, outcome.diagnosis)

    def decide(self, claim, hand, ref) -> Outcome:
        """The link's verdict, by the numeric witness under the link's limit; then, for a refuted link, its
        diagnosis under a limit of its own: a diagnosis slow to find never costs the verdict."""
        outcome = bounded_compare(claim, hand, ref, timeout=self._limit(), seed=self.seed, diagnose_it=False)
        if outcome.verdict != "not_equivalent":
            return outcome
        if self.timeout is None and self.deadline is None:
            return replace(outcome, diagnosis=diagnose(hand, claim, ref, seed=self.seed))
        found = run_bounded(partial(diagnose, seed=self.seed), hand, claim, ref, timeout=self._limit(), memory=None)
        return replace(outcome, diagnosis=found.value if found.status == "ok" else None)

    def _limit(self) -> float | None:
        if self.deadline is None:
            return self.timeout
        left = max(0.1, self.deadline - time.monotonic())
        return left if self.timeout is None else min(self.timeout, left)

    def unread(self, left, right, exc: SideError, failed, at, reason) -> Step:
        line, column = self.where(failed, exc.position or 0) if exc.position is not None else self.where(failed)
        return Step(0, line, column, left.text, right.text, "link", "error", None,
                    f"could not be read: {exc.message} (line {line}, column {column})", reason)


def with_readings(message: str, readings: list) -> str:
    """A link's message with the reader's notes (``read a(1 - a) as a \\odot (1 - a)``) after it, as a single
    check says them: a reading the person may not have meant is never silent."""
    return "; ".join([message, *readings])


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
