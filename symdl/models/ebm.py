r"""Energy-based models of seed question 3: inference, Gibbs distributions, free energy, NLL loss.

The energies ``F(x, y)``, ``F_w(x, y)`` and ``E(x, y, z)`` stay abstract
(SymPy undefined functions).  Results are derived from the definitions: the
NLL gradient by differentiating the loss under the integral (``sp.diff`` does
Leibniz's rule), the marginal by summing the joint, the zero-temperature limit
by ``sp.limit``.

Evaluating (``ref(name).evaluate(values, backend=...)``): integrals are sums
over finite grids.

- An abstract function is a callable of the backend for ONE point:
  ``F(x, y)``, ``E(x, y, z)``, ``F_w(x, y, w)`` (the parameters ``w`` last, a
  flat vector), each returning a scalar.  For ``ebm.nll_gradient`` the
  derivative in ``w`` is taken by autograd (torch) or the complex step (numpy:
  ``F_w`` must accept complex ``w``; otherwise a central difference is used).
- A grid is an array keyed by its variable's name (``"y"``, ``"z"``), one
  point per row: shape ``(K,)`` for scalar points or ``(K, d)``.
- ``x`` (and ``y`` where it is a point, not a grid) is passed to the callable
  as given.  Training pairs are ``"x_i"`` and ``"y_i"``, one pair per row.
- ``\beta`` must be > 0 and a grid must not be empty, or
  :class:`~symdl.model.reference.EvaluationError` names the culprit.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from ..verify.oracles import ebm as oracles_ebm
from ..verify.builders import symbolic_equal
from ..model.reference import Input, Reference
from ..verify.spec import CheckSpec
from ._display import Named, bracketed_sum, ordered_product, ordered_sum, partial, reciprocal
from ._ebm_eval import (_eval_free_energy, _eval_gibbs, _eval_inference, _eval_joint, _eval_nll_gradient,
                        _eval_nll_loss, _eval_zero_temperature)
from ._grids import both_backends, trials_check

# -- symbols -------------------------------------------------------------------------------

x, y, z = sp.symbols("x y z", real=True)
y_, z_ = sp.symbols("y' z'", real=True)
beta = sp.Symbol(r"\beta", positive=True)
w = sp.Symbol("w", real=True)
x_i, y_i = sp.symbols("x_i y_i", real=True)
i = sp.Symbol("i", integer=True, positive=True)
N = sp.Symbol("N", integer=True, positive=True)
F, F_w, E = sp.Function("F"), sp.Function("F_w"), sp.Function("E")


class ArgminOver(sp.Function):
    r""":math:`\operatorname{argmin}_v f`, for display; evaluated on a grid by the reference."""

    def _latex(self, printer):
        f, v = self.args
        return r"\operatorname{argmin}_{%s} %s" % (printer._print(v), printer._print(f))


class MinOver(sp.Function):
    r""":math:`\min_v f`, for display; evaluated on a grid by the reference."""

    def _latex(self, printer):
        f, v = self.args
        return r"\min_{%s} %s" % (printer._print(v), printer._print(f))


def integral(f, v):
    """``\\int_v f dv``: over the real line for proofs, over a grid for numbers."""
    return sp.Integral(f, (v, -sp.oo, sp.oo))


# -- definitions and derived results -------------------------------------------------------


def gibbs_expr(energy=F(x, y), var=y, dummy=y_):
    return sp.exp(-beta * energy) / integral(sp.exp(-beta * energy.subs(var, dummy)), dummy)


GIBBS = gibbs_expr()
JOINT = sp.exp(-beta * E(x, y, z)) / integral(integral(sp.exp(-beta * E(x, y_, z_)), z_), y_)
FREE_ENERGY = -sp.log(integral(sp.exp(-beta * E(x, y, z)), z)) / beta
#: The same, printed as REFERENCES.md writes it: -\frac{1}{\beta} \log \int_z ...
FREE_ENERGY_DISPLAY = ordered_product(-1, reciprocal(beta), sp.log(integral(sp.exp(-beta * E(x, y, z)), z)))
#: The per-sample NLL loss, written from -(1/beta) log P_w(y_i | x_i) (see nll_from_likelihood).
NLL_TERM = F_w(x_i, y_i) + sp.log(integral(sp.exp(-beta * F_w(x_i, y)), y)) / beta
NLL_LOSS = sp.Sum(NLL_TERM, (i, 1, N)) / N
#: The Gibbs density of F_w at the training input x_i, a defined name of ebm.nll_gradient.
P_W = Named(r"P_w(y | x_i)")


def display_loss():
    r"""The loss in REFERENCES.md's order:
    ``\frac{1}{N} \sum_i [F_w(x_i, y_i) + \frac{1}{\beta} \log \int_y \ldots]``."""
    term = ordered_sum(F_w(x_i, y_i), ordered_product(reciprocal(beta),
                                                      sp.log(integral(sp.exp(-beta * F_w(x_i, y)), y))))
    return ordered_product(reciprocal(N), bracketed_sum(term, (i, 1, N)))


def _dw(expr):
    """``expr`` with its energies depending on ``w``: ``F_w(a, b) -> F_w(a, b, w)`` for sp.diff."""
    return expr.replace(lambda e: isinstance(e, sp.core.function.AppliedUndef) and e.func == F_w,
                        lambda e: F_w(*e.args, w))


def nll_gradient_derived():
    r"""``d/dw`` of one sample's loss by ``sp.diff``: SymPy differentiates under the integral sign."""
    return sp.diff(_dw(NLL_TERM), w)


