"""The evaluators of the ebm references: each integral a sum over the grid given (see symdl.models.ebm)."""

from __future__ import annotations

from ..model.reference import EvaluationError, check_keys
from ._grids import (asarray, callable_of, energies, exp, gradient_w, grid, logsumexp, positive, scalar, stack,
                     stack_rows)


def _pairs(ref_name, values, backend):
    xs, ys = asarray(values["x_i"], backend), asarray(values["y_i"], backend)
    if xs.ndim == 0 or xs.shape[0] == 0:
        raise EvaluationError(f"{ref_name}: 'x_i' holds no training pairs (shape {tuple(xs.shape)})")
    if ys.ndim == 0 or ys.shape[0] != xs.shape[0]:
        raise EvaluationError(f"{ref_name}: 'x_i' has {xs.shape[0]} rows but 'y_i' has shape {tuple(ys.shape)}; "
                              "give one pair per row")
    return xs, ys


def _eval_inference(ref, values, backend):
    check_keys(ref.name, ref.inputs, ref.functions, values)
    Fn, g = callable_of(ref.name, values, "F"), grid(ref.name, values, "y", backend)
    f = energies(Fn, (values["x"],), g, backend)
    return g[int(f.argmin())]


def _eval_gibbs(ref, values, backend):
    check_keys(ref.name, ref.inputs, ref.functions, values)
    b = positive(ref.name, values, r"\beta")
    Fn, g = callable_of(ref.name, values, "F"), grid(ref.name, values, "y", backend)
    a = -b * energies(Fn, (values["x"],), g, backend)
    return exp(a - logsumexp(a, backend), backend)


def _eval_joint(ref, values, backend):
    check_keys(ref.name, ref.inputs, ref.functions, values)
    b = positive(ref.name, values, r"\beta")
    En = callable_of(ref.name, values, "E")
    gy, gz = grid(ref.name, values, "y", backend), grid(ref.name, values, "z", backend)
    rows = [energies(En, (values["x"], gy[j]), gz, backend) for j in range(gy.shape[0])]
    a = -b * (stack_rows(rows, backend))
    return exp(a - logsumexp(a.reshape(-1), backend), backend)


def free_energy_value(En, xv, yv, gz, b, backend):
    return -logsumexp(-b * energies(En, (xv, yv), gz, backend), backend) / b


def _eval_free_energy(ref, values, backend):
    check_keys(ref.name, ref.inputs, ref.functions, values)
    b = positive(ref.name, values, r"\beta")
    En, gz = callable_of(ref.name, values, "E"), grid(ref.name, values, "z", backend)
    return free_energy_value(En, values["x"], values["y"], gz, b, backend)


def _eval_zero_temperature(ref, values, backend):
    check_keys(ref.name, ref.inputs, ref.functions, values)
    En, gz = callable_of(ref.name, values, "E"), grid(ref.name, values, "z", backend)
    return energies(En, (values["x"], values["y"]), gz, backend).min()


def _nll_values(ref, values, backend):
    """``(beta, F_w, grid of y, x_i, y_i, w)``, each checked: what the loss and its gradient read."""
    check_keys(ref.name, ref.inputs, ref.functions, values)
    b = positive(ref.name, values, r"\beta")
    Fn, gy = callable_of(ref.name, values, "F_w"), grid(ref.name, values, "y", backend)
    xs, ys = _pairs(ref.name, values, backend)
    return b, Fn, gy, xs, ys, asarray(values["w"], backend)


def _eval_nll_loss(ref, values, backend):
    b, Fn, gy, xs, ys, wv = _nll_values(ref, values, backend)
    terms = [scalar(Fn(xs[n], ys[n], wv), backend)
             + logsumexp(-b * stack([Fn(xs[n], gy[k], wv) for k in range(gy.shape[0])], backend), backend) / b
             for n in range(xs.shape[0])]
    return stack(terms, backend).mean()


def _eval_nll_gradient(ref, values, backend):
    b, Fn, gy, xs, ys, wv = _nll_values(ref, values, backend)
    total = 0
    for n in range(xs.shape[0]):
        a = -b * stack([Fn(xs[n], gy[k], wv) for k in range(gy.shape[0])], backend)
        P = exp(a - logsumexp(a, backend), backend)
        expected = sum(P[k] * gradient_w(Fn, (xs[n], gy[k]), wv, backend) for k in range(gy.shape[0]))
        total = total + gradient_w(Fn, (xs[n], ys[n]), wv, backend) - expected
    return total / xs.shape[0]
