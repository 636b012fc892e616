r"""The truths of the hand forms (tests/grade/hand_forms.py), in torch float64, from REFERENCES.md.

Each topic has its random points (a dict of tensors and callables: the abstract functions instantiated
as the contract's oracles do) and each reference its value there, written here from the contract's
definitions and torch's own modules (``torch.func.jacrev``, ``torch.optim.Adam``,
``torch.distributions.kl_divergence``, ``cosine_similarity``), never through symdl.
"""

from __future__ import annotations

import torch

T = torch.float64


def _r(g, *shape, low=None):
    x = torch.randn(*shape, generator=g, dtype=T)
    return x if low is None else low + torch.rand(*shape, generator=g, dtype=T) * (1 - low)


def diag(v):
    return torch.diag(v.reshape(-1))


# -- rnn: h_t = sigma(W_1 h_{t-1} + W_2 x_t), sigma any activation ------------------------------------------
ACTIVATIONS = {  # (sigma, sigma') -- the three the contract's oracle instantiates
    "tanh": (torch.tanh, lambda u: 1 - torch.tanh(u) ** 2),
    "sigmoid": (torch.sigmoid, lambda u: torch.sigmoid(u) * (1 - torch.sigmoid(u))),
    "softplus": (torch.nn.functional.softplus, torch.sigmoid),
}


def rnn_points(g):
    for name, (s, ds) in ACTIVATIONS.items():
        p = {"h": _r(g, 3, 1), "x": _r(g, 2, 1), "W1": _r(g, 3, 3), "W2": _r(g, 3, 2), "s": s, "ds": ds}
        p["a"] = p["W1"] @ p["h"] + p["W2"] @ p["x"]
        yield p


def rnn_state(p):
    return p["s"](p["W1"] @ p["h"] + p["W2"] @ p["x"])


def rnn_jacobian(p):
    return torch.func.jacrev(lambda h: p["s"](p["W1"] @ h + p["W2"] @ p["x"]))(p["h"]).reshape(3, 3)


# -- lstm: the cell of REFERENCES.md, h_{t-1} = o_{t-1} * tanh(c_{t-1}) --------------------------------------
def lstm_points(g):
    for _ in range(3):
        p = {"c0": _r(g, 3, 1), "o0": _r(g, 3, 1, low=0.0), "x": _r(g, 2, 1)}
        for gate in "figo":
            p["W" + gate + "h"], p["W" + gate + "x"], p["b" + gate] = _r(g, 3, 3), _r(g, 3, 2), _r(g, 3, 1)
        p.update(_cell(p, p["c0"]))
        yield p


def _cell(p, c0):
    h0 = p["o0"] * torch.tanh(c0)
    pre = {k: p["W" + k + "h"] @ h0 + p["W" + k + "x"] @ p["x"] + p["b" + k] for k in "figo"}
    f, i, o, g = (torch.sigmoid(pre["f"]), torch.sigmoid(pre["i"]), torch.sigmoid(pre["o"]), torch.tanh(pre["g"]))
    c = f * c0 + i * g
    return {"h0": h0, "f": f, "i": i, "g": g, "o": o, "c": c, "h": o * torch.tanh(c)}


def lstm_cell_jacobian(p):
    return torch.func.jacrev(lambda c0: _cell(p, c0)["c"])(p["c0"]).reshape(3, 3)


def lstm_four_terms(p, drop_gate=False, sigma_for_tanh=False, transpose=False):
    """The cell Jacobian written out, or with one of the slips people make."""
    dh = diag(p["o0"] * (1 - torch.tanh(p["c0"]) ** 2))
    dg = p["g"] * (1 - p["g"]) if sigma_for_tanh else 1 - p["g"] ** 2
    inner = diag(p["c0"] * p["f"] * (1 - p["f"])) @ p["Wfh"] + diag(p["g"] * p["i"] * (1 - p["i"])) @ p["Wih"]
    if not drop_gate:
        inner = inner + diag(p["i"] * dg) @ p["Wgh"]
    out = diag(p["f"]) + inner @ dh
    return out.T if transpose else out


# -- optim: elementwise on vectors of 3 entries --------------------------------------------------------------
def optim_points(g):
    for t in (1.0, 2.0, 3.0):
        p = {k: _r(g, 3) for k in ("w", "w0", "g", "m", "theta0", "b0")}
        p.update({"v": _r(g, 3, low=0.1), "gamma": _r(g, 1, low=0.05), "beta": _r(g, 1, low=0.1),
                  "beta1": _r(g, 1, low=0.1), "beta2": _r(g, 1, low=0.1), "eps": _r(g, 1, low=0.01),
                  "alpha": _r(g, 1, low=0.1), "mu": _r(g, 1, low=0.1), "tau": _r(g, 1, low=0.1),
                  "t": torch.tensor(t, dtype=T), "grads": _r(g, 4, 3)})
        yield p


def adam(p):
    opt_w = p["w"].clone().requires_grad_(True)
    opt = torch.optim.Adam([opt_w], lr=float(p["gamma"]), betas=(float(p["beta1"]), float(p["beta2"])),
                           eps=float(p["eps"]))
    step = int(p["t"]) + 1  # the contract's t counts the updates made: PyTorch's step is t + 1
    opt.state[opt_w] = {"step": torch.tensor(float(step - 1)), "exp_avg": p["m"].clone(),
                        "exp_avg_sq": p["v"].clone()}
    opt_w.grad = p["g"].clone()
    opt.step()
    return opt_w.detach()


