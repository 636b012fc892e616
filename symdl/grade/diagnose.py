r"""What is wrong with a side that is not equivalent: the one simple change that explains it.

REFERENCES.md, "What it answers": the kinds are tried in this order and the first that holds is
reported -- ``transpose`` (the other layout), ``sign`` (the whole side or one term negated),
``factor`` (the whole side scaled), ``symbol_slip`` (one symbol for another of the same shape),
``missing_term``, ``extra_term``, ``wrong_term``.  A term is a top-level summand after expanding
products of sums.

A diagnosis is a claim like any other.  Each hypothesis is first screened at fresh random points
of the finite interpretation (:mod:`symdl.grade.finite`), from the values of the terms of both
sides (transposes, signs, factors and terms are sums of those values); the first that survives is
then confirmed by the numeric witness itself at the seed of the link's own check, whose points
run up to the counterexample's, and at a fresh seed.  It is reported only when it holds at every
point tried; otherwise there is no diagnosis (``None``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction

import numpy as np
import sympy as sp

from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from ..core.calculus import elementwise, substitute_definitions
from ..core.elementwise import sigmoid, sigmoid_prime, tanh_prime
from ..core.printing import latex
from .check import numeric_witness
from .finite import Evaluator, Unsupported, interpretations

TRANSPOSE = "the transpose of the reference: you wrote the denominator layout"
#: Relative tolerance of a hypothesis at a screening point (a tree walk in float64, not compiled code).
TOLERANCE = 1e-9
#: Most term pairs and function applications screened.
MOST = 60
#: Most symbol swaps screened (each is one evaluation of the side at the screening points).
SLIPS = 150
#: Functions a person slips between: one for the other.
FUNCTION_SLIPS = ((sigmoid_prime, tanh_prime), (tanh_prime, sigmoid_prime), (sigmoid, sp.tanh), (sp.tanh, sigmoid))


def summands(e) -> list:
    """The top-level terms of ``e`` after expanding products of sums."""
    try:
        expanded = sp.expand(e) if getattr(e, "is_Matrix", False) else sp.expand_mul(e)
    except Exception:  # SymPy cannot expand some matrix forms (a product inside a function): keep it whole
        expanded = e
    if isinstance(expanded, (sp.MatAdd, sp.Add)):
        return list(expanded.args)
    return [expanded]


def _opened(e, ref):
    """A side that is one defined name (``c_t``) as its definition: its terms are the definition's."""
    seen = 0
    while e in ref.definitions and seen < 10:
        e, seen = ref.definitions[e], seen + 1
    return e


def diagnose(hand, claim, ref, *, seed: int = 0) -> dict | None:
    """``{"kind", "detail"}`` of the first simple change that makes ``hand`` equal ``claim`` at every
    point tried, or ``None``."""
    points = _points(ref, [hand, claim], seed)
    if not points:
        return None
    h_terms, c_terms = summands(_opened(hand, ref)), summands(_opened(claim, ref))
    try:
        H = _values(h_terms, ref, points)
        C = _values(c_terms, ref, points)
    except (Unsupported, ValueError, TypeError, ZeroDivisionError, AttributeError, KeyError):
        return None
    for kind, detail, new_hand, new_claim, screen in _hypotheses(hand, claim, h_terms, c_terms, H, C, ref, points):
        if screen() and _confirmed(new_hand, new_claim, ref, seed):
            return {"kind": kind, "detail": detail}
    return None


def _hypotheses(hand, claim, h_terms, c_terms, H, C, ref, points):
    """``(kind, detail, hand', claim', screen)`` in the contract's order; ``screen()`` tests
    ``hand' = claim'`` at the screening points."""
    h_all, c_all = [sum(terms) for terms in H], [sum(terms) for terms in C]
    if getattr(claim, "is_Matrix", False) and claim.shape[0] == claim.shape[1] != 1:
        yield "transpose", TRANSPOSE, hand, sp.Transpose(claim), lambda: _same(h_all, [c.T for c in c_all])
    yield "sign", "the whole side has the opposite sign", hand, -claim, lambda: _same(h_all, [-c for c in c_all])
    for k, term in enumerate(c_terms if len(c_terms) > 1 else ()):
        yield ("sign", f"the term {latex(term)} has the opposite sign", hand, claim - 2 * term,
               lambda k=k: _same(h_all, [c - 2 * t[k] for c, t in zip(c_all, C)]))
    yield from _signed_as_written(hand, claim, c_all, ref, points)
    yield from _factor(hand, claim, h_all, c_all, ref, points)
    yield from _slips(hand, claim, c_all, ref, points)
    for k, term in enumerate(c_terms if len(c_terms) > 1 else ()):
        yield ("missing_term", latex(term), hand, claim - term,
               lambda k=k: _same(h_all, [c - t[k] for c, t in zip(c_all, C)]))
    for j, term in enumerate(h_terms if len(h_terms) > 1 else ()):
        yield ("extra_term", latex(term), hand - term, claim,
               lambda j=j: _same([h - t[j] for h, t in zip(h_all, H)], c_all))
    pairs = [(j, k) for j in range(len(h_terms)) for k in range(len(c_terms))][:MOST]
    for j, k in pairs if len(h_terms) > 1 or len(c_terms) > 1 else ():
        yield ("wrong_term", f"{latex(h_terms[j])} in place of {latex(c_terms[k])}", hand - h_terms[j],
               claim - c_terms[k],
               lambda j=j, k=k: _same([h - t[j] for h, t in zip(h_all, H)], [c - t[k] for c, t in zip(c_all, C)]))


