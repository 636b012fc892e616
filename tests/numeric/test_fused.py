"""The fused row kernel (symdl.numeric.fused): printed from the derived expression, held against PyTorch.

The oracle for the LSTM Jacobian is torch.func.jacrev through nn.LSTMCell, built
here from torch alone; for the synthetic sums it is the same sum written out in
plain numpy in this file.  Every test checks that the fused kernel really ran
(a spy on the kernel runner), so a silent fallback to the ordinary path fails.
"""

import numpy as np
import pytest
import sympy as sp
import torch
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

import symdl
import symdl.numeric.fused.dispatch as fused
from symdl.numeric import compile as backends
from symdl.numeric.compile import compile_expr
from symdl.core.elementwise import sigmoid
from tests.models.test_recurrent import lstm_values, rel, torch_cell

import numba  # noqa: F401  (in the test extra: the fused kernel needs it)


@pytest.fixture
def spy(monkeypatch, tmp_path):
    """Kernels compile into a private cache folder; the spy counts the fused runs."""
    monkeypatch.setattr(fused, "_cache_dir", lambda: tmp_path / "kernels")
    monkeypatch.setattr(fused, "MODE", "always")
    runs = []
    real = fused._run

    def counting(*a, **k):
        runs.append(a[0])
        return real(*a, **k)

    monkeypatch.setattr(fused, "_run", counting)
    return runs


def lstm_oracle(v, n, m):
    cell = torch_cell(v, n, m)
    o, x = torch.tensor(v["o_{t-1}"]), torch.tensor(v["x_t"])
    return torch.func.jacrev(lambda c: cell(x, (o * torch.tanh(c), c))[1])(torch.tensor(v["c_{t-1}"])).detach().numpy()


@pytest.mark.parametrize("n,m", [(1, 1), (2, 3), (5, 2), (16, 7), (130, 41)])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_fused_lstm_cell_jacobian_against_lstmcell_autograd(spy, n, m, backend):
    v = {k: x for k, x in lstm_values(np.random.default_rng(7 * n + m), n, m).items() if k != "h_{t-1}"}
    want = lstm_oracle(v, n, m)
    vals = {k: torch.tensor(x) for k, x in v.items()} if backend == "torch" else v
    got = symdl.ref("lstm.cell_jacobian").evaluate(vals, backend=backend)
    assert spy, "the fused kernel did not run"
    assert isinstance(got, torch.Tensor if backend == "torch" else np.ndarray)
    got = got.numpy() if backend == "torch" else got
    assert got.shape == (n, n) and got.dtype == np.float64
    assert rel(got, want) < 1e-12


def test_fused_float32_stays_float32_and_close_to_float64_autograd(spy):
    n, m = 64, 33
    v = {k: x for k, x in lstm_values(np.random.default_rng(1), n, m).items() if k != "h_{t-1}"}
    got = symdl.ref("lstm.cell_jacobian").evaluate({k: torch.tensor(x, dtype=torch.float32) for k, x in v.items()},
                                                    backend="torch")
    assert spy and got.dtype == torch.float32
    assert rel(got.numpy(), lstm_oracle(v, n, m)) < 1e-5


def test_auto_mode_uses_the_kernel_only_for_large_results(spy, monkeypatch):
    monkeypatch.setattr(fused, "MODE", "auto")
    ref = symdl.ref("lstm.cell_jacobian")
    small = {k: x for k, x in lstm_values(np.random.default_rng(2), 8, 3).items() if k != "h_{t-1}"}
    ref.evaluate(small)
    assert not spy
    n = 128  # 128 x 128 = MIN_ENTRIES
    big = {k: x for k, x in lstm_values(np.random.default_rng(3), n, 5).items() if k != "h_{t-1}"}
    got = ref.evaluate(big)
    assert len(spy) == 1 and rel(got, lstm_oracle(big, n, 5)) < 1e-12


def test_autograd_and_complex_inputs_take_the_ordinary_path(spy):
    n, m = 6, 4
    v = {k: x for k, x in lstm_values(np.random.default_rng(4), n, m).items() if k != "h_{t-1}"}
    ref = symdl.ref("lstm.cell_jacobian")
    t = {k: torch.tensor(x, requires_grad=(k == "W_{fh}")) for k, x in v.items()}
    J = ref.evaluate(t, backend="torch")
    assert J.requires_grad and not spy  # autograd records through the ordinary code
    J.sum().backward()
    assert t["W_{fh}"].grad is not None and torch.isfinite(t["W_{fh}"].grad).all()
    # a complex step (how symdl checks Jacobians in numpy) also takes the ordinary code
    vc = dict(v, **{"c_{t-1}": v["c_{t-1}"] + 1e-30j})
    Jc = ref.evaluate(vc)
    assert np.iscomplexobj(Jc) and not spy
    assert rel(Jc.real, lstm_oracle(v, n, m)) < 1e-12
    with torch.no_grad():  # the same tensors, with autograd off: the kernel
        J2 = ref.evaluate(t, backend="torch")
    assert spy and rel(J2.numpy(), lstm_oracle(v, n, m)) < 1e-12


