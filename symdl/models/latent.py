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

This module builds the references; the pieces live by job in private modules:
the definitions and derived results in ``_latent_defs``, evaluation in
``_latent_eval``, and each reference's checks in ``_latent_checks``.
"""

from __future__ import annotations

import sympy as sp

from ..core.calculus import add
from ..model.reference import Input, Reference
from ._display import ordered_sum
from ._latent_checks import kl_checks, kmeans_checks, sparse_checks, vae_loss_checks
from ._latent_defs import (KL_CONTRACT, KMEANS, SPARSE, L1Norm, SquaredNorm, W, atom_a, atom_c, beta, d,
                           gaussian_density, j, k, kl_derived, kl_minimum, kmeans_one_hot, lam, mu_j, mu_vec, sigma_j,
                           sigma_vec, soft_threshold, sparse_code_branches, y, y_hat, y_n, z)
from ._latent_eval import evaluate_kl, evaluate_kmeans, evaluate_sparse, evaluate_vae, kl_value

__all__ = [  # the definitions and derived results the worked solution and the tests read from here
    "KL_CONTRACT", "KMEANS", "SPARSE", "L1Norm", "SquaredNorm", "W", "atom_a", "atom_c", "beta", "d",
    "gaussian_density", "j", "k", "kl_derived", "kl_minimum", "kl_value", "kmeans_one_hot", "lam", "mu_j",
    "mu_vec", "references", "sigma_j", "sigma_vec", "soft_threshold", "sparse_code_branches", "y", "y_hat", "y_n", "z",
]

def _kmeans() -> Reference:
    return Reference("latent.kmeans_energy",
                     r"K-means: $E(y, z) = \lVert y - W z \rVert^2$ with $z$ one-hot; "
                     r"$F(y) = \min_k \lVert y - w_k \rVert^2$",
                     "E(y, z)", KMEANS, (Input(y, meaning="data point"), Input(W, meaning="prototypes w_k as columns"),
                                         Input(z, meaning="one-hot code; leave out for F(y)")),
                     oracle="torch.cdist and argmin", evaluator=evaluate_kmeans, checks=kmeans_checks)


def _sparse(kmeans: Reference) -> Reference:
    return Reference("latent.sparse_coding_energy",
                     r"sparse coding: $E(y, z) = \lVert y - W z \rVert^2 + \lambda \lVert z \rVert_1$",
                     "E(y, z)", SPARSE, (Input(y, meaning="data point"), Input(W, meaning="dictionary"),
                                         Input(z, meaning="code"), Input(lam, "positive", "sparsity weight")),
                     oracle="torch mse_loss and vector_norm(ord=1)", evaluator=evaluate_sparse,
                     checks=lambda ref: sparse_checks(ref, kmeans))


def _kl() -> Reference:
    expr = sp.Sum(kl_derived(), (j, 1, d))
    return Reference("latent.vae_kl",
                     r"$KL(\mathcal{N}(\mu, \operatorname{diag}\sigma^2) \,\Vert\, \mathcal{N}(0, I))$, "
                     "derived by integrating the densities",
                     r"KL(\mathcal{N}(\mu, \operatorname{diag}\sigma^2) \,\Vert\, \mathcal{N}(0, I))", expr,
                     (Input(mu_vec, meaning="means"), Input(sigma_vec, "positive", "standard deviations")),
                     oracle="torch.distributions.kl_divergence", evaluator=evaluate_kl, checks=kl_checks)


def _vae_loss() -> Reference:
    expr = ordered_sum(SquaredNorm(add(y_n, -y_hat)), beta * sp.Sum(kl_derived(), (j, 1, d)))
    return Reference("latent.vae_loss", r"VAE loss: squared reconstruction error plus $\beta$ times the KL",
                     r"\ell(y, \hat{y})", expr,
                     (Input(y_n, meaning="data"), Input(y_hat, meaning="reconstruction"),
                      Input(mu_vec, meaning="means"), Input(sigma_vec, "positive", "standard deviations"),
                      Input(beta, "positive", "KL weight")),
                     oracle="torch mse_loss + beta kl_divergence", evaluator=evaluate_vae, checks=vae_loss_checks)


def references() -> list[Reference]:
    kmeans = _kmeans()
    return [kmeans, _sparse(kmeans), _kl(), _vae_loss()]
