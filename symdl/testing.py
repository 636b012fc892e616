"""Test helpers for courses using symdl; also registered as a pytest plugin (pytest11).

``assert_equivalent(r"...", "lstm.cell_jacobian")`` passes when the hand form is equivalent to the
reference and fails with a message whose first line is the decisive one: the verdict (or "could not be
read", with the place), then the counterexample, then the diagnosis.  The helpers hide their own frames
from pytest's traceback (``__tracebackhide__``), so a failure points at the course's test, not here.
Loaded as a plugin, the module offers the ``symdl_check`` fixture.
"""

from __future__ import annotations


def assert_equivalent(hand, against, *, timeout: float | None = None, allow_unknown: bool = False):
    """Fail unless ``hand`` (LaTeX or SymPy) is equivalent to reference ``against`` (a name or a
    :class:`~symdl.model.reference.Reference`).

    An ``unknown`` answer fails too, unless ``allow_unknown``: a test that cannot
    be decided is not a passing test.  Returns the verdict.
    """
    __tracebackhide__ = True
    from .grade.check import TIMEOUT, check

    verdict = check(hand, against=against, timeout=TIMEOUT if timeout is None else timeout)
    if verdict.verdict == "equivalent" or (allow_unknown and verdict.verdict == "unknown"):
        return verdict
    raise AssertionError(_failure(hand, against, verdict))


def _failure(hand, against, verdict) -> str:
    """The verdict's decisive line first, then the form, the counterexample and the diagnosis."""
    from .grade.final import diagnose_form
    from .grade.verdict import Verdict

    name = getattr(against, "name", against)
    shown = hand if isinstance(hand, str) else repr(hand)
    if verdict.verdict == "error":
        head = f"hand form could not be read against {name} (error): {verdict.message}"
        return "\n".join([head, *([verdict.caret] if verdict.caret else [f"  {shown}"])])
    what = {"not_equivalent": "is not equivalent to", "unknown": "is undecided (unknown) against"}[verdict.verdict]
    lines = [f"hand form {what} {name}: {verdict.message}", f"  {shown}"]
    if verdict.counterexample is not None:
        lines.append(str(Verdict("not_equivalent", None, "", counterexample=verdict.counterexample)).split("\n", 1)[1])
    found = diagnose_form(hand, against) if verdict.verdict == "not_equivalent" and isinstance(hand, str) else None
    if found is not None:
        lines.append(f"diagnosis: {found['kind']}: {found['detail']}")
    return "\n".join(lines)


def assert_derivation(text: str, against=None, *, model: str | None = None, timeout: float | None = None):
    """Fail unless every link of the derivation ``text`` holds (and its final answer, with ``against``).

    The message puts the decisive line first: the verdict and the first wrong step (or the line that
    could not be read), then its counterexample, then its diagnosis.  Returns the answer.
    """
    __tracebackhide__ = True
    from .grade.derivation import check_derivation

    answer = check_derivation(text, model=model, against=getattr(against, "name", against), timeout=timeout)
    if answer.verdict == "equivalent":
        return answer
    raise AssertionError(answer.failure_message())


try:  # the fixture exists where pytest does; assert_equivalent works without it
    import pytest
except ImportError:  # pragma: no cover - pytest is a test dependency only
    pytest = None

if pytest is not None:

    @pytest.fixture
    def symdl_check():
        """``symdl.check``, for tests that look at the verdict themselves."""
        from .grade.check import check

        return check
