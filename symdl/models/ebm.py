r"""Energy-based models of seed question 3: inference, Gibbs distributions, free energy, NLL loss.

The energies ``F(x, y)``, ``F_w(x, y)`` and ``E(x, y, z)`` stay abstract
(SymPy undefined functions).  Results are derived from the definitions: the
NLL gradient by differentiating the loss under the integral (``sp.diff`` does
Leibniz's rule), the marginal by summing the joint, the zero-temperature limit
by ``sp.limit``.

Evaluating (``ref(name).evaluate(values, backend=...)``): integrals are sums
over finite grids.

- An abstract function is a callable of the backend for ONE point:
  ``F(x, y)``, ``E(x, y, z)``, ``F_w(x, y, w)`` (the parameters ``w`` last, a
  flat vector), each returning a scalar.  For ``ebm.nll_gradient`` the
  derivative in ``w`` is taken by autograd (torch) or the complex step (numpy:
  ``F_w`` must accept complex ``w``; otherwise a central difference is used).
- A grid is an array keyed by its variable's name (``"y"``, ``"z"``), one
  point per row: shape ``(K,)`` for scalar points or ``(K, d)``.
- ``x`` (and ``y`` where it is a point, not a grid) is passed to the callable
  as given.  Training pairs are ``"x_i"`` and ``"y_i"``, one pair per row.
- ``\beta`` must be > 0 and a grid must not be empty, or
  :class:`~symdl.model.reference.EvaluationError` names the culprit.

This module builds the references; the pieces live by job in private modules:
the definitions and derived results in ``_ebm_defs``, the symbolic proofs in
``_ebm_proofs``, evaluation on grids in ``_ebm_eval``, and each reference's
checks in ``_ebm_checks``.
"""

from __future__ import annotations

from ..model.reference import Input, Reference
from ._ebm_checks import (free_energy_checks, gibbs_checks, inference_checks, joint_checks, nll_gradient_checks,
                          nll_loss_checks, zero_temperature_checks)
from ._ebm_defs import (FREE_ENERGY, FREE_ENERGY_DISPLAY, GIBBS, JOINT, NLL_LOSS, NLL_TERM, P_W, ArgminOver, E, F,
                        F_w, MinOver, N, beta, display_gradient, display_loss, finite_energies, gibbs_expr, i,
                        integral, marginal_pieces, nll_from_likelihood, nll_gradient_contract, nll_gradient_derived,
                        nll_one_pair, w, w_explicit, w_implicit, x, x_i, y, y_, y_i, z, z_, zero_temperature_limit,
                        zero_temperature_pieces)
from ._ebm_eval import (_eval_free_energy, _eval_gibbs, _eval_inference, _eval_joint, _eval_nll_gradient,
                        _eval_nll_loss, _eval_zero_temperature)
from ._ebm_proofs import integral_normalises, mode_is_argmin, sum_normalises

__all__ = [  # the definitions and derived results the worked solution and the tests read from here
    "FREE_ENERGY", "FREE_ENERGY_DISPLAY", "GIBBS", "JOINT", "NLL_LOSS", "NLL_TERM", "P_W", "ArgminOver", "E", "F",
    "F_w", "MinOver", "N", "beta", "display_gradient", "display_loss", "finite_energies", "gibbs_expr", "i",
    "integral", "marginal_pieces", "nll_from_likelihood", "nll_gradient_contract", "nll_gradient_derived",
    "nll_one_pair", "references", "w", "w_explicit", "w_implicit", "x", "x_i", "y", "y_", "y_i", "z", "z_",
    "zero_temperature_limit", "zero_temperature_pieces",
]

#: The names derivations/q3_energy.py reads for the proofs its steps run, from when they lived here.
_sum_normalises, _integral_normalises, _mode_is_argmin = sum_normalises, integral_normalises, mode_is_argmin
_dw = w_explicit

NLL_INPUTS = (Input(x_i, meaning="training inputs, one per row"), Input(y_i, meaning="training targets, one per row"),
              Input(y, meaning="grid of y"), Input(w, meaning="parameters, passed last to F_w"),
              Input(beta, "positive", "inverse temperature"))


