"""Question 2, part (i): the NONMONO learning-rate rule against the seed's reading of it."""

from __future__ import annotations

import numpy as np

from symdl.verify.oracles import optim as oracles_optim
from symdl import ref
from symdl.document.derivation import Step, Table, tex
from symdl.verify.spec import CheckSpec, compare_trials


# -- 5. the NONMONO rule ----------------------------------------------------------------------------

LOSSES = (1.00, 0.90, 0.95, 0.93, 0.97, 1.02, 0.88, 0.91)
NONMONO, LR_DECAY, LR0 = 2, 4.0, 20.0


def seed_reading(losses, lr, lr_decay):
    """The seed's reading: divide when the current loss exceeds the lowest loss so far (no window)."""
    out = []
    for e in range(1, len(losses) + 1):
        if e > 1 and losses[e - 1] > min(losses[: e - 1]):
            lr = lr / lr_decay
        out.append(lr)
    return out


def rule_schedule(losses):
    rate, out = LR0, []
    for e in range(1, len(losses) + 1):
        rate = ref("optim.lr_decay_nonmono").evaluate({"lr": rate, "L": list(losses[:e]), "NONMONO": NONMONO,
                                                       "LR_DECAY": LR_DECAY})
        out.append(rate)
    return out


def _exact(x: float) -> str:
    """A rate as its shortest exact decimal (0.01953125, not 0.0195312)."""
    return np.format_float_positional(x, trim="-")


def _nonmono_blocks():
    rule = rule_schedule(LOSSES)
    seed = seed_reading(LOSSES, LR0, LR_DECAY)
    first = next(e for e in range(len(LOSSES)) if rule[e] != seed[e]) + 1

    def oracle():
        want = oracles_optim.nonmono_schedule(LOSSES, LR0, NONMONO, LR_DECAY)
        passed, detail, err = compare_trials([("the table's sequence", np.array(rule), np.array(want))], rtol=1e-15)
        differs = rule != seed
        return passed and differs, f"{detail}; the seed's reading differs first at epoch {first}", err

    rows = []
    for e in range(1, len(LOSSES) + 1):  # the window columns are shown, the decisions come from the two functions
        window = LOSSES[: e - NONMONO]
        rows.append((str(e), f"{LOSSES[e - 1]:.2f}", f"{min(window):.2f}" if e > NONMONO else "(none)",
                     f"{min(LOSSES[: e - 1]):.2f}" if e > 1 else "(none)", _exact(rule[e - 1]), _exact(seed[e - 1])))
    table = Table(("epoch", "loss", f"best loss, {NONMONO} or more epochs old", "best loss so far, before this "
                   "epoch", "learning rate: the rule", "learning rate: the seed's reading"),
                  tuple(rows), caption=f"NONMONO = {NONMONO}, LR_DECAY = {LR_DECAY:g}, first learning rate {LR0:g}: "
                                       "the learning rate after each epoch", widths=(0.08, 0.08, 0.18, 0.18, 0.14, 0.16))
    step = Step(
        "nonmono-vs-seed",
        tex(r"e = %d: \; L_%d = %.2f,\; \min(L_1, \ldots, L_{%d}) = %.2f,\; \min(L_1, \ldots, L_{%d}) = %.2f"
            % (first, first, LOSSES[first - 1], first - NONMONO, min(LOSSES[: first - NONMONO]), first - 1,
               min(LOSSES[: first - 1]))),
        "the seed reads the rule as “the current loss against the lowest loss so far”; the rule compares with "
        "the best loss at least NONMONO epochs old, and never before epoch NONMONO + 1. At this epoch the rule "
        "keeps the learning rate and the seed's reading divides it",
        checks=(CheckSpec("oracle", "the rule's rates against an AWD-LSTM-style loop; the seed's reading "
                                    "differs", oracle),), relation="\\ne")
    return table, step
