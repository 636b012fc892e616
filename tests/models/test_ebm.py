"""ebm.*: each quantity written twice, through symdl and in torch float64 (micrograd style)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symdl.model.registry as registry
from symdl.model.reference import EvaluationError
from symdl.verify.spec import run_checks

RTOL = 1e-10
BACKENDS = ("numpy", "torch")


def rel(got, want) -> float:
    got = torch.as_tensor(np.asarray(got.detach() if hasattr(got, "detach") else got, dtype=np.float64))
    want = torch.as_tensor(np.asarray(want.detach() if hasattr(want, "detach") else want, dtype=np.float64))
    return float((got - want).abs().max() / want.abs().max())


class Net:
    """A one-layer energy ``v . tanh(A [args] + c)`` written here, in torch and in numpy."""

    def __init__(self, din, seed, hidden=5):
        gen = torch.Generator().manual_seed(seed)
        self.layer = torch.nn.Linear(din, hidden, dtype=torch.float64)
        with torch.no_grad():
            self.layer.weight.copy_(torch.randn(hidden, din, generator=gen, dtype=torch.float64))
            self.layer.bias.copy_(torch.randn(hidden, generator=gen, dtype=torch.float64))
        self.v = torch.randn(hidden, generator=gen, dtype=torch.float64)
        self.layer.requires_grad_(False)

    def torch(self, *args):
        u = torch.cat([torch.as_tensor(a, dtype=torch.float64).reshape(-1) for a in args])
        return self.v @ torch.tanh(self.layer(u))

    def numpy(self, *args):
        u = np.concatenate([np.asarray(a).reshape(-1) for a in args])
        A, c = self.layer.weight.detach().numpy(), self.layer.bias.detach().numpy()
        return self.v.numpy() @ np.tanh(A @ u + c)

    def fn(self, backend):
        return self.torch if backend == "torch" else self.numpy

    def grid(self, *fixed, points):
        """Energies at every row of ``points``, computed in one batch by torch."""
        pts = torch.as_tensor(points, dtype=torch.float64).reshape(len(points), -1)
        head = torch.cat([torch.as_tensor(a, dtype=torch.float64).reshape(-1) for a in fixed])
        return torch.tanh(self.layer(torch.cat([head.expand(len(pts), -1), pts], 1))) @ self.v


def ref(name):
    return registry.ref(name)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dy, K", [(1, 4), (3, 9)])
def test_gibbs_is_torch_softmax_of_minus_beta_energy(backend, dy, K, rng):
    net, x, ys, b = Net(2 + dy, seed=K), rng.normal(size=2), rng.normal(size=(K, dy)), 1.7
    got = ref("ebm.gibbs").evaluate({"F": net.fn(backend), "x": x, "y": ys, r"\beta": b}, backend=backend)
    want = torch.softmax(-b * net.grid(x, points=ys), 0)
    assert rel(got, want) < RTOL
    assert abs(float(np.sum(np.asarray(got.detach() if backend == "torch" else got))) - 1) < 1e-14


@pytest.mark.parametrize("backend", BACKENDS)
def test_inference_is_torch_argmin(backend, rng):
    net, x, ys = Net(4, seed=3), rng.normal(size=2), rng.normal(size=(11, 2))
    got = ref("ebm.inference").evaluate({"F": net.fn(backend), "x": x, "y": ys}, backend=backend)
    want = ys[int(torch.argmin(net.grid(x, points=ys)))]
    assert np.array_equal(np.asarray(got), want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_joint_gibbs_normalises_over_both_grids(backend, rng):
    net, x = Net(1 + 2 + 1, seed=4), rng.normal(size=1)
    ys, zs, b = rng.normal(size=(5, 2)), rng.normal(size=(6, 1)), 0.8
    got = ref("ebm.joint_gibbs").evaluate({"E": net.fn(backend), "x": x, "y": ys, "z": zs, r"\beta": b},
                                          backend=backend)
    E = torch.stack([net.grid(x, yj, points=zs) for yj in ys])
    want = torch.softmax(-b * E.reshape(-1), 0).reshape(E.shape)
    assert rel(got, want) < RTOL


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("b", [0.3, 2.0, 1e6, 1e12])
def test_free_energy_is_minus_logsumexp_over_beta_without_overflow(backend, b, rng):
    net, x, y, zs = Net(1 + 2 + 3, seed=5), rng.normal(size=1), rng.normal(size=2), rng.normal(size=(8, 3))
    got = ref("ebm.free_energy").evaluate({"E": net.fn(backend), "x": x, "y": y, "z": zs, r"\beta": b},
                                          backend=backend)
    E = net.grid(x, y, points=zs)
    want = -torch.logsumexp(-b * E, 0) / b
    assert np.isfinite(float(got))
    assert rel(got, want) < RTOL
    # the zero-temperature bound, with symdl's value
    low, high = float(E.min()) - np.log(len(zs)) / b, float(E.min())
    assert low - 1e-13 <= float(got) <= high + 1e-13


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_temperature_is_the_min_and_the_limit_of_free_energy(backend, rng):
    net, x, y, zs = Net(1 + 1 + 2, seed=6), rng.normal(size=1), rng.normal(size=1), rng.normal(size=(7, 2))
    vals = {"E": net.fn(backend), "x": x, "y": y, "z": zs}
    got = ref("ebm.zero_temperature").evaluate(vals, backend=backend)
    E = net.grid(x, y, points=zs)
    assert rel(got, E.min()) < RTOL
    gaps = [float(E.min()) - float(ref("ebm.free_energy").evaluate({**vals, r"\beta": b}, backend=backend))
            for b in (0.5, 1.0, 2.0, 5.0)]
    assert all(g1 > g2 > 0 for g1, g2 in zip(gaps, gaps[1:]))  # F_beta rises to min E


def _nll_setup(rng, dx=2, dy=1, K=6, N=4, seed=8):
    net = Net(dx + dy, seed=seed)
    w0 = torch.cat([net.layer.weight.detach().reshape(-1), net.layer.bias.detach(), net.v])
    idx = rng.integers(0, K, N)
    ys = rng.normal(size=(K, dy))
    return net, w0, {"x_i": rng.normal(size=(N, dx)), "y_i": ys[idx], "y": ys, r"\beta": 1.3}, idx


def _F_w(net, backend, dx, dy):
    """``F_w(x, y, w)`` with the flat parameters w = (A, c, v), as both backends need it."""
    h, din = net.v.numel(), dx + dy

    def torch_fn(x, y, w):
        A, c, v = w[: h * din].reshape(h, din), w[h * din: h * din + h], w[h * din + h:]
        u = torch.cat([torch.as_tensor(x).reshape(-1), torch.as_tensor(y).reshape(-1)])
        return v @ torch.tanh(A @ u + c)

    def numpy_fn(x, y, w):
        w = np.asarray(w)
        A, c, v = w[: h * din].reshape(h, din), w[h * din: h * din + h], w[h * din + h:]
        return v @ np.tanh(A @ np.concatenate([np.ravel(x), np.ravel(y)]) + c)

    return torch_fn if backend == "torch" else numpy_fn


def _torch_nll(net_fn, w, vals, idx):
    """-(1/(N beta)) sum_i log P_w(y_i | x_i), with log_softmax over the grid."""
    b = vals[r"\beta"]
    logp = []
    for x, k in zip(vals["x_i"], idx):
        F = torch.stack([net_fn(x, yk, w) for yk in vals["y"]])
        logp.append(torch.log_softmax(-b * F, 0)[k])
    return -torch.stack(logp).mean() / b


@pytest.mark.parametrize("backend", BACKENDS)
def test_nll_loss_is_minus_log_likelihood_over_beta(backend, rng):
    net, w0, vals, idx = _nll_setup(rng)
    got = ref("ebm.nll_loss").evaluate({**vals, "F_w": _F_w(net, backend, 2, 1), "w": w0.numpy()}, backend=backend)
    want = _torch_nll(_F_w(net, "torch", 2, 1), w0, vals, idx)
    assert rel(got, want) < RTOL


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dy, K", [(1, 5), (2, 8)])
def test_nll_gradient_is_autograd_of_the_loss(backend, dy, K, rng):
    net, w0, vals, idx = _nll_setup(rng, dy=dy, K=K)
    got = ref("ebm.nll_gradient").evaluate({**vals, "F_w": _F_w(net, backend, 2, dy), "w": w0.numpy()},
                                           backend=backend)
    w = w0.clone().requires_grad_(True)
    _torch_nll(_F_w(net, "torch", 2, dy), w, vals, idx).backward()
    assert rel(got, w.grad) < RTOL


def test_nll_gradient_is_not_the_seeds_last_line(rng):
    """The seed's dL/dw = F_w(x_i, y_i) + F_beta: adding a constant to F_w moves it, not the gradient."""
    net, w0, vals, idx = _nll_setup(rng, N=1)
    base = _F_w(net, "numpy", 2, 1)
    shifted = lambda x, y, w: base(x, y, w) + 5.0  # noqa: E731
    g = [ref("ebm.nll_gradient").evaluate({**vals, "F_w": f, "w": w0.numpy()}) for f in (base, shifted)]
    assert rel(g[1], g[0]) < RTOL

    def seed_line(f):
        b = vals[r"\beta"]
        F = np.array([f(vals["x_i"][0], yk, w0.numpy()) for yk in vals["y"]])
        return f(vals["x_i"][0], vals["y_i"][0], w0.numpy()) - np.log(np.sum(np.exp(-b * F))) / b

    assert abs(seed_line(shifted) - seed_line(base) - 10.0) < 1e-9