def test_never_mode_and_mixed_dtypes_take_the_ordinary_path(spy, monkeypatch):
    n, m = 5, 3
    v = {k: x for k, x in lstm_values(np.random.default_rng(5), n, m).items() if k != "h_{t-1}"}
    ref = symdl.ref("lstm.cell_jacobian")
    mixed = {k: torch.tensor(x, dtype=torch.float32 if k == "x_t" else torch.float64) for k, x in v.items()}
    with pytest.raises(RuntimeError, match="dtype"):  # torch's own error, not a silent cast by the kernel
        ref.evaluate(mixed, backend="torch")
    assert not spy
    monkeypatch.setattr(fused, "MODE", "never")
    assert rel(ref.evaluate(v), lstm_oracle(v, n, m)) < 1e-12 and not spy


# -- the planner on sums it was not written for ------------------------------------------------

n_, k_ = sp.symbols("n k", integer=True, positive=True)
A, B, W = (sp.MatrixSymbol(s, n_, n_) for s in "ABW")
V = sp.MatrixSymbol("V", n_, k_)
x, y, u = (sp.MatrixSymbol(s, n_, 1) for s in "xyu")
z = sp.MatrixSymbol("z", k_, 1)
lam = sp.Symbol("lambda")
d = sp.Dummy("d")


def ew(f, e):
    return ElementwiseApplyFunction(sp.Lambda(d, f(d)), e)


@pytest.mark.parametrize("rows_per_pass", [1, 2, 3])
def test_fused_synthetic_sum_against_numpy(spy, monkeypatch, rows_per_pass):
    monkeypatch.setattr(fused, "ROWS", rows_per_pass)
    monkeypatch.setattr(backends, "_CACHE", {})  # compile afresh, with this many rows a pass
    # diag(tanh(W u + V z) * x) A diag(y) + lambda * diag(sigmoid(x)^2) B + A diag(exp(y)) + W + diag(x)
    pre = W * u + V * z
    expr = (sp.DiagMatrix(sp.HadamardProduct(ew(sp.tanh, pre), x)) * A * sp.DiagMatrix(y)
            + lam * sp.DiagMatrix(sp.HadamardPower(ew(sigmoid, x), 2)) * B
            + A * sp.DiagMatrix(ew(sp.exp, y)) + W + sp.DiagMatrix(x))
    inputs = [A, B, W, V, x, y, u, z, lam]
    fn = compile_expr(expr, inputs, (), [k_, n_], "numpy")
    rng = np.random.default_rng(0)
    N, K = 11, 4  # 11 rows: the last pass of 2 or 3 rows runs past the end
    a_, b_, w_ = (rng.normal(size=(N, N)) for _ in range(3))
    v_ = rng.normal(size=(N, K))
    x_, y_, u_ = (rng.normal(size=(N, 1)) for _ in range(3))
    z_ = rng.normal(size=(K, 1))
    got = fn(a_, K, N, a_, b_, w_, v_, x_, y_, u_, z_, np.array(0.7))
    sig = 1 / (1 + np.exp(-x_))
    want = (np.tanh(w_ @ u_ + v_ @ z_) * x_) * a_ * y_.T + 0.7 * sig ** 2 * b_ + a_ * np.exp(y_).T + w_ \
        + np.diagflat(x_)
    assert spy, "the planner did not fuse this sum"
    assert np.max(np.abs(got - want)) / np.max(np.abs(want)) < 1e-13


def test_planner_declines_what_it_cannot_print():
    # a transposed matrix in a row scale, and a product of two matrices, are not read row by row
    assert fused.plan(sp.DiagMatrix(W.T * u) * A, [A, W, u]) is None
    assert fused.plan(A * B, [A, B]) is None
    assert fused.plan(sp.DiagMatrix(x), [x]) is None  # nothing to scale
    f = sp.Function("f")
    assert fused.plan(sp.DiagMatrix(ElementwiseApplyFunction(sp.Lambda(d, f(d)), x)) * A, [A, x]) is None


def test_printed_kernel_reads_every_weight_matrix_once():
    ref = symdl.ref("lstm.cell_jacobian")
    inputs = [i.symbol for i in ref.inputs]
    p = fused.plan(ref.expanded(), inputs, rows_per_pass=1)
    assert p is not None
    names = [str(inputs[k]) for k in p.matrices]
    assert sorted(names) == sorted(["W_{fh}", "W_{ih}", "W_{gh}", "W_{fx}", "W_{ix}", "W_{gx}"])
    # one loop over j per vector (h_{t-1} and x_t), one for the row of J: three in all
    assert p.source.count("for j in range") == 3
    # two rows a pass: the dot products of both rows share the two loops, each row has its own loop for J
    assert fused.plan(ref.expanded(), inputs, rows_per_pass=2).source.count("for j in range") == 4
    assert "cache=True" in p.source and "exec" not in p.source