def nll_gradient_contract():
    """REFERENCES.md's form: ``dF_w(x_i, y_i)/dw - int_y P_w(y | x_i) dF_w(x_i, y)/dw dy``."""
    Fw = F_w(x_i, y, w)
    P = gibbs_expr(Fw, y, y_)
    return sp.Derivative(F_w(x_i, y_i, w), w) - integral(P * sp.Derivative(Fw, w), y)


def display_gradient():
    """The contract's gradient as it is printed (``w`` implicit in ``F_w``), with the defined name ``P_w(y | x_i)``."""
    term = ordered_sum(partial(F_w(x_i, y_i), w),
                       ordered_product(-1, integral(ordered_product(P_W, partial(F_w(x_i, y), w)), y)))
    return ordered_product(reciprocal(N), bracketed_sum(term, (i, 1, N)))


def finite_energies(K: int, args=()):
    """``K`` abstract energies ``f_1(w), ..., f_K(w)`` (one per grid point) as SymPy functions of ``args``."""
    return [sp.Function(f"f_{k + 1}")(*args) for k in range(K)]


# -- checks --------------------------------------------------------------------------------

#: (size of x, size of y, size of z, grid sizes K_y, K_z): two shapes for every trial set.
SIZES = ((1, 1, 1, 5, 4), (2, 3, 2, 7, 6))
SEEDS = (0, 1, 2)


def _dims(sizes) -> str:
    dx, dy, dz, Ky, Kz = sizes
    return f"sizes x:{dx} y:{dy} z:{dz} grids {Ky}x{Kz}"


def _setup(sizes, seed):
    dx, dy, dz, Ky, Kz = sizes
    rng = np.random.default_rng(100 + seed)
    return {"x": rng.normal(0, 1, dx), "y_point": rng.normal(0, 1, dy), "ygrid": rng.normal(0, 1, (Ky, dy)),
            "zgrid": rng.normal(0, 1, (Kz, dz)), "beta": float(rng.uniform(0.5, 2.0)), "rng": rng}


def _energy_trials(ref, values_of, oracle, args=2):
    for sizes in SIZES:
        for seed in SEEDS:
            s = _setup(sizes, seed)
            net = oracles_ebm.OneLayer(sizes[:args], seed=seed)
            want = oracle(net, s)
            for backend, got in both_backends(ref, lambda bk: values_of(net, s, bk)):
                yield f"{_dims(sizes)}, {backend}", got, want


