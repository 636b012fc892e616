"""Each expression twice: once through symdl, once in PyTorch float64 (micrograd style).

The torch side is written here from torch alone (nn.LSTMCell, nn.RNNCell, torch.func.jacrev);
it shares no code with symdl.
"""

import numpy as np
import pytest
import torch

import symdl

SIZES = [(1, 1), (2, 3), (7, 4)]
ACTS = {
    "tanh": (np.tanh, torch.tanh),
    "sigmoid": (lambda a: 1 / (1 + np.exp(-a)), torch.sigmoid),
    "softplus": (lambda a: np.log1p(np.exp(a)), torch.nn.functional.softplus),
}


def rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def lstm_values(rng, n, m):
    v = {f"W_{{{g}h}}": rng.normal(size=(n, n)) / np.sqrt(n) for g in "figo"}
    v.update({f"W_{{{g}x}}": rng.normal(size=(n, m)) for g in "figo"})
    v.update({f"b_{g}": rng.normal(size=n) for g in "figo"})
    v.update({"c_{t-1}": rng.normal(size=n), "o_{t-1}": rng.uniform(0.05, 0.95, n), "h_{t-1}": rng.normal(size=n),
              "x_t": rng.normal(size=m)})
    return v


def torch_cell(v, n, m):
    cell = torch.nn.LSTMCell(m, n, dtype=torch.float64)
    T = lambda k: torch.tensor(v[k])  # noqa: E731
    with torch.no_grad():
        cell.weight_ih.copy_(torch.cat([T(f"W_{{{g}x}}") for g in "ifgo"]))  # torch's chunk order: i, f, g, o
        cell.weight_hh.copy_(torch.cat([T(f"W_{{{g}h}}") for g in "ifgo"]))
        cell.bias_ih.copy_(torch.cat([T(f"b_{g}") for g in "ifgo"]) / 3)
        cell.bias_hh.copy_(torch.cat([T(f"b_{g}") for g in "ifgo"]) * 2 / 3)
    return cell


@pytest.mark.parametrize("n,m", SIZES)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_lstm_cell_jacobian_against_lstmcell_autograd(n, m, backend):
    rng = np.random.default_rng(n * 10 + m)
    v = lstm_values(rng, n, m)
    cell = torch_cell(v, n, m)
    o, x = torch.tensor(v["o_{t-1}"]), torch.tensor(v["x_t"])

    def c_next(c):
        return cell(x, (o * torch.tanh(c), c))[1]

    want = torch.func.jacrev(c_next)(torch.tensor(v["c_{t-1}"])).detach().numpy()
    vals = {k: val for k, val in v.items() if k != "h_{t-1}"}
    if backend == "torch":
        vals = {k: torch.tensor(val) for k, val in vals.items()}
    got = symdl.ref("lstm.cell_jacobian").evaluate(vals, backend=backend)
    got = got.detach().numpy() if backend == "torch" else got
    assert got.shape == (n, n)
    assert rel(got, want) < 1e-12


@pytest.mark.parametrize("n,m", SIZES)
def test_lstm_direct_jacobian_is_the_forget_gate_of_lstmcell(n, m):
    rng = np.random.default_rng(3 + n)
    v = lstm_values(rng, n, m)
    cell = torch_cell(v, n, m)
    h = torch.tensor(v["o_{t-1}"]) * torch.tanh(torch.tensor(v["c_{t-1}"]))
    want = torch.func.jacrev(lambda c: cell(torch.tensor(v["x_t"]), (h, c))[1])(torch.tensor(v["c_{t-1}"]))
    vals = {k: val for k, val in v.items() if k != "h_{t-1}"}
    assert rel(symdl.ref("lstm.cell_jacobian_direct").evaluate(vals), want.detach().numpy()) < 1e-12


def torch_state_jacobian(v, n, m):
    """The 2n x 2n Jacobian of (c_t, h_t) by (c_{t-1}, h_{t-1}), both free, by jacrev of nn.LSTMCell."""
    cell = torch_cell(v, n, m)

    def step(c, h):
        h2, c2 = cell(torch.tensor(v["x_t"]), (h, c))
        return torch.cat([c2, h2])

    Jc, Jh = torch.func.jacrev(step, argnums=(0, 1))(torch.tensor(v["c_{t-1}"]), torch.tensor(v["h_{t-1}"]))
    return torch.cat([Jc, Jh], dim=1).detach().numpy()


@pytest.mark.parametrize("n,m", SIZES)
def test_lstm_state_jacobian_against_lstmcell_over_c_and_h(n, m):
    rng = np.random.default_rng(5 + n)
    v = lstm_values(rng, n, m)
    want = torch_state_jacobian(v, n, m)
    vals = {k: val for k, val in v.items() if k != "o_{t-1}"}
    got = symdl.ref("lstm.state_jacobian").evaluate(vals)
    assert got.shape == (2 * n, 2 * n)
    assert rel(got, want) < 1e-12


@pytest.mark.parametrize("n,m", SIZES)
def test_lstm_forward_against_lstmcell(n, m):
    rng = np.random.default_rng(7 + n)
    v = lstm_values(rng, n, m)
    cell = torch_cell(v, n, m)
    h_prev = torch.tensor(v["o_{t-1}"]) * torch.tanh(torch.tensor(v["c_{t-1}"]))
    h, c = cell(torch.tensor(v["x_t"]), (h_prev, torch.tensor(v["c_{t-1}"])))
    vals = {k: val for k, val in v.items() if k != "h_{t-1}"}
    assert rel(symdl.ref("lstm.cell_update").evaluate(vals), c.detach().numpy()) < 1e-13
    assert rel(symdl.ref("lstm.hidden").evaluate(vals), h.detach().numpy()) < 1e-13