def heavy_ball(p):
    return p["w"] - p["gamma"] * p["g"] + p["beta"] * (p["w"] - p["w0"])


def rmsprop(p):
    v = p["alpha"] * p["v"] + (1 - p["alpha"]) * p["g"] ** 2
    return p["w"] - p["gamma"] * p["g"] / (torch.sqrt(v) + p["eps"])


def sgd_momentum_torch(p):
    b = p["g"] if int(p["t"]) == 1 else p["mu"] * p["b0"] + (1 - p["tau"]) * p["g"]  # torch.optim.SGD's buffer
    return p["theta0"] - p["gamma"] * b


def gd(p):
    return p["theta0"] - p["gamma"] * p["grads"].mean(0)


# -- ebm: integrals as sums over a grid, F and E small random networks ---------------------------------------
def ebm_points(g):
    for _ in range(3):
        a, e = _r(g, 4), _r(g, 5)
        F = lambda x, y, w=0.0: torch.tanh(a[0] * x + a[1] * y + a[2] * w + a[3]) + 0.3 * (y - a[0] * w) ** 2
        E = lambda x, y, z: torch.sin(e[0] * x + e[1] * y + e[2] * z) + 0.2 * (z - e[3] * y) ** 2 + e[4] * x * z
        yield {"x": _r(g, ()), "y": _r(g, ()), "z": _r(g, ()), "xs": _r(g, 3), "ys": _r(g, 3), "w": _r(g, ()),
               "beta": _r(g, (), low=0.3) * 2, "grid": _r(g, 5), "zgrid": _r(g, 4), "F": F, "E": E}


def gibbs(p, y=None, x=None, w=None):
    y, x = p["y"] if y is None else y, p["x"] if x is None else x
    F = (lambda u, v: p["F"](u, v, p["w"])) if w is not None else p["F"]
    return torch.exp(-p["beta"] * F(x, y)) / torch.exp(-p["beta"] * F(x, p["grid"])).sum()


def nll_loss(p, w=None):
    w = p["w"] if w is None else w
    terms = [p["F"](x, y, w) + torch.logsumexp(-p["beta"] * p["F"](x, p["grid"], w), 0) / p["beta"]
             for x, y in zip(p["xs"], p["ys"])]
    return torch.stack(terms).mean()


def nll_gradient(p):
    w = p["w"].clone().requires_grad_(True)
    return torch.autograd.grad(nll_loss(p, w), w)[0]


def _dF_dw(p, x, y):
    w = p["w"].clone().requires_grad_(True)
    return torch.autograd.grad(p["F"](x, y, w).sum(), w)[0] if y.ndim == 0 else torch.stack(
        [torch.autograd.grad(p["F"](x, v, w), w)[0] for v in y])


def gradient_by_parts(p, sign=-1.0):
    terms = [_dF_dw(p, x, y) + sign * (gibbs(p, p["grid"], x, w=True) * _dF_dw(p, x, p["grid"])).sum()
             for x, y in zip(p["xs"], p["ys"])]
    return torch.stack(terms).mean()


def free_energy(p):
    return -torch.logsumexp(-p["beta"] * p["E"](p["x"], p["y"], p["zgrid"]), 0) / p["beta"]


def inference(p):
    return p["grid"][torch.argmin(p["F"](p["x"], p["grid"]))]


def joint(p, over_z=True):
    num = torch.exp(-p["beta"] * p["E"](p["x"], p["y"], p["z"]))
    if not over_z:
        return num / torch.exp(-p["beta"] * p["E"](p["x"], p["grid"], p["z"])).sum()
    return num / torch.exp(-p["beta"] * p["E"](p["x"], p["grid"][:, None], p["zgrid"][None, :])).sum()


# -- latent ------------------------------------------------------------------------------------------------
def latent_points(g):
    for k in range(3):
        z = torch.zeros(4, 1, dtype=T)
        z[k] = 1.0
        yield {"y": _r(g, 3, 1), "W": _r(g, 3, 4), "z": z, "zs": _r(g, 4, 1), "lam": _r(g, (), low=0.1),
               "mu": _r(g, 3), "sigma": _r(g, 3, low=0.2)}


def kmeans(p):
    return ((p["y"] - p["W"] @ p["z"]) ** 2).sum()


def sparse(p):
    return ((p["y"] - p["W"] @ p["zs"]) ** 2).sum() + p["lam"] * p["zs"].abs().sum()


def vae_kl(p):
    q = torch.distributions.Normal(p["mu"], p["sigma"])
    return torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum()


# -- contrastive -------------------------------------------------------------------------------------------
def pirl_points(g):
    for _ in range(3):
        yield {"vI": _r(g, 4), "vt": _r(g, 4), "neg": _r(g, 3, 4), "tau": _r(g, (), low=0.2)}


def cos(u, v):
    return torch.nn.functional.cosine_similarity(u, v, dim=-1)


def pirl_h(p, tau=True, positive=True):
    t = p["tau"] if tau else 1.0
    top = torch.exp(cos(p["vI"], p["vt"]) / t)
    rest = torch.exp(cos(p["vt"][None, :], p["neg"]) / t).sum()
    return top / ((top if positive else 0) + rest)