def _fn(net, backend):
    return net.torch if backend == "torch" else net.numpy


def _with(ref: Reference, checks) -> Reference:
    object.__setattr__(ref, "checks", tuple(checks))
    return ref


def _sum_normalises():
    """With a symbolic number K of grid points, the Gibbs masses sum to 1."""
    k, j = sp.symbols("k j", integer=True)
    K = sp.Symbol("K", integer=True, positive=True)
    f = sp.IndexedBase("F")
    total = sp.Sum(sp.exp(-beta * f[k]) / sp.Sum(sp.exp(-beta * f[j]), (j, 1, K)), (k, 1, K))
    out = sp.simplify(sp.simplify(total).as_dummy())
    return (True, "sum over a grid of K points simplifies to 1", None) if out == 1 else (None, f"got {out}", None)


def _integral_normalises():
    total = integral(GIBBS, y)
    out = sp.simplify(sp.simplify(total).as_dummy())
    if out == 1:
        return True, "the integral over y of P(y|x), F abstract, simplifies to 1", None
    return None, f"SymPy left {out}", None


def _joint_normalises():
    j, k, jj, kk = sp.symbols("j k jj kk", integer=True)
    J, K = sp.symbols("J K", integer=True, positive=True)
    e = sp.IndexedBase("E")
    Z = sp.Sum(sp.exp(-beta * e[jj, kk]), (kk, 1, K), (jj, 1, J))
    out = sp.simplify(sp.simplify(sp.Sum(sp.exp(-beta * e[j, k]) / Z, (k, 1, K), (j, 1, J))).as_dummy())
    return (True, "the double sum over J x K grid points simplifies to 1", None) if out == 1 else (None, str(out), None)


def marginal_pieces():
    """Finite grids of symbolic sizes J (y) and K (z): ``(sum_z P(y_j, z | x), e^{-beta F_beta}/sum_y ...)``."""
    j, k, jj, kk = sp.symbols("j k j' k'", integer=True)
    J, K = sp.symbols("J K", integer=True, positive=True)
    e = sp.IndexedBase("E")
    Z = sp.Sum(sp.exp(-beta * e[jj, kk]), (kk, 1, K), (jj, 1, J))
    marginal = sp.Sum(sp.exp(-beta * e[j, k]) / Z, (k, 1, K))
    Fb = -sp.log(sp.Sum(sp.exp(-beta * e[j, k]), (k, 1, K))) / beta
    target = sp.exp(-beta * Fb) / sp.Sum(sp.exp(-beta * Fb.subs(j, jj)), (jj, 1, J))
    return marginal, target


def _marginal_is_gibbs_of_free_energy():
    marginal, target = marginal_pieces()
    d = sp.simplify((marginal - target).as_dummy())
    if d == 0:
        return True, "sum_z P(y_j, z|x) - e^{-beta F_beta(x, y_j)} / sum_y e^{-beta F_beta} simplifies to 0", None
    return None, f"SymPy left {d}", None


def zero_temperature_pieces(K: int):
    """``(m, d_2..d_K, F_beta)`` for K energies ``m, m + d_2, ...`` (``d_k > 0``), F_beta from the definition."""
    b = beta
    m = sp.Symbol("m", real=True)
    ds = sp.symbols(f"d_2:{K + 1}", positive=True)
    Es = [m, *[m + d for d in ds]]
    return b, m, ds, -sp.log(sum(sp.exp(-b * e) for e in Es)) / b


@functools.lru_cache(maxsize=None)  # two checks and q3 ask for the same K; a limit costs about 0.3 s
def zero_temperature_limit(K: int):
    """``lim_{beta -> oo} F_beta`` by sp.limit, after factoring ``e^{-beta m}`` out of the sum."""
    b, m, ds, Fb = zero_temperature_pieces(K)
    rest = sp.expand(sp.powsimp(sp.expand(sp.exp(-b * Fb) * sp.exp(b * m))))
    factored = m - sp.log(rest) / b
    same = sp.simplify(sp.expand_log(Fb - factored, force=True))
    return m, sp.limit(factored, b, sp.oo), same, factored, rest


