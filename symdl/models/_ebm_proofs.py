"""The symbolic proofs behind the ebm checks (see :mod:`symdl.models.ebm`).

Each proof returns ``(passed, detail, None)``: True when SymPy shows the claim,
None ("not made") when it cannot, never False for want of a proof.  They are
pure SymPy and run bounded, in a child process, as CheckSpecs of the references
and of the worked solution's steps.
"""

from __future__ import annotations

import sympy as sp

from ._ebm_defs import (GIBBS, beta, finite_energies, integral, marginal_pieces, nll_gradient_contract,
                        nll_gradient_derived, w, y, zero_temperature_limit, zero_temperature_pieces)


def sum_normalises():
    """With a symbolic number K of grid points, the Gibbs masses sum to 1."""
    k, j = sp.symbols("k j", integer=True)
    K = sp.Symbol("K", integer=True, positive=True)
    f = sp.IndexedBase("F")
    total = sp.Sum(sp.exp(-beta * f[k]) / sp.Sum(sp.exp(-beta * f[j]), (j, 1, K)), (k, 1, K))
    out = sp.simplify(sp.simplify(total).as_dummy())
    return (True, "sum over a grid of K points simplifies to 1", None) if out == 1 else (None, f"got {out}", None)


def integral_normalises():
    """The integral over y of the Gibbs density, F abstract, is 1."""
    total = integral(GIBBS, y)
    out = sp.simplify(sp.simplify(total).as_dummy())
    if out == 1:
        return True, "the integral over y of P(y|x), F abstract, simplifies to 1", None
    return None, f"SymPy left {out}", None


def joint_normalises():
    """The joint Gibbs masses over J x K grid points sum to 1."""
    j, k, jj, kk = sp.symbols("j k jj kk", integer=True)
    J, K = sp.symbols("J K", integer=True, positive=True)
    e = sp.IndexedBase("E")
    Z = sp.Sum(sp.exp(-beta * e[jj, kk]), (kk, 1, K), (jj, 1, J))
    out = sp.simplify(sp.simplify(sp.Sum(sp.exp(-beta * e[j, k]) / Z, (k, 1, K), (j, 1, J))).as_dummy())
    return (True, "the double sum over J x K grid points simplifies to 1", None) if out == 1 else (None, str(out), None)


def marginal_is_gibbs_of_free_energy():
    """Summing the joint over z gives the Gibbs distribution of the free energy (see marginal_pieces)."""
    marginal, target = marginal_pieces()
    d = sp.simplify((marginal - target).as_dummy())
    if d == 0:
        return True, "sum_z P(y_j, z|x) - e^{-beta F_beta(x, y_j)} / sum_y e^{-beta F_beta} simplifies to 0", None
    return None, f"SymPy left {d}", None


def zero_temperature_limit_found():
    """sp.limit of F_beta as beta -> oo is min E, at |Z| = 2, 3, 4 energies."""
    notes = []
    for K in (2, 3, 4):
        m, lim, same, *_ = zero_temperature_limit(K)
        if same != 0:
            return None, f"could not factor e^(-beta m) out at |Z| = {K}", None
        if lim != m:
            return False, f"sp.limit gave {lim}, not min E = m, at |Z| = {K}", None
        notes.append(str(K))
    return True, ("sp.limit(F_beta, beta, oo) = m = min E with E_k = m + d_k, d_k > 0, "
                  f"at |Z| = {', '.join(notes)}"), None


def free_energy_bounded():
    """``min E - log|Z|/beta <= F_beta <= min E``, each side from SymPy's assumptions."""
    for K in (2, 3, 4):
        b, m, ds, Fb = zero_temperature_pieces(K)
        _, _, same, factored, rest = zero_temperature_limit(K)
        upper = m - factored
        if upper.is_nonnegative is not True:
            return None, f"SymPy could not show F_beta <= min E at |Z| = {K}", None
        # log|Z| - log(rest) >= 0  <=>  |Z| - rest = sum_k (1 - e^{-beta d_k}) >= 0; each term's minimum over u >= 0
        u = sp.Symbol("u", nonnegative=True)
        lo = sp.minimum(1 - sp.exp(-u), u, sp.Interval(0, sp.oo))
        gap = sp.expand(K - rest)
        terms = sp.Add.make_args(sp.expand(gap - sum(1 - sp.exp(-b * d) for d in ds)))
        if lo != 0 or terms != (0,):
            return None, f"SymPy could not show |Z| - sum_k e^(-beta d_k) >= 0 at |Z| = {K}", None
    return True, ("F_beta <= min E by SymPy's sign assumptions; min E - log|Z|/beta <= F_beta since "
                  "|Z| - sum_k e^(-beta d_k) = sum_k (1 - e^(-beta d_k)) and min over u >= 0 of 1 - e^(-u) is 0 "
                  "(sp.minimum); at |Z| = 2, 3, 4"), None


def nll_gradient_by_leibniz():
    """sp.diff of one sample's loss, under the integral with F_w abstract, equals the contract's gradient."""
    d = sp.simplify((nll_gradient_derived() - nll_gradient_contract()).as_dummy())
    if d == 0:
        return True, "sp.diff of the loss (under the integral, F_w abstract) minus the contract is 0", None
    return None, f"SymPy left {d}", None


def nll_gradient_on_a_grid():
    """On a grid of 3 points with energies f_k(w) abstract, sp.diff of the loss equals the contract."""
    f = finite_energies(3, (w,))
    S = sum(sp.exp(-beta * e) for e in f)
    loss = f[0] + sp.log(S) / beta
    want = sp.diff(f[0], w) - sum(sp.exp(-beta * e) / S * sp.diff(e, w) for e in f)
    d = sp.simplify(sp.diff(loss, w) - want)
    return (True, "on 3 grid points with abstract f_k(w) the difference simplifies to 0", None) if d == 0 \
        else (None, f"SymPy left {d}", None)


def mode_is_argmin():
    """``P(y_j)/P(y_k) = e^{beta (F_k - F_j)} > 1`` when ``F_j < F_k``: the mode is the argmin."""
    fj = sp.Symbol("F_j", real=True)
    gap = sp.Symbol("Delta", positive=True)  # F_k - F_j
    Z = sp.Symbol("Z", positive=True)
    ratio = sp.simplify((sp.exp(-beta * fj) / Z) / (sp.exp(-beta * (fj + gap)) / Z))
    log_ratio = sp.expand_log(sp.log(ratio), force=True)
    if log_ratio.is_positive and sp.expand(log_ratio - beta * gap) == 0:
        at = float(ratio.subs({beta: 2, gap: sp.Rational(1, 2)}))
        return True, ("the normaliser cancels: P(y_j|x)/P(y_k|x) simplifies to e to the power beta times the gap "
                      f"F_k - F_j, whose logarithm SymPy signs positive when F_j < F_k (e.g. {at:.4f} at beta = 2 "
                      "and a gap of 0.5)"), None
    return None, "SymPy could not sign the logarithm of the ratio", None
