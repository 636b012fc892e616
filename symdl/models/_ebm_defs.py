r"""The definitions of the energy-based models and the results derived from them (see :mod:`symdl.models.ebm`).

The energies ``F(x, y)``, ``F_w(x, y)`` and ``E(x, y, z)`` stay abstract
(SymPy undefined functions); everything here is SymPy, shared by the
references, their checks and the worked solution (``derivations/q3_energy.py``).
"""

from __future__ import annotations

import functools

import sympy as sp

from ._display import Named, bracketed_sum, ordered_product, ordered_sum, partial, reciprocal

x, y, z = sp.symbols("x y z", real=True)
y_, z_ = sp.symbols("y' z'", real=True)
beta = sp.Symbol(r"\beta", positive=True)
w = sp.Symbol("w", real=True)
x_i, y_i = sp.symbols("x_i y_i", real=True)
i = sp.Symbol("i", integer=True, positive=True)
N = sp.Symbol("N", integer=True, positive=True)
F, F_w, E = sp.Function("F"), sp.Function("F_w"), sp.Function("E")


class ArgminOver(sp.Function):
    r""":math:`\operatorname{argmin}_v f`, for display; evaluated on a grid by the reference."""

    def _latex(self, printer):
        f, v = self.args
        return r"\operatorname{argmin}_{%s} %s" % (printer._print(v), printer._print(f))


class MinOver(sp.Function):
    r""":math:`\min_v f`, for display; evaluated on a grid by the reference."""

    def _latex(self, printer):
        f, v = self.args
        return r"\min_{%s} %s" % (printer._print(v), printer._print(f))


def integral(f, v):
    """``\\int_v f dv``: over the real line for proofs, over a grid for numbers."""
    return sp.Integral(f, (v, -sp.oo, sp.oo))


# -- definitions and derived results -------------------------------------------------------


def gibbs_expr(energy=F(x, y), var=y, dummy=y_):
    return sp.exp(-beta * energy) / integral(sp.exp(-beta * energy.subs(var, dummy)), dummy)


GIBBS = gibbs_expr()
JOINT = sp.exp(-beta * E(x, y, z)) / integral(integral(sp.exp(-beta * E(x, y_, z_)), z_), y_)
FREE_ENERGY = -sp.log(integral(sp.exp(-beta * E(x, y, z)), z)) / beta
#: The same, printed as REFERENCES.md writes it: -\frac{1}{\beta} \log \int_z ...
FREE_ENERGY_DISPLAY = ordered_product(-1, reciprocal(beta), sp.log(integral(sp.exp(-beta * E(x, y, z)), z)))
#: The per-sample NLL loss, written from -(1/beta) log P_w(y_i | x_i) (see nll_from_likelihood).
NLL_TERM = F_w(x_i, y_i) + sp.log(integral(sp.exp(-beta * F_w(x_i, y)), y)) / beta
NLL_LOSS = sp.Sum(NLL_TERM, (i, 1, N)) / N
#: The Gibbs density of F_w at the training input x_i, a defined name of ebm.nll_gradient.
P_W = Named(r"P_w(y | x_i)")


def display_loss():
    r"""The loss in REFERENCES.md's order:
    ``\frac{1}{N} \sum_i [F_w(x_i, y_i) + \frac{1}{\beta} \log \int_y \ldots]``."""
    term = ordered_sum(F_w(x_i, y_i), ordered_product(reciprocal(beta),
                                                      sp.log(integral(sp.exp(-beta * F_w(x_i, y)), y))))
    return ordered_product(reciprocal(N), bracketed_sum(term, (i, 1, N)))


def w_explicit(expr):
    """``expr`` with its energies depending on ``w``: ``F_w(a, b) -> F_w(a, b, w)`` for sp.diff."""
    return expr.replace(lambda e: isinstance(e, sp.core.function.AppliedUndef) and e.func == F_w,
                        lambda e: F_w(*e.args, w))


def nll_gradient_derived():
    r"""``d/dw`` of one sample's loss by ``sp.diff``: SymPy differentiates under the integral sign."""
    return sp.diff(w_explicit(NLL_TERM), w)


def nll_gradient_contract():
    """REFERENCES.md's form: ``dF_w(x_i, y_i)/dw - int_y P_w(y | x_i) dF_w(x_i, y)/dw dy``."""
    Fw = F_w(x_i, y, w)
    P = gibbs_expr(Fw, y, y_)
    return sp.Derivative(F_w(x_i, y_i, w), w) - integral(P * sp.Derivative(Fw, w), y)


