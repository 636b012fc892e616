"""The checks of the architectural EBMs (see :mod:`symdl.models.latent`), one factory a reference.

Each factory receives the reference it checks (and the references its checks
compare with).  Numbers are held against torch through both backends, and
the KL against Gauss-Hermite quadrature of its defining integral.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..model.reference import Reference
from ..verify.builders import symbolic_equal
from ..verify.oracles import ebm as oracles_ebm
from ..verify.spec import CheckSpec, compare_trials
from ._grids import trials_check
from ._latent_defs import (KL_CONTRACT, atom_a, atom_c, kl_derived, kl_minimum, kmeans_one_hot, lam, mu_j, sigma_j,
                           soft_threshold, sparse_code_branches)

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


# -- K-means -------------------------------------------------------------------------------


def kmeans_checks(ref: Reference) -> list[CheckSpec]:
    """W z picks a column (SymPy), F(y) is the least energy over the codes, torch's cdist and mse_loss."""

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

    return [
        CheckSpec("symbolic", "W z picks the column w_c of a one-hot z", proof, timeout=60),
        trials_check("numeric", "F(y) is the least E(y, z) over the k one-hot codes", min_over_codes),
        trials_check("oracle", "torch.cdist and argmin for F(y); torch mse_loss for E(y, z)", oracle),
    ]


# -- sparse coding -------------------------------------------------------------------------


def soft_thresholding_found():
    """SymPy's stationary points on each sign branch are (a -/+ lambda/2)/c, feasible exactly where they should be."""
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


def _stationary_at_soft_threshold(ref: Reference):
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


def sparse_checks(ref: Reference, kmeans: Reference) -> list[CheckSpec]:
    """Soft thresholding (SymPy, then torch's gradient there), K-means plus lambda at a one-hot code, torch."""

    def one_hot_is_kmeans_plus_lambda():
        for label, rng, dd, kk in _points(23):
            v = {"y": rng.normal(0, 1, dd), "W": rng.normal(0, 1, (dd, kk)), "z": _one_hot(rng, kk)}
            lm = float(rng.uniform(0.1, 2))
            yield label, _num(ref.evaluate({**v, r"\lambda": lm})), _num(kmeans.evaluate(v)) + lm

    def oracle():
        for label, rng, dd, kk in _points(24):
            v = {"y": rng.normal(0, 1, dd), "W": rng.normal(0, 1, (dd, kk)), "z": rng.normal(0, 1, kk),
                 r"\lambda": float(rng.uniform(0.1, 2))}
            want = oracles_ebm.sparse_coding_energy(v["y"], v["W"], v["z"], v[r"\lambda"])
            for backend, got in _both(ref, v):
                yield f"{label}, {backend}", got, want

    return [
        CheckSpec("symbolic", "the one-atom minimiser (soft thresholding), solved on each sign branch",
                  soft_thresholding_found, timeout=60),
        CheckSpec("oracle", "torch autograd of the energy vanishes at the derived one-atom minimiser",
                  lambda: _stationary_at_soft_threshold(ref)),
        trials_check("numeric", "at a one-hot z it is the K-means energy plus lambda", one_hot_is_kmeans_plus_lambda),
        trials_check("oracle", "torch mse_loss(reduction='sum') + lambda vector_norm(z, 1)", oracle),
    ]


# -- the VAE -------------------------------------------------------------------------------


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


def kl_minimum_found():
    """The KL's only stationary point is mu_j = 0, sigma_j = 1, where it is 0 with a positive definite Hessian."""
    sols, at = kl_minimum()
    if sols != [{mu_j: 0, sigma_j: 1}]:
        return False, f"stationary points {sols}, expected mu_j = 0, sigma_j = 1 only", None
    value, H = at[0]
    if value != 0 or not H.is_positive_definite:
        return False, f"value {value}, Hessian {H.tolist()} there", None
    return True, f"the only stationary point is mu_j = 0, sigma_j = 1, where KL = 0 and the Hessian {H.tolist()} " \
                 "is positive definite", None


def kl_checks(ref: Reference) -> list[CheckSpec]:
    """The derived KL against REFERENCES.md's closed form, its minimum, quadrature, torch.distributions."""

    def quadrature():
        for label, rng, dd, _ in _points(25):
            mu, sg = rng.normal(0, 1, dd), rng.uniform(0.3, 2.5, dd)
            yield label, _num(ref.evaluate({r"\mu": mu, r"\sigma": sg})), _gauss_hermite_kl(mu, sg)

    def oracle():
        for label, rng, dd, _ in _points(26):
            mu, sg = rng.normal(0, 1, dd), rng.uniform(0.3, 2.5, dd)
            for backend, got in _both(ref, {r"\mu": mu, r"\sigma": sg}):
                yield f"{label}, {backend}", got, oracles_ebm.vae_kl(mu, sg)

    return [
        symbolic_equal(kl_derived(), KL_CONTRACT, "sp.integrate of q log(q/p) equals REFERENCES.md's closed form",
                       simplifier=lambda e: sp.simplify(sp.expand_log(e, force=True))),
        CheckSpec("symbolic", "the KL is 0 exactly at N(0, 1) and positive near it", kl_minimum_found, timeout=60),
        trials_check("numeric", "Gauss-Hermite quadrature (20 nodes) of the defining integral", quadrature),
        trials_check("oracle", "torch.distributions.kl_divergence of Independent Normals", oracle),
    ]


def vae_loss_checks(ref: Reference) -> list[CheckSpec]:
    """torch's mse_loss plus beta times its kl_divergence."""

    def oracle():
        for label, rng, dd, kk in _points(27):
            v = {"y": rng.normal(0, 1, dd), r"\hat{y}": rng.normal(0, 1, dd), r"\mu": rng.normal(0, 1, kk),
                 r"\sigma": rng.uniform(0.3, 2.5, kk), r"\beta": float(rng.uniform(0.1, 4))}
            want = oracles_ebm.vae_loss(v["y"], v[r"\hat{y}"], v[r"\mu"], v[r"\sigma"], v[r"\beta"])
            for backend, got in _both(ref, v):
                yield f"{label}, {backend}", got, want

    return [trials_check("oracle", "torch mse_loss(reduction='sum') + beta kl_divergence", oracle)]
