r"""Architectural EBMs of seed question 3f: K-means, sparse coding, the VAE's KL and loss.

The Gaussian KL is derived, not typed in: ``sp.integrate`` of
:math:`q \log(q/p)` (in :math:`s = (t - \mu_j)/\sigma_j`) for :math:`q = \mathcal{N}(\mu_j, \sigma_j^2)`,
:math:`p = \mathcal{N}(0, 1)`, one coordinate at a time (the densities
factorise, so the KL of the diagonal Gaussian is the sum over ``j``).

Evaluating (``ref(name).evaluate(values, backend=...)``): ``"y"`` is a
vector of size d, ``"W"`` a d x k matrix whose columns ``w_k`` are the
prototypes or the dictionary, ``"z"`` a vector of size k (one-hot for
K-means), ``"\lambda"`` > 0.  ``latent.kmeans_energy`` gives ``E(y, z)``
when ``"z"`` is given and ``F(y) = min_k ||y - w_k||^2`` when it is left out.
For the VAE, ``"\mu"`` and ``"\sigma"`` are vectors (``\sigma`` > 0), and
``latent.vae_loss`` also takes ``"y"``, its reconstruction ``"\hat{y}"``
(squared error) and ``"\beta"`` > 0.  Bad values raise
:class:`~symdl.model.reference.EvaluationError` naming the symbol.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from ..numeric import compile as backends
from ..verify.oracles import ebm as oracles_ebm
from ..core.calculus import add
from ..verify.builders import symbolic_equal
from ..model.reference import EvaluationError, Input, Reference, check_keys, evaluate_expression
from ..verify.spec import CheckSpec, compare_trials
from ..core.symbols import n
from ._display import ordered_sum
from ._grids import asarray, positive, trials_check

d = sp.Symbol("d", integer=True, positive=True)
k = sp.Symbol("k", integer=True, positive=True)
y = sp.MatrixSymbol("y", d, 1)
y_n = sp.MatrixSymbol("y", n, 1)  # the VAE's data: its size n need not be the latent size d
y_hat = sp.MatrixSymbol(r"\hat{y}", n, 1)
W = sp.MatrixSymbol("W", d, k)
z = sp.MatrixSymbol("z", k, 1)
lam = sp.Symbol(r"\lambda", positive=True)
beta = sp.Symbol(r"\beta", positive=True)
mu_j = sp.Symbol(r"\mu_j", real=True)
sigma_j = sp.Symbol(r"\sigma_j", positive=True)
j = sp.Symbol("j", integer=True, positive=True)
mu_vec, sigma_vec = sp.MatrixSymbol(r"\mu", d, 1), sp.MatrixSymbol(r"\sigma", d, 1)


class SquaredNorm(sp.Function):
    r""":math:`\lVert v \rVert^2`, for display."""

    def _latex(self, printer):
        v = self.args[0]
        if isinstance(v, sp.MatAdd):  # y - W z: each term with its sign and spaces
            parts = [printer._print(t) for t in v.args]
            body = " ".join([parts[0]] + [("- " + p[1:].lstrip()) if p.startswith("-") else "+ " + p
                                          for p in parts[1:]])
        else:
            body = printer._print(v)
        return r"\lVert %s \rVert^2" % body


class L1Norm(sp.Function):
    r""":math:`\lVert v \rVert_1`, for display."""

    def _latex(self, printer):
        return r"\lVert %s \rVert_1" % printer._print(self.args[0])


RESIDUAL = add(y, -W * z)
KMEANS = SquaredNorm(RESIDUAL)
SPARSE = ordered_sum(SquaredNorm(RESIDUAL), lam * L1Norm(z))

# -- derivations ---------------------------------------------------------------------------


def gaussian_density(t, mean, std):
    return sp.exp(-(t - mean) ** 2 / (2 * std ** 2)) / sp.sqrt(2 * sp.pi * std ** 2)


@lru_cache(maxsize=1)
def kl_derived():
    r"""``\int q \log(q/p) dt`` for one coordinate, by ``sp.integrate`` of the Gaussian densities.

    The variable is changed first, ``t = mu_j + sigma_j s`` (``dt = sigma_j ds``; ``sigma_j > 0`` keeps
    the limits), so SymPy integrates a polynomial times ``e^{-s^2/2}``: 0.2 s instead of 0.9 s in ``t``.
    """
    t, s = sp.Symbol("t", real=True), sp.Symbol("s", real=True)
    q, p = gaussian_density(t, mu_j, sigma_j), gaussian_density(t, 0, 1)
    integrand = q * sp.expand_log(sp.log(q / p), force=True)
    in_s = sp.expand(sp.powsimp(sp.expand(integrand.subs(t, mu_j + sigma_j * s) * sigma_j)))
    return sp.simplify(sp.integrate(in_s, (s, -sp.oo, sp.oo)))


#: REFERENCES.md's closed form of one coordinate, only ever compared against.
KL_CONTRACT = sp.Rational(1, 2) * (sigma_j ** 2 + mu_j ** 2 - 1 - sp.log(sigma_j ** 2))


def kl_minimum():
    """The KL's stationary points in (mu_j, sigma_j), solved by SymPy, and the value and Hessian there."""
    kl = kl_derived()
    sols = sp.solve([sp.diff(kl, mu_j), sp.diff(kl, sigma_j)], [mu_j, sigma_j], dict=True)
    H = sp.hessian(kl, (mu_j, sigma_j))
    return sols, [(kl.subs(s_), H.subs(s_)) for s_ in sols]


