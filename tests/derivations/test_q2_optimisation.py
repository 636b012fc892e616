"""The question-2 worked solution: derived results against closed forms typed here, every check verified."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import torch

from symdl.document.derivation import Derivation, Figure, Step
from symdl.models import optim as O
from symdl.verify.spec import run_checks

PATH = Path(__file__).resolve().parents[2] / "derivations" / "q2_optimisation.py"


@pytest.fixture(scope="module")
def q2():
    spec = importlib.util.spec_from_file_location("q2_optimisation_under_test", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def doc(q2) -> Derivation:
    return q2.derivation()


def test_document_shape(q2, doc):
    assert doc.slug == "q2-optimisation"
    assert q2.__doc__.splitlines()[0].startswith("Question 2:")
    names = [b.name for s in doc.sections for b in s.blocks if isinstance(b, (Step, Figure))]
    assert len(names) == len(set(names))
    assert {"quadratic", "rosenbrock", "stability-region"} <= {f.name for f in doc.figures()}
    assert all(s.checks for s in doc.steps()), [s.name for s in doc.steps() if not s.checks]


def test_every_step_and_figure_is_verified(doc):
    for block in [*doc.steps(), *doc.figures()]:
        result = run_checks(block.name, block.checks, kind="step")
        assert result.status == "verified", result.to_json()


def test_gradient_of_the_mean_loss_is_the_mean_gradient(q2):
    i, N, th = q2.i_, q2.N_, q2.th
    want = sp.Sum(sp.Derivative(q2.ell(i, th), th), (i, 1, N)) / N
    assert sp.simplify(q2.mean_loss_gradient() - want) == 0


@pytest.mark.parametrize("n,m", [(4, 2), (5, 3), (6, 1)])
def test_enumerated_batches_average_to_the_mean(q2, n, m):
    e, g = q2.enumerated_expectation(n, m)
    assert sp.expand(e - sum(g) / n) == 0


def test_mapping_found_by_solve(q2):
    sol, b2 = q2.mapping_solution()
    g1, g2 = q2.rates[0], q2.rates[1]
    assert len(sol) == 1
    assert sp.simplify(sol[0][b2] - O.mu * g2 / g1) == 0
    assert sol[0][O.tau] == 0


def test_characteristic_polynomial(q2):
    r, gl, b = q2.r, q2.gl, O.beta
    assert sp.expand(q2.characteristic_polynomial() - (r**2 - (1 + b - gl) * r + b)) == 0


@pytest.mark.parametrize("glv,bv,inside", [
    (1.0, 0.5, True), (2.9, 0.5, True), (3.1, 0.5, False), (1.0, 1.0, False), (0.5, -0.5, True), (0.1, -0.9, True),
    (0.5, -0.9, False), (1.0, 1.2, False), (-0.1, 0.0, False)])
def test_region_against_torch_iterates(q2, glv, bv, inside):
    """Heavy ball on lambda w^2 / 2 run by torch.optim.SGD: it converges exactly inside the region."""
    if bv < 0 or glv < 0:  # torch.optim wants momentum, lr >= 0: iterate the recurrence in torch directly
        w = [torch.tensor(1.0, dtype=torch.float64)] * 2
        for _ in range(3000):
            w.append((1 + bv - glv) * w[-1] - bv * w[-2])
        final = abs(float(w[-1])) if torch.isfinite(w[-1]) else float("inf")
    else:
        p = torch.nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
        opt = torch.optim.SGD([p], lr=glv, momentum=bv)
        for _ in range(3000):
            opt.zero_grad()
            (0.5 * p**2).backward()
            opt.step()
        final = abs(float(p.detach()))
    assert q2.in_region(glv, bv) == inside
    assert (final < 1e-6) == inside


def test_bias_correction_closed_form(q2):
    b1 = O.beta1
    for T in (1, 4, 9):
        e, G = q2.ema_expectation(T, b1)
        assert sp.expand(e - (1 - b1**T) * G) == 0


def test_nonmono_table_decisions(q2):
    rule = q2.rule_schedule(q2.LOSSES)
    seed = q2.seed_reading(q2.LOSSES, q2.LR0, q2.LR_DECAY)
    # by hand, NONMONO = 2: epoch 3 compares 0.95 with L_1 = 1.00 (keep), epoch 4 0.93 with 0.90 (divide)
    assert rule[:4] == [20.0, 20.0, 20.0, 5.0]
    assert seed[:4] == [20.0, 20.0, 5.0, 1.25]


def test_refutation_helper_fails_when_the_values_agree(q2):
    assert q2._differs(np.array([1.0]), np.array([1.0]), "same")[0] is False
    assert q2._differs(np.array([1.0]), np.array([0.9]), "apart")[0] is True


def test_region_figure_is_deterministic(q2, tmp_path):
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    q2.make_region_figure(a)
    q2.make_region_figure(b)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes().startswith(b"%PDF")
