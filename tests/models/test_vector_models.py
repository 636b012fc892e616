r"""The models shipped as model files: softmax_ce, layernorm, attention, held against torch.nn.

Every expected value is computed here in torch float64 from torch's own modules
(``torch.nn.functional.cross_entropy`` with class-index and probability targets, ``torch.nn.LayerNorm``
with and without affine parameters, ``torch.nn.functional.scaled_dot_product_attention``) and
``torch.func.jacrev``; the model files' own oracle modules are not used here.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import symdl.model.registry as registry
from symdl.verify.spec import run_check

BACKENDS = ["numpy", "torch"]


@pytest.fixture(autouse=True)
def fresh_registry():
    registry.reset()
    yield
    registry.reset()


def rel(a, b) -> float:
    a = np.asarray(a.detach() if hasattr(a, "detach") else a, dtype=np.float64)
    b = np.asarray(b.detach() if hasattr(b, "detach") else b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def evaluate(name: str, values: dict, backend: str):
    given = {k: torch.tensor(v) if backend == "torch" else v for k, v in values.items()}
    return registry.ref(name).evaluate(given, backend=backend)


# -- softmax_ce -------------------------------------------------------------------------------------------

def ce_values(n: int, seed: int, onehot: bool) -> tuple[dict, torch.Tensor]:
    """Logits, a target (one-hot or a probability vector), and torch's form of that target."""
    rng = np.random.default_rng(seed)
    z = 2 * rng.normal(size=n)
    if onehot:
        k = int(rng.integers(n))
        y = np.eye(n)[k]
        return {"z": z, "y": y}, torch.tensor([k])
    y = rng.dirichlet(np.ones(n))
    return {"z": z, "y": y}, torch.tensor(y)[None]


@pytest.mark.parametrize("n", [1, 3, 10])
@pytest.mark.parametrize("onehot", [True, False])
@pytest.mark.parametrize("backend", BACKENDS)
def test_cross_entropy_its_gradient_and_the_softmax_against_torch(n, onehot, backend):
    v, target = ce_values(n, seed=n, onehot=onehot)
    z = torch.tensor(v["z"], requires_grad=True)
    loss = F.cross_entropy(z[None], target)
    (grad,) = torch.autograd.grad(loss, z)
    assert rel(evaluate("softmax_ce.loss", v, backend), loss) < 1e-13
    assert rel(evaluate("softmax_ce.gradient", v, backend), grad) < 1e-12  # a column, given 1-D
    assert rel(evaluate("softmax_ce.gradient_onehot" if onehot else "softmax_ce.gradient", v, backend), grad) < 1e-12
    zt = torch.tensor(v["z"])
    assert rel(evaluate("softmax_ce.probabilities", {"z": v["z"]}, backend), torch.softmax(zt, 0)) < 1e-14
    jac = torch.func.jacrev(lambda u: torch.softmax(u, 0))(zt)
    assert rel(evaluate("softmax_ce.softmax_jacobian", {"z": v["z"]}, backend), jac) < 1e-13


def test_the_gradient_reads_as_the_softmax_minus_the_target():
    ref = registry.ref("softmax_ce.gradient")
    assert ref.latex() == r"\nabla_{z} \ell = p - y"
    assert registry.ref("softmax_ce.softmax_jacobian").latex(equation=False) == \
        r"\operatorname{diag}\left(p\right) - p p^\top"


def test_a_target_outside_the_simplex_is_refused():
    with pytest.raises(symdl_error(), match="probability vector"):
        evaluate("softmax_ce.gradient", {"z": np.zeros(3), "y": np.array([1.0, 1.0, 0.0])}, "numpy")


def symdl_error():
    from symdl.model.reference import EvaluationError

    return EvaluationError


# -- layernorm --------------------------------------------------------------------------------------------

def ln_values(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=n) * 3 + 1, r"\gamma": rng.normal(size=n), r"\beta": rng.normal(size=n),
            r"\epsilon": 1e-5}


def torch_layernorm(v: dict, affine: bool):
    layer = torch.nn.LayerNorm(len(v["x"]), eps=v[r"\epsilon"], elementwise_affine=affine, dtype=torch.float64)
    if affine:
        with torch.no_grad():
            layer.weight.copy_(torch.tensor(v[r"\gamma"]))
            layer.bias.copy_(torch.tensor(v[r"\beta"]))
    return layer


@pytest.mark.parametrize("n", [3, 5, 33])  # at n = 2 the Jacobian is of order epsilon: a cancellation
@pytest.mark.parametrize("backend", BACKENDS)
def test_layernorm_and_its_jacobian_against_nn_layernorm(n, backend):
    v = ln_values(n, seed=n)
    x = torch.tensor(v["x"])
    plain, affine = torch_layernorm(v, affine=False), torch_layernorm(v, affine=True)
    without = {"x": v["x"], r"\epsilon": v[r"\epsilon"]}
    assert rel(evaluate("layernorm.normalized", without, backend), plain(x)) < 1e-12
    assert rel(evaluate("layernorm.output", v, backend), affine(x)) < 1e-12
    assert rel(evaluate("layernorm.normalized_jacobian", without, backend), torch.func.jacrev(plain)(x)) < 1e-11
    assert rel(evaluate("layernorm.jacobian", v, backend), torch.func.jacrev(affine)(x)) < 1e-11


def test_a_negative_epsilon_is_refused():
    with pytest.raises(symdl_error(), match=r"epsilon"):
        evaluate("layernorm.normalized", {"x": np.ones(3), r"\epsilon": -1.0}, "numpy")


# -- attention --------------------------------------------------------------------------------------------

def att_values(d: int, n: int, m: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {"q": rng.normal(size=d), "K": rng.normal(size=(n, d)), "V": rng.normal(size=(n, m))}


def sdpa(q, K, V):
    return F.scaled_dot_product_attention(q[None, None, None], K[None, None], V[None, None])[0, 0, 0]


@pytest.mark.filterwarnings("ignore:There is a performance drop:UserWarning")  # torch's, about jacrev of sdpa
@pytest.mark.parametrize("d, n, m", [(1, 1, 1), (3, 4, 2), (8, 5, 6)])
@pytest.mark.parametrize("backend", BACKENDS)
def test_attention_and_its_query_jacobian_against_scaled_dot_product_attention(d, n, m, backend):
    v = att_values(d, n, m, seed=d + n + m)
    q, K, V = (torch.tensor(v[k]) for k in "qKV")
    assert rel(evaluate("attention.output", v, backend), sdpa(q, K, V)) < 1e-13
    assert rel(evaluate("attention.weights", v, backend), sdpa(q, K, torch.eye(n, dtype=torch.float64))) < 1e-13
    want = torch.func.jacrev(lambda qq: sdpa(qq, K, V))(q)
    assert rel(evaluate("attention.query_jacobian", v, backend), want) < 1e-12


def test_the_query_jacobian_reads_as_a_course_writes_it():
    assert registry.ref("attention.query_jacobian").latex(equation=False) == \
        r"\frac{1}{\sqrt{d}} V^\top \left(\operatorname{diag}\left(a\right) - a a^\top\right) K"


# -- every check of every reference ---------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:There is a performance drop:UserWarning")
@pytest.mark.parametrize("model", ["softmax_ce", "layernorm", "attention"])
def test_every_check_is_made_and_passes(model):
    for ref in registry.model(model).references:
        checks = [run_check(c) for c in ref.checks]
        assert any(c.method == "oracle" for c in checks), ref.name
        assert all(c.made and c.passed for c in checks), (ref.name, [c.detail for c in checks])
