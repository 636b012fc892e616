"""Verification: every result checked three ways where it can be.

- ``symbolic``: a proof by SymPy, in a child process killed at a time limit;
- ``numeric``: agreement in float64 at random, well-scaled points, at two or
  more sizes, by relative error (no rounding, no chopping);
- ``oracle``: agreement with PyTorch (autograd, ``nn.LSTMCell``, ``torch.optim``,
  ``torch.distributions``), computed by code that shares nothing with symdl's.

A :class:`CheckSpec` says how to make a check; running it gives a
:class:`Check`.  A check that could not be made (a proof that timed out) is
reported as not made, never as passed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

# compare_trials and relative_error are named here too: models and derivations write their checks with them
from ..numeric.compare import TOLERANCES, compare_trials, relative_error  # noqa: F401
from .bounded import call_limited, run_bounded

METHODS = ("symbolic", "numeric", "oracle")
#: Relative tolerance of numeric and oracle checks in float64 (an entry of the one table).
RTOL = TOLERANCES["check"]
#: Default wall-clock limit of one symbolic proof, in seconds.
PROOF_TIMEOUT = 60.0


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    method: str
    passed: bool
    detail: str
    made: bool = True
    max_error: float | None = None
    seconds: float = 0.0

    def to_json(self) -> dict:
        out = {"method": self.method, "passed": self.passed, "detail": self.detail, "made": self.made}
        if self.max_error is not None:
            out["max_error"] = self.max_error
        return out

    @property
    def mark(self) -> str:
        if not self.made:
            return "not made"
        return "passed" if self.passed else "FAILED"


@dataclass(frozen=True)
class CheckSpec:
    """How to make a check: ``run()`` returns ``(passed, detail, max_error)``.

    A symbolic check runs in a child process with ``timeout`` seconds; its
    ``run`` must return picklable values.
    """

    method: str
    description: str
    run: Callable[[], tuple]  # passed is None when the check could not decide
    timeout: float | None = None

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown check method {self.method!r}; expected one of {METHODS}")


@dataclass(frozen=True)
class Result:
    """The checks of one reference or step, and the status they give."""

    name: str
    checks: tuple[Check, ...] = field(default_factory=tuple)
    kind: str = "reference"

    @property
    def status(self) -> str:
        """``"given"`` for a premise or definition stated without checks (``kind="given"``), else the checks' outcome."""
        if self.kind == "given" and not self.checks:
            return "given"
        if any(c.made and not c.passed for c in self.checks):
            return "refuted"
        if any(c.made and c.passed for c in self.checks):
            return "verified"
        return "unverified"

    @property
    def max_error(self) -> float | None:
        errs = [c.max_error for c in self.checks if c.max_error is not None]
        return max(errs) if errs else None

    def to_json(self) -> dict:
        return {"name": self.name, "kind": self.kind, "status": self.status,
                "checks": [c.to_json() for c in self.checks]}


def run_check(spec: CheckSpec) -> Check:
    """Make one check; an exception inside it is a failed check that says where.

    A symbolic check (``spec.timeout`` set) runs in a forked child (:func:`~symdl.verify.bounded.run_bounded`).
    """
    t0 = time.perf_counter()
    if spec.timeout is not None:
        try:
            out = run_bounded(spec.run, timeout=spec.timeout)
        except Exception as exc:  # the child could not be started
            return Check(spec.method, False, f"{spec.description}: raised {type(exc).__name__}: {exc}",
                         seconds=time.perf_counter() - t0)
        return check_of(spec, out.status, out.value, out.message, time.perf_counter() - t0)
    return _plain(spec, t0)


def run_in_worker(spec: CheckSpec) -> Check:
    """Make one check in a worker process whose wall-clock limit someone else keeps (:mod:`symdl.run.build`).

    A symbolic check runs in this process under the proof's memory and recursion limits
    (:func:`~symdl.verify.bounded.call_limited`) instead of in a child forked for it; the process that started the
    worker kills it at ``spec.timeout`` and records it :func:`not_made`.  Everything else is as :func:`run_check`.
    """
    t0 = time.perf_counter()
    if spec.timeout is not None:
        status, value, message = call_limited(spec.run)
        return check_of(spec, status, value, message, time.perf_counter() - t0)
    return _plain(spec, t0)


def not_made(method: str, description: str, why: str, seconds: float = 0.0) -> Check:
    """A check that could not be made, and why (``"no answer within 60 s"``): what :func:`run_check` reports
    for a proof whose child timed out or died."""
    return Check(method, False, f"not made: {description}: {why}", made=False, seconds=seconds)


def check_of(spec: CheckSpec, status: str, value, message: str, seconds: float) -> Check:
    """The :class:`Check` of a bounded proof's outcome (``"ok"``, ``"timeout"`` or ``"error"``)."""
    if status != "ok":
        return not_made(spec.method, spec.description, message, seconds)
    try:
        passed, detail, err = value
    except Exception as exc:  # a check that raises failed, and says why
        return Check(spec.method, False, f"{spec.description}: raised {type(exc).__name__}: {exc}", seconds=seconds)
    return _outcome(spec, passed, detail, err, seconds)


def _plain(spec: CheckSpec, t0: float) -> Check:
    try:
        passed, detail, err = spec.run()
    except Exception as exc:  # a check that raises failed, and says why
        return Check(spec.method, False, f"{spec.description}: raised {type(exc).__name__}: {exc}",
                     seconds=time.perf_counter() - t0)
    return _outcome(spec, passed, detail, err, time.perf_counter() - t0)


def _outcome(spec: CheckSpec, passed, detail, err, seconds: float) -> Check:
    text = f"{spec.description}: {detail}" if detail else spec.description
    if passed is None:
        return Check(spec.method, False, "not made: " + text, made=False, seconds=seconds)
    return Check(spec.method, bool(passed), text, max_error=err, seconds=seconds)


#: What makes a list of checks, in order: :func:`run_many` here, or a build's workers sharing them out
#: (:meth:`symdl.run.tasks.DocumentWorker.run_many`, which the loader hands a derivation as it builds it).
Runner = Callable[[Sequence[CheckSpec]], list[Check]]


def run_many(specs: Sequence[CheckSpec], runner: Runner | None = None) -> list[Check]:
    """Make every check of ``specs``, in order: by ``runner`` when one is given, else one after another here."""
    if runner is not None:
        return runner(list(specs))
    return [run_check(s) for s in specs]


def run_checks(name: str, specs: Sequence[CheckSpec], kind: str = "reference") -> Result:
    return Result(name, tuple(run_check(s) for s in specs), kind)

