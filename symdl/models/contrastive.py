r"""PIRL's contrastive loss (seed question 3e): the score h and the NCE loss.

``s(u, v)`` is the cosine similarity, ``\tau > 0`` a temperature, ``D_N`` a
finite set of negatives.  The energy of a pair is ``-s/\tau``: the gradient
signs of ``L_NCE`` (derived by ``sp.diff``) show it lowers the positive
pair's energy and raises the negatives'.

Evaluating (``ref(name).evaluate(values, backend=...)``): ``"v_I"`` and
``"v_{I^t}"`` are vectors of size d; ``"v_{I'}"`` holds the negatives ``D_N``,
one vector per row (shape ``(|D_N|, d)``, not empty); ``"\tau"`` > 0.  For
``contrastive.nce_loss``, ``"f"`` and ``"g"`` are callables of the backend
mapping a d-vector to a d-vector (the projection heads).  ``h`` is read
literally: ``h(a, b)`` has ``e^{s(a, b)/\tau}`` on top and the negatives
``v_{I'}`` of ``D_N``, as given, against ``b`` in its denominator, so the
second term of ``L_NCE`` compares ``f(v_{I'})`` with the raw negatives.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..verify.oracles import ebm as oracles_ebm
from ..model.reference import EvaluationError, Input, Reference, check_keys
from ..verify.spec import CheckSpec, compare_trials
from ._display import exp_of, ordered_product, ordered_sum, reciprocal
from ._grids import asarray, callable_of, exp, logsumexp, positive, stack, trials_check

v_I, v_It, v_Ip = sp.symbols("v_I v_{I^t} v_{I'}", real=True)
Ip, D_N = sp.symbols("I' D_N")
tau = sp.Symbol(r"\tau", positive=True)
s, h, f, g = sp.Function("s"), sp.Function("h"), sp.Function("f"), sp.Function("g")


class SumOverSet(sp.Function):
    r""":math:`\sum_{I' \in D_N} e`, for display; evaluated over the rows of ``v_{I'}``."""

    def _latex(self, printer):
        e, idx, over = self.args
        return r"\sum_{%s \in %s} %s" % (printer._print(idx), printer._print(over), printer.parenthesize(e, 60))


def h_expr(a, b, negative=v_Ip):
    """PIRL's ``h(a, b)``: the negatives against ``b`` in the denominator, printed as REFERENCES.md writes it."""
    top = exp_of(s(a, b), tau)
    return ordered_product(top, reciprocal(ordered_sum(top, SumOverSet(exp_of(s(b, negative), tau), Ip, D_N))))


PIRL_H = h_expr(v_I, v_It)
NCE_LOSS = ordered_sum(-sp.log(h(f(v_I), g(v_It))),
                       ordered_product(-1, SumOverSet(sp.log(1 - h(g(v_It), f(v_Ip))), Ip, D_N)))

# -- evaluation ----------------------------------------------------------------------------


def _norm(u, backend):
    if backend == "torch":
        import torch

        return torch.linalg.vector_norm(u, dim=-1)
    return np.sqrt(np.sum(u * u, axis=-1))


def cosine(u, v, backend):
    """``s(u, v)``; ``v`` may be a stack of vectors (rows)."""
    return (v @ u) / (_norm(u, backend) * _norm(v, backend))


def _vector(name, values, key, backend, d=None):
    v = asarray(values[key], backend).reshape(-1)
    if d is not None and v.shape[0] != d:
        raise EvaluationError(f"{name}: {key!r} has size {v.shape[0]}, expected d = {d}")
    if v.shape[0] == 0:
        raise EvaluationError(f"{name}: {key!r} is empty")
    return v


def negatives(name, values, backend, d):
    n = asarray(values["v_{I'}"], backend)
    if n.ndim == 1 and n.shape[0] == d and d > 0:
        n = n.reshape(1, -1)
    if n.ndim != 2 or n.shape[0] == 0:
        raise EvaluationError(f"{name}: the set of negatives \"v_{{I'}}\" is empty or not one vector per row "
                              f"(shape {tuple(n.shape)}); give shape (|D_N|, d) with |D_N| >= 1")
    if n.shape[1] != d:
        raise EvaluationError(f"{name}: \"v_{{I'}}\" has rows of size {n.shape[1]}, expected d = {d}")
    return n


def logits(a, b, negs, t, backend):
    """``[s(a, b), s(b, v_I') for I' in D_N] / tau``."""
    first = cosine(a, b, backend).reshape(1)
    rest = cosine(b, negs, backend)
    if backend == "torch":
        import torch

        return torch.cat([first, rest]) / t
    return np.concatenate([first, rest]) / t


def _eval_h(ref, values, backend):
    check_keys(ref.name, ref.inputs, ref.functions, values)
    t = positive(ref.name, values, r"\tau")
    a = _vector(ref.name, values, "v_I", backend)
    b = _vector(ref.name, values, "v_{I^t}", backend, a.shape[0])
    l = logits(a, b, negatives(ref.name, values, backend, a.shape[0]), t, backend)
    return exp(l[0] - logsumexp(l, backend), backend)


def _eval_nce(ref, values, backend):
    check_keys(ref.name, ref.inputs, ref.functions, values)
    t = positive(ref.name, values, r"\tau")
    fn, gn = callable_of(ref.name, values, "f"), callable_of(ref.name, values, "g")
    a = _vector(ref.name, values, "v_I", backend)
    b = _vector(ref.name, values, "v_{I^t}", backend, a.shape[0])
    negs = negatives(ref.name, values, backend, a.shape[0])
    fa, gb = asarray(fn(a), backend).reshape(-1), asarray(gn(b), backend).reshape(-1)
    l = logits(fa, gb, negs, t, backend)
    loss = -(l[0] - logsumexp(l, backend))
    terms = []
    for k in range(negs.shape[0]):
        fk = asarray(fn(negs[k]), backend).reshape(-1)
        lk = logits(gb, fk, negs, t, backend)
        terms.append(logsumexp(lk[1:], backend) - logsumexp(lk, backend))  # log(1 - h), without cancellation
    return loss - stack(terms, backend).sum()


def seed_h(values, backend="numpy"):
    """The seed's h: ``s(v_I, v_{I'})`` in the denominator where PIRL has ``s(v_{I^t}, v_{I'})``."""
    a = asarray(values["v_I"], backend).reshape(-1)
    b = asarray(values["v_{I^t}"], backend).reshape(-1)
    negs = negatives("seed h", values, backend, a.shape[0])
    t = positive("seed h", values, r"\tau")
    top = cosine(a, b, backend) / t
    rest = cosine(a, negs, backend) / t
    return 1 / (1 + np.sum(np.exp(rest - top)))


# -- checks --------------------------------------------------------------------------------

SIZES = ((2, 1), (3, 4), (6, 5))  # (d, |D_N|)


def random_point(rng, d, n_neg):
    return {"v_I": rng.normal(0, 1, d), "v_{I^t}": rng.normal(0, 1, d), "v_{I'}": rng.normal(0, 1, (n_neg, d)),
            r"\tau": float(rng.uniform(0.2, 1.5))}


def _points(seed):
    rng = np.random.default_rng(seed)
    for d, n_neg in SIZES:
        for _ in range(3):
            yield f"d = {d}, |D_N| = {n_neg}", random_point(rng, d, n_neg), rng


def _num(x):
    return np.asarray(x.detach() if hasattr(x, "detach") else x, dtype=np.float64)


def _heads(rng, d):
    F, G = rng.normal(0, 1, (d, d)), rng.normal(0, 1, (d, d))
    return F, G


def _head_fns(F, G, backend):
    if backend == "torch":
        import torch

        Ft, Gt = torch.as_tensor(F), torch.as_tensor(G)
        return {"f": lambda v: Ft @ v, "g": lambda v: Gt @ v}
    return {"f": lambda v: F @ v, "g": lambda v: G @ v}


def h_between_zero_and_one():
    """With similarities as free reals and |D_N| = 3, SymPy signs h and 1 - h as positive."""
    a, *b = sp.symbols("a b_1:4", real=True)
    top = sp.exp(a / tau)
    hh = top / (top + sum(sp.exp(bk / tau) for bk in b))
    one_minus = sp.simplify(1 - hh)
    if hh.is_positive and one_minus.is_positive:
        return True, ("h > 0, and 1 - h simplifies to the negatives' share, a sum of exponentials over a sum of "
                      "exponentials, > 0: both signed by SymPy's assumptions, with three negatives"), None
    return None, "SymPy could not sign h or 1 - h", None


#: An exact point for h: v_I, v_It, the negatives D_N (one per row) and tau, all rational.
EXACT_POINT = (sp.Matrix([1, 0, 2]), sp.Matrix([1, 1, 0]), (sp.Matrix([1, 2, 2]), sp.Matrix([0, 1, -3])),
               sp.Rational(1, 2))


def _exact_cosine(u, v):
    return (u.T * v)[0] / sp.sqrt((u.T * u)[0] * (v.T * v)[0])


def h_at_exact_point(expr=None):
    """The reference's expression for ``h`` at :data:`EXACT_POINT`: the sum over ``D_N`` written out, ``s``
    the exact cosine similarity of the vectors the symbols name."""
    expr = PIRL_H if expr is None else expr
    vI, vIt, negs, t = EXACT_POINT
    vectors = {v_I: vI, v_It: vIt}

    def over_set(body, _index, _set):
        return sp.Add(*[body.xreplace({v_Ip: sp.Symbol(f"n_{k}")}) for k in range(len(negs))])

    written = expr.replace(lambda e: isinstance(e, SumOverSet), lambda e: over_set(*e.args))
    vectors.update({sp.Symbol(f"n_{k}"): n for k, n in enumerate(negs)})
    return written.replace(lambda e: isinstance(e, sp.core.function.AppliedUndef) and e.func == s,
                           lambda e: _exact_cosine(vectors[e.args[0]], vectors[e.args[1]])).xreplace({tau: t})


def h_softmax_exact():
    """PIRL's h at :data:`EXACT_POINT` computed apart from the reference: the first entry of the softmax of
    ``[s(v_I, v_It), s(v_It, n) for n in D_N] / tau``, with SymPy's exact arithmetic."""
    vI, vIt, negs, t = EXACT_POINT
    logits_ = [_exact_cosine(vI, vIt) / t] + [_exact_cosine(vIt, n) / t for n in negs]
    return 1 / sp.Add(*[sp.exp(l - logits_[0]) for l in logits_])


def h_exact_check():
    def run():
        got, want = h_at_exact_point(), h_softmax_exact()
        if sp.simplify(got - want) == 0:
            return True, (f"at v_I = (1, 0, 2), v_It = (1, 1, 0), D_N = {{(1, 2, 2), (0, 1, -3)}}, tau = 1/2 the "
                          f"reference's h and the softmax share agree exactly (both {float(want):.6f})"), None
        if abs(float(got - want)) > 1e-12:
            return False, f"the reference's h is {float(got):.9g}, the softmax share {float(want):.9g}", None
        return None, "SymPy could not reduce the difference to 0", None

    return CheckSpec("symbolic", "the reference at an exact rational point equals the softmax share of the positive "
                                 "pair, computed apart", run, timeout=60)


def loss_in_similarities(n_neg: int = 2):
    """L_NCE with each similarity a free real: ``a = s(f(v_I), g(v_It))`` (the positive pair),
    ``b_k = s(g(v_It), v_I'_k)``, ``c_k = s(g(v_It), f(v_I'_k))`` (the negative pairs) and
    ``d_kl = s(f(v_I'_k), v_I'_l)`` (the denominator of ``h(g(v_It), f(v_I'_k))``), named ``d_{kl}``."""
    a = sp.Symbol("a", real=True)
    b = sp.symbols(f"b_1:{n_neg + 1}", real=True)
    c = sp.symbols(f"c_1:{n_neg + 1}", real=True)
    d = [[sp.Symbol(f"d_{{{k + 1}{l + 1}}}", real=True) for l in range(n_neg)] for k in range(n_neg)]

    def hh(top, rest):
        return sp.exp(top / tau) / (sp.exp(top / tau) + sum(sp.exp(r / tau) for r in rest))

    L = -sp.log(hh(a, b)) - sum(sp.log(1 - hh(c[k], d[k])) for k in range(n_neg))
    return L, a, b, c, d


def gradient_signs():
    """dL/da < 0, dL/dc_k > 0, dL/db_k > 0, each simplified and signed by SymPy."""
    L, a, b, c, _ = loss_in_similarities()
    signs = {"a": (a, False), "b_1": (b[0], True), "c_1": (c[0], True)}
    for name, (sym, want_positive) in signs.items():
        dv = sp.simplify(sp.diff(L, sym))
        sign = dv.is_positive if want_positive else dv.is_negative
        if sign is not True:
            return None, f"SymPy could not sign dL/d{name}", None
    return True, ("dL/da < 0 (positive pair), dL/db_k > 0 and dL/dc_k > 0 (negatives), "
                  "from sp.diff with |D_N| = 2"), None


H_INPUTS = (Input(v_I, meaning="feature vector of the image"),
            Input(v_It, meaning="feature vector of the transformed image"),
            Input(v_Ip, meaning="the negatives D_N, one per row"), Input(tau, "positive", "temperature"))


def _pirl_h() -> Reference:
    return Reference("contrastive.pirl_h",
                     "PIRL's score $h$: the softmax share of the positive pair against the negatives $D_N$",
                     r"h(v_I, v_{I^t})", PIRL_H, H_INPUTS, oracle="torch cosine_similarity and logsumexp",
                     evaluator=_eval_h, checks=_pirl_h_checks)


def _pirl_h_checks(ref: Reference) -> list[CheckSpec]:
    """The exact definition, 0 < h < 1, invariance to rescaling, and torch."""

    def scale_invariant():
        for label, v, rng in _points(11):
            c = rng.uniform(0.1, 10, 3)
            scaled = {**v, "v_I": c[0] * v["v_I"], "v_{I^t}": c[1] * v["v_{I^t}"], "v_{I'}": c[2] * v["v_{I'}"]}
            yield label, ref.evaluate(scaled), ref.evaluate(v)

    def oracle():
        for label, v, _ in _points(12):
            want = oracles_ebm.pirl_h(v["v_I"], v["v_{I^t}"], v["v_{I'}"], v[r"\tau"])
            for backend in ("numpy", "torch"):
                yield f"{label}, {backend}", _num(ref.evaluate(v, backend=backend)), want

    return [
        h_exact_check(),
        CheckSpec("symbolic", "a property, not the definition: 0 < h < 1 for any similarities",
                  h_between_zero_and_one, timeout=60),
        trials_check("numeric", "a property, not the definition: h unchanged by positive rescaling of every vector "
                                "(cosine similarity)", scale_invariant),
        trials_check("oracle", "torch.nn.functional.cosine_similarity and torch.logsumexp", oracle),
    ]


def _nce_loss(h_ref: Reference) -> Reference:
    return Reference("contrastive.nce_loss", "PIRL's NCE loss with projection heads $f$ and $g$",
                     r"L_{NCE}(I, I^t)", NCE_LOSS, H_INPUTS, functions={"f": f, "g": g},
                     aliases={r"L_{\mathrm{NCE}}": r"L_{NCE}(I, I^t)"},
                     oracle="torch cosine_similarity, logsumexp, random linear heads", evaluator=_eval_nce,
                     checks=lambda ref: _nce_loss_checks(ref, h_ref))


def _nce_loss_checks(ref: Reference, h_ref: Reference) -> list[CheckSpec]:
    """Gradient signs, the loss written with contrastive.pirl_h (``h_ref``), and torch."""

    def from_h():
        for label, v, rng in _points(13):
            F, G = _heads(rng, len(v["v_I"]))
            fv, gv = F @ v["v_I"], G @ v["v_{I^t}"]
            want = -np.log(h_ref.evaluate({**v, "v_I": fv, "v_{I^t}": gv}))
            for vn in v["v_{I'}"]:
                want -= np.log(1 - h_ref.evaluate({**v, "v_I": gv, "v_{I^t}": F @ vn}))
            yield label, ref.evaluate({**v, **_head_fns(F, G, "numpy")}), want

    def oracle():
        for label, v, rng in _points(14):
            F, G = _heads(rng, len(v["v_I"]))
            want = oracles_ebm.nce_loss(v["v_I"], v["v_{I^t}"], v["v_{I'}"], v[r"\tau"], F, G)
            for backend in ("numpy", "torch"):
                yield f"{label}, {backend}", _num(ref.evaluate({**v, **_head_fns(F, G, backend)}, backend)), want

    return [
        CheckSpec("symbolic", "gradient signs: positive pair pulled together, negatives pushed apart",
                  gradient_signs, timeout=60),
        trials_check("numeric", "equals -log h(f(v_I), g(v_It)) - sum log(1 - h(g(v_It), f(v_I'))) "
                                "from contrastive.pirl_h", from_h),
        trials_check("oracle", "torch cosine_similarity and logsumexp with random linear heads", oracle),
    ]


def seed_form_trials(seed: int = 15):
    """``(label, seed's h, PIRL's h)`` at random points, for the verify engine to compare."""
    ref = _pirl_h()
    for label, v, _ in _points(seed):
        yield label, seed_h(v), ref.evaluate(v), v


def seed_form_check() -> CheckSpec:
    """The seed's h is not PIRL's: the verify engine finds a counterexample."""

    def run():
        trials = list(seed_form_trials())
        passed, detail, _ = compare_trials([t[:3] for t in trials])
        if passed:
            return False, f"the two forms agreed at every point: {detail}", None
        label, got, want, v = next(t for t in trials if abs(t[1] - t[2]) > 1e-10 * abs(t[2]))
        point = "; ".join(f"{k} = {np.round(np.asarray(x), 4).tolist()}" for k, x in v.items())
        return True, (f"not equivalent ({detail}); counterexample at {label}: {point}: "
                      f"seed h = {got:.6g}, PIRL h = {want:.6g}"), None

    return CheckSpec("numeric", "the seed's s(v_I, v_I') form against PIRL's s(v_It, v_I')", run)


def seed_form_exact() -> CheckSpec:
    """An exact refutation: at a rational point the two forms differ, by SymPy arithmetic."""

    def run():
        a, b, n = sp.Matrix([1, 0]), sp.Matrix([0, 1]), sp.Matrix([1, 2])
        cos = lambda u, v: (u.T * v)[0] / sp.sqrt((u.T * u)[0] * (v.T * v)[0])  # noqa: E731
        t = sp.Integer(1)
        pirl = sp.exp(cos(a, b) / t) / (sp.exp(cos(a, b) / t) + sp.exp(cos(b, n) / t))
        seed = sp.exp(cos(a, b) / t) / (sp.exp(cos(a, b) / t) + sp.exp(cos(a, n) / t))
        diff = sp.simplify(seed - pirl)
        if diff.is_zero is False:
            return True, (f"at v_I = (1, 0), v_It = (0, 1), D_N = {{(1, 2)}}, tau = 1 the seed's h is "
                          f"{float(seed):.6f} and PIRL's {float(pirl):.6f}: SymPy shows the exact difference, "
                          f"{float(diff):.6f}, is not 0"), None
        return None, "SymPy could not decide whether the exact difference is 0", None

    return CheckSpec("symbolic", "exact counterexample to the seed's form", run, timeout=60)


def references() -> list[Reference]:
    h_ref = _pirl_h()
    return [h_ref, _nce_loss(h_ref)]