@pytest.mark.parametrize("act", sorted(ACTS))
@pytest.mark.parametrize("n,m", SIZES)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_rnn_state_jacobian_against_autograd(act, n, m, backend):
    rng = np.random.default_rng(11 + n)
    W1, W2, h, x = rng.normal(size=(n, n)), rng.normal(size=(n, m)), rng.normal(size=n), rng.normal(size=m)
    f_np, f_t = ACTS[act]
    want = torch.func.jacrev(lambda hh: f_t(torch.tensor(W1) @ hh + torch.tensor(W2) @ torch.tensor(x)))(
        torch.tensor(h)).numpy()
    vals = {"W_1": W1, "W_2": W2, "h_{t-1}": h, "x_t": x, r"\sigma": f_np}
    if backend == "torch":
        vals = {k: (torch.tensor(a) if isinstance(a, np.ndarray) else f_t) for k, a in vals.items()}
    got = symdl.ref("rnn.state_jacobian").evaluate(vals, backend=backend)
    got = got.detach().numpy() if backend == "torch" else got
    assert rel(got, want) < 1e-9  # numpy's sigma' is a complex step of the callable: exact to rounding


@pytest.mark.parametrize("gap", [1, 2, 5])
@pytest.mark.parametrize("act", sorted(ACTS))
def test_rnn_jacobian_product_against_unrolled_rnncell(gap, act):
    rng = np.random.default_rng(gap)
    n, m = 4, 3
    W1, W2, h = rng.normal(size=(n, n)), rng.normal(size=(n, m)), rng.normal(size=n)
    xs = [rng.normal(size=m) for _ in range(gap)]
    f_np, f_t = ACTS[act]

    def unroll(hh):
        for x in xs:
            hh = f_t(torch.tensor(W1) @ hh + torch.tensor(W2) @ torch.tensor(x))
        return hh

    want = torch.func.jacrev(unroll)(torch.tensor(h)).numpy()
    vals = {"W_1": W1, "W_2": W2, "h_t": h, r"\sigma": f_np, **{f"x_{{t+{k + 1}}}": x for k, x in enumerate(xs)}}
    assert rel(symdl.ref("rnn.jacobian_product").evaluate(vals), want) < 1e-9


def test_rnn_state_against_rnncell_tanh():
    rng = np.random.default_rng(0)
    n, m = 5, 3
    cell = torch.nn.RNNCell(m, n, dtype=torch.float64)
    with torch.no_grad():
        cell.bias_ih.zero_()
        cell.bias_hh.zero_()
    h, x = rng.normal(size=n), rng.normal(size=m)
    want = cell(torch.tensor(x), torch.tensor(h)).detach().numpy()
    got = symdl.ref("rnn.state").evaluate({"W_1": cell.weight_hh.detach().numpy(), "W_2": cell.weight_ih.detach().numpy(),
                                           "h_{t-1}": h, "x_t": x, r"\sigma": np.tanh})
    assert rel(got, want) < 1e-14


def test_torch_result_is_differentiable_and_matches_second_order_autograd():
    """Gradients flow through evaluate: d/dW_fh of sum(J) by symdl+autograd equals torch's own."""
    rng = np.random.default_rng(1)
    n, m = 3, 2
    v = lstm_values(rng, n, m)
    vals = {k: torch.tensor(a, requires_grad=(k == "W_{fh}")) for k, a in v.items() if k != "h_{t-1}"}
    J = symdl.ref("lstm.cell_jacobian").evaluate(vals, backend="torch")
    (g_symdl,) = torch.autograd.grad(J.sum(), vals["W_{fh}"])

    def jac_sum(Wfh):
        cell_v = dict(v)
        cell = torch_cell(cell_v, n, m)
        o, x, c0 = (torch.tensor(v[k]) for k in ("o_{t-1}", "x_t", "c_{t-1}"))
        Wih = torch.cat([torch.tensor(v["W_{ih}"]), Wfh, torch.tensor(v["W_{gh}"]), torch.tensor(v["W_{oh}"])])
        params = {"weight_hh": Wih, "weight_ih": cell.weight_ih.detach(), "bias_ih": cell.bias_ih.detach(),
                  "bias_hh": cell.bias_hh.detach()}
        f = lambda c: torch.func.functional_call(cell, params, (x, (o * torch.tanh(c), c)))[1]  # noqa: E731
        return torch.func.jacrev(f)(c0).sum()

    g_torch = torch.func.grad(jac_sum)(torch.tensor(v["W_{fh}"]))
    assert rel(g_symdl.numpy(), g_torch.numpy()) < 1e-12


def test_torch_result_stays_in_dtype_and_device_of_inputs():
    rng = np.random.default_rng(2)
    v = lstm_values(rng, 3, 2)
    vals = {k: torch.tensor(a, dtype=torch.float32) for k, a in v.items() if k != "h_{t-1}"}
    J = symdl.ref("lstm.cell_jacobian").evaluate(vals, backend="torch")
    assert J.dtype == torch.float32 and J.device == vals["c_{t-1}"].device