def _limit_check():
    notes = []
    for K in (2, 3, 4):
        m, lim, same, *_ = zero_temperature_limit(K)
        if same != 0:
            return None, f"could not factor e^(-beta m) out at |Z| = {K}", None
        if lim != m:
            return False, f"sp.limit gave {lim}, not min E = m, at |Z| = {K}", None
        notes.append(str(K))
    return True, ("sp.limit(F_beta, beta, oo) = m = min E with E_k = m + d_k, d_k > 0, "
                  f"at |Z| = {', '.join(notes)}"), None


def _bound_check():
    """``min E - log|Z|/beta <= F_beta <= min E``, each side from SymPy's assumptions."""
    for K in (2, 3, 4):
        b, m, ds, Fb = zero_temperature_pieces(K)
        _, _, same, factored, rest = zero_temperature_limit(K)
        upper = m - factored
        if upper.is_nonnegative is not True:
            return None, f"SymPy could not show F_beta <= min E at |Z| = {K}", None
        # log|Z| - log(rest) >= 0  <=>  |Z| - rest = sum_k (1 - e^{-beta d_k}) >= 0; each term's minimum over u >= 0
        u = sp.Symbol("u", nonnegative=True)
        lo = sp.minimum(1 - sp.exp(-u), u, sp.Interval(0, sp.oo))
        gap = sp.expand(K - rest)
        terms = sp.Add.make_args(sp.expand(gap - sum(1 - sp.exp(-b * d) for d in ds)))
        if lo != 0 or terms != (0,):
            return None, f"SymPy could not show |Z| - sum_k e^(-beta d_k) >= 0 at |Z| = {K}", None
    return True, ("F_beta <= min E by SymPy's sign assumptions; min E - log|Z|/beta <= F_beta since "
                  "|Z| - sum_k e^(-beta d_k) = sum_k (1 - e^(-beta d_k)) and min over u >= 0 of 1 - e^(-u) is 0 "
                  "(sp.minimum); at |Z| = 2, 3, 4"), None


def nll_from_likelihood(n_pairs: int = 2, K: int = 3):
    """``-(1/(N beta)) log prod_i P(y_i|x_i)`` on a grid of K points, and the contract's loss, for N pairs."""
    fs = [finite_energies(K, (sp.Symbol(f"x_{n + 1}"),)) for n in range(n_pairs)]
    # the observed y_i is one of the grid points: the first
    like = sp.Mul(*[sp.exp(-beta * f[0]) / sum(sp.exp(-beta * e) for e in f) for f in fs])
    derived = sp.expand_log(-sp.log(like) / (n_pairs * beta), force=True)
    contract = sum(f[0] + sp.log(sum(sp.exp(-beta * e) for e in f)) / beta for f in fs) / n_pairs
    return derived, contract


def nll_one_pair():
    """``-(1/beta) log P_w(y_i | x_i)`` with the logarithm expanded by SymPy: one sample's loss."""
    return sp.expand(sp.expand_log(-sp.log(gibbs_expr(F_w(x_i, y_i), y_i, y)) / beta, force=True))


def _nll_finite_gradient():
    """On a grid of 3 points with energies f_k(w) abstract, sp.diff of the loss equals the contract."""
    f = finite_energies(3, (w,))
    S = sum(sp.exp(-beta * e) for e in f)
    loss = f[0] + sp.log(S) / beta
    want = sp.diff(f[0], w) - sum(sp.exp(-beta * e) / S * sp.diff(e, w) for e in f)
    return sp.simplify(sp.diff(loss, w) - want)