def kmeans_one_hot(dd: int = 2, kk: int = 3):
    """At explicit sizes: ``||y - W e_c||^2 - ||y - w_c||^2`` for every one-hot ``e_c`` (each should be 0)."""
    Y, Wm = sp.Matrix(sp.MatrixSymbol("y", dd, 1)), sp.Matrix(sp.MatrixSymbol("W", dd, kk))
    out = []
    for c in range(kk):
        e = sp.zeros(kk, 1)
        e[c] = 1
        r1, r2 = Y - Wm * e, Y - Wm[:, c]
        out.append(sp.expand((r1.T * r1)[0] - (r2.T * r2)[0]))
    return out


#: One atom: a = w^T y, c = ||w||^2, so that ||y - w z||^2 = ||y||^2 - 2 a z + c z^2 for a scalar code z.
atom_a = sp.Symbol("a", real=True)
atom_c = sp.Symbol("c", positive=True)


def sparse_code_branches():
    """Stationary points of ``c z^2 - 2 a z + lambda |z|`` on ``z > 0`` and ``z < 0``, by sp.solve."""
    out = []
    for assumption in ({"positive": True}, {"negative": True}):
        zz = sp.Symbol("z", **assumption)
        E = atom_c * zz ** 2 - 2 * atom_a * zz + lam * sp.Abs(zz)
        (sol,) = sp.solve(sp.diff(E, zz), zz)
        out.append(sol)
    return tuple(out)


def soft_threshold(a: float, c: float, lm: float) -> float:
    """The minimiser from the derived branches: the positive one, the negative one, or 0 between them."""
    zp, zn = (float(b.subs({atom_a: a, atom_c: c, lam: lm})) for b in sparse_code_branches())
    return zp if zp > 0 else zn if zn < 0 else 0.0


# -- evaluation ----------------------------------------------------------------------------


def _vec(name, values, key, backend):
    v = asarray(values[key], backend)
    if v.ndim == 2 and v.shape[1] == 1:
        v = v.reshape(-1)
    if v.ndim != 1 or v.shape[0] == 0:
        raise EvaluationError(f"{name}: {key!r} has shape {tuple(v.shape)}, expected a non-empty vector")
    return v