@pytest.mark.parametrize("name, values", [
    ("ebm.gibbs", {"x": [0.0], "y": [[0.0], [1.0]], r"\beta": 0.0}),
    ("ebm.gibbs", {"x": [0.0], "y": [[0.0], [1.0]], r"\beta": -2.0}),
    ("ebm.free_energy", {"x": [0.0], "y": [0.0], "z": [[1.0]], r"\beta": 0.0}),
    ("ebm.joint_gibbs", {"x": [0.0], "y": [[0.0]], "z": [[1.0]], r"\beta": -1.0}),
])
def test_nonpositive_beta_is_an_error_naming_beta(name, values):
    fn = (lambda *a: float(np.sum(np.concatenate([np.ravel(v) for v in a]))))
    key = "F" if name == "ebm.gibbs" else "E"
    with pytest.raises(EvaluationError, match=r"\\beta.*must be > 0"):
        ref(name).evaluate({**values, key: fn})


@pytest.mark.parametrize("name, values, grid", [
    ("ebm.gibbs", {"x": [0.0], "y": np.zeros((0, 1)), r"\beta": 1.0}, "'y'"),
    ("ebm.inference", {"x": [0.0], "y": np.zeros((0,))}, "'y'"),
    ("ebm.free_energy", {"x": [0.0], "y": [0.0], "z": np.zeros((0, 2)), r"\beta": 1.0}, "'z'"),
    ("ebm.zero_temperature", {"x": [0.0], "y": [0.0], "z": []}, "'z'"),
])
def test_empty_grid_is_an_error_naming_the_grid(name, values, grid):
    key = "E" if "z" in values else "F"
    with pytest.raises(EvaluationError, match=f"grid {grid} is empty"):
        ref(name).evaluate({**values, key: lambda *a: 0.0})