def _mode_is_argmin():
    """``P(y_j)/P(y_k) = e^{beta (F_k - F_j)} > 1`` when ``F_j < F_k``: the mode is the argmin."""
    fj = sp.Symbol("F_j", real=True)
    gap = sp.Symbol("Delta", positive=True)  # F_k - F_j
    Z = sp.Symbol("Z", positive=True)
    ratio = sp.simplify((sp.exp(-beta * fj) / Z) / (sp.exp(-beta * (fj + gap)) / Z))
    log_ratio = sp.expand_log(sp.log(ratio), force=True)
    if log_ratio.is_positive and sp.expand(log_ratio - beta * gap) == 0:
        at = float(ratio.subs({beta: 2, gap: sp.Rational(1, 2)}))
        return True, ("the normaliser cancels: P(y_j|x)/P(y_k|x) simplifies to e to the power beta times the gap "
                      f"F_k - F_j, whose logarithm SymPy signs positive when F_j < F_k (e.g. {at:.4f} at beta = 2 "
                      "and a gap of 0.5)"), None
    return None, "SymPy could not sign the logarithm of the ratio", None


def _symbolic(description, fn, timeout=60.0):
    return CheckSpec("symbolic", description, fn, timeout=timeout)


# -- references ----------------------------------------------------------------------------


def _inference() -> Reference:
    ref = Reference(
        "ebm.inference", "the inferred $y$: the grid point of lowest energy $F(x, y)$", r"\hat y",
        ArgminOver(F(x, y), y), (Input(x, meaning="input, passed to F as given"),
                                 Input(y, meaning="grid of candidate y, one per row")),
        functions={"F": F}, oracle="torch argmin over the grid of a one-layer network energy",
        evaluator=_eval_inference)

    def numeric():
        for sizes in SIZES:
            for seed in SEEDS:
                s = _setup(sizes, seed)
                net = oracles_ebm.OneLayer(sizes[:2], seed=seed)
                for b in (0.5, 3.0):
                    p = _GIBBS_REF.evaluate({"F": net.numpy, "x": s["x"], "y": s["ygrid"], r"\beta": b})
                    got = ref.evaluate({"F": net.numpy, "x": s["x"], "y": s["ygrid"]})
                    yield f"grid {sizes[3]}, beta = {b}", got, s["ygrid"][int(np.argmax(p))]

    return _with(ref, [
        _symbolic("the Gibbs distribution's mode is the argmin", _mode_is_argmin),
        trials_check("numeric", "argmin F equals the argmax of the Gibbs masses at two beta", numeric),
        trials_check("oracle", "torch argmin of a one-layer network over the grid", lambda: _energy_trials(
            ref, lambda net, s, bk: {"F": _fn(net, bk), "x": s["x"], "y": s["ygrid"]},
            lambda net, s: oracles_ebm.inference(net, s["x"], s["ygrid"]))),
    ])


def _gibbs() -> Reference:
    ref = Reference(
        "ebm.gibbs", r"the Gibbs-Boltzmann distribution $P(y \mid x)$ over a grid of $y$", r"P(y \mid x)", GIBBS,
        (Input(x, meaning="input"), Input(y, meaning="grid of y, one per row"),
         Input(beta, "positive", "inverse temperature")),
        functions={"F": F}, oracle="exp(-beta F - torch.logsumexp(-beta F))", evaluator=_eval_gibbs)

    def sums_to_one():
        for sizes in SIZES:
            for seed in SEEDS:
                s = _setup(sizes, seed)
                net = oracles_ebm.OneLayer(sizes[:2], seed=seed)
                for backend, p in both_backends(ref, lambda bk: {"F": _fn(net, bk), "x": s["x"], "y": s["ygrid"],
                                                               r"\beta": s["beta"]}):
                    yield f"grid {sizes[3]}, {backend}", np.sum(p), 1.0

    return _with(ref, [
        _symbolic("normalisation over a finite grid", _sum_normalises),
        _symbolic("normalisation of the integral, F abstract", _integral_normalises),
        trials_check("numeric", "the masses on the grid sum to 1", sums_to_one),
        trials_check("oracle", "torch.logsumexp normaliser of a one-layer network energy", lambda: _energy_trials(
            ref, lambda net, s, bk: {"F": _fn(net, bk), "x": s["x"], "y": s["ygrid"], r"\beta": s["beta"]},
            lambda net, s: oracles_ebm.gibbs(net, s["x"], s["ygrid"], s["beta"]))),
    ])