def _yW(name, values, backend):
    yv, Wv = _vec(name, values, "y", backend), asarray(values["W"], backend)
    if Wv.ndim != 2 or Wv.shape[0] != yv.shape[0] or Wv.shape[1] == 0:
        raise EvaluationError(f"{name}: 'W' has shape {tuple(Wv.shape)}, expected (d, k) = ({yv.shape[0]}, k >= 1)")
    return yv, Wv


def _z(name, values, backend, kk):
    zv = _vec(name, values, "z", backend)
    if zv.shape[0] != kk:
        raise EvaluationError(f"{name}: 'z' has size {zv.shape[0]}, expected k = {kk} (the columns of W)")
    return zv


def _eval_kmeans(ref, values, backend):
    check_keys(ref.name, [i for i in ref.inputs if i.name != "z"], {}, values, optional=("z",))
    yv, Wv = _yW(ref.name, values, backend)
    if "z" in values:
        zv = _z(ref.name, values, backend, Wv.shape[1])
        zn = np.asarray(zv.detach() if hasattr(zv, "detach") else zv, dtype=np.float64)
        if not (np.all((zn == 0) | (zn == 1)) and zn.sum() == 1):
            raise EvaluationError(f"{ref.name}: 'z' must be one-hot (one 1, the rest 0), got {zn.tolist()}")
        r = yv - Wv @ zv
        return (r * r).sum()
    R = yv.reshape(-1, 1) - Wv
    return (R * R).sum(0).min()


def _eval_sparse(ref, values, backend):
    check_keys(ref.name, ref.inputs, {}, values)
    yv, Wv = _yW(ref.name, values, backend)
    zv = _z(ref.name, values, backend, Wv.shape[1])
    lm = positive(ref.name, values, r"\lambda")
    r = yv - Wv @ zv
    return (r * r).sum() + lm * abs(zv).sum()


def _mu_sigma(name, values, backend):
    mu, sg = _vec(name, values, r"\mu", backend), _vec(name, values, r"\sigma", backend)
    if mu.shape != sg.shape:
        raise EvaluationError(f"{name}: '\\mu' has size {mu.shape[0]} but '\\sigma' has size {sg.shape[0]}")
    flat = np.asarray(sg.detach() if hasattr(sg, "detach") else sg, dtype=np.float64)
    bad = np.flatnonzero(~(flat > 0))
    if bad.size:
        raise EvaluationError(f"{name}: invalid \\sigma value at index {bad[0]}: {flat[bad[0]]} (must be > 0)")
    return mu, sg


def kl_value(name, values, backend):
    """The derived per-coordinate KL, compiled by symdl's backends, summed over the coordinates."""
    mu, sg = _mu_sigma(name, values, backend)
    inputs = (Input(mu_j), Input(sigma_j, "positive"))
    per = evaluate_expression(kl_derived(), inputs, {}, {r"\mu_j": mu, r"\sigma_j": sg}, backends.ops(backend),
                              backend, name)
    return per.sum()


def _eval_kl(ref, values, backend):
    check_keys(ref.name, ref.inputs, {}, values)
    return kl_value(ref.name, values, backend)


def _eval_vae(ref, values, backend):
    check_keys(ref.name, ref.inputs, {}, values)
    b = positive(ref.name, values, r"\beta")
    yv, yh = _vec(ref.name, values, "y", backend), _vec(ref.name, values, r"\hat{y}", backend)
    if yv.shape != yh.shape:
        raise EvaluationError(f"{ref.name}: 'y' has size {yv.shape[0]} but '\\hat{{y}}' has size {yh.shape[0]}")
    r = yv - yh
    return (r * r).sum() + b * kl_value(ref.name, values, backend)


# -- checks --------------------------------------------------------------------------------

SIZES = ((2, 3), (5, 4), (3, 7))  # (d, k)


def _num(x):
    return float(np.asarray(x.detach() if hasattr(x, "detach") else x, dtype=np.float64))


