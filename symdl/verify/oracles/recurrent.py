"""Independent oracles, written in PyTorch alone.

Nothing here imports symdl's models, calculus or backends: each function
builds the network the way PyTorch users do (``nn.LSTMCell``, an unrolled RNN
loop) and differentiates it with ``torch.func.jacrev``.  Inputs are numpy
arrays keyed as REFERENCES.md writes them; outputs are numpy float64 arrays.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("tanh", "sigmoid", "softplus")


def _t(x):
    import torch

    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def activation(name: str):
    import torch

    return {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "softplus": torch.nn.functional.softplus}[name]


# -- vanilla RNN ---------------------------------------------------------------------------


def rnn_state(v: dict) -> np.ndarray:
    """``h_t`` by ``torch.nn.RNNCell`` (tanh) or an explicit step for other activations."""
    import torch

    act = v.get("_function") or "tanh"
    h, x, W1, W2 = (_t(v[k]).reshape(-1) if k in ("h_{t-1}", "x_t") else _t(v[k])
                    for k in ("h_{t-1}", "x_t", "W_1", "W_2"))
    if act == "tanh":
        cell = torch.nn.RNNCell(x.numel(), h.numel(), nonlinearity="tanh").double()
        with torch.no_grad():
            cell.weight_ih.copy_(W2)
            cell.weight_hh.copy_(W1)
            cell.bias_ih.zero_()
            cell.bias_hh.zero_()
            return cell(x, h).numpy()
    return activation(act)(W1 @ h + W2 @ x).numpy()


def rnn_state_jacobian(v: dict) -> np.ndarray:
    import torch

    act = activation(v.get("_function") or "tanh")
    x, W1, W2 = _t(v["x_t"]).reshape(-1), _t(v["W_1"]), _t(v["W_2"])
    return torch.func.jacrev(lambda h: act(W1 @ h + W2 @ x))(_t(v["h_{t-1}"]).reshape(-1)).numpy()


def rnn_jacobian_product(v: dict, gap: int) -> np.ndarray:
    """``d h_{t+gap} / d h_t`` through an unrolled loop."""
    import torch

    act = activation(v.get("_function") or "tanh")
    W1, W2 = _t(v["W_1"]), _t(v["W_2"])
    xs = [_t(v[f"x_{{t+{k}}}"]).reshape(-1) for k in range(1, gap + 1)]

    def unroll(h):
        for x in xs:
            h = act(W1 @ h + W2 @ x)
        return h

    return torch.func.jacrev(unroll)(_t(v["h_t"]).reshape(-1)).numpy()


# -- LSTM --------------------------------------------------------------------------------


def lstm_cell(v: dict, seed: int = 0):
    """A ``torch.nn.LSTMCell`` holding the weights of ``v``.

    PyTorch stacks the gates in the order i, f, g, o and has two biases; the
    bias ``b_*`` is split between them at random, since only their sum matters.
    """
    import torch

    n, m = np.asarray(v["W_{fx}"]).shape
    cell = torch.nn.LSTMCell(m, n).double()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.cat([_t(v[f"W_{{{g}x}}"]) for g in "ifgo"]))
        cell.weight_hh.copy_(torch.cat([_t(v[f"W_{{{g}h}}"]) for g in "ifgo"]))
        b = torch.cat([_t(v[f"b_{g}"]).reshape(-1) for g in "ifgo"])
        part = torch.randn(b.shape, generator=gen, dtype=torch.float64)
        cell.bias_ih.copy_(part)
        cell.bias_hh.copy_(b - part)
    return cell


def lstm_step(v: dict):
    """``(c_t, h_t)`` with ``h_{t-1} = o_{t-1} * tanh(c_{t-1})``."""
    import torch

    cell = lstm_cell(v)
    x, c, o = (_t(v[k]).reshape(-1) for k in ("x_t", "c_{t-1}", "o_{t-1}"))
    with torch.no_grad():
        h, c2 = cell(x, (o * torch.tanh(c), c))
    return c2.numpy(), h.numpy()


def lstm_cell_jacobian(v: dict, through_hidden: bool = True) -> np.ndarray:
    """``d c_t / d c_{t-1}``; with ``through_hidden=False``, ``h_{t-1}`` is held fixed."""
    import torch

    cell = lstm_cell(v)
    x, c0, o = (_t(v[k]).reshape(-1) for k in ("x_t", "c_{t-1}", "o_{t-1}"))
    h_fixed = o * torch.tanh(c0)

    def c_next(c):
        h = o * torch.tanh(c) if through_hidden else h_fixed
        return cell(x, (h, c))[1]

    return torch.func.jacrev(c_next)(c0).detach().numpy()


def lstm_state_jacobian(v: dict) -> np.ndarray:
    """The 2n x 2n Jacobian of ``(c_t, h_t)`` by ``(c_{t-1}, h_{t-1})``."""
    import torch

    cell = lstm_cell(v)
    x, c0, h0 = (_t(v[k]).reshape(-1) for k in ("x_t", "c_{t-1}", "h_{t-1}"))
    n = c0.numel()

    def step(s):
        h, c = cell(x, (s[n:], s[:n]))
        return torch.cat([c, h])

    return torch.func.jacrev(step)(torch.cat([c0, h0])).detach().numpy()