def _joint() -> Reference:
    ref = Reference(
        "ebm.joint_gibbs", r"the joint Gibbs distribution $P(y, z \mid x)$ over grids of $y$ and $z$",
        r"P(y, z \mid x)", JOINT,
        (Input(x, meaning="input"), Input(y, meaning="grid of y"), Input(z, meaning="grid of z"),
         Input(beta, "positive", "inverse temperature")),
        functions={"E": E}, oracle="one torch.logsumexp over both grids", evaluator=_eval_joint)

    def vals(net, s, bk):
        return {"E": _fn(net, bk), "x": s["x"], "y": s["ygrid"], "z": s["zgrid"], r"\beta": s["beta"]}

    return _with(ref, [
        _symbolic("normalisation over J x K grid points", _joint_normalises),
        trials_check("oracle", "torch.logsumexp over both grids of a one-layer network energy", lambda: _energy_trials(
            ref, vals, lambda net, s: oracles_ebm.joint_gibbs(net, s["x"], s["ygrid"], s["zgrid"], s["beta"]), 3)),
    ])


def _free_energy() -> Reference:
    ref = Reference(
        "ebm.free_energy",
        r"the free energy $F_\beta(x, y) = -\frac{1}{\beta} \log \int_z \exp(-\beta E(x, y, z))\, dz$",
        r"F_\beta(x,y)",
        FREE_ENERGY_DISPLAY, (Input(x, meaning="input"), Input(y, meaning="a point y, passed to E as given"),
                      Input(z, meaning="grid of z"), Input(beta, "positive", "inverse temperature")),
        functions={"E": E}, oracle="-(1/beta) torch.logsumexp(-beta E)", evaluator=_eval_free_energy)

    def vals(net, s, bk):
        return {"E": _fn(net, bk), "x": s["x"], "y": s["y_point"], "z": s["zgrid"], r"\beta": s["beta"]}

    def marginal():
        for sizes in SIZES:
            for seed in SEEDS:
                s = _setup(sizes, seed)
                net = oracles_ebm.OneLayer(sizes[:3], seed=seed)
                P = _JOINT_REF.evaluate({**vals(net, s, "numpy"), "y": s["ygrid"]})
                Fb = np.array([ref.evaluate({**vals(net, s, "numpy"), "y": yj}) for yj in s["ygrid"]])
                a = -s["beta"] * Fb
                yield _dims(sizes), P.sum(axis=1), np.exp(a - np.log(np.sum(np.exp(a))))

    return _with(ref, [
        _symbolic("marginalising z: sum_z P(y, z|x) = exp(-beta F_beta) / sum_y exp(-beta F_beta)",
                  _marginal_is_gibbs_of_free_energy),
        trials_check("numeric", "the joint summed over z equals the Gibbs distribution of F_beta", marginal),
        trials_check("oracle", "-(1/beta) torch.logsumexp of a one-layer network energy", lambda: _energy_trials(
            ref, vals, lambda net, s: oracles_ebm.free_energy(net, s["x"], s["y_point"], s["zgrid"], s["beta"]), 3)),
    ])


#: inverse temperatures of the zero-temperature checks, up to far past where exp(-beta E) overflows
BETAS = (1.0, 10.0, 1e3, 1e6, 1e9)
LARGE_BETA = 1e14


