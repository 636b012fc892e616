"""Domains beyond boxes: a probability vector, a one-hot vector, a positive vector, an spd matrix.

The one sampler draws inside each; ``evaluate`` refuses a value outside, naming the input and the domain;
a model file accepts them by name.  What "inside" means is computed here with numpy, not by symdl.
"""

import numpy as np
import pytest
import sympy as sp
import torch

import symdl.model.registry as registry
from symdl.model.domains import DOMAINS, random_values
from symdl.model.reference import EvaluationError, Input
from symdl.models import load_file


@pytest.mark.parametrize("shape", [(1, 1), (4, 1), (7,)])
def test_simplex_and_onehot_draw_probability_vectors(shape):
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = DOMAINS["simplex"].sample(shape, rng)
        assert p.shape == shape and np.all(p > 0) and abs(p.sum() - 1) < 1e-12
        assert DOMAINS["simplex"].contains(p)
        e = DOMAINS["onehot"].sample(shape, rng)
        assert e.shape == shape and sorted(np.reshape(e, -1).tolist()) == [0.0] * (e.size - 1) + [1.0]
        assert DOMAINS["onehot"].contains(e)


@pytest.mark.parametrize("k", [1, 2, 5, 16])
def test_spd_draws_symmetric_positive_definite_matrices(k):
    rng = np.random.default_rng(k)
    for _ in range(10):
        a = DOMAINS["spd"].sample((k, k), rng)
        assert np.array_equal(a, a.T) and np.linalg.eigvalsh(a).min() > 0.4
        assert DOMAINS["spd"].contains(a)


def test_positive_vectors_are_positive_in_every_entry():
    v = DOMAINS["positive"].sample((6, 1), np.random.default_rng(1))
    assert np.all(v > 0)


@pytest.mark.parametrize("name, bad", [
    ("simplex", np.array([0.5, 0.6])), ("simplex", np.array([1.5, -0.5])), ("onehot", np.array([1.0, 1.0, 0.0])),
    ("onehot", np.array([0.5, 0.5])), ("spd", np.array([[1.0, 2.0], [0.0, 1.0]])), ("spd", -np.eye(2)),
])
def test_contains_refuses_what_is_outside(name, bad):
    assert not DOMAINS[name].contains(bad)


def test_random_values_draw_whole_domains_at_their_sizes():
    n = sp.Symbol("n")
    inputs = (Input(sp.MatrixSymbol("y", n, 1), "simplex"), Input(sp.MatrixSymbol("S", n, n), "spd"),
              Input(sp.MatrixSymbol("e", n, 1), "onehot"))
    got = random_values(inputs, {n: 3}, np.random.default_rng(2))
    assert got["y"].shape == (3, 1) and got["S"].shape == (3, 3) and got["e"].shape == (3, 1)


MODEL = '''[model]
name = "dom"
[sizes]
n = "size"
[inputs]
'z' = { shape = ["n"] }
'y' = { shape = ["n"], domain = "simplex" }
'S' = { shape = ["n", "n"], domain = "spd" }
[definitions]
'u' = 'S z + y'
[references]
"dom.u" = { quantity = 'u' }
'''


@pytest.fixture
def dom(tmp_path):
    registry.reset()
    path = tmp_path / "dom.toml"
    path.write_text(MODEL, encoding="utf-8")
    yield load_file(path).references[0]
    registry.reset()


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_evaluate_checks_whole_domains(dom, backend):
    conv = (lambda a: torch.tensor(a)) if backend == "torch" else (lambda a: a)
    good = {"z": np.array([1.0, 2.0]), "y": np.array([0.25, 0.75]), "S": np.array([[2.0, 1.0], [1.0, 2.0]])}
    got = dom.evaluate({k: conv(v) for k, v in good.items()}, backend=backend)
    assert np.allclose(np.asarray(got), good["S"] @ good["z"] + good["y"])
    with pytest.raises(EvaluationError, match=r"invalid y value .*probability vector"):
        dom.evaluate({k: conv(v) for k, v in dict(good, y=np.array([0.5, 0.6])).items()}, backend=backend)
    with pytest.raises(EvaluationError, match=r"invalid S value .*symmetric positive definite"):
        dom.evaluate({k: conv(v) for k, v in dict(good, S=np.array([[1.0, 3.0], [3.0, 1.0]])).items()}, backend=backend)


def test_a_model_file_keeps_each_inputs_domain(dom):
    assert {i.name: i.domain for i in dom.inputs} == {"z": "real", "y": "simplex", "S": "spd"}