def _points(seed):
    rng = np.random.default_rng(seed)
    for dd, kk in SIZES:
        for _ in range(3):
            yield f"d = {dd}, k = {kk}", rng, dd, kk


def _one_hot(rng, kk):
    e = np.zeros(kk)
    e[rng.integers(kk)] = 1.0
    return e


def _both(ref, values):
    for backend in ("numpy", "torch"):
        yield backend, _num(ref.evaluate(values, backend=backend))


def _with(ref: Reference, checks) -> Reference:
    object.__setattr__(ref, "checks", tuple(checks))
    return ref


def _kmeans() -> Reference:
    ref = Reference("latent.kmeans_energy",
                    r"K-means: $E(y, z) = \lVert y - W z \rVert^2$ with $z$ one-hot; "
                    r"$F(y) = \min_k \lVert y - w_k \rVert^2$",
                    "E(y, z)", KMEANS, (Input(y, meaning="data point"), Input(W, meaning="prototypes w_k as columns"),
                                        Input(z, meaning="one-hot code; leave out for F(y)")),
                    oracle="torch.cdist and argmin", evaluator=_eval_kmeans)

    def proof():
        diffs = kmeans_one_hot()
        if all(x == 0 for x in diffs):
            return True, "||y - W e_c||^2 = ||y - w_c||^2 for each one-hot e_c, expanded at d = 2, k = 3", None
        return None, f"SymPy left {diffs}", None

    def min_over_codes():
        for label, rng, dd, kk in _points(21):
            v = {"y": rng.normal(0, 1, dd), "W": rng.normal(0, 1, (dd, kk))}
            energies = [_num(ref.evaluate({**v, "z": np.eye(kk)[c]})) for c in range(kk)]
            yield label, _num(ref.evaluate(v)), min(energies)

    def oracle():
        for label, rng, dd, kk in _points(22):
            v = {"y": rng.normal(0, 1, dd), "W": rng.normal(0, 1, (dd, kk))}
            zc = _one_hot(rng, kk)
            for backend, got in _both(ref, v):
                yield f"{label}, F(y), {backend}", got, oracles_ebm.kmeans_free_energy(v["y"], v["W"])
            for backend, got in _both(ref, {**v, "z": zc}):
                yield f"{label}, E(y, z), {backend}", got, oracles_ebm.squared_error(v["y"], v["W"] @ zc)

    return _with(ref, [
        CheckSpec("symbolic", "W z picks the column w_c of a one-hot z", proof, timeout=60),
        trials_check("numeric", "F(y) is the least E(y, z) over the k one-hot codes", min_over_codes),
        trials_check("oracle", "torch.cdist and argmin for F(y); torch mse_loss for E(y, z)", oracle),
    ])