def _zero_temperature() -> Reference:
    ref = Reference(
        "ebm.zero_temperature", r"the zero-temperature limit of $F_\beta$: $\min_z E(x, y, z)$",
        r"\lim_{\beta\to\infty} F_\beta(x,y)", MinOver(E(x, y, z), z),
        (Input(x, meaning="input"), Input(y, meaning="a point y"), Input(z, meaning="grid of z")),
        functions={"E": E}, oracle="torch.logsumexp at beta up to 1e14", evaluator=_eval_zero_temperature)

    def vals(net, s, bk):
        return {"E": _fn(net, bk), "x": s["x"], "y": s["y_point"], "z": s["zgrid"]}

    def bounds():
        worst = 0.0
        for sizes in SIZES:
            for seed in SEEDS:
                s = _setup(sizes, seed)
                net = oracles_ebm.OneLayer(sizes[:3], seed=seed)
                for b, gap, bound in oracles_ebm.free_energy_bounds(net, s["x"], s["y_point"], s["zgrid"], BETAS):
                    if not (np.isfinite(gap) and -bound * (1 + 1e-9) - 1e-13 <= gap <= 1e-13):
                        return False, (f"F_beta - min E = {gap} outside [-log|Z|/beta, 0] = [{-bound}, 0] "
                                       f"at beta = {b}"), None
                    worst = max(worst, -gap / bound if bound else 0.0)
        betas = ", ".join(f"{b:g}" for b in BETAS)
        return True, (f"min E - log|Z|/beta <= F_beta <= min E and finite at beta = {betas}; "
                      f"min E - F_beta reaches {worst:.3g} of log|Z|/beta"), None

    return _with(ref, [
        _symbolic("the limit by sp.limit", _limit_check),
        _symbolic("the bound min E - log|Z|/beta <= F_beta <= min E", _bound_check),
        CheckSpec("oracle", "torch.logsumexp F_beta within the bound at large beta, no overflow", bounds),
        trials_check("oracle", f"torch.logsumexp F_beta at beta = {LARGE_BETA:g} against min_z E",
                     lambda: _energy_trials(ref, vals, lambda net, s: oracles_ebm.free_energy(
                         net, s["x"], s["y_point"], s["zgrid"], LARGE_BETA), 3)),
    ])


def _nll_values(net, s, bk, n_pairs=3):
    rng = s["rng"]
    K = s["ygrid"].shape[0]
    idx = rng.integers(0, K, n_pairs)
    xs = rng.normal(0, 1, (n_pairs, len(s["x"])))
    return {"F_w": _fn(net, bk), "w": net.w0, "x_i": xs, "y_i": s["ygrid"][idx], "y": s["ygrid"],
            r"\beta": s["beta"]}, idx


def _nll_trials(ref, oracle):
    for sizes in SIZES:
        for seed in SEEDS:
            s = _setup(sizes, seed)
            net = oracles_ebm.OneLayer(sizes[:2], seed=seed, params=True)
            v, idx = _nll_values(net, s, "numpy")
            want = oracle(net, v["w"], v["x_i"], idx, v["y"], v[r"\beta"])
            for backend in ("numpy", "torch"):
                out = ref.evaluate({**v, "F_w": _fn(net, backend)}, backend=backend)
                got = np.asarray(out.detach() if hasattr(out, "detach") else out, dtype=np.float64)
                yield f"{_dims(sizes)}, {backend}", got, want


NLL_INPUTS = (Input(x_i, meaning="training inputs, one per row"), Input(y_i, meaning="training targets, one per row"),
              Input(y, meaning="grid of y"), Input(w, meaning="parameters, passed last to F_w"),
              Input(beta, "positive", "inverse temperature"))


def _nll_loss() -> Reference:
    ref = Reference(
        "ebm.nll_loss", r"the negative log-likelihood loss of the Gibbs model, divided by $\beta$",
        r"\mathcal{L}(w)", display_loss(), NLL_INPUTS, functions={"F_w": F_w},
        oracle="-(1/(N beta)) sum_i torch.distributions.Categorical(logits=-beta F_w).log_prob(y_i)",
        evaluator=_eval_nll_loss)
    derived, contract = nll_from_likelihood()
    return _with(ref, [
        symbolic_equal(derived, contract, "-(1/(N beta)) log prod_i P(y_i|x_i) expands to the loss (N = 2, 3 points)",
                       simplifier=lambda e: sp.simplify(sp.expand_log(e, force=True))),
        trials_check("oracle", "Categorical log-likelihood of a one-layer network F_w",
                     lambda: _nll_trials(ref, oracles_ebm.nll_loss)),
    ])


