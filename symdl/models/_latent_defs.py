r"""The definitions of the architectural EBMs and the results derived from them (see :mod:`symdl.models.latent`).

The Gaussian KL is derived, not typed in: ``sp.integrate`` of
:math:`q \log(q/p)` (in :math:`s = (t - \mu_j)/\sigma_j`) for :math:`q = \mathcal{N}(\mu_j, \sigma_j^2)`,
:math:`p = \mathcal{N}(0, 1)`, one coordinate at a time (the densities
factorise, so the KL of the diagonal Gaussian is the sum over ``j``).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from ..core.calculus import add
from ..core.symbols import n
from ._display import ordered_sum

d = sp.Symbol("d", integer=True, positive=True)
k = sp.Symbol("k", integer=True, positive=True)
y = sp.MatrixSymbol("y", d, 1)
y_n = sp.MatrixSymbol("y", n, 1)  # the VAE's data: its size n need not be the latent size d
y_hat = sp.MatrixSymbol(r"\hat{y}", n, 1)
W = sp.MatrixSymbol("W", d, k)
z = sp.MatrixSymbol("z", k, 1)
lam = sp.Symbol(r"\lambda", positive=True)
beta = sp.Symbol(r"\beta", positive=True)
mu_j = sp.Symbol(r"\mu_j", real=True)
sigma_j = sp.Symbol(r"\sigma_j", positive=True)
j = sp.Symbol("j", integer=True, positive=True)
mu_vec, sigma_vec = sp.MatrixSymbol(r"\mu", d, 1), sp.MatrixSymbol(r"\sigma", d, 1)


class SquaredNorm(sp.Function):
    r""":math:`\lVert v \rVert^2`, for display."""

    def _latex(self, printer):
        v = self.args[0]
        if isinstance(v, sp.MatAdd):  # y - W z: each term with its sign and spaces
            parts = [printer._print(t) for t in v.args]
            body = " ".join([parts[0]] + [("- " + p[1:].lstrip()) if p.startswith("-") else "+ " + p
                                          for p in parts[1:]])
        else:
            body = printer._print(v)
        return r"\lVert %s \rVert^2" % body


class L1Norm(sp.Function):
    r""":math:`\lVert v \rVert_1`, for display."""

    def _latex(self, printer):
        return r"\lVert %s \rVert_1" % printer._print(self.args[0])


RESIDUAL = add(y, -W * z)
KMEANS = SquaredNorm(RESIDUAL)
SPARSE = ordered_sum(SquaredNorm(RESIDUAL), lam * L1Norm(z))

# -- derivations ---------------------------------------------------------------------------


def gaussian_density(t, mean, std):
    return sp.exp(-(t - mean) ** 2 / (2 * std ** 2)) / sp.sqrt(2 * sp.pi * std ** 2)


@lru_cache(maxsize=1)
def kl_derived():
    r"""``\int q \log(q/p) dt`` for one coordinate, by ``sp.integrate`` of the Gaussian densities.

    The variable is changed first, ``t = mu_j + sigma_j s`` (``dt = sigma_j ds``; ``sigma_j > 0`` keeps
    the limits), so SymPy integrates a polynomial times ``e^{-s^2/2}``: 0.2 s instead of 0.9 s in ``t``.
    """
    t, s = sp.Symbol("t", real=True), sp.Symbol("s", real=True)
    q, p = gaussian_density(t, mu_j, sigma_j), gaussian_density(t, 0, 1)
    integrand = q * sp.expand_log(sp.log(q / p), force=True)
    in_s = sp.expand(sp.powsimp(sp.expand(integrand.subs(t, mu_j + sigma_j * s) * sigma_j)))
    return sp.simplify(sp.integrate(in_s, (s, -sp.oo, sp.oo)))


#: REFERENCES.md's closed form of one coordinate, only ever compared against.
KL_CONTRACT = sp.Rational(1, 2) * (sigma_j ** 2 + mu_j ** 2 - 1 - sp.log(sigma_j ** 2))


def kl_minimum():
    """The KL's stationary points in (mu_j, sigma_j), solved by SymPy, and the value and Hessian there."""
    kl = kl_derived()
    sols = sp.solve([sp.diff(kl, mu_j), sp.diff(kl, sigma_j)], [mu_j, sigma_j], dict=True)
    H = sp.hessian(kl, (mu_j, sigma_j))
    return sols, [(kl.subs(s_), H.subs(s_)) for s_ in sols]


def kmeans_one_hot(dd: int = 2, kk: int = 3):
    """At explicit sizes: ``||y - W e_c||^2 - ||y - w_c||^2`` for every one-hot ``e_c`` (each should be 0)."""
    Y, Wm = sp.Matrix(sp.MatrixSymbol("y", dd, 1)), sp.Matrix(sp.MatrixSymbol("W", dd, kk))
    out = []
    for c in range(kk):
        e = sp.zeros(kk, 1)
        e[c] = 1
        r1, r2 = Y - Wm * e, Y - Wm[:, c]
        out.append(sp.expand((r1.T * r1)[0] - (r2.T * r2)[0]))
    return out


#: One atom: a = w^T y, c = ||w||^2, so that ||y - w z||^2 = ||y||^2 - 2 a z + c z^2 for a scalar code z.
atom_a = sp.Symbol("a", real=True)
atom_c = sp.Symbol("c", positive=True)


def sparse_code_branches():
    """Stationary points of ``c z^2 - 2 a z + lambda |z|`` on ``z > 0`` and ``z < 0``, by sp.solve."""
    out = []
    for assumption in ({"positive": True}, {"negative": True}):
        zz = sp.Symbol("z", **assumption)
        E = atom_c * zz ** 2 - 2 * atom_a * zz + lam * sp.Abs(zz)
        (sol,) = sp.solve(sp.diff(E, zz), zz)
        out.append(sol)
    return tuple(out)


def soft_threshold(a: float, c: float, lm: float) -> float:
    """The minimiser from the derived branches: the positive one, the negative one, or 0 between them."""
    zp, zn = (float(b.subs({atom_a: a, atom_c: c, lam: lm})) for b in sparse_code_branches())
    return zp if zp > 0 else zn if zn < 0 else 0.0
