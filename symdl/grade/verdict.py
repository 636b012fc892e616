"""The answer to "is this hand form the reference?": a :class:`Verdict`, for people, programs and notebooks.

The answer (REFERENCES.md, "What a check answers") is one of :data:`VERDICTS`:

- ``equivalent``: every numeric trial agreed; ``method`` is ``"symbolic"`` when a
  proof was also found, ``"numeric"`` when the agreement is the evidence;
- ``not_equivalent``: a point where the two differ, at the smallest size;
- ``unknown``: neither the numbers nor a proof decided it within the limit;
- ``error``: the hand form could not be read (where, and why).

``str(verdict)`` is what a person reads, ``verdict.to_json()`` what a program or a batch line gets (strict
JSON), and a notebook shows it as markdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .counterexample import format_counterexample

VERDICTS = ("equivalent", "not_equivalent", "unknown", "error")


@dataclass(frozen=True)
class Verdict:
    """The answer of :func:`symdl.grade.check.check`; ``bool(verdict)`` is true only for ``equivalent``."""

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
        if self.details.get("notes"):
            out["notes"] = list(self.details["notes"])
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