def _signed_as_written(hand, claim, c_all, ref, points):
    """One term of the side as the person wrote it, before products of sums are expanded, negated:
    ``\\operatorname{diag}(n_t - h_{t-1}) J`` for ``\\operatorname{diag}(h_{t-1} - n_t) J`` expands into two
    terms, so no single expanded term explains it."""
    written = _opened(hand, ref)
    terms = list(written.args) if isinstance(written, (sp.MatAdd, sp.Add)) else []
    try:
        values = _values(terms, ref, points) if len(terms) > 1 else []
    except (Unsupported, ValueError, TypeError, ZeroDivisionError, AttributeError, KeyError):
        return
    h_all = [sum(v) for v in values]
    for k, term in enumerate(terms if values else ()):
        yield ("sign", f"the term {latex(term)} has the opposite sign", hand - 2 * term, claim,
               lambda k=k: _same([h - 2 * v[k] for h, v in zip(h_all, values)], c_all))


def _factor(hand, claim, h_all, c_all, ref, points):
    """The whole side scaled by a number, or by one scalar input (``\\beta``, ``1/N``)."""
    ratios = []
    for h, c in zip(h_all, c_all):
        h, c = np.asarray(h, dtype=float), np.asarray(c, dtype=float)
        if h.shape != c.shape or not np.any(c):
            return
        ratios.append(float(np.sum(h * c) / np.sum(c * c)))
    if not np.all(np.isfinite(ratios)) or np.allclose(ratios, 1.0, rtol=TOLERANCE, atol=0):
        return
    for factor, values in _factor_candidates(ratios, ref, points):
        yield ("factor", latex(factor), hand, factor * claim,
               lambda values=values: _same(h_all, [v * c for v, c in zip(values, c_all)]))


def _factor_candidates(ratios, ref, points):
    """``(factor as SymPy, its value at each point)``: a simple fraction, then the scalar inputs."""
    if np.allclose(ratios, ratios[0], rtol=TOLERANCE, atol=0):
        frac = Fraction(ratios[0]).limit_denominator(24)
        if abs(float(frac) - ratios[0]) <= TOLERANCE * abs(ratios[0]):
            yield sp.Rational(frac.numerator, frac.denominator), [float(frac)] * len(ratios)
    for inp in ref.inputs:
        if inp.shape:
            continue
        vals = [np.asarray(_lookup(it, inp.name), dtype=float) for _, it in points]
        if any(v.ndim for v in vals):
            continue
        s = inp.symbol
        for factor, f in ((s, lambda v: v), (1 / s, lambda v: 1 / v), (-s, lambda v: -v), (s**2, lambda v: v * v),
                          (1 - s, lambda v: 1 - v)):
            with np.errstate(all="ignore"):
                got = [float(f(v)) for v in vals]
            if np.allclose(got, ratios, rtol=1e-7, atol=0):
                yield factor, got


def _slips(hand, claim, c_all, ref, points):
    """One symbol of the side in place of another of the same shape and letter (``W_{ih}`` for
    ``W_{fh}``, ``m_t`` for ``m_{t+1}``), everywhere or in one place; or ``\\sigma'`` for ``\\tanh'``."""
    for wrong, right in FUNCTION_SLIPS:
        for node in _applications(hand, wrong):  # one place at a time: the slip is where the function is applied
            new = hand.xreplace({node: _swap(node, right)})
            yield ("symbol_slip", f"{_fname(wrong)} in place of {_fname(right)}", new, claim,
                   lambda new=new: _same(_eval(new, ref, points), c_all))
    model = [i.symbol for i in ref.inputs] + list(ref.definitions)
    tried = 0
    for s in sorted(hand.free_symbols & set(model), key=lambda x: x.name):
        places = sum(1 for node in sp.preorder_traversal(hand) if node == s)
        for other in model:
            if other == s or _shape(other) != _shape(s) or _letter(other.name) != _letter(s.name):
                continue
            for new in [hand.xreplace({s: other})] + [_replace_nth(hand, s, other, k) for k in range(places)
                                                       if places > 1]:
                tried += 1
                if tried > SLIPS:
                    return
                yield ("symbol_slip", f"{latex(s)} in place of {latex(other)}", new, claim,
                       lambda new=new: _same(_eval(new, ref, points), c_all))