def test_unwritable_cache_compiles_in_a_private_folder(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(fused, "_cache_dir", lambda: blocker / "kernels")  # cannot be made: a file is in the way
    src = fused.plan(A * sp.DiagMatrix(x), [A, x]).source
    kernel = fused.load(src)
    out = np.empty((3, 3))
    a = np.arange(9.0).reshape(3, 3)
    kernel(out, a, np.array([1.0, 2.0, 3.0]))
    assert np.array_equal(out, a * np.array([1.0, 2.0, 3.0]))


def test_a_cache_others_may_write_is_not_imported_from(monkeypatch, tmp_path):
    shared = tmp_path / "kernels"
    shared.mkdir()
    shared.chmod(0o777)  # as a cache under a world-writable folder would be
    monkeypatch.setattr(fused, "_cache_dir", lambda: shared)
    src = fused.plan(B * sp.DiagMatrix(y), [B, y]).source + "# a source no other test loads\n"
    kernel = fused.load(src)
    assert not kernel.py_func.__code__.co_filename.startswith(str(shared))
    out = np.empty((2, 2))
    kernel(out, np.ones((2, 2)), np.array([2.0, 3.0]))
    assert np.array_equal(out, [[2.0, 3.0], [2.0, 3.0]])


# -- the GRU: a product diag(a) (diag(b) W_hr + diag(r_t) W_hn), multiplied out for the planner -------------

@pytest.fixture
def gru():
    from pathlib import Path

    import symdl.model.registry as registry

    registry.reset()
    registry.register(Path(__file__).resolve().parents[2] / "models" / "gru.toml")
    yield registry.ref("gru.state_jacobian")
    registry.reset()


@pytest.mark.parametrize("n,m", [(1, 1), (3, 2), (17, 5), (130, 41)])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_fused_gru_state_jacobian_against_grucell_jacrev(spy, gru, n, m, backend):
    from tests.model.test_model_files import gru_values, torch_gru

    v = gru_values(n, m, seed=n)
    cell, x, h = torch_gru(v)
    want = torch.func.jacrev(lambda hh: cell(x[None], hh[None])[0])(h).detach().numpy()
    got = gru.evaluate({k: torch.tensor(a) for k, a in v.items()} if backend == "torch" else v, backend=backend)
    assert spy, "the fused kernel did not run"
    got = got.numpy() if backend == "torch" else got
    assert got.shape == (n, n) and rel(got, want) < 1e-12


def test_the_gru_plan_reads_its_six_weight_matrices(gru):
    inputs = [i.symbol for i in gru.inputs]
    p = fused.plan(gru.expanded(), inputs, rows_per_pass=1)
    assert p is not None, "the planner did not take the GRU's state Jacobian"
    assert sorted(str(inputs[k]) for k in p.matrices) == sorted(
        ["W_{hr}", "W_{hz}", "W_{hn}", "W_{ir}", "W_{iz}", "W_{in}"])


def test_fused_sum_with_functions_of_whole_vectors_against_torch(spy):
    """softmax(W u) at row i and logsumexp(u), mean(y) as scales: computed before the loop, read by the kernel."""
    from symdl.core.vector import LogSumExp, Mean, Softmax

    expr = (sp.DiagMatrix(sp.HadamardProduct(Softmax(W * u), ew(sp.tanh, x))) * A
            + LogSumExp(u) * sp.DiagMatrix(ew(sigmoid, x)) * B * sp.DiagMatrix(Softmax(y))
            + Mean(y) * sp.DiagMatrix(x))
    inputs = [A, B, W, x, y, u]
    fn = compile_expr(expr, inputs, (), [n_], "numpy")
    rng = np.random.default_rng(3)
    N = 9
    a_, b_, w_ = (rng.normal(size=(N, N)) for _ in range(3))
    x_, y_, u_ = (rng.normal(size=(N, 1)) for _ in range(3))
    got = fn(a_, N, a_, b_, w_, x_, y_, u_)
    assert spy, "the planner did not fuse a sum with softmax and logsumexp in it"
    t = {k: torch.tensor(v) for k, v in dict(a=a_, b=b_, w=w_, x=x_[:, 0], y=y_[:, 0], u=u_[:, 0]).items()}
    want = ((torch.softmax(t["w"] @ t["u"], 0) * torch.tanh(t["x"]))[:, None] * t["a"]
            + torch.logsumexp(t["u"], 0) * torch.sigmoid(t["x"])[:, None] * t["b"] * torch.softmax(t["y"], 0)[None, :]
            + t["y"].mean() * torch.diag(t["x"]))
    assert rel(got, want.numpy()) < 1e-13
