r"""``symdl derive``: the quantities a model file can name (a gradient as a column, names held fixed, a block),
and the numeric check's method: the complex step where the definitions are analytic, central differences
otherwise, ``unknown`` where the map is not differentiable.  Expected values come from torch."""

import numpy as np
import pytest
import torch

import symdl.model.registry as registry
from symdl.core.calculus import substitute_definitions
from symdl.grade.derive import derive
from symdl.model.reference import evaluate_expression
from symdl.models import load_file
from symdl.numeric.compile import ops
from symdl.reader import ReadError

TOY = '''[model]
name = "toy"
[sizes]
n = "size"
[inputs]
'x' = { shape = ["n"] }
'c' = { shape = [] }
[definitions]
'r' = '\\lVert x \\rVert'
'k' = '|c| \\tanh(x)'
'''


@pytest.fixture(autouse=True)
def fresh():
    registry.reset()
    yield
    registry.reset()


def value(model, result, values):
    """The derived expression at ``values``, its definitions written out."""
    expr = substitute_definitions(result.expr, model.definitions)
    return evaluate_expression(expr, model.inputs, {}, values, ops("numpy"), "numpy", "derived")


def toy(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(TOY, encoding="utf-8")
    return load_file(path)


def test_nabla_is_the_gradient_as_a_column():
    model = registry.model("softmax_ce")
    result = derive(model, r"\nabla_z \ell", check=True)
    assert result.shape == ("n", "1") and result.check["verdict"] == "equivalent"
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=5), rng.dirichlet(np.ones(5))
    zt = torch.tensor(z, requires_grad=True)
    torch.nn.functional.cross_entropy(zt[None], torch.tensor(y)[None]).backward()
    got = np.asarray(value(model, result, {"z": z, "y": y})).reshape(-1)
    assert np.abs(got - zt.grad.numpy()).max() < 1e-14


def test_a_block_with_a_name_made_free_against_lstmcell():
    model = registry.model("lstm")
    result = derive(model, r"\frac{\partial (c_t, h_t)}{\partial (c_{t-1}, h_{t-1})}", check=True)
    assert result.check["verdict"] == "equivalent", result.check
    from tests.models.test_recurrent import lstm_values, torch_state_jacobian

    n, m = 3, 2
    v = lstm_values(np.random.default_rng(4), n, m)
    want = torch_state_jacobian(v, n, m)
    defs = {s: e for s, e in model.definitions.items() if s.name != "h_{t-1}"}
    expr = substitute_definitions(result.expr, defs)
    inputs = tuple(i for i in registry.ref("lstm.state_jacobian").inputs)
    got = evaluate_expression(expr, inputs, {}, {k: x for k, x in v.items() if k != "o_{t-1}"}, ops("numpy"),
                              "numpy", "derived")
    assert np.abs(np.asarray(got) - want).max() < 1e-12


def test_names_held_fixed_after_the_bar():
    result = derive(registry.model("gru"), r"\left.\frac{\partial h_t}{\partial h_{t-1}}\right|_{z_t, r_t, n_t}")
    assert result.latex == r"\operatorname{diag}\left(z_t\right)"


def test_central_differences_where_a_definition_is_not_analytic(tmp_path):
    result = derive(toy(tmp_path), r"\frac{\partial k}{\partial x}", check=True)
    assert result.check["verdict"] == "equivalent", result.check
    assert result.check["message"].startswith("central differences")


def test_the_complex_step_where_every_definition_is_analytic(tmp_path):
    result = derive(toy(tmp_path), r"\nabla_x r", check=True)
    assert result.check["verdict"] == "equivalent" and result.check["message"].startswith("complex-step")


def test_unknown_where_the_map_is_not_differentiable(tmp_path):
    """A norm at 0 has no derivative: its complex step would say 1 and its central difference 0."""
    model = toy(tmp_path)
    result = derive(model, r"\nabla_x r", check=True, points=[{"x": np.zeros(3), "c": 1.0}])
    assert result.check["verdict"] == "unknown"
    assert "not differentiable" in result.check["message"]
    away = derive(model, r"\nabla_x r", check=True, points=[{"x": np.array([3.0, 0.0, -4.0]), "c": 1.0}])
    assert away.check["verdict"] == "equivalent"  # torch: x / |x|
    x = torch.tensor([3.0, 0.0, -4.0], dtype=torch.float64, requires_grad=True)
    torch.linalg.vector_norm(x).backward()
    got = np.asarray(value(model, away, {"x": np.array([3.0, 0.0, -4.0]), "c": 1.0})).reshape(-1)
    assert np.abs(got - x.grad.numpy()).max() < 1e-15


def test_a_wrong_derivative_is_not_equivalent(tmp_path, monkeypatch):
    """The check can fail: a derived form scaled by 1 + 1e-5 is called not equivalent by central differences."""
    import symdl.grade.derive as D

    real = D.derivative_check
    monkeypatch.setattr(D, "derivative_check", lambda derived, *a, **k: real(derived * 1.00001, *a, **k))
    result = derive(toy(tmp_path), r"\frac{\partial k}{\partial x}", check=True)
    assert result.check["verdict"] == "not_equivalent"


@pytest.mark.parametrize("text, column", [
    (r"\nabla_x q", 10),
    (r"\frac{\partial r}{\partial q}", 28),
    (r"\left.\frac{\partial r}{\partial x}\right|_{q}", 45),
])
def test_an_unknown_name_is_an_error_at_its_column(tmp_path, text, column):
    with pytest.raises(ReadError) as info:
        derive(toy(tmp_path), text)
    assert info.value.position == column - 1 and text[column - 1] == "q"
