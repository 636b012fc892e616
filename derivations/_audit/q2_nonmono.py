"""The seed audit, question 2, the NONMONO learning-rate rule (the seed's part (i)): the computations behind the
seed's account of when the rule decays the rate, what the decay does, and what follows from it.

Every rate comes from symdl's optim.lr_decay_nonmono (held elsewhere against an AWD-LSTM-style loop); steps
from optim.sgd_momentum_torch, PyTorch's SGD.
"""

from __future__ import annotations

import numpy as np

from _audit.findings import num

DECAY = 4.0


def rate_after(losses, nonmono: int, rate: float = 0.1) -> float:
    """The learning rate the rule sets after the last epoch of ``losses``."""
    from symdl import ref

    return float(ref("optim.lr_decay_nonmono").evaluate({r"\gamma": rate, "L": list(losses), "NONMONO": nonmono,
                                                          r"LR\_DECAY": DECAY}))


def _losses_text(losses) -> str:
    return ", ".join(f"{x:g}" for x in losses)


def _nonmono_reading():
    losses, k = [1.0, 0.9, 0.5, 0.6], 2
    rule = rate_after(losses, k)
    seed_reading = 0.1 / DECAY if losses[-1] > min(losses[:-1]) else 0.1
    return rule != seed_reading, (
        f"with losses ${_losses_text(losses)}$ and $\\mathrm{{NONMONO}} = {k}$ the rule keeps the rate, ${rule:g}$, "
        f"where the seed's reading divides it to ${seed_reading:g}$: the when is wrong. The rule compares $L_4$ "
        "with $\\min(L_1, L_2)$, not with the lowest loss so far"), None


def _decay_divides():
    kept, divided = rate_after([1.0, 0.9, 0.95], 2), rate_after([1.0, 0.9, 1.2], 1)
    ok = kept == 0.1 and abs(divided - 0.1 / DECAY) < 1e-15
    return ok, (f"where the condition holds the rule divides the rate, ${0.1:g} \\to {num(divided)}$, so the steps "
                f"that follow are shorter: the what is right. The divisor is $\\mathrm{{LR\\_DECAY}} = {DECAY:g}$; "
                f"where the condition fails the rate stays ${num(kept)}$"), None


def _not_lowest():
    losses, k = [1.0, 0.9, 0.95], 2
    kept = rate_after(losses, k) == 0.1
    not_greater = losses[-1] <= min(losses[:-k])
    lowest = losses[-1] <= min(losses[:-1])
    return kept and not_greater and not lowest, (
        f"with $\\mathrm{{NONMONO}} = {k}$ and losses ${_losses_text(losses)}$ the rule keeps the rate at epoch 3, "
        f"yet $L_2 = {losses[1]:g}$ is below $L_3 = {losses[-1]:g}$: not the lowest loss yet. $L_3$ is not greater "
        f"than $L_1 = {losses[0]:g}$, the loss the rule compares it with"), None


def _lowest_in_own_reading():
    rng = np.random.default_rng(14)
    broken = 0
    for _ in range(2000):
        losses = np.round(rng.uniform(0, 1, int(rng.integers(2, 9))), 2)
        if not losses[-1] > losses[:-1].min() and not np.all(losses[-1] <= losses[:-1]):
            broken += 1
    return broken == 0, ("in the seed's own reading, against the lowest loss so far, “not greater” does mean "
                         "the lowest yet, ties aside (2000 random loss sequences)"), None


def _direction_kept():
    from symdl import ref

    sgd = ref("optim.sgd_momentum_torch")
    rng = np.random.default_rng(15)
    theta, buffer, g = rng.normal(size=(3, 5))
    worst, ratios = 1.0, set()
    for mu in (0.0, 0.9):
        steps = [np.asarray(sgd.evaluate({r"\theta_{t-1}": theta, "b_{t-1}": buffer, "g_t": g, r"\gamma": lr,
                                          r"\mu": mu, r"\tau": 0.0, "t": 2})) - theta for lr in (0.1, 0.1 / DECAY)]
        worst = min(worst, float(steps[0] @ steps[1] / (np.linalg.norm(steps[0]) * np.linalg.norm(steps[1]))))
        ratios.add(round(float(np.linalg.norm(steps[1]) / np.linalg.norm(steps[0])), 12))
    ok = worst > 1 - 1e-12 and ratios == {1 / DECAY}
    return ok, (f"at the same point the step at the divided rate is the old one times ${num(min(ratios))}$, cosine "
                f"${num(worst, 12)}$: the decay shortens the step and keeps its direction. The steps are PyTorch's "
                "SGD, with momentum $0.9$ and without"), None
