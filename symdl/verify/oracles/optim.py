"""Independent oracles for the optimiser recurrences, written with ``torch.optim`` alone.

Nothing here imports symdl.  Each function runs a real PyTorch optimiser in
float64 on one parameter tensor whose gradient is set, step by step, from a
given gradient sequence, and records the optimiser's state *before* each step
and the parameter *after* it.  A reference stepped from the recorded state must
then land on the recorded parameter.  Inputs and outputs are numpy float64.
"""

from __future__ import annotations

import numpy as np


def _t(x):
    import torch

    return torch.as_tensor(np.array(x, dtype=np.float64))


def _np(x):
    return None if x is None else x.detach().clone().numpy()


def _run(make, theta0, grads, lrs, state_keys):
    """Step ``make([p])`` through ``grads``; one record a step: state before, parameter after.

    ``number`` counts steps from 1; ``previous`` is the parameter one step back (``None`` at first).
    """
    import torch

    p = torch.nn.Parameter(_t(theta0))
    opt = make([p])
    records, previous = [], None
    for k, g in enumerate(grads):
        if lrs is not None:
            for group in opt.param_groups:
                group["lr"] = float(lrs[k])
        state = opt.state[p]
        before = {key: _np(state.get(key)) for key in state_keys}
        step = state.get("step")
        rec = {"number": k + 1, "param": _np(p), "previous": previous, "grad": np.array(g, dtype=np.float64),
               "lr": opt.param_groups[0]["lr"], "step": 0 if step is None else int(step), **before}
        previous = rec["param"]
        p.grad = _t(g)
        opt.step()
        rec["after"] = _np(p)
        records.append(rec)
    return records


def sgd_records(theta0, grads, lr: float, momentum: float = 0.0, dampening: float = 0.0, lrs=None) -> list[dict]:
    """``torch.optim.SGD`` (nesterov off); ``lrs`` sets a learning rate for each step.

    Records carry ``momentum_buffer`` (``None`` before the first step).
    """
    import torch

    return _run(lambda ps: torch.optim.SGD(ps, lr=lr, momentum=momentum, dampening=dampening, nesterov=False),
                theta0, grads, lrs, ("momentum_buffer",))


def rmsprop_records(theta0, grads, lr: float, alpha: float, eps: float) -> list[dict]:
    """``torch.optim.RMSprop`` (not centered, no momentum); records carry ``square_avg``."""
    import torch

    return _run(lambda ps: torch.optim.RMSprop(ps, lr=lr, alpha=alpha, eps=eps), theta0, grads, None,
                ("square_avg",))


def adam_records(theta0, grads, lr: float, betas: tuple, eps: float) -> list[dict]:
    """``torch.optim.Adam``; records carry ``exp_avg``, ``exp_avg_sq`` and ``step`` before the update."""
    import torch

    return _run(lambda ps: torch.optim.Adam(ps, lr=lr, betas=tuple(betas), eps=eps), theta0, grads, None,
                ("exp_avg", "exp_avg_sq"))


def mean_loss_step(theta, per_sample_grads, lr: float, batch=None) -> np.ndarray:
    """One ``torch.optim.SGD`` step on the mean of per-sample losses, by autograd.

    Sample ``i`` has the linear loss ``<G_i, theta>``, whose gradient is
    ``G_i``; ``batch`` (1-based indices) selects a mini-batch, else all ``N``.
    """
    import torch

    p = torch.nn.Parameter(_t(theta))
    G = _t(per_sample_grads)
    rows = G if batch is None else G[torch.as_tensor([j - 1 for j in batch])]
    losses = (rows * p.unsqueeze(0)).reshape(rows.shape[0], -1).sum(dim=1)
    opt = torch.optim.SGD([p], lr=lr)
    losses.mean().backward()
    opt.step()
    return _np(p)


def nonmono_schedule(losses, lr: float, nonmono: int, lr_decay: float) -> list[float]:
    """The learning rate after each epoch, as an AWD-LSTM-style training loop updates it.

    The loop keeps every validation loss in a list; after epoch ``e`` it divides
    the rate when more than ``nonmono`` epochs have passed and the new loss is
    worse than the best of all but the last ``nonmono`` losses.
    """
    history: list[float] = []
    out = []
    for val_loss in losses:
        history.append(float(val_loss))
        if len(history) > nonmono and val_loss > min(history[:-nonmono] if nonmono else history):
            lr = lr / lr_decay
        out.append(lr)
    return out