def _sparse() -> Reference:
    ref = Reference("latent.sparse_coding_energy",
                    r"sparse coding: $E(y, z) = \lVert y - W z \rVert^2 + \lambda \lVert z \rVert_1$",
                    "E(y, z)", SPARSE, (Input(y, meaning="data point"), Input(W, meaning="dictionary"),
                                        Input(z, meaning="code"), Input(lam, "positive", "sparsity weight")),
                    oracle="torch mse_loss and vector_norm(ord=1)", evaluator=_eval_sparse)

    def one_hot_is_kmeans_plus_lambda():
        for label, rng, dd, kk in _points(23):
            v = {"y": rng.normal(0, 1, dd), "W": rng.normal(0, 1, (dd, kk)), "z": _one_hot(rng, kk)}
            lm = float(rng.uniform(0.1, 2))
            yield label, _num(ref.evaluate({**v, r"\lambda": lm})), _num(_KMEANS_REF.evaluate(v)) + lm

    def oracle():
        for label, rng, dd, kk in _points(24):
            v = {"y": rng.normal(0, 1, dd), "W": rng.normal(0, 1, (dd, kk)), "z": rng.normal(0, 1, kk),
                 r"\lambda": float(rng.uniform(0.1, 2))}
            want = oracles_ebm.sparse_coding_energy(v["y"], v["W"], v["z"], v[r"\lambda"])
            for backend, got in _both(ref, v):
                yield f"{label}, {backend}", got, want

    def branches():
        zp, zn = sparse_code_branches()
        t = sp.Symbol("t", positive=True)
        ok = (sp.simplify(zp - (atom_a - lam / 2) / atom_c) == 0 and sp.simplify(zn - (atom_a + lam / 2) / atom_c) == 0
              and zp.subs(atom_a, lam / 2 + t).is_positive and zn.subs(atom_a, -lam / 2 - t).is_negative
              and zp.subs(atom_a, lam / 2 - t).is_negative and zn.subs(atom_a, -lam / 2 + t).is_positive)
        if ok:
            return True, ("z > 0: z = (a - lambda/2)/c, feasible iff a > lambda/2; z < 0: z = (a + lambda/2)/c, "
                          "feasible iff a < -lambda/2; else z = 0: soft thresholding of a = w^T y at lambda/2, over "
                          "c = ||w||^2"), None
        return None, "SymPy's branches are not (a - lambda/2)/c and (a + lambda/2)/c", None

    def stationary():
        """torch autograd of the energy at the derived one-atom minimiser: 0 there, or |2 a| <= lambda at z = 0."""
        import torch

        trials = []
        for label, rng, dd, _ in _points(28):
            yv, wv, lm = rng.normal(0, 1, dd), rng.normal(0, 1, dd), float(rng.uniform(0.05, 3))
            a, c = float(wv @ yv), float(wv @ wv)
            zs = soft_threshold(a, c, lm)
            E0 = _num(ref.evaluate({"y": yv, "W": wv.reshape(-1, 1), "z": np.array([zs]), r"\lambda": lm}))
            zt = torch.tensor([zs], dtype=torch.float64, requires_grad=True)
            Et = ((torch.as_tensor(yv) - torch.as_tensor(wv).reshape(-1, 1) @ zt) ** 2).sum() + lm * zt.abs().sum()
            (g,) = torch.autograd.grad(Et, zt)
            if zs == 0.0:
                if not abs(2 * a) <= lm:
                    return False, f"z = 0 but |2 a| = {abs(2 * a):.6g} > lambda = {lm:.6g} at {label}", None
                continue
            trials += [(f"{label} gradient", float(g[0]) / (abs(2 * a) + lm), 0.0),
                       (f"{label} energy", E0, float(Et.detach()))]
        return compare_trials(trials)

    return _with(ref, [
        CheckSpec("symbolic", "the one-atom minimiser (soft thresholding), solved on each sign branch", branches,
                  timeout=60),
        CheckSpec("oracle", "torch autograd of the energy vanishes at the derived one-atom minimiser", stationary),
        trials_check("numeric", "at a one-hot z it is the K-means energy plus lambda", one_hot_is_kmeans_plus_lambda),
        trials_check("oracle", "torch mse_loss(reduction='sum') + lambda vector_norm(z, 1)", oracle),
    ])


def _gauss_hermite_kl(mu, sigma):
    """``E_{u ~ N(0,1)}[log q(mu + sigma u) - log p(mu + sigma u)]`` by Gauss-Hermite quadrature (numpy)."""
    u, wts = np.polynomial.hermite_e.hermegauss(20)
    wts = wts / np.sqrt(2 * np.pi)
    total = 0.0
    for m_, s_ in zip(mu, sigma):
        t = m_ + s_ * u
        logq = -0.5 * u ** 2 - np.log(s_) - 0.5 * np.log(2 * np.pi)
        logp = -0.5 * t ** 2 - 0.5 * np.log(2 * np.pi)
        total += np.sum(wts * (logq - logp))
    return total


