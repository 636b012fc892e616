"""The symbolic attempt: can SymPy show a hand form equal to its reference, or show them different?

It runs after the numeric witness and never overrules a counterexample: a proof upgrades an
agreement to ``symbolic``, a definite difference (a nonzero constant, a constant factor) turns an
agreement inside the float64 tolerance into ``not_equivalent``.  ``simplify`` may not return, so the
attempt runs in a child process killed at its time limit (:func:`symdl.verify.bounded.run_bounded`).
"""

from __future__ import annotations

import sympy as sp

from ..core import normal
from ..core.calculus import substitute_definitions
from ..core.elementwise import expand_primes
from ..verify.bounded import run_bounded


def prove(hand, reference) -> tuple:
    """``(True, how)`` when SymPy shows the two equal for every size; ``(False, why)`` when it finds a
    definite difference (a nonzero constant, or a constant factor other than 1: see
    :func:`symdl.core.normal.difference`), ``why`` then beginning with ``constant:`` or ``multiple:``;
    else ``(None, why)``.
    """
    if getattr(reference, "is_Matrix", False) or getattr(hand, "is_Matrix", False):
        return _prove_matrix(hand, reference)
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


def _prove_matrix(hand, reference) -> tuple:
    """Matrix forms, for every size ``n``: term by term in the normal form of :mod:`symdl.core.normal`."""
    if getattr(hand, "shape", None) != getattr(reference, "shape", None):
        return None, f"the shapes differ: {getattr(hand, 'shape', ())} and {getattr(reference, 'shape', ())}"
    if normal.same(hand, reference):
        return True, "SymPy: equal term by term after expanding products and merging diag factors, for every n"
    found = normal.difference(hand, reference)
    if found is not None:
        return False, f"{found[0]}: {found[1]}"
    return None, "the terms did not match after expanding products (no proof for every n)"


def attempt(expr, ref, timeout: float, prover=prove) -> tuple[bool | None, str]:
    """``(True, how)`` proved, ``(False, why)`` a definite difference found, ``(None, why)`` neither: ``prover``
    (:func:`prove`) on the hand form ``expr`` and ``ref``, both expanded, in a child killed after ``timeout`` s."""
    hand = substitute_definitions(expr, ref.definitions)
    outcome = run_bounded(prover, hand, ref.expanded(), timeout=timeout)
    if outcome.status == "ok":
        proved, how = outcome.value
        return (True if proved else (False if proved is False else None)), how
    if outcome.status == "timeout":
        return None, f"the symbolic attempt timed out after {timeout:g} s"
    return None, f"the symbolic attempt failed: {outcome.message}"
