"""The checks of the ebm references (see :mod:`symdl.models.ebm`), one factory a reference.

Each factory receives the reference it checks (and the references its checks
compare with).  Numeric trials and oracles run a small one-layer network
energy (:class:`symdl.verify.oracles.ebm.OneLayer`) on random grids, through
both backends; the symbolic checks are the proofs of :mod:`._ebm_proofs`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..model.reference import Reference
from ..verify.builders import symbolic_equal
from ..verify.oracles import ebm as oracles_ebm
from ..verify.spec import CheckSpec
from ._ebm_defs import nll_from_likelihood
from ._ebm_proofs import (free_energy_bounded, integral_normalises, joint_normalises, marginal_is_gibbs_of_free_energy,
                          mode_is_argmin, nll_gradient_by_leibniz, nll_gradient_on_a_grid, sum_normalises,
                          zero_temperature_limit_found)
from ._grids import both_backends, trials_check

#: (size of x, size of y, size of z, grid sizes K_y, K_z): two shapes for every trial set.
SIZES = ((1, 1, 1, 5, 4), (2, 3, 2, 7, 6))
SEEDS = (0, 1, 2)
#: inverse temperatures of the zero-temperature checks, up to far past where exp(-beta E) overflows
BETAS = (1.0, 10.0, 1e3, 1e6, 1e9)
LARGE_BETA = 1e14


def _dims(sizes) -> str:
    dx, dy, dz, Ky, Kz = sizes
    return f"sizes x:{dx} y:{dy} z:{dz} grids {Ky}x{Kz}"


def _setup(sizes, seed):
    dx, dy, dz, Ky, Kz = sizes
    rng = np.random.default_rng(100 + seed)
    return {"x": rng.normal(0, 1, dx), "y_point": rng.normal(0, 1, dy), "ygrid": rng.normal(0, 1, (Ky, dy)),
            "zgrid": rng.normal(0, 1, (Kz, dz)), "beta": float(rng.uniform(0.5, 2.0)), "rng": rng}


def _cases(args, **net):
    """``(sizes, setup, network)`` for every size and seed; the network reads the first ``args`` sizes."""
    for sizes in SIZES:
        for seed in SEEDS:
            yield sizes, _setup(sizes, seed), oracles_ebm.OneLayer(sizes[:args], seed=seed, **net)


def _energy_trials(ref, values_of, oracle, args=2):
    for sizes, s, net in _cases(args):
        want = oracle(net, s)
        for backend, got in both_backends(ref, lambda bk: values_of(net, s, bk)):
            yield f"{_dims(sizes)}, {backend}", got, want


def _fn(net, backend):
    return net.torch if backend == "torch" else net.numpy


def _symbolic(description, fn, timeout=60.0):
    return CheckSpec("symbolic", description, fn, timeout=timeout)


# -- inference and the Gibbs distributions -------------------------------------------------------


def inference_checks(ref: Reference, gibbs: Reference) -> list[CheckSpec]:
    """The mode of the Gibbs distribution is the argmin (proof, and ``gibbs``'s masses), and torch's argmin."""

    def numeric():
        for sizes, s, net in _cases(2):
            for b in (0.5, 3.0):
                p = gibbs.evaluate({"F": net.numpy, "x": s["x"], "y": s["ygrid"], r"\beta": b})
                got = ref.evaluate({"F": net.numpy, "x": s["x"], "y": s["ygrid"]})
                yield f"grid {sizes[3]}, beta = {b}", got, s["ygrid"][int(np.argmax(p))]

    return [
        _symbolic("the Gibbs distribution's mode is the argmin", mode_is_argmin),
        trials_check("numeric", "argmin F equals the argmax of the Gibbs masses at two beta", numeric),
        trials_check("oracle", "torch argmin of a one-layer network over the grid", lambda: _energy_trials(
            ref, lambda net, s, bk: {"F": _fn(net, bk), "x": s["x"], "y": s["ygrid"]},
            lambda net, s: oracles_ebm.inference(net, s["x"], s["ygrid"]))),
    ]


def gibbs_checks(ref: Reference) -> list[CheckSpec]:
    """Normalisation on a grid and as an integral, the masses summing to 1, torch's logsumexp."""

    def sums_to_one():
        for sizes, s, net in _cases(2):
            for backend, p in both_backends(ref, lambda bk: {"F": _fn(net, bk), "x": s["x"], "y": s["ygrid"],
                                                           r"\beta": s["beta"]}):
                yield f"grid {sizes[3]}, {backend}", np.sum(p), 1.0

    return [
        _symbolic("normalisation over a finite grid", sum_normalises),
        _symbolic("normalisation of the integral, F abstract", integral_normalises),
        trials_check("numeric", "the masses on the grid sum to 1", sums_to_one),
        trials_check("oracle", "torch.logsumexp normaliser of a one-layer network energy", lambda: _energy_trials(
            ref, lambda net, s, bk: {"F": _fn(net, bk), "x": s["x"], "y": s["ygrid"], r"\beta": s["beta"]},
            lambda net, s: oracles_ebm.gibbs(net, s["x"], s["ygrid"], s["beta"]))),
    ]


def joint_checks(ref: Reference) -> list[CheckSpec]:
    """Normalisation over both grids, and torch's logsumexp over both."""

    def vals(net, s, bk):
        return {"E": _fn(net, bk), "x": s["x"], "y": s["ygrid"], "z": s["zgrid"], r"\beta": s["beta"]}

    return [
        _symbolic("normalisation over J x K grid points", joint_normalises),
        trials_check("oracle", "torch.logsumexp over both grids of a one-layer network energy", lambda: _energy_trials(
            ref, vals, lambda net, s: oracles_ebm.joint_gibbs(net, s["x"], s["ygrid"], s["zgrid"], s["beta"]), 3)),
    ]


# -- the free energy and its zero-temperature limit ----------------------------------------------


def _point_values(net, s, bk):
    return {"E": _fn(net, bk), "x": s["x"], "y": s["y_point"], "z": s["zgrid"]}


def free_energy_checks(ref: Reference, joint: Reference) -> list[CheckSpec]:
    """Marginalising ``joint`` over z gives the Gibbs distribution of F_beta (proof and numbers), torch."""

    def vals(net, s, bk):
        return {**_point_values(net, s, bk), r"\beta": s["beta"]}

    def marginal():
        for sizes, s, net in _cases(3):
            P = joint.evaluate({**vals(net, s, "numpy"), "y": s["ygrid"]})
            Fb = np.array([ref.evaluate({**vals(net, s, "numpy"), "y": yj}) for yj in s["ygrid"]])
            a = -s["beta"] * Fb
            yield _dims(sizes), P.sum(axis=1), np.exp(a - np.log(np.sum(np.exp(a))))

    return [
        _symbolic("marginalising z: sum_z P(y, z|x) = exp(-beta F_beta) / sum_y exp(-beta F_beta)",
                  marginal_is_gibbs_of_free_energy),
        trials_check("numeric", "the joint summed over z equals the Gibbs distribution of F_beta", marginal),
        trials_check("oracle", "-(1/beta) torch.logsumexp of a one-layer network energy", lambda: _energy_trials(
            ref, vals, lambda net, s: oracles_ebm.free_energy(net, s["x"], s["y_point"], s["zgrid"], s["beta"]), 3)),
    ]


def _within_bounds():
    """torch's F_beta between min E - log|Z|/beta and min E, and finite, at every beta of :data:`BETAS`."""
    worst = 0.0
    for _, s, net in _cases(3):
        for b, gap, bound in oracles_ebm.free_energy_bounds(net, s["x"], s["y_point"], s["zgrid"], BETAS):
            if not (np.isfinite(gap) and -bound * (1 + 1e-9) - 1e-13 <= gap <= 1e-13):
                return False, (f"F_beta - min E = {gap} outside [-log|Z|/beta, 0] = [{-bound}, 0] "
                               f"at beta = {b}"), None
            worst = max(worst, -gap / bound if bound else 0.0)
    betas = ", ".join(f"{b:g}" for b in BETAS)
    return True, (f"min E - log|Z|/beta <= F_beta <= min E and finite at beta = {betas}; "
                  f"min E - F_beta reaches {worst:.3g} of log|Z|/beta"), None


def zero_temperature_checks(ref: Reference) -> list[CheckSpec]:
    """The limit by sp.limit, the bound (proof and torch at growing beta), torch at a huge beta."""
    return [
        _symbolic("the limit by sp.limit", zero_temperature_limit_found),
        _symbolic("the bound min E - log|Z|/beta <= F_beta <= min E", free_energy_bounded),
        CheckSpec("oracle", "torch.logsumexp F_beta within the bound at large beta, no overflow", _within_bounds),
        trials_check("oracle", f"torch.logsumexp F_beta at beta = {LARGE_BETA:g} against min_z E",
                     lambda: _energy_trials(ref, _point_values, lambda net, s: oracles_ebm.free_energy(
                         net, s["x"], s["y_point"], s["zgrid"], LARGE_BETA), 3)),
    ]


# -- the NLL loss and its gradient -----------------------------------------------------------------


def _nll_values(net, s, bk, n_pairs=3):
    rng = s["rng"]
    K = s["ygrid"].shape[0]
    idx = rng.integers(0, K, n_pairs)
    xs = rng.normal(0, 1, (n_pairs, len(s["x"])))
    return {"F_w": _fn(net, bk), "w": net.w0, "x_i": xs, "y_i": s["ygrid"][idx], "y": s["ygrid"],
            r"\beta": s["beta"]}, idx


def _nll_trials(ref, oracle):
    for sizes, s, net in _cases(2, params=True):
        v, idx = _nll_values(net, s, "numpy")
        want = oracle(net, v["w"], v["x_i"], idx, v["y"], v[r"\beta"])
        for backend, got in both_backends(ref, lambda bk: {**v, "F_w": _fn(net, bk)}):
            yield f"{_dims(sizes)}, {backend}", got, want


def nll_loss_checks(ref: Reference) -> list[CheckSpec]:
    """The loss from the likelihood (SymPy), and torch's Categorical log-likelihood."""
    derived, contract = nll_from_likelihood()
    return [
        symbolic_equal(derived, contract, "-(1/(N beta)) log prod_i P(y_i|x_i) expands to the loss (N = 2, 3 points)",
                       simplifier=lambda e: sp.simplify(sp.expand_log(e, force=True))),
        trials_check("oracle", "Categorical log-likelihood of a one-layer network F_w",
                     lambda: _nll_trials(ref, oracles_ebm.nll_loss)),
    ]


def nll_gradient_checks(ref: Reference, loss: Reference) -> list[CheckSpec]:
    """Leibniz's rule (as an integral and on a grid), the complex step of ``loss``, torch's autograd."""

    def complex_step():
        """The gradient formula against the complex-step derivative of ebm.nll_loss (numpy)."""
        for sizes, s, net in _cases(2, params=True):
            v, _ = _nll_values(net, s, "numpy")
            got = ref.evaluate(v)
            want = np.empty_like(net.w0)
            for j in range(net.w0.size):
                wc = net.w0.astype(np.complex128)
                wc[j] += 1e-30j
                want[j] = np.imag(loss.evaluate({**v, "w": wc})) / 1e-30
            yield _dims(sizes), got, want

    return [
        _symbolic("Leibniz: differentiate the loss under the integral, F_w abstract", nll_gradient_by_leibniz),
        _symbolic("the same on a finite grid", nll_gradient_on_a_grid),
        trials_check("numeric", "complex-step derivative of ebm.nll_loss", complex_step),
        trials_check("oracle", "torch autograd of the Categorical NLL of a one-layer network",
                     lambda: _nll_trials(ref, oracles_ebm.nll_gradient)),
    ]
