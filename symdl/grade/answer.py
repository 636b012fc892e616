r"""The answer for a whole derivation: one :class:`Step` per link, and the verdict of the whole.

REFERENCES.md, "What it answers": steps numbered from 0 in reading order, lines and columns from 1
in the original input; the verdict of the whole is ``error`` when any line could not be read, else
``not_equivalent`` when a link or the final answer is refuted, else ``unknown`` when one is
undecided or nothing was checked, else ``equivalent``; ``first_wrong`` is the first refuted link.
A single formula keeps the keys of a single check (``verdict``, ``method``, ``message``,
``counterexample``) and has ``steps`` as well.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

from .check import Verdict

#: A mark per verdict, for a person reading the output (ASCII beside, where the terminal has no Unicode).
MARKS = {"equivalent": ("✓", "ok"), "not_equivalent": ("✗", "XX"), "unknown": ("?", "??"), "error": ("!", "!!"),
         "defined": ("≔", ":="), "given": ("∴", "<-")}


@dataclass
class Step:
    """One line or chain link of the derivation."""

    index: int
    line: int
    column: int
    lhs: str | None
    rhs: str | None
    kind: str  # "definition" | "given" | "link" | "relation"
    verdict: str
    method: str | None = None
    message: str = ""
    reason: str | None = None
    lengths: list | None = None
    notes: list = field(default_factory=list)
    counterexample: dict | None = None
    diagnosis: dict | None = None
    relation: str = "="

    def __post_init__(self):
        # a right side broken across lines reads as one line
        self.lhs = " ".join(self.lhs.split()) if self.lhs is not None else None
        self.rhs = " ".join(self.rhs.split()) if self.rhs is not None else None

    def to_json(self) -> dict:
        return {"index": self.index, "line": self.line, "column": self.column, "lhs": self.lhs, "rhs": self.rhs,
                "kind": self.kind, "verdict": self.verdict, "method": self.method, "message": self.message,
                "reason": self.reason, "lengths": self.lengths, "notes": list(self.notes),
                "counterexample": self.counterexample, "diagnosis": self.diagnosis}

    def text(self) -> str:
        if self.lhs is None:
            return self.rhs or ""
        return f"{self.lhs} {self.relation} {self.rhs}"


def whole_verdict(steps: list, final: dict | None) -> str:
    verdicts = [s.verdict for s in steps] + ([final["verdict"]] if final else [])
    checked = any(v in ("equivalent", "not_equivalent") for v in verdicts)
    if "error" in verdicts:
        return "error"
    if "not_equivalent" in verdicts:
        return "not_equivalent"
    if "unknown" in verdicts or not checked:
        return "unknown"
    return "equivalent"


@dataclass
class DerivationVerdict:
    """What :func:`symdl.check_derivation` answers; ``bool()`` is true only for ``equivalent``."""

    verdict: str
    message: str
    model: str | None = None
    steps: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    final: dict | None = None
    first_wrong: int | None = None
    method: str | None = None
    single: Verdict | None = None  # the single check, when the input is one formula
    where: dict = field(default_factory=dict)  # line and column of an input not read at all

    def __bool__(self) -> bool:
        return self.verdict == "equivalent"

    @property
    def counterexample(self) -> dict | None:
        if self.single is not None:
            return self.single.counterexample
        wrong = self.first_wrong_step()
        return wrong.counterexample if wrong is not None else (self.final or {}).get("counterexample")

    def first_wrong_step(self) -> Step | None:
        return next((s for s in self.steps if s.index == self.first_wrong), None)

    def to_json(self) -> dict:
        out: dict[str, Any] = self.single.to_json() if self.single is not None else {}
        out.update({"verdict": self.verdict, "first_wrong": self.first_wrong, "model": self.model,
                    "method": self.method, "message": self.message, "final": self.final,
                    "steps": [s.to_json() for s in self.steps], "skipped": list(self.skipped)})
        if self.counterexample is not None:
            out["counterexample"] = self.counterexample
        out.update(self.where)
        return _strict(out)

    def __str__(self) -> str:
        if self.single is not None and len(self.steps) <= 1:
            found = self.steps[0].diagnosis if self.steps else None
            return str(self.single) + (f"\ndiagnosis: {found['kind']}: {found['detail']}" if found else "")
        lines = [f"{self.verdict}" + (f" ({self.model})" if self.model else "") + f": {self.message}"]
        lines += [_step_line(s) for s in self.steps]
        wrong = self.first_wrong_step()
        if wrong is not None:
            lines.append(f"step {wrong.index} (line {wrong.line}) is the first wrong step: {wrong.text()}")
            lines += _evidence(wrong.counterexample, wrong.diagnosis)
        if self.final is not None:
            lines.append(f"final answer against {self.final['against']}: {self.final['verdict'] or 'not checked'}: "
                         f"{self.final['message']}")
            if wrong is None:
                lines += _evidence(self.final.get("counterexample"), self.final.get("diagnosis"))
        if self.skipped:
            lines.append("skipped (prose): lines " + ", ".join(str(s["line"]) for s in self.skipped))
        return "\n".join(lines)

    def failure_message(self) -> str:
        """The decisive line first (the verdict and the step, or the final answer), then the
        counterexample, then the diagnosis; the whole answer after them."""
        step = self.first_wrong_step() or next((s for s in self.steps if s.verdict == self.verdict), None)
        steps = ["", "the steps:", *(_step_line(s) for s in self.steps)] if len(self.steps) > 1 else []
        if self.verdict == "error":
            head = "could not be read: " + (f"step {step.index} (line {step.line}, column {step.column}): "
                                            f"{step.text()}: {step.message}" if step else self.message)
            return "\n".join([head, *steps])
        if step is not None:
            head = f"{self.verdict.replace('_', ' ')}: step {step.index} (line {step.line}): {step.text()}"
            evidence = _evidence(step.counterexample, step.diagnosis)
            return "\n".join([head, step.message, *evidence, *steps])
        final = self.final or {}
        head = f"{self.verdict.replace('_', ' ')}: the final answer against {final.get('against')}: {self.message}"
        return "\n".join([head, *_evidence(final.get("counterexample"), final.get("diagnosis")), *steps])

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{_mark(s.verdict)}</td><td>{s.line}</td><td>{html.escape(s.verdict)}</td>"
            f"<td><code>{html.escape(s.text())}</code></td><td>{html.escape(s.message)}"
            + (f"<br><b>{html.escape(s.diagnosis['kind'])}</b>: {html.escape(s.diagnosis['detail'])}"
               if s.diagnosis else "") + "</td></tr>"
            for s in self.steps)
        head = f"<p><b>{html.escape(self.verdict)}</b>: {html.escape(self.message)}</p>"
        return head + ("<table><tr><th></th><th>line</th><th>verdict</th><th>step</th><th>why</th></tr>"
                       f"{rows}</table>" if rows else "")


def _mark(verdict: str) -> str:
    return MARKS.get(verdict, ("?", "??"))[0]


def _step_line(step: Step) -> str:
    reason = f"  [{step.reason}]" if step.reason else ""
    return f"  {_mark(step.verdict)} line {step.line:>3}  step {step.index:>2}  {step.verdict:<14} {step.text()}" \
           f"{reason}\n        {step.message}"


def _evidence(cx: dict | None, diagnosis: dict | None) -> list[str]:
    out = []
    if cx is not None:
        out.append(str(Verdict("not_equivalent", "numeric", "", counterexample=cx)).split("\n", 1)[-1])
    if diagnosis is not None:
        out.append(f"diagnosis: {diagnosis['kind']}: {diagnosis['detail']}")
    return out


def _strict(x):
    """JSON-safe: infinities and NaN as strings (strict readers reject a bare ``Infinity``)."""
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")
    if isinstance(x, dict):
        return {k: _strict(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_strict(v) for v in x]
    return x
