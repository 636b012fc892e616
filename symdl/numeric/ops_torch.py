"""The array operations compiled code calls, for PyTorch (see :mod:`symdl.numeric.compile`).

Every operation keeps the autograd graph and the device and dtype of its inputs.
"""

import math
from types import SimpleNamespace

import torch

from ..core.elementwise import spelled
from ..core.vector import spelled_vectors
from .structure import by_column_scale

pi = math.pi
e = math.e
sqrt, matmul = torch.sqrt, torch.matmul
#: The scalar functions of :data:`symdl.core.elementwise.SCALARS` as torch spells them (``elementwise.sigmoid``).
elementwise = SimpleNamespace(**spelled("torch", torch))
#: The functions of a whole vector of :data:`symdl.core.vector.VECTORS` (``vector.softmax``), on columns.
vector = SimpleNamespace(**spelled_vectors("torch", torch))


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


def fused_sum(scaled, diags, others):
    """``sum_k diag(a_k) X_k diag(b_k) + sum diag(d) + others`` in one buffer.

    Row scales accumulate with ``addcmul_``, a column scale shared by several
    terms is applied once in place, and diagonals are added to the buffer's
    diagonal view.  When autograd records, the same sum is formed out of place.
    """
    tensors = [t for a, x, b in scaled for t in (a, x, b) if t is not None] + list(diags) + list(others)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        out = sum((x if a is None else a * x) * (1 if b is None else b.transpose(-1, -2)) for a, x, b in scaled)
        for d in diags:
            out = out + torch.diag(d.reshape(-1))
        for o in others:
            out = out + o
        return out
    out = None
    for b, items in by_column_scale(scaled):
        (a0, x0), rest = items[0], items[1:]
        acc = x0.clone() if a0 is None else a0 * x0
        for a, x in rest:
            if a is None:
                acc.add_(x)
            else:
                acc.addcmul_(a, x)
        if b is not None:
            acc.mul_(b.transpose(-1, -2))
        out = acc if out is None else out.add_(acc)
    for d in diags:
        out.diagonal().add_(d.reshape(-1))
    for o in others:
        out.add_(o)
    return out
