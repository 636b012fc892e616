"""Evaluating the architectural EBMs (see :mod:`symdl.models.latent`): shapes and domains checked first.

Bad values raise :class:`~symdl.model.reference.EvaluationError` naming the symbol.
"""

from __future__ import annotations

import numpy as np

from ..model.reference import EvaluationError, Input, check_keys, evaluate_expression
from ..numeric import compile as backends
from ._grids import asarray, positive
from ._latent_defs import kl_derived, mu_j, sigma_j


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


def evaluate_kmeans(ref, values, backend):
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


def evaluate_sparse(ref, values, backend):
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


def evaluate_kl(ref, values, backend):
    check_keys(ref.name, ref.inputs, {}, values)
    return kl_value(ref.name, values, backend)


def evaluate_vae(ref, values, backend):
    check_keys(ref.name, ref.inputs, {}, values)
    b = positive(ref.name, values, r"\beta")
    yv, yh = _vec(ref.name, values, "y", backend), _vec(ref.name, values, r"\hat{y}", backend)
    if yv.shape != yh.shape:
        raise EvaluationError(f"{ref.name}: 'y' has size {yv.shape[0]} but '\\hat{{y}}' has size {yh.shape[0]}")
    r = yv - yh
    return (r * r).sum() + b * kl_value(ref.name, values, backend)
