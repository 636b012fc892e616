"""Test helpers for courses using symdl; also registered as a pytest plugin (pytest11).

``assert_equivalent(r"...", "lstm.cell_jacobian")`` passes when the hand form
is equivalent to the reference and fails with the verdict, counterexample
included, as pytest's message.  Loaded as a plugin, the module makes pytest
rewrite the asserts of this module and offers the ``symdl_check`` fixture.
"""

from __future__ import annotations


def assert_equivalent(hand, against: str, *, timeout: float | None = None, allow_unknown: bool = False):
    """Fail unless ``hand`` (LaTeX or SymPy) is equivalent to reference ``against``.

    An ``unknown`` answer fails too, unless ``allow_unknown``: a test that cannot
    be decided is not a passing test.  Returns the verdict.
    """
    from .grade.check import TIMEOUT, check

    __tracebackhide__ = True
    verdict = check(hand, against=against, timeout=TIMEOUT if timeout is None else timeout)
    if verdict.verdict == "equivalent" or (allow_unknown and verdict.verdict == "unknown"):
        return verdict
    shown = hand if isinstance(hand, str) else repr(hand)
    raise AssertionError(f"hand form is not equivalent to {against}:\n  {shown}\n{verdict}")


def assert_derivation(text: str, against: str | None = None, *, model: str | None = None,
                      timeout: float | None = None):
    """Fail unless every link of the derivation ``text`` holds (and its final answer, with ``against``).

    The message puts the decisive line first: the verdict and the first wrong step (or the line that
    could not be read), then its counterexample, then its diagnosis.  Returns the answer.
    """
    __tracebackhide__ = True
    from .grade.derivation import check_derivation

    answer = check_derivation(text, model=model, against=against, timeout=timeout)
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