def display_gradient():
    """The contract's gradient as it is printed (``w`` implicit in ``F_w``), with the defined name ``P_w(y | x_i)``."""
    term = ordered_sum(partial(F_w(x_i, y_i), w),
                       ordered_product(-1, integral(ordered_product(P_W, partial(F_w(x_i, y), w)), y)))
    return ordered_product(reciprocal(N), bracketed_sum(term, (i, 1, N)))


def finite_energies(K: int, args=()):
    """``K`` abstract energies ``f_1(w), ..., f_K(w)`` (one per grid point) as SymPy functions of ``args``."""
    return [sp.Function(f"f_{k + 1}")(*args) for k in range(K)]


def marginal_pieces():
    """Finite grids of symbolic sizes J (y) and K (z): ``(sum_z P(y_j, z | x), e^{-beta F_beta}/sum_y ...)``."""
    j, k, jj, kk = sp.symbols("j k j' k'", integer=True)
    J, K = sp.symbols("J K", integer=True, positive=True)
    e = sp.IndexedBase("E")
    Z = sp.Sum(sp.exp(-beta * e[jj, kk]), (kk, 1, K), (jj, 1, J))
    marginal = sp.Sum(sp.exp(-beta * e[j, k]) / Z, (k, 1, K))
    Fb = -sp.log(sp.Sum(sp.exp(-beta * e[j, k]), (k, 1, K))) / beta
    target = sp.exp(-beta * Fb) / sp.Sum(sp.exp(-beta * Fb.subs(j, jj)), (jj, 1, J))
    return marginal, target


def zero_temperature_pieces(K: int):
    """``(m, d_2..d_K, F_beta)`` for K energies ``m, m + d_2, ...`` (``d_k > 0``), F_beta from the definition."""
    b = beta
    m = sp.Symbol("m", real=True)
    ds = sp.symbols(f"d_2:{K + 1}", positive=True)
    Es = [m, *[m + d for d in ds]]
    return b, m, ds, -sp.log(sum(sp.exp(-b * e) for e in Es)) / b


@functools.lru_cache(maxsize=None)  # two checks and q3 ask for the same K; a limit costs about 0.3 s
def zero_temperature_limit(K: int):
    """``lim_{beta -> oo} F_beta`` by sp.limit, after factoring ``e^{-beta m}`` out of the sum."""
    b, m, ds, Fb = zero_temperature_pieces(K)
    rest = sp.expand(sp.powsimp(sp.expand(sp.exp(-b * Fb) * sp.exp(b * m))))
    factored = m - sp.log(rest) / b
    same = sp.simplify(sp.expand_log(Fb - factored, force=True))
    return m, sp.limit(factored, b, sp.oo), same, factored, rest


def nll_from_likelihood(n_pairs: int = 2, K: int = 3):
    """``-(1/(N beta)) log prod_i P(y_i|x_i)`` on a grid of K points, and the contract's loss, for N pairs."""
    fs = [finite_energies(K, (sp.Symbol(f"x_{n + 1}"),)) for n in range(n_pairs)]
    # the observed y_i is one of the grid points: the first
    like = sp.Mul(*[sp.exp(-beta * f[0]) / sum(sp.exp(-beta * e) for e in f) for f in fs])
    derived = sp.expand_log(-sp.log(like) / (n_pairs * beta), force=True)
    contract = sum(f[0] + sp.log(sum(sp.exp(-beta * e) for e in f)) / beta for f in fs) / n_pairs
    return derived, contract


def nll_one_pair():
    """``-(1/beta) log P_w(y_i | x_i)`` with the logarithm expanded by SymPy: one sample's loss."""
    return sp.expand(sp.expand_log(-sp.log(gibbs_expr(F_w(x_i, y_i), y_i, y)) / beta, force=True))


def w_implicit(expr):
    r"""For display: the parameters as the course leaves them implicit, ``F_w(a, b, w)`` as ``F_w(a, b)``,
    ``E(x, y, z, w)`` as ``E(x, y, z)``, and their derivatives in ``w`` as ``\frac{\partial F_w(a, b)}{\partial w}``."""
    def with_w(e):
        return isinstance(e, sp.core.function.AppliedUndef) and e.func in (F_w, E) and e.args and e.args[-1] == w

    expr = expr.replace(lambda e: isinstance(e, sp.Derivative) and with_w(e.expr) and e.variables == (w,),
                        lambda e: partial(e.expr.func(*e.expr.args[:-1]), w))
    return expr.replace(with_w, lambda e: e.func(*e.args[:-1]))
