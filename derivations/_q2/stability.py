"""Question 2: heavy ball on a quadratic, its stability region and the figure of it, the seed's range of beta."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symdl import ref
from symdl.verify.builders import symbolic_equal
from symdl.document.derivation import Step, math as display, tex
from symdl.verify.spec import CheckSpec
from symdl.document.figures import pyplot, save

from _figstyle import PRINT, inches
from _q2.common import S, _check, beta, gamma, gl, lam, r

# -- 3. stability on a quadratic ------------------------------------------------------------------

w_t, w_prev, w_next = S("w_t"), S("w_{t-1}"), S("w_{t+1}")


def quadratic_recurrence():
    """Heavy ball's update with g_t = f'(w_t) for f = lambda w^2 / 2, and gamma lambda written as one symbol."""
    f = lam * w_t**2 / 2
    hb = ref("optim.heavy_ball").expr.xreplace({S("g_t"): sp.diff(f, w_t)})
    return sp.collect(sp.expand(hb).subs(gamma * lam, gl), [w_t, w_prev]), sp.diff(f, w_t)


def characteristic_polynomial():
    rec, _ = quadratic_recurrence()
    # w_t = r^t: divide w_{t+1} - rec by r^{t-1}.
    return sp.collect(sp.expand(w_next - rec).xreplace({w_next: r**2, w_t: r, w_prev: 1}), r)


def spectral_radius(glv, bv):
    return np.max(np.abs(np.roots([1.0, -(1.0 + bv - glv), bv])))


def in_region(glv, bv):
    return abs(bv) < 1 and 0 < glv < 2 * (1 + bv)


def _region_witness():
    def run():
        p = characteristic_polynomial()
        coeffs = [float(c) for c in sp.Poly(p.subs({gl: sp.Rational(3, 7), beta: sp.Rational(2, 5)}), r).all_coeffs()]
        if not np.allclose(coeffs, [1.0, -(1 + 0.4 - 3 / 7), 0.4], rtol=1e-15, atol=0):
            return False, f"the derived polynomial has coefficients {coeffs}", None
        count, wrong = 0, []
        for glv in np.linspace(-1, 5, 121):
            for bv in np.linspace(-1.5, 1.5, 121):
                margin = min(abs(abs(bv) - 1), abs(glv), abs(glv - 2 * (1 + bv)))
                if margin < 1e-9:
                    continue
                count += 1
                if (spectral_radius(glv, bv) < 1) != in_region(glv, bv):
                    wrong.append((glv, bv))
        if wrong:
            return False, f"{len(wrong)} of {count} grid points disagree, e.g. (gamma lambda, beta) = {wrong[0]}", None
        return True, f"{count} grid points of (gamma lambda, beta) in [-1, 5] x [-1.5, 1.5]: numpy.roots's largest " \
                     f"|r| < 1 exactly inside the region", None

    return CheckSpec("numeric", "region against the roots of the derived polynomial on a grid", run)


def _stability_steps():
    rec, grad = quadratic_recurrence()
    p = characteristic_polynomial()
    roots = list(sp.roots(sp.Poly(p, r)).keys())
    p1, pm1, p0 = sp.expand(p.subs(r, 1)), sp.expand(p.subs(r, -1)), sp.expand(p.subs(r, 0))
    want_p = r**2 - (1 + beta - gl) * r + beta

    grad_step = Step("quadratic-model", tex(r"f(w) = \tfrac{1}{2}\lambda w^2, \qquad g_t = f'(w_t) = ") + display(grad),
                     "the derivative of the quadratic", checks=(symbolic_equal(grad, lam * w_t, "sp.diff"),), relation="def")
    rec_step = Step("recurrence", tex(r"w_{t+1} = \left(") + display(rec.coeff(w_t)) + tex(r"\right) w_t - ")
                    + display(-rec.coeff(w_prev)) + tex(r"\, w_{t-1}"),
                    "$g_t = \\lambda w_t$ substituted into heavy ball, collected in $w_t$ and $w_{t-1}$",
                    checks=(symbolic_equal(rec, (1 + beta - gl) * w_t - beta * w_prev, "expanded difference"),),
                    label="recurrence")
    c2, c1, c0 = sp.Poly(p, r).all_coeffs()
    poly_step = Step("characteristic", tex(r"p(r) = ") + display(c2 * r**2) + tex(r" - \left(") + display(-c1)
                     + tex(r"\right) r + ") + display(c0),
                     "$w_t = r^t$ substituted into $\\eqref{eq:recurrence}$ and divided by $r^{t-1}$: the characteristic "
                     "polynomial",
                     checks=(symbolic_equal(p, want_p, "against r^2 - (1 + beta - gamma lambda) r + beta"),),
                     boxed=True, label="characteristic")
    roots_step = Step("roots", tex(r"r_1 r_2 = ") + display(sp.simplify(roots[0] * roots[1]))
                      + tex(r", \qquad r_1 + r_2 = ") + display(sp.simplify(roots[0] + roots[1])),
                      "the two roots of $\\eqref{eq:characteristic}$, multiplied and added (Vieta's formulas)",
                      checks=(symbolic_equal(sp.Matrix([roots[0] * roots[1], roots[0] + roots[1]]),
                                             sp.Matrix([beta, 1 + beta - gl]), "product and sum of sp.roots"),))
    region = Step(
        "region", tex(r"\begin{aligned} &\Big(p(1) = ") + display(p1) + tex(r" > 0, \quad p(-1) = ") + display(pm1)
        + tex(r" > 0, \quad |p(0)| = |") + display(p0)
        + tex(r"| < 1\Big) \\ &\qquad \iff |\beta| < 1, \; 0 < \gamma\lambda < 2(1 + \beta) \end{aligned}"),
        "both roots lie inside the unit circle exactly when the three conditions on the left hold together "
        "(Jury's conditions for a monic quadratic), evaluated on $p$ of $\\eqref{eq:characteristic}$; outside the region some root "
        "has $|r| \\ge 1$ and $w_t$ does not converge to 0",
        checks=(symbolic_equal(sp.Matrix([p1, pm1, p0]), sp.Matrix([gl, 2 + 2 * beta - gl, beta]),
                               "p(1), p(-1), p(0) from the derived polynomial"), _region_witness()),
        boxed=True)
    return grad_step, rec_step, poly_step, roots_step, region


def _grading_steps():
    hb = ref("optim.heavy_ball").expr
    gd_form = hb.xreplace({beta: 0})

    at = {w_t: 1, w_prev: 0, S("g_t"): 1, gamma: sp.Rational(1, 10)}
    neg = hb.xreplace({**at, beta: sp.Rational(-1, 2)})
    gd_val = gd_form.xreplace(at)
    zero_step = Step("beta-zero", tex(r"\beta = 0: \quad w_{t+1} = ") + display(gd_form),
                     "heavy ball with $\\beta = 0$ is exactly gradient descent",
                     checks=(symbolic_equal(gd_form, w_t - gamma * S("g_t"), "substitution"),))
    neg_step = Step(
        "beta-negative",
        tex(r"\beta = -\tfrac{1}{2},\; w_t = 1,\; w_{t-1} = 0,\; g_t = 1,\; \gamma = \tfrac{1}{10}: \quad w_{t+1} = ")
        + display(neg) + tex(r" \ne ") + display(gd_val),
        "counterexample to the seed's “$\\beta < 0$ is simply GD”: a negative $\\beta$ pulls back along the last "
        "step (and for $-1 < \\beta < 0$ still converges inside the region)",
        checks=(_check("symbolic", "exact rationals substituted into the heavy-ball and GD updates",
                       lambda: (neg != gd_val, f"heavy ball gives {neg}, GD gives {gd_val}", None), 60),))

    p = characteristic_polynomial()
    roots = list(sp.roots(sp.Poly(p, r)).keys())

    def above_one():
        rng = np.random.default_rng(31)
        worst = np.inf
        for _ in range(2000):
            bv, glv = rng.uniform(1.0 + 1e-6, 3.0), rng.uniform(-2.0, 8.0)
            worst = min(worst, spectral_radius(glv, bv) / np.sqrt(bv))
        return worst >= 1 - 1e-12, f"2000 random points with beta in (1, 3]: max|r| / sqrt(beta) >= {worst:.6g}", None

    above = Step("beta-above-one", tex(r"|r_1|\,|r_2| = |\beta| > 1 \;\Rightarrow\; \max_i |r_i| \ge \sqrt{\beta} > 1"),
                 "the seed's “$\\beta > 1$ blows up” is right: by Vieta some root lies outside the unit circle, "
                 "for every learning rate",
                 checks=(symbolic_equal(sp.simplify(roots[0] * roots[1]), beta, "product of sp.roots"),
                         CheckSpec("numeric", "largest root modulus at random (gamma lambda, beta > 1)", above_one)),
                 relation="=>")

    disc = sp.factor(sp.discriminant(p.subs(beta, 1), r))

    def at_one():
        lows = []
        for glv in (0.5, 1.0, 3.0):
            w = [1.0, 1.0]
            for _ in range(2000):
                w.append(float(ref("optim.heavy_ball").evaluate(
                    {"w_t": w[-1], "w_{t-1}": w[-2], "g_t": glv * w[-1], r"\gamma": 1.0, r"\beta": 1.0})))
            lows.append(max(abs(x) for x in w[-200:]))
        ok = min(lows) > 0.1
        return ok, f"gamma lambda = 0.5, 1, 3 from w_0 = w_-1 = 1: max |w_t| over steps 1800..2000 is " \
                   f"{', '.join(f'{x:.3g}' for x in lows)} (no decay)", None

    one = Step("beta-one", tex(r"\beta = 1: \quad \operatorname{disc} p = ") + display(disc)
               + tex(r" < 0 \text{ for } 0 < \gamma\lambda < 4, \quad |r_1| = |r_2| = \sqrt{r_1 r_2} = 1"),
               "at $\\beta = 1$ the roots sit on the unit circle (or one is outside): the iterates oscillate "
               "forever and never converge: $\\beta = 1$ is excluded, as the seed's $[0, 1)$ excludes it",
               checks=(symbolic_equal(disc, gl * (gl - 4), "discriminant of p at beta = 1"),
                       CheckSpec("numeric", "2000 heavy-ball steps at beta = 1 via optim.heavy_ball", at_one)),
               relation="=>")
    return zero_step, neg_step, above, one


def make_region_figure(path):
    """max |r| over the (gamma lambda, beta) plane, a diverging colour scale centred at |r| = 1; the computed
    |r| = 1 contour drawn in black over the wider, pale lines of the region's boundary."""
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.lines import Line2D

    plt = pyplot()
    G, B = np.meshgrid(np.linspace(0, 4.5, 301), np.linspace(-1.2, 1.2, 241))
    c = 1 + B - G  # the roots (c +- sqrt(c^2 - 4 beta)) / 2 of p, vectorised over the grid
    root = np.sqrt((c**2 - 4 * B).astype(complex))
    rho = np.maximum(np.abs((c + root) / 2), np.abs((c - root) / 2))
    with plt.rc_context(PRINT):
        fig, ax = plt.subplots(figsize=(inches(0.8), 3.1))
        im = ax.imshow(np.minimum(rho, 1.5), origin="lower", extent=(G.min(), G.max(), B.min(), B.max()),
                       aspect="auto", cmap="RdBu_r", norm=TwoSlopeNorm(vmin=0.0, vcenter=1.0, vmax=1.5),
                       interpolation="nearest")
        bb = np.linspace(-1, 1, 50)
        ax.plot(2 * (1 + bb), bb, color="gold", ls="--", lw=4, zorder=2, label=r"$\gamma\lambda = 2(1+\beta)$")
        ax.axhline(1, color="limegreen", ls="--", lw=4, zorder=2, label=r"$\beta = 1$")
        ax.contour(G, B, rho, levels=[1.0], colors="k", linewidths=1.2, zorder=3)
        ax.plot([0, 2], [0, 0], color="darkorange", lw=2.5, zorder=4, label=r"GD: $\beta = 0$, $0 < \gamma\lambda < 2$")
        ax.set_xlabel(r"$\gamma\lambda$")
        ax.set_ylabel(r"$\beta$")
        ax.set_title(r"largest $|r|$ of $r^2 - (1+\beta-\gamma\lambda) r + \beta$")
        fig.colorbar(im, ax=ax, label=r"$\max |r|$ (white at 1, capped at 1.5)")
        handles, _ = ax.get_legend_handles_labels()
        contour = Line2D([], [], color="k", lw=1.2, label=r"$|r| = 1$, computed")
        ax.legend(handles=[contour, *handles], loc="lower right")
        save(fig, path)
