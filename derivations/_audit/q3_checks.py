"""The seed audit, question 3, parts (c) to (e): the computations behind the claims in words about the free
energy, the NLL gradient and NCE.

Integrals over y and z are sums over small grids, where a distribution must sum to 1 exactly.
"""

from __future__ import annotations

import numpy as np

from symdl.verify.spec import relative_error

from _audit.findings import agreement_text, counterexample_text, num, verdict
from _audit.forms import GIBBS_I

# -- (c): the free energy ------------------------------------------------------------------------------


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
        f"the seed's $P(y \\mid x)$ sums to ${num(seed, 3)}$ over $y$: its numerator integrates over $y$, where "
        "$z$ belongs, so it no longer depends on $y$. On grids of 4 $y$ and 3 $z$ points; integrated over $z$ "
        f"it sums to ${num(right, 4)}$"), None


def _marginal_last():
    rng = np.random.default_rng(6)
    gy, gz, beta = rng.normal(size=4), rng.normal(size=3), 1.3
    E = np.array([[np.sin(y + 2 * z) + y * z for z in gz] for y in gy])
    F_beta = -np.log(np.exp(-beta * E).sum(1)) / beta
    seed = np.exp(-beta * F_beta) / np.exp(-beta * F_beta).sum()
    marginal = np.exp(-beta * E).sum(1) / np.exp(-beta * E).sum()
    err = relative_error(seed, marginal)
    return err < 1e-12, (f"the Gibbs form of $F_\\beta$ is the marginal: on grids of 4 $y$ and 3 $z$ points they "
                         f"agree to ${num(err, 1)}$. For $e^{{-\\beta F_\\beta(x, y)}}$ is the integral over $z$ of "
                         r"$e^{-\beta E}$"), err


def _no_deterministic_free_energy(seed_forms):
    """The seed's answer to (c) holds no minimum over z, and its only free energy, F_beta, is not min_z E."""
    from symdl import ref

    has_min = [f for f in seed_forms if "min" in f]

    def E(x, y, z):
        return (y - z) ** 2 + x

    values = {"x": 0.0, "y": 0.5, "z": np.array([0.3, 0.5, 0.9]), "E": E}
    det = float(ref("ebm.zero_temperature").evaluate(values))
    gap = {b: det - float(ref("ebm.free_energy").evaluate({**values, r"\beta": b})) for b in (1.0, 10.0, 100.0)}
    ok = not has_min and gap[1.0] > gap[10.0] > gap[100.0] > 0 and gap[1.0] > 0.5
    return ok, (f"none of the seed's {len(seed_forms)} formulas for (c) takes a minimum over $z$, and its only free "
                f"energy, $F_\\beta$, lies ${num(gap[1.0], 3)}$ below $\\min_z E$ at $\\beta = 1$: the deterministic "
                f"one is missing. On a grid of 3 $z$ points the gap is ${num(gap[10.0])}$ at $\\beta = 10$ and "
                f"${num(gap[100.0])}$ at $\\beta = 100$: the two meet only in the limit"), None


# -- (d): the gradient of the NLL loss -----------------------------------------------------------------


def _nll_gradient_first():
    literal = verdict(r"\frac{\partial F_w(x_i,y_i)}{\partial w} - \int_y \frac{\partial F_w(x_i,y)}{\partial w}"
                      r" \frac{\exp(-\beta F_w(x_i,y_i))}{\int_{y'} \exp(-\beta F_w(x_i,y'))\, dy'}\, dy",
                      "ebm.nll_gradient")
    meant = verdict(r"\frac{1}{N}\sum_{i=1}^{N} \left[\frac{\partial F_w(x_i,y_i)}{\partial w} - \int_y "
                    r"\frac{\partial F_w(x_i,y)}{\partial w} " + GIBBS_I + r"\, dy\right]", "ebm.nll_gradient")
    ok = literal.verdict == "not_equivalent" and meant.verdict == "equivalent"
    return ok, (r"wrong as written, with $P(y^{(i)} \mid x^{(i)})$ under the integral over $y$ and no mean over $i$; "
                r"right with $P(y \mid x_i)$ and $\frac{1}{N} \sum_i$. As written, "
                f"{counterexample_text(literal)}; so mended, {agreement_text(meant) if ok else meant.message}"), None


# -- (e): PIRL's h and the NCE loss ------------------------------------------------------------------


def _cos(u, v):
    return (v @ u) / (np.linalg.norm(u) * np.linalg.norm(v, axis=-1))


def seed_h(v_I, v_It, negatives, tau):
    """The seed's h, from its formula: the negatives compared with v_I, where PIRL compares them with v_It."""
    top = np.exp(_cos(v_I, v_It) / tau)
    return top / (top + np.sum(np.exp(_cos(v_I, negatives) / tau)))


def _share(a, rest):
    """A softmax share of similarity ``a`` against the similarities ``rest`` (temperature folded in)."""
    return np.exp(a) / (np.exp(a) + np.sum(np.exp(rest)))


def _h_is_a_score():
    from symdl import ref

    rng = np.random.default_rng(16)
    in_range, rises, falls, same, apart = True, True, True, 0.0, 0.0
    h_ref = ref("contrastive.pirl_h")
    for _ in range(50):
        v_I, v_It, negs, tau = rng.normal(size=4), rng.normal(size=4), rng.normal(size=(3, 4)), rng.uniform(0.2, 1.5)
        h = seed_h(v_I, v_It, negs, tau)
        a, rest = _cos(v_I, v_It) / tau, _cos(v_I, negs) / tau
        in_range &= bool(0 < h < 1) and abs(h - _share(a, rest)) < 1e-12
        rises &= bool(_share(a + 1e-6, rest) > h)
        falls &= all(_share(a, rest + 1e-6 * np.eye(3)[k]) < h for k in range(3))
        pirl = float(h_ref.evaluate({"v_I": v_I, "v_{I^t}": v_I, "v_{I'}": negs, r"\tau": tau}))
        same = max(same, abs(seed_h(v_I, v_I, negs, tau) - pirl))
        apart = max(apart, abs(h - float(h_ref.evaluate({"v_I": v_I, "v_{I^t}": v_It, "v_{I'}": negs, r"\tau": tau}))))
    ok = in_range and rises and falls and same < 1e-12 and apart > 0.01
    return ok, ("the seed's $h$ is a valid contrastive score but not PIRL's, which compares the negatives with "
                f"$v_{{I^t}}$, not $v_I$: the two differ by up to ${num(apart)}$. At 50 random points it lies in "
                "$(0, 1)$, rises with $s(v_I, v_{I^t})$ and falls with each $s(v_I, v_{I'})$, a softmax share of the "
                f"positive pair; it is PIRL's only where $v_{{I^t}} = v_I$ (to ${num(same)}$)"), same


def _nce_not_maximised():
    from symdl.models.contrastive import gradient_signs

    passed, _, _ = gradient_signs()
    return passed, (r"maximising $L_{\mathrm{NCE}}$ would pull the positive pair apart and the negatives together: "
                    "it is minimised. Its derivative is negative in the positive pair's similarity $a$ and positive in "
                    r"the negatives' $b_k$, $c_k$ (signed symbolically); what is maximised is the log-probability it "
                    "negates"), None
