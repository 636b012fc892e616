"""contrastive.*: PIRL's h and L_NCE written twice, through symdl and in torch float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.functional import cosine_similarity

import symdl.model.registry as registry
from conftest import BACKENDS, RTOL, ref, rel
from symdl.models import contrastive
from symdl.model.reference import EvaluationError
from symdl.verify.spec import run_check, run_checks


def torch_h(a, b, negs, tau):
    """PIRL's h(a, b): e^{s(a,b)/tau} over itself plus sum_I' e^{s(b, v_I')/tau}."""
    a, b, negs = (torch.as_tensor(t, dtype=torch.float64) for t in (a, b, negs))
    top = torch.exp(cosine_similarity(a, b, dim=0) / tau)
    rest = torch.exp(cosine_similarity(b.unsqueeze(0), negs, dim=1) / tau).sum()
    return top / (top + rest)


def point(rng, d, n_neg):
    return {"v_I": rng.normal(size=d), "v_{I^t}": rng.normal(size=d), "v_{I'}": rng.normal(size=(n_neg, d)),
            r"\tau": 0.07 + rng.uniform()}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("d, n_neg", [(2, 1), (4, 3), (16, 10)])
def test_pirl_h_is_torch_cosine_softmax(backend, d, n_neg):
    rng = np.random.default_rng(d)
    v = point(rng, d, n_neg)
    got = ref("contrastive.pirl_h").evaluate(v, backend=backend)
    assert rel(got, torch_h(v["v_I"], v["v_{I^t}"], v["v_{I'}"], v[r"\tau"])) < RTOL


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("d, n_neg", [(3, 2), (8, 5)])
def test_nce_loss_is_torch_with_linear_heads(backend, d, n_neg):
    rng = np.random.default_rng(10 + d)
    v = point(rng, d, n_neg)
    F, G = torch.randn(d, d, dtype=torch.float64), torch.randn(d, d, dtype=torch.float64)
    heads = ({"f": lambda u: F @ u, "g": lambda u: G @ u} if backend == "torch"
             else {"f": lambda u: F.numpy() @ u, "g": lambda u: G.numpy() @ u})
    got = ref("contrastive.nce_loss").evaluate({**v, **heads}, backend=backend)
    vI, vIt, negs = (torch.as_tensor(v[k]) for k in ("v_I", "v_{I^t}", "v_{I'}"))
    fv, gv = F @ vI, G @ vIt
    want = -torch.log(torch_h(fv, gv, negs, v[r"\tau"]))
    for vn in negs:
        want = want - torch.log(1 - torch_h(gv, F @ vn, negs, v[r"\tau"]))
    assert rel(got, want) < RTOL


def test_minimising_nce_lowers_positive_energy_and_raises_negative_energy():
    """Autograd in torch: d L / d s(positive) < 0, d L / d s(negative pair) > 0 (energy = -s / tau)."""
    rng = np.random.default_rng(3)
    for _ in range(5):
        s_pos = torch.tensor(rng.uniform(-1, 1), requires_grad=True)
        s_b = torch.tensor(rng.uniform(-1, 1, 3), requires_grad=True)
        s_c = torch.tensor(rng.uniform(-1, 1, 3), requires_grad=True)
        s_e = torch.tensor(rng.uniform(-1, 1, (3, 3)))
        tau = 0.5
        loss = -(s_pos / tau - torch.logsumexp(torch.cat([s_pos.reshape(1), s_b]) / tau, 0))
        for k in range(3):
            h = torch.exp(s_c[k] / tau) / (torch.exp(s_c[k] / tau) + torch.exp(s_e[k] / tau).sum())
            loss = loss - torch.log(1 - h)
        loss.backward()
        assert s_pos.grad < 0
        assert bool((s_b.grad > 0).all()) and bool((s_c.grad > 0).all())


def test_seeds_h_is_not_pirls_but_agrees_when_the_transform_is_the_identity():
    check = run_check(contrastive.seed_form_check())
    assert check.passed and "counterexample" in check.detail
    rng = np.random.default_rng(5)
    v = point(rng, 3, 4)
    same = {**v, "v_{I^t}": v["v_I"]}
    assert rel(contrastive.seed_h(same), torch_h(v["v_I"], v["v_I"], v["v_{I'}"], v[r"\tau"])) < RTOL
    seed_by_torch = torch_h(v["v_{I^t}"], v["v_I"], v["v_{I'}"], v[r"\tau"])  # s(v_I, v_I') in the denominator
    assert rel(contrastive.seed_h(v), seed_by_torch) < RTOL
    assert rel(contrastive.seed_h(v), torch_h(v["v_I"], v["v_{I^t}"], v["v_{I'}"], v[r"\tau"])) > 1e-3


def test_exact_counterexample_is_proved_by_sympy():
    check = run_check(contrastive.seed_form_exact())
    assert check.made and check.passed, check.detail


@pytest.mark.parametrize("tau", [0.0, -0.5])
def test_nonpositive_tau_is_an_error_naming_tau(tau):
    v = point(np.random.default_rng(0), 3, 2)
    with pytest.raises(EvaluationError, match=r"\\tau.*must be > 0"):
        ref("contrastive.pirl_h").evaluate({**v, r"\tau": tau})


def test_empty_negatives_and_mismatched_sizes_are_errors():
    v = point(np.random.default_rng(0), 3, 2)
    with pytest.raises(EvaluationError, match="negatives"):
        ref("contrastive.pirl_h").evaluate({**v, "v_{I'}": np.zeros((0, 3))})
    with pytest.raises(EvaluationError, match="expected d = 3"):
        ref("contrastive.pirl_h").evaluate({**v, "v_{I^t}": np.ones(4)})
    with pytest.raises(EvaluationError, match="missing 'f'"):
        ref("contrastive.nce_loss").evaluate({**v, "g": lambda u: u})


def test_every_contrastive_reference_is_verified_with_an_oracle():
    names = [r.name for r in registry.refs() if r.section == "contrastive"]
    assert names == ["contrastive.pirl_h", "contrastive.nce_loss"]
    for name in names:
        result = run_checks(name, ref(name).checks)
        failed = [c.detail for c in result.checks if c.made and not c.passed]
        assert result.status == "verified" and not failed, (name, failed)
        assert {c.method for c in result.checks if c.passed} == {"symbolic", "numeric", "oracle"}, name
