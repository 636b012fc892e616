"""The seed audit, question 3: the computations behind the claims in words about energy-based models and NCE."""

from __future__ import annotations

import numpy as np

from symdl.verify.spec import relative_error

from _audit.findings import _cx_text, _ok_text, _v
from _audit.forms import GIBBS_I

def _finite_marginal(numerator_over: str):
    """Sum over a y grid of the seed's marginal (numerator integrated over ``numerator_over``)."""
    rng = np.random.default_rng(5)
    gy, gz, beta = rng.normal(size=4), rng.normal(size=3), 0.8
    a, b = rng.normal(size=2)

    def E(y, z):
        return np.tanh(a * y + b * z) + 0.5 * (y - z) ** 2

    ez = np.array([[np.exp(-beta * E(y, z)) for z in gz] for y in gy])
    total = ez.sum()
    if numerator_over == "z":
        return float(sum(ez[j].sum() / total for j in range(len(gy))))
    z0 = gz[0]
    return float(sum(sum(np.exp(-beta * E(yy, z0)) for yy in gy) / total for _ in gy))


def _marginal_middle():
    seed, right = _finite_marginal("y"), _finite_marginal("z")
    return abs(seed - 1) > 1e-3 and abs(right - 1) < 1e-12, (
        f"the numerator integrates over y, so it no longer depends on y: on a 4-point y grid and a 3-point z grid "
        f"(random E) the seed's P(y|x) sums to {seed:.4g} over y; with the numerator integrated over z it sums to "
        f"{right:.4g}"), None


def _marginal_last():
    rng = np.random.default_rng(6)
    gy, gz, beta = rng.normal(size=4), rng.normal(size=3), 1.3
    E = np.array([[np.sin(y + 2 * z) + y * z for z in gz] for y in gy])
    F_beta = -np.log(np.exp(-beta * E).sum(1)) / beta
    seed = np.exp(-beta * F_beta) / np.exp(-beta * F_beta).sum()
    marginal = np.exp(-beta * E).sum(1) / np.exp(-beta * E).sum()
    err = relative_error(seed, marginal)
    return err < 1e-12, ("exp(-beta F_beta(x,y)) is the integral over z of exp(-beta E) (ebm.free_energy), so the "
                         f"Gibbs form of F_beta is the marginal: on grids of 4 y and 3 z points they agree to "
                         f"{err:.1g}"), err


def _nll_gradient_first():
    literal = _v(r"\frac{\partial F_w(x_i,y_i)}{\partial w} - \int_y \frac{\partial F_w(x_i,y)}{\partial w}"
                 r" \frac{\exp(-\beta F_w(x_i,y_i))}{\int_{y'} \exp(-\beta F_w(x_i,y'))\, dy'}\, dy", "ebm.nll_gradient")
    meant = _v(r"\frac{1}{N}\sum_{i=1}^{N} \left[\frac{\partial F_w(x_i,y_i)}{\partial w} - \int_y "
               r"\frac{\partial F_w(x_i,y)}{\partial w} " + GIBBS_I + r"\, dy\right]", "ebm.nll_gradient")
    ok = literal.verdict == "not_equivalent" and meant.verdict == "equivalent"
    return ok, ("read literally, with P(y^(i) | x^(i)) under the integral over y and no mean over i, "
                f"{_cx_text(literal)}; with P(y | x_i) and (1/N) sum_i, "
                f"{_ok_text(meant) if meant else meant.message}"), None


def _nce_minimised():
    from symdl.models.contrastive import gradient_signs

    passed, detail, _ = gradient_signs()
    return passed, ("L_NCE = -log h(positive) - sum log(1 - h(negative)) is the negative of NCE's objective and is "
                    f"minimised: {detail}, so a descent step on L_NCE raises the positive pair's similarity and "
                    "lowers the negatives'; maximising the objective (log-probabilities) is right, maximising the "
                    "cost is not"), None