def _kl() -> Reference:
    expr = sp.Sum(kl_derived(), (j, 1, d))
    ref = Reference("latent.vae_kl",
                    r"$KL(\mathcal{N}(\mu, \operatorname{diag}\sigma^2) \,\Vert\, \mathcal{N}(0, I))$, "
                    "derived by integrating the densities",
                    r"KL(\mathcal{N}(\mu, \operatorname{diag}\sigma^2) \,\Vert\, \mathcal{N}(0, I))", expr,
                    (Input(mu_vec, meaning="means"), Input(sigma_vec, "positive", "standard deviations")),
                    oracle="torch.distributions.kl_divergence", evaluator=_eval_kl)

    def minimum():
        sols, at = kl_minimum()
        if sols != [{mu_j: 0, sigma_j: 1}]:
            return False, f"stationary points {sols}, expected mu_j = 0, sigma_j = 1 only", None
        value, H = at[0]
        if value != 0 or not H.is_positive_definite:
            return False, f"value {value}, Hessian {H.tolist()} there", None
        return True, f"the only stationary point is mu_j = 0, sigma_j = 1, where KL = 0 and the Hessian {H.tolist()} " \
                     "is positive definite", None

    def quadrature():
        for label, rng, dd, _ in _points(25):
            mu, sg = rng.normal(0, 1, dd), rng.uniform(0.3, 2.5, dd)
            yield label, _num(ref.evaluate({r"\mu": mu, r"\sigma": sg})), _gauss_hermite_kl(mu, sg)

    def oracle():
        for label, rng, dd, _ in _points(26):
            mu, sg = rng.normal(0, 1, dd), rng.uniform(0.3, 2.5, dd)
            for backend, got in _both(ref, {r"\mu": mu, r"\sigma": sg}):
                yield f"{label}, {backend}", got, oracles_ebm.vae_kl(mu, sg)

    return _with(ref, [
        symbolic_equal(kl_derived(), KL_CONTRACT, "sp.integrate of q log(q/p) equals REFERENCES.md's closed form",
                       simplifier=lambda e: sp.simplify(sp.expand_log(e, force=True))),
        CheckSpec("symbolic", "the KL is 0 exactly at N(0, 1) and positive near it", minimum, timeout=60),
        trials_check("numeric", "Gauss-Hermite quadrature (20 nodes) of the defining integral", quadrature),
        trials_check("oracle", "torch.distributions.kl_divergence of Independent Normals", oracle),
    ])


def _vae_loss() -> Reference:
    expr = ordered_sum(SquaredNorm(add(y_n, -y_hat)), beta * sp.Sum(kl_derived(), (j, 1, d)))
    ref = Reference("latent.vae_loss", r"VAE loss: squared reconstruction error plus $\beta$ times the KL",
                    r"\ell(y, \hat{y})", expr,
                    (Input(y_n, meaning="data"), Input(y_hat, meaning="reconstruction"), Input(mu_vec, meaning="means"),
                     Input(sigma_vec, "positive", "standard deviations"), Input(beta, "positive", "KL weight")),
                    oracle="torch mse_loss + beta kl_divergence", evaluator=_eval_vae)

    def oracle():
        for label, rng, dd, kk in _points(27):
            v = {"y": rng.normal(0, 1, dd), r"\hat{y}": rng.normal(0, 1, dd), r"\mu": rng.normal(0, 1, kk),
                 r"\sigma": rng.uniform(0.3, 2.5, kk), r"\beta": float(rng.uniform(0.1, 4))}
            want = oracles_ebm.vae_loss(v["y"], v[r"\hat{y}"], v[r"\mu"], v[r"\sigma"], v[r"\beta"])
            for backend, got in _both(ref, v):
                yield f"{label}, {backend}", got, want

    return _with(ref, [
        trials_check("oracle", "torch mse_loss(reduction='sum') + beta kl_divergence", oracle),
    ])


_KMEANS_REF = None


def references() -> list[Reference]:
    global _KMEANS_REF
    _KMEANS_REF = _kmeans()
    return [_KMEANS_REF, _sparse(), _kl(), _vae_loss()]

