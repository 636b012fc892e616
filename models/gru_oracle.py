"""The GRU's oracle: torch.nn.GRUCell and torch.func.jacrev, sharing no code with symdl.

torch stacks the gates' weights in the order r, z, n: weight_ih is [W_ir; W_iz; W_in], weight_hh
[W_hr; W_hz; W_hn], and the biases likewise.
"""

import torch

GATES = ("r", "z", "n")


def _cell(v):
    x = torch.as_tensor(v["x_t"], dtype=torch.float64).reshape(-1)
    h = torch.as_tensor(v["h_{t-1}"], dtype=torch.float64).reshape(-1)
    cell = torch.nn.GRUCell(x.numel(), h.numel(), dtype=torch.float64)
    with torch.no_grad():
        for name, part in (("weight_ih", "W_{i%s}"), ("weight_hh", "W_{h%s}"), ("bias_ih", "b_{i%s}"),
                           ("bias_hh", "b_{h%s}")):
            rows = [torch.as_tensor(v[part % g], dtype=torch.float64).reshape(h.numel(), -1) for g in GATES]
            getattr(cell, name).copy_(torch.cat(rows).reshape(getattr(cell, name).shape))
    return cell, x, h


def state(v):
    cell, x, h = _cell(v)
    return cell(x[None], h[None])[0].detach()


def state_jacobian(v):
    cell, x, h = _cell(v)
    return torch.func.jacrev(lambda hh: cell(x[None], hh[None])[0])(h).detach()


def direct(v):
    """The additive path alone: diag(z_t), the update gate computed by torch from the same weights."""
    cell, x, h = _cell(v)
    n = h.numel()
    gi = cell.weight_ih @ x + cell.bias_ih
    gh = cell.weight_hh @ h + cell.bias_hh
    z = torch.sigmoid(gi[n:2 * n] + gh[n:2 * n])
    return torch.diag(z).detach()


ORACLES = {"gru.state": state, "gru.state_jacobian": state_jacobian, "gru.direct": direct}
