"""The oracle of attention.toml: torch.nn.functional.scaled_dot_product_attention and torch.func.jacrev, sharing
no code with symdl.  One query, one head, one batch: shapes (1, 1, 1, d), (1, 1, n, d), (1, 1, n, m)."""

import torch
import torch.nn.functional as F


def _tensors(v):
    q = torch.as_tensor(v["q"], dtype=torch.float64).reshape(-1)
    K = torch.as_tensor(v["K"], dtype=torch.float64)
    V = torch.as_tensor(v["V"], dtype=torch.float64)
    return q, K, V


def _attend(q, K, V):
    return F.scaled_dot_product_attention(q[None, None, None, :], K[None, None], V[None, None])[0, 0, 0]


def weights(v):
    q, K, _ = _tensors(v)
    # the weights are attention's output when the values are the identity: row i of V picks weight i
    return _attend(q, K, torch.eye(K.shape[0], dtype=torch.float64))


def output(v):
    return _attend(*_tensors(v))


def query_jacobian(v):
    q, K, V = _tensors(v)
    return torch.func.jacrev(lambda qq: _attend(qq, K, V))(q)


ORACLES = {"attention.weights": weights, "attention.output": output, "attention.query_jacobian": query_jacobian}