def _inference(gibbs: Reference) -> Reference:
    return Reference(
        "ebm.inference", "the inferred $y$: the grid point of lowest energy $F(x, y)$", r"\hat y",
        ArgminOver(F(x, y), y), (Input(x, meaning="input, passed to F as given"),
                                 Input(y, meaning="grid of candidate y, one per row")),
        functions={"F": F}, oracle="torch argmin over the grid of a one-layer network energy",
        evaluator=_eval_inference, checks=lambda ref: inference_checks(ref, gibbs))


def _gibbs() -> Reference:
    return Reference(
        "ebm.gibbs", r"the Gibbs-Boltzmann distribution $P(y \mid x)$ over a grid of $y$", r"P(y \mid x)", GIBBS,
        (Input(x, meaning="input"), Input(y, meaning="grid of y, one per row"),
         Input(beta, "positive", "inverse temperature")),
        functions={"F": F}, oracle="exp(-beta F - torch.logsumexp(-beta F))", evaluator=_eval_gibbs,
        checks=gibbs_checks)


def _joint() -> Reference:
    return Reference(
        "ebm.joint_gibbs", r"the joint Gibbs distribution $P(y, z \mid x)$ over grids of $y$ and $z$",
        r"P(y, z \mid x)", JOINT,
        (Input(x, meaning="input"), Input(y, meaning="grid of y"), Input(z, meaning="grid of z"),
         Input(beta, "positive", "inverse temperature")),
        functions={"E": E}, oracle="one torch.logsumexp over both grids", evaluator=_eval_joint, checks=joint_checks)


def _free_energy(joint: Reference) -> Reference:
    return Reference(
        "ebm.free_energy",
        r"the free energy $F_\beta(x, y) = -\frac{1}{\beta} \log \int_z \exp(-\beta E(x, y, z))\, dz$",
        r"F_\beta(x,y)",
        FREE_ENERGY_DISPLAY, (Input(x, meaning="input"), Input(y, meaning="a point y, passed to E as given"),
                              Input(z, meaning="grid of z"), Input(beta, "positive", "inverse temperature")),
        functions={"E": E}, oracle="-(1/beta) torch.logsumexp(-beta E)", evaluator=_eval_free_energy,
        checks=lambda ref: free_energy_checks(ref, joint))


def _zero_temperature() -> Reference:
    return Reference(
        "ebm.zero_temperature", r"the zero-temperature limit of $F_\beta$: $\min_z E(x, y, z)$",
        r"\lim_{\beta\to\infty} F_\beta(x,y)", MinOver(E(x, y, z), z),
        (Input(x, meaning="input"), Input(y, meaning="a point y"), Input(z, meaning="grid of z")),
        functions={"E": E}, oracle="torch.logsumexp at beta up to 1e14", evaluator=_eval_zero_temperature,
        checks=zero_temperature_checks)


def _nll_loss() -> Reference:
    return Reference(
        "ebm.nll_loss", r"the negative log-likelihood loss of the Gibbs model, divided by $\beta$",
        r"\mathcal{L}(w)", display_loss(), NLL_INPUTS, functions={"F_w": F_w},
        oracle="-(1/(N beta)) sum_i torch.distributions.Categorical(logits=-beta F_w).log_prob(y_i)",
        evaluator=_eval_nll_loss, checks=nll_loss_checks)


def _nll_gradient(loss: Reference) -> Reference:
    return Reference(
        "ebm.nll_gradient",
        r"the NLL gradient: $\partial F_w / \partial w$ at the data minus its expectation under $P_w(y \mid x_i)$, "
        r"where $P_w(y \mid x_i) = \frac{\exp(-\beta F_w(x_i, y))}{\int_{y'} \exp(-\beta F_w(x_i, y'))\, dy'}$",
        r"\frac{\partial \mathcal{L}}{\partial w}", display_gradient(), NLL_INPUTS, {P_W: gibbs_expr(F_w(x_i, y))},
        functions={"F_w": F_w},
        oracle="torch autograd of the Categorical NLL", evaluator=_eval_nll_gradient,
        checks=lambda ref: nll_gradient_checks(ref, loss))


def references() -> list[Reference]:
    gibbs, joint, loss = _gibbs(), _joint(), _nll_loss()
    return [_inference(gibbs), gibbs, joint, _free_energy(joint), _zero_temperature(), loss, _nll_gradient(loss)]
