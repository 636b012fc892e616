"""The array operations compiled code calls, for PyTorch (see :mod:`symdl.backends`).

Every operation keeps the autograd graph and the device and dtype of its inputs.
"""

import math

import torch

pi = math.pi
e = math.e
tanh, exp, log, abs, sign, cos, sin, sqrt = (
    torch.tanh, torch.exp, torch.log, torch.abs, torch.sign, torch.cos, torch.sin, torch.sqrt)
sigmoid, matmul = torch.sigmoid, torch.matmul
softplus = torch.nn.functional.softplus


def maximum(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = torch.maximum(torch.as_tensor(out), torch.as_tensor(x))
    return out


def minimum(*xs):
    out = xs[0]
    for x in xs[1:]:
        out = torch.minimum(torch.as_tensor(out), torch.as_tensor(x))
    return out


def sigmoid_prime(x):
    s = torch.sigmoid(x)
    return s * (1 - s)


def tanh_prime(x):
    return 1 - torch.tanh(x) ** 2


def row_scale(v, a):
    return v * a


def col_scale(a, v):
    return a * v.transpose(-1, -2)


def diag(v):
    return torch.diag(v.reshape(-1))


def T(a):
    return a.transpose(-1, -2)


def block(rows):
    return torch.cat([torch.cat(list(r), dim=1) for r in rows], dim=0)


def _kw(like):
    if isinstance(like, torch.Tensor):
        return {"dtype": like.dtype, "device": like.device}
    return {"dtype": torch.float64}


def eye(n, like):
    return torch.eye(int(n), **_kw(like))


def zeros(r, c, like):
    return torch.zeros(int(r), int(c), **_kw(like))


def ones(r, c, like):
    return torch.ones(int(r), int(c), **_kw(like))


def asarray(x):
    if isinstance(x, torch.Tensor):
        return x
    return torch.as_tensor(x, dtype=torch.float64)


def derivative(f):
    """The derivative of an elementwise torch function, by autograd; it stays differentiable."""

    def fprime(x):
        with torch.enable_grad():
            xr = x if x.requires_grad else x.detach().requires_grad_(True)
            y = f(xr)
            (g,) = torch.autograd.grad(y.sum(), xr, create_graph=x.requires_grad)
        return g

    return fprime
