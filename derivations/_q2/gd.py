"""Question 2, parts (a), (b): GD from the derivative of the mean loss; SGD's step is unbiased."""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations

import numpy as np
import sympy as sp

from symdl.verify.builders import symbolic_equal
from symdl.document.derivation import Step, math as display, tex
from symdl.models._display import ordered_product, reciprocal, with_partials
from symdl.verify.spec import compare_trials

from _q2.common import S, _check
from _q2.trajectories import batches

# -- 1. GD and SGD ----------------------------------------------------------------------------------

N_, M_ = sp.Symbol("N", integer=True, positive=True), sp.Symbol("M", integer=True, positive=True)
i_ = sp.Symbol("i", integer=True, positive=True)


class ell(sp.Function):  # noqa: N801  (a function name, as sp.Function's)
    r""":math:`\ell_i(\theta)`, sample ``i``'s loss (arguments ``i``, ``\theta``), written as the course writes it."""

    nargs = 2

    def _latex(self, printer, exp=None):
        return r"\ell_{%s}(%s)" % (printer._print(self.args[0]), printer._print(self.args[1]))


def _as_course_writes(e):
    r"""For display: ``\frac{1}{N} \sum_i \frac{\partial \ell_i(\theta)}{\partial \theta}``, from SymPy's
    ``\frac{\sum_i \frac{\partial}{\partial \theta} \ell(i, \theta)}{N}``."""
    return ordered_product(reciprocal(N_), with_partials(e * N_))
th = S(r"\theta")


def mean_loss_gradient():
    """d/dtheta of (1/N) sum_i l(i, theta), by sp.diff on the symbolic sum (any N)."""
    return sp.diff(sp.Sum(ell(i_, th), (i_, 1, N_)) / N_, th)


def enumerated_expectation(n: int, m: int):
    """The mean, over every batch of size m from n samples, of the batch's mean gradient."""
    g = sp.symbols(f"g_1:{n + 1}", real=True)
    batches = list(combinations(range(n), m))
    return sp.Add(*[sp.Add(*[g[j] for j in b]) / m for b in batches]) / len(batches), g


@lru_cache(maxsize=None)
def _gd_steps():
    """The steps of parts (a) and (b), made once (both sections use them)."""
    grad = mean_loss_gradient()
    claim_rhs = sp.Sum(sp.Derivative(ell(i_, th), th), (i_, 1, N_)) / N_
    gd_step = Step("gd-gradient", tex(r"\frac{\partial L}{\partial \theta} = ") + display(_as_course_writes(grad)),
                   "the derivative of a finite sum is the sum of the derivatives ($\\partial$ passes through "
                   "$\\frac{1}{N}\\sum_i$, for any $N$)",
                   checks=(symbolic_equal(grad, claim_rhs, "sp.diff of the symbolic sum"),))

    e42, g4 = enumerated_expectation(4, 2)

    def enum_proof():
        for n in range(1, 7):
            for m in range(1, n + 1):
                e, g = enumerated_expectation(n, m)
                if sp.expand(e - sp.Add(*g) / n) != 0:
                    return False, f"differs at N = {n}, M = {m}", None
        return True, "every (N, M) with 1 <= M <= N <= 6: the average over all C(N, M) batches is the mean", None

    def enum_numeric():
        rng = np.random.default_rng(1)
        trials = []
        for n, m in ((5, 2), (7, 3), (8, 8)):
            G = rng.normal(size=(n, 3))
            avg = np.mean([G[list(b)].mean(axis=0) for b in combinations(range(n), m)], axis=0)
            trials.append((f"N = {n}, M = {m}", avg, G.mean(axis=0)))
        return compare_trials(trials)

    enum_step = Step(
        "sgd-unbiased-4-2",
        tex(r"\mathbb{E}_B\Big[\frac{1}{|B|}\sum_{j \in B} g_j\Big] = \frac{1}{6}\sum_{|B| = 2} "
            r"\frac{1}{2}\sum_{j \in B} g_j = ") + display(sp.factor(e42)),
        "enumerating all 6 batches of size $M = 2$ from $N = 4$ samples, each equally likely",
        checks=(_check("symbolic", "every batch enumerated, SymPy expands the average", enum_proof, 60),
                _check("numeric", "average over every batch in float64 against the full mean", enum_numeric)))
    share = sp.binomial(N_ - 1, M_ - 1) / sp.binomial(N_, M_)
    general = sp.simplify(sp.gammasimp(sp.expand_func(share)))
    general_step = Step(
        "sgd-unbiased-general",
        tex(r"\frac{C(N-1, M-1)}{C(N, M)} = ") + display(general)
        + tex(r" \quad\Rightarrow\quad \mathbb{E}_B\Big[\frac{1}{M}\sum_{j \in B} g_j\Big] = "
              r"\frac{1}{M}\cdot\frac{M}{N}\sum_{i=1}^{N} g_i = \frac{1}{N}\sum_{i=1}^{N} g_i"),
        "each sample lies in $C(N-1, M-1)$ of the $C(N, M)$ batches, and the ratio of the binomial coefficients "
        "simplifies to $M/N$; "
        "expectation is linear",
        checks=(symbolic_equal(general, M_ / N_, "the ratio of binomials is M/N for symbolic N, M"),
                _check("symbolic", "the same from the enumeration at N = 4, M = 2",
                       lambda: (sp.expand(e42 - sp.Add(*g4) / 4) == 0, "expanded difference is 0", None), 60)),
        boxed=True)
    return gd_step, enum_step, general_step
