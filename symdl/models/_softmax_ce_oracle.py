"""The oracle of softmax_ce.toml: torch.nn.functional.cross_entropy and autograd, sharing no code with symdl.

A one-hot target is given to torch as a class index, any other as probabilities (torch's two forms).
"""

import torch
import torch.nn.functional as F


def _tensors(v):
    z = torch.as_tensor(v["z"], dtype=torch.float64).reshape(-1)
    y = torch.as_tensor(v["y"], dtype=torch.float64).reshape(-1) if "y" in v else None
    return z, y


def _cross_entropy(z, y):
    onehot = bool(((y == 0) | (y == 1)).all()) and int((y == 1).sum()) == 1
    target = y.argmax()[None] if onehot else y[None]
    return F.cross_entropy(z[None], target)


def probabilities(v):
    z, _ = _tensors(v)
    return torch.softmax(z, dim=0)


def loss(v):
    z, y = _tensors(v)
    return _cross_entropy(z, y).detach()


def gradient(v):
    z, y = _tensors(v)
    z = z.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(_cross_entropy(z, y), z)
    return g


def softmax_jacobian(v):
    z, _ = _tensors(v)
    return torch.func.jacrev(lambda u: torch.softmax(u, dim=0))(z)


ORACLES = {"softmax_ce.probabilities": probabilities, "softmax_ce.loss": loss, "softmax_ce.gradient": gradient,
           "softmax_ce.gradient_onehot": gradient, "softmax_ce.softmax_jacobian": softmax_jacobian}