def _applications(e, func) -> list:
    """The places ``func`` is applied in ``e``: ``func(x)``, or ``func`` mapped over a vector (the
    ``func(_d)`` inside a map's lambda is the map's, not a place of its own)."""
    found = []
    for node in sp.preorder_traversal(e):
        if isinstance(node, ElementwiseApplyFunction):
            hit = getattr(node.function.expr, "func", None) == func
        else:
            hit = getattr(node, "func", None) == func and not any(isinstance(a, sp.Dummy) for a in node.args)
        if hit and node not in found:
            found.append(node)
    return found[:MOST]


def _replace_nth(e, old, new, n: int):
    """``e`` with the ``n``-th occurrence of ``old`` (in preorder) replaced by ``new``."""
    seen = [0]

    def walk(node):
        if node == old:
            seen[0] += 1
            return new if seen[0] - 1 == n else node
        if not node.args or isinstance(node, (sp.MatrixSymbol, sp.Lambda)):
            return node
        args = [walk(a) for a in node.args]
        return node.func(*args) if any(a is not b for a, b in zip(args, node.args)) else node

    return walk(e)


def _swap(node, func):
    if isinstance(node, ElementwiseApplyFunction):
        return elementwise(func, node.expr)
    return func(*node.args)


def _fname(f) -> str:
    return {sigmoid_prime: "\\sigma'", tanh_prime: "\\tanh'", sigmoid: "\\sigma", sp.tanh: "\\tanh"}[f]


def _letter(name: str) -> str:
    """The letter a name is built on: ``\\hat{m}_{t+1}`` and ``m_t`` share ``m``."""
    base = name.split("_")[0]
    return re.sub(r"\\(hat|tilde|bar|widehat|widetilde|boldsymbol|mathbf)|[{}\s]", "", base)


def _shape(s) -> tuple:
    return tuple(s.shape) if isinstance(s, sp.MatrixSymbol) else ()


# -- numbers -----------------------------------------------------------------------------------------


def _points(ref, exprs, seed: int) -> list:
    """Fresh finite interpretations (two sizes) at which hypotheses are screened."""
    dims = list(dict.fromkeys(d for i in ref.inputs for d in i.shape if isinstance(d, sp.Symbol)))
    sizes = [(2, 4, dict(zip(dims, range(2, 2 + len(dims))))), (3, 5, dict(zip(dims, range(3, 3 + len(dims)))))]
    rng = np.random.default_rng(seed + 7_919)
    expanded = [substitute_definitions(e, ref.definitions) for e in exprs]
    try:
        return interpretations(ref, expanded, sizes, rng, families=(0, 1), points=1)
    except (Unsupported, ValueError, TypeError, KeyError):
        return []


def _lookup(it, name: str):
    from ..reader.names import canon

    return it.values.get(canon(name))


def _eval(expr, ref, points) -> list:
    try:
        return [_value(expr, ref, it) for _, it in points]
    except (Unsupported, ValueError, TypeError, ZeroDivisionError, AttributeError, KeyError):
        return []


def _value(expr, ref, it):
    with np.errstate(all="ignore"):
        v = np.asarray(Evaluator(it).ev(substitute_definitions(expr, ref.definitions)), dtype=np.complex128)
    return np.real(v)


def _values(terms, ref, points) -> list:
    """For each point, the value of each term."""
    return [[_value(t, ref, it) for t in terms] for _, it in points]


def _same(got, want) -> bool:
    """Whether two lists of values agree at every point (relative error at most :data:`TOLERANCE`)."""
    if not got or len(got) != len(want):
        return False
    for g, w in zip(got, want):
        g, w = np.asarray(g, dtype=float), np.asarray(w, dtype=float)
        if g.size == 1 and w.size == 1:
            g, w = g.reshape(()), w.reshape(())
        if g.shape != w.shape or not np.all(np.isfinite(g)) or not np.all(np.isfinite(w)):
            return False
        scale = max(float(np.max(np.abs(w))) if w.size else 0.0, 1e-300)
        if float(np.max(np.abs(g - w))) > TOLERANCE * scale:
            return False
    return True


def claim_reference(ref, claim):
    """``ref`` with ``claim`` as its expression: the same inputs, definitions, functions and domains."""
    return replace(ref, expr=claim, evaluator=None, variants=None, params={}, checks=())


def _confirmed(hand, claim, ref, seed: int) -> bool:
    """The numeric witness agrees, at the link's own points (the counterexample's among them) and at fresh ones."""
    model = claim_reference(ref, claim)
    for s in (seed, seed + 101):
        try:
            w = numeric_witness(hand, model, seed=s)
        except (RecursionError, SyntaxError, NotImplementedError, NameError, TypeError, ValueError, AttributeError):
            return False
        if w.counterexample is not None or not w.agreed:
            return False
    return True