def test_missing_function_and_non_callable_are_errors():
    with pytest.raises(EvaluationError, match="missing 'F'"):
        ref("ebm.gibbs").evaluate({"x": 0.0, "y": [0.0, 1.0], r"\beta": 1.0})
    with pytest.raises(EvaluationError, match="callable"):
        ref("ebm.gibbs").evaluate({"F": 3.0, "x": 0.0, "y": [0.0, 1.0], r"\beta": 1.0})


def test_every_ebm_reference_is_verified_with_an_oracle():
    names = [r.name for r in registry.refs() if r.section == "ebm"]
    assert names == ["ebm.inference", "ebm.gibbs", "ebm.joint_gibbs", "ebm.free_energy", "ebm.zero_temperature",
                     "ebm.nll_loss", "ebm.nll_gradient"]
    for name in names:
        result = run_checks(name, ref(name).checks)
        failed = [c.detail for c in result.checks if c.made and not c.passed]
        assert result.status == "verified" and not failed, (name, failed)
        assert any(c.method == "oracle" and c.passed for c in result.checks), name


def test_q3_document_every_step_and_figure_is_verified(tmp_path):
    import importlib
    import sys

    sys.path.insert(0, "derivations")
    try:
        q3 = importlib.import_module("q3_energy")
    finally:
        sys.path.remove("derivations")
    doc = q3.derivation()
    assert doc.slug == "q3-energy"
    assert q3.__doc__.splitlines()[0].startswith("Question 3: energy-based models")
    assert [f.name for f in doc.figures()] == ["gibbs", "free-energy", "kmeans"]
    assumptions = [step.name for step in doc.steps() if not step.checks]
    assert assumptions == ["likelihood"]  # a premise, stated as given: nothing to check
    assert all(step.relation == "given" for step in doc.steps() if step.name in assumptions)
    for step in doc.steps():
        if step.name in assumptions:
            continue
        result = run_checks(step.name, step.checks, kind="step")
        assert result.status == "verified", (step.name, [c.detail for c in result.checks])
    for fig in doc.figures():
        assert run_checks(fig.name, fig.checks, kind="figure").status == "verified", fig.name
        fig.make(tmp_path / f"{fig.name}.pdf")
        assert (tmp_path / f"{fig.name}.pdf").read_bytes().startswith(b"%PDF")