def _nll_gradient() -> Reference:
    ref = Reference(
        "ebm.nll_gradient",
        r"the NLL gradient: $\partial F_w / \partial w$ at the data minus its expectation under $P_w(y \mid x_i)$, "
        r"where $P_w(y \mid x_i) = \frac{\exp(-\beta F_w(x_i, y))}{\int_{y'} \exp(-\beta F_w(x_i, y'))\, dy'}$",
        r"\frac{\partial \mathcal{L}}{\partial w}", display_gradient(), NLL_INPUTS, {P_W: gibbs_expr(F_w(x_i, y))},
        functions={"F_w": F_w},
        oracle="torch autograd of the Categorical NLL", evaluator=_eval_nll_gradient)

    def leibniz():
        d = sp.simplify((nll_gradient_derived() - nll_gradient_contract()).as_dummy())
        if d == 0:
            return True, "sp.diff of the loss (under the integral, F_w abstract) minus the contract is 0", None
        return None, f"SymPy left {d}", None

    def finite():
        d = _nll_finite_gradient()
        return (True, "on 3 grid points with abstract f_k(w) the difference simplifies to 0", None) if d == 0 \
            else (None, f"SymPy left {d}", None)

    def complex_step():
        """The gradient formula against the complex-step derivative of ebm.nll_loss (numpy)."""
        loss = _NLL_LOSS_REF
        for sizes in SIZES:
            for seed in SEEDS:
                s = _setup(sizes, seed)
                net = oracles_ebm.OneLayer(sizes[:2], seed=seed, params=True)
                v, _ = _nll_values(net, s, "numpy")
                got = ref.evaluate(v)
                want = np.empty_like(net.w0)
                for j in range(net.w0.size):
                    wc = net.w0.astype(np.complex128)
                    wc[j] += 1e-30j
                    want[j] = np.imag(loss.evaluate({**v, "w": wc})) / 1e-30
                yield _dims(sizes), got, want

    return _with(ref, [
        _symbolic("Leibniz: differentiate the loss under the integral, F_w abstract", leibniz),
        _symbolic("the same on a finite grid", finite),
        trials_check("numeric", "complex-step derivative of ebm.nll_loss", complex_step),
        trials_check("oracle", "torch autograd of the Categorical NLL of a one-layer network",
                     lambda: _nll_trials(ref, oracles_ebm.nll_gradient)),
    ])


_GIBBS_REF = _JOINT_REF = _NLL_LOSS_REF = None


def references() -> list[Reference]:
    global _GIBBS_REF, _JOINT_REF, _NLL_LOSS_REF
    _GIBBS_REF, _JOINT_REF, _NLL_LOSS_REF = _gibbs(), _joint(), _nll_loss()
    return [_inference(), _GIBBS_REF, _JOINT_REF, _free_energy(), _zero_temperature(), _NLL_LOSS_REF,
            _nll_gradient()]


def w_implicit(expr):
    r"""For display: the parameters as the course leaves them implicit, ``F_w(a, b, w)`` as ``F_w(a, b)``,
    ``E(x, y, z, w)`` as ``E(x, y, z)``, and their derivatives in ``w`` as ``\frac{\partial F_w(a, b)}{\partial w}``."""
    def with_w(e):
        return isinstance(e, sp.core.function.AppliedUndef) and e.func in (F_w, E) and e.args and e.args[-1] == w

    expr = expr.replace(lambda e: isinstance(e, sp.Derivative) and with_w(e.expr) and e.variables == (w,),
                        lambda e: partial(e.expr.func(*e.expr.args[:-1]), w))
    return expr.replace(with_w, lambda e: e.func(*e.args[:-1]))
