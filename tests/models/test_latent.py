"""latent.*: K-means, sparse coding and the VAE terms written twice, through symdl and in torch float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

import symdl.model.registry as registry
from conftest import BACKENDS, RTOL, ref, rel
from symdl.models import latent
from symdl.model.reference import EvaluationError
from symdl.verify.spec import run_checks


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("d, k", [(2, 3), (6, 10)])
def test_kmeans_free_energy_is_torch_cdist_min(backend, d, k):
    rng = np.random.default_rng(d * k)
    y, W = rng.normal(size=d), rng.normal(size=(d, k))
    got = ref("latent.kmeans_energy").evaluate({"y": y, "W": W}, backend=backend)
    dist = torch.cdist(torch.as_tensor(y).reshape(1, -1), torch.as_tensor(W).T)[0]
    assert rel(got, dist[dist.argmin()] ** 2) < RTOL


@pytest.mark.parametrize("backend", BACKENDS)
def test_kmeans_energy_at_a_one_hot_code_is_the_distance_to_that_column(backend):
    rng = np.random.default_rng(1)
    y, W = rng.normal(size=4), rng.normal(size=(4, 5))
    for c in range(5):
        got = ref("latent.kmeans_energy").evaluate({"y": y, "W": W, "z": np.eye(5)[c]}, backend=backend)
        want = torch.sum((torch.as_tensor(y) - torch.as_tensor(W[:, c])) ** 2)
        assert rel(got, want) < RTOL


def test_kmeans_rejects_a_code_that_is_not_one_hot():
    with pytest.raises(EvaluationError, match="one-hot"):
        ref("latent.kmeans_energy").evaluate({"y": np.ones(2), "W": np.eye(2), "z": np.array([0.5, 0.5])})
    with pytest.raises(EvaluationError, match="expected k = 2"):
        ref("latent.kmeans_energy").evaluate({"y": np.ones(2), "W": np.eye(2), "z": np.array([1.0, 0, 0])})


@pytest.mark.parametrize("backend", BACKENDS)
def test_sparse_coding_energy_is_torch_squared_error_plus_l1(backend):
    rng = np.random.default_rng(2)
    y, W, z = rng.normal(size=5), rng.normal(size=(5, 8)), rng.normal(size=8)
    got = ref("latent.sparse_coding_energy").evaluate({"y": y, "W": W, "z": z, r"\lambda": 0.3}, backend=backend)
    y_t, W_t, z_t = (torch.as_tensor(a) for a in (y, W, z))
    want = ((y_t - W_t @ z_t) ** 2).sum() + 0.3 * z_t.abs().sum()
    assert rel(got, want) < RTOL


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("d", [1, 3, 12])
def test_vae_kl_is_torch_kl_divergence(backend, d):
    rng = np.random.default_rng(d)
    mu, sigma = rng.normal(size=d), rng.uniform(0.2, 3.0, d)
    got = ref("latent.vae_kl").evaluate({r"\mu": mu, r"\sigma": sigma}, backend=backend)
    want = kl_divergence(Normal(torch.as_tensor(mu), torch.as_tensor(sigma)),
                         Normal(torch.zeros(d, dtype=torch.float64), torch.ones(d, dtype=torch.float64))).sum()
    assert rel(got, want) < RTOL


def test_vae_kl_is_zero_at_the_standard_normal_and_positive_elsewhere():
    kl = ref("latent.vae_kl")
    assert abs(float(kl.evaluate({r"\mu": np.zeros(3), r"\sigma": np.ones(3)}))) < 1e-15
    assert float(kl.evaluate({r"\mu": np.array([0.0, 1e-3]), r"\sigma": np.ones(2)})) > 0


def test_the_kl_is_derived_by_integration_not_typed_in():
    import sympy as sp

    derived = latent.kl_derived()
    assert not derived.has(sp.Integral)
    assert sp.simplify(sp.expand_log(derived - latent.KL_CONTRACT, force=True)) == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_vae_loss_is_reconstruction_plus_beta_kl(backend):
    rng = np.random.default_rng(4)
    y, yh, mu, sigma = rng.normal(size=6), rng.normal(size=6), rng.normal(size=3), rng.uniform(0.5, 2, 3)
    got = ref("latent.vae_loss").evaluate({"y": y, r"\hat{y}": yh, r"\mu": mu, r"\sigma": sigma, r"\beta": 2.5},
                                          backend=backend)
    recon = torch.nn.functional.mse_loss(torch.as_tensor(yh), torch.as_tensor(y), reduction="sum")
    kl = kl_divergence(Normal(torch.as_tensor(mu), torch.as_tensor(sigma)),
                       Normal(torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))).sum()
    assert rel(got, recon + 2.5 * kl) < RTOL


@pytest.mark.parametrize("sigma", [[1.0, 0.0], [1.0, -0.5]])
def test_nonpositive_sigma_is_an_error_naming_sigma(sigma):
    with pytest.raises(EvaluationError, match=r"\\sigma value at index 1.*must be > 0"):
        ref("latent.vae_kl").evaluate({r"\mu": np.zeros(2), r"\sigma": np.array(sigma)})


def test_nonpositive_lambda_and_beta_are_errors_naming_them():
    with pytest.raises(EvaluationError, match=r"\\lambda.*must be > 0"):
        ref("latent.sparse_coding_energy").evaluate({"y": np.ones(2), "W": np.eye(2), "z": np.ones(2),
                                                     r"\lambda": 0.0})
    with pytest.raises(EvaluationError, match=r"\\beta.*must be > 0"):
        ref("latent.vae_loss").evaluate({"y": np.ones(2), r"\hat{y}": np.ones(2), r"\mu": np.zeros(1),
                                         r"\sigma": np.ones(1), r"\beta": -1.0})


def test_every_latent_reference_is_verified_with_an_oracle():
    names = [r.name for r in registry.refs() if r.section == "latent"]
    assert names == ["latent.kmeans_energy", "latent.sparse_coding_energy", "latent.vae_kl", "latent.vae_loss"]
    for name in names:
        result = run_checks(name, ref(name).checks)
        failed = [c.detail for c in result.checks if c.made and not c.passed]
        assert result.status == "verified" and not failed, (name, failed)
        assert any(c.method == "oracle" and c.passed for c in result.checks), name


@pytest.mark.parametrize("seed", range(6))
def test_one_atom_sparse_code_minimises_the_energy_on_a_torch_grid(seed):
    """The derived soft-threshold code against a brute-force minimum over 200001 codes, in torch."""
    rng = np.random.default_rng(seed)
    y, w, lm = rng.normal(size=3), rng.normal(size=3), float(rng.uniform(0.1, 4))
    z_star = latent.soft_threshold(float(w @ y), float(w @ w), lm)
    zs = torch.linspace(-5, 5, 200001, dtype=torch.float64)
    E = ((torch.as_tensor(y)[None, :] - zs[:, None] * torch.as_tensor(w)[None, :]) ** 2).sum(1) + lm * zs.abs()
    assert abs(z_star - float(zs[E.argmin()])) <= 1e-4
    got = ref("latent.sparse_coding_energy").evaluate({"y": y, "W": w.reshape(-1, 1), "z": [z_star], r"\lambda": lm})
    assert float(got) <= float(E.min()) + 1e-12
