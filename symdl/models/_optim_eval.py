"""Evaluating the optimiser references (see :mod:`symdl.models.optim`): hyperparameters checked first.

A bad hyperparameter is reported the way ``torch.optim`` reports it
("Invalid beta parameter at index 0: 1.2"), with the domain it must lie in.
"""

from __future__ import annotations

import numpy as np

from ..model.domains import DOMAINS
from ..model.reference import EvaluationError, Reference, check_keys, evaluate_expression
from ..numeric.compile import ops as backend_ops

#: How torch.optim names each hyperparameter in its errors.
TORCH_LABELS = {
    r"\gamma": "learning rate", r"\beta_1": "beta parameter at index 0", r"\beta_2": "beta parameter at index 1",
    r"\epsilon": "epsilon value", r"\mu": "momentum value", r"\tau": "dampening value", r"\alpha": "alpha value",
    r"\beta": "momentum value",
}


def _flat(x) -> list:
    if hasattr(x, "detach"):
        x = x.detach()
    return np.asarray(x, dtype=np.float64).reshape(-1).tolist()


def validate(ref: Reference, values) -> None:
    """Every input inside its domain; the error reads like torch.optim's and names the domain."""
    for inp in ref.inputs:
        dom = DOMAINS[inp.domain]
        if dom.name == "real" or inp.name not in values:
            continue
        flat = _flat(values[inp.name])
        for k, v in enumerate(flat):
            if not dom.contains(v):
                label = TORCH_LABELS.get(inp.name, f"{inp.name} value")
                where = f" (entry {k})" if len(flat) > 1 else ""
                raise EvaluationError(f"{ref.name}: Invalid {label}: {v!r}{where}; {inp.name} must be {dom.text}")


def _arrays(values) -> dict:
    """Lists and tuples as float64 arrays (the backends take arrays, tensors and numbers)."""
    return {k: np.asarray(v, dtype=np.float64) if isinstance(v, (list, tuple)) else v for k, v in values.items()}


def evaluate_plain(ref: Reference, values, backend: str):
    values = _arrays(values)
    check_keys(ref.name, ref.inputs, {}, values)
    validate(ref, values)
    return evaluate_expression(ref.expanded(), ref.inputs, {}, values, backend_ops(backend), backend, ref.name)


def evaluate_mean_gradient(ref: Reference, values, backend: str):
    """GD (all N samples) and SGD (the 1-based indices in ``B``)."""
    values = _arrays(values)
    check_keys(ref.name, ref.inputs, {}, values)
    validate(ref, values)
    ops = backend_ops(backend)
    theta, lr = ops.asarray(values[r"\theta_k"]), ops.asarray(values[r"\gamma"])
    G = ops.asarray(values[ref.inputs[2].name])
    N = G.shape[0] if len(G.shape) else 0
    if tuple(G.shape[1:]) != tuple(theta.shape):
        raise EvaluationError(f"{ref.name}: {ref.inputs[2].name!r} has shape {tuple(G.shape)}; expected (N,) + "
                              f"the shape of \\theta_k {tuple(theta.shape)}, one row per sample")
    batch = list(range(1, N + 1)) if "B" not in values else [_index(ref, j, N) for j in _flat(values["B"])]
    if not batch:
        raise EvaluationError(f"{ref.name}: the batch is empty; it needs at least one sample")
    total = G[batch[0] - 1]
    for j in batch[1:]:
        total = total + G[j - 1]
    return theta - lr * total / len(batch)


def _index(ref, j: float, N: int) -> int:
    if not float(j).is_integer() or not 1 <= j <= N:
        raise EvaluationError(f"{ref.name}: invalid batch index {j!r}; B holds indices in 1..{N} (j runs over "
                              f"the N = {N} rows of the per-sample gradients)")
    return int(j)


def evaluate_torch_sgd(ref: Reference, values, backend: str):
    """``b_1 = g_1`` on the first step (``t = 1``), where ``b_{t-1}`` may be left out."""
    first = r"b_{t-1}" not in values and _flat(values.get("t", [0])) == [1.0]
    if first:
        values = {**values, r"b_{t-1}": 0.0}
    values = _arrays(values)
    validate(ref, values)
    check_keys(ref.name, ref.inputs, {}, values)
    steps = _flat(values["t"])
    if len(steps) != 1:
        raise EvaluationError(f"{ref.name}: t must be one number (the step count), got {len(steps)} values")
    expr = ref.params["first"] if steps[0] == 1 else ref.params["later"]
    return evaluate_expression(expr, ref.inputs, {}, values, backend_ops(backend), backend, ref.name)


def evaluate_nonmono(ref: Reference, values, backend: str):
    check_keys(ref.name, ref.inputs, {}, values)
    validate(ref, values)
    losses = _flat(values["L"])
    if not losses:
        raise EvaluationError(f"{ref.name}: L must hold the validation losses L_1..L_e of at least one epoch")
    nonmono, rate = int(_flat(values["NONMONO"])[0]), values[r"\gamma"]
    e = len(losses)
    if e > nonmono and losses[-1] > min(losses[: e - nonmono]):
        return rate / values[r"LR\_DECAY"]
    return rate
