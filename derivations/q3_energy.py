"""Question 3: energy-based models, free energy, the NLL gradient, PIRL's NCE loss, K-means, sparse coding, the VAE.

Every displayed result is computed by SymPy from the definitions in
symdl.models.ebm, symdl.models.contrastive and symdl.models.latent
(sp.diff under the integral sign, sums over grids of symbolic size, sp.limit,
sp.integrate of Gaussian densities) and checked against PyTorch: logsumexp
normalisers, autograd, cosine_similarity, kl_divergence, cdist.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from symdl import ref
from symdl.verify.oracles import ebm as oracles_ebm
from symdl.verify.builders import symbolic_equal
from symdl.document.derivation import (Derivation, Figure, ReferenceBlock, Section, Step, Table, math as display, prose, tex)
from symdl.models import contrastive as C
from symdl.models import ebm as M
from symdl.models import latent as Lt
from symdl.models._grids import gradient_w
from symdl.verify.spec import RTOL, CheckSpec, compare_trials
from symdl.document.figures import pyplot, save

QUESTION = (
    "An EBM is a scalar energy F(x, y), low where x and y are compatible, with parameters w. (a) How is y inferred "
    "from x? (b) Give P(y|x) for a Gibbs-Boltzmann distribution. (c) With a latent z, give the free energy F(x, y) "
    "as a function of E(x, y, z), deterministic and probabilistic. (d) Give the negative log-likelihood loss and "
    "its gradient. (e) Describe PIRL's NCE loss. (f) Describe architectural methods: K-means, sparse coding, VAE."
)


def _symbolic(description, fn, timeout=60.0):
    return CheckSpec("symbolic", description, fn, timeout=timeout)


def _verdict(ok, yes, no="SymPy could not show it"):
    return (True, yes, None) if ok else (None, no, None)


# -- figures ---------------------------------------------------------------------------------


# -- (b), (c): sample energies for the figures ----------------------------------------------

Y_GRID = np.linspace(-2.0, 2.0, 201)
FIG_BETAS = (0.3, 1.0, 3.0, 10.0)


def double_well(x, y):
    """The figures' energy of one scalar y (x unused): two wells of unequal depth."""
    return (y ** 2 - 1) ** 2 + 0.3 * y


def gibbs_curves():
    g = ref("ebm.gibbs")
    return {b: np.asarray(g.evaluate({"F": double_well, "x": 0.0, "y": Y_GRID, r"\beta": b})) for b in FIG_BETAS}


def make_gibbs_figure(path):
    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.2))
    a1.plot(Y_GRID, double_well(0.0, Y_GRID), color="k")
    a1.set_title(r"energy $F(x, y) = (y^2 - 1)^2 + 0.3 y$")
    for b, p in gibbs_curves().items():
        a2.plot(Y_GRID, p, label=rf"$\beta$ = {b:g}")
    a2.set_title(r"Gibbs masses $P(y \mid x)$ on a grid of 201 points")
    for a in (a1, a2):
        a.set_xlabel("$y$")
        a.grid(alpha=0.3)
    a2.legend(fontsize=8)
    save(fig, path)


def _gibbs_figure_check():
    def run():
        import torch

        F = torch.as_tensor(double_well(0.0, Y_GRID))
        trials = [(f"beta = {b:g}", p, torch.softmax(-b * F, 0).numpy()) for b, p in gibbs_curves().items()]
        return compare_trials(trials, RTOL)

    return CheckSpec("oracle", "the plotted masses against torch.softmax(-beta F)", run)


Z_ENERGIES = np.array([0.8, 0.35, 1.6, 0.37, 2.4, 1.1])  # E(x, y, z_k) for six z
BETA_RANGE = np.logspace(-0.5, 3, 121)  # from beta = 0.32, where F_beta is 5 below min E, to 1000


def free_energy_curve():
    Fb = ref("ebm.free_energy")
    E = lambda x, y, z: Z_ENERGIES[int(z)]  # noqa: E731  (z is the index of the grid point)
    zs = np.arange(len(Z_ENERGIES), dtype=float)
    return np.array([float(Fb.evaluate({"E": E, "x": 0.0, "y": 0.0, "z": zs, r"\beta": b})) for b in BETA_RANGE])


def make_free_energy_figure(path):
    plt = pyplot()
    m, K = Z_ENERGIES.min(), len(Z_ENERGIES)
    F, low = free_energy_curve(), m - np.log(K) / BETA_RANGE
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.semilogx(BETA_RANGE, F, lw=2, label=r"$F_\beta(x, y)$")
    ax.axhline(m, color="k", ls="--", label=r"$\min_z E(x, y, z)$")
    ax.semilogx(BETA_RANGE, low, color="gray", ls=":", label=r"$\min_z E - \log|Z| / \beta$")
    pad = 0.05 * (m - low.min())
    ax.set_ylim(low.min() - pad, m + 2 * pad)
    ax.set_xlabel(r"inverse temperature $\beta$")
    ax.set_ylabel("energy")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    save(fig, path)


def _free_energy_figure_checks():
    def oracle():
        import torch

        E = torch.as_tensor(Z_ENERGIES)
        want = np.array([float(-torch.logsumexp(-b * E, 0) / b) for b in BETA_RANGE])
        label = f"{len(BETA_RANGE)} values of beta in [{BETA_RANGE[0]:.2g}, {BETA_RANGE[-1]:.0e}]"
        return compare_trials([(label, free_energy_curve(), want)], RTOL)

    def bound():
        F, m = free_energy_curve(), Z_ENERGIES.min()
        low = m - np.log(len(Z_ENERGIES)) / BETA_RANGE
        ok = bool(np.all(F <= m + 1e-15) and np.all(F >= low - 1e-15))
        return ok, (f"inside the bound at all {len(BETA_RANGE)} beta; at beta = {BETA_RANGE[-1]:.0e}, "
                    f"F_beta - min E = {F[-1] - m:.3g}"), None

    return (CheckSpec("oracle", "the plotted F_beta against -(1/beta) torch.logsumexp(-beta E)", oracle),
            CheckSpec("numeric", "min E - log|Z|/beta <= F_beta <= min E along the curve", bound))


# -- (f): K-means surface --------------------------------------------------------------------

PROTOTYPES = np.array([[-1.0, 0.2], [1.2, 0.8], [0.3, -1.1]]).T  # W: columns w_k in 2-D
MESH = np.linspace(-2.5, 2.5, 41)


def kmeans_surface():
    km = ref("latent.kmeans_energy")
    return np.array([[float(km.evaluate({"y": np.array([a, b]), "W": PROTOTYPES})) for a in MESH] for b in MESH])


def make_kmeans_figure(path):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    cs = ax.contourf(MESH, MESH, kmeans_surface(), levels=20, cmap="viridis")
    fig.colorbar(cs, ax=ax, label=r"$F(y) = \min_k \|y - w_k\|^2$")
    ax.scatter(*PROTOTYPES, color="w", edgecolor="k", zorder=3, label="prototypes $w_k$")
    ax.set_xlabel("$y_1$")
    ax.set_ylabel("$y_2$")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_aspect("equal")
    save(fig, path)


def _kmeans_figure_check():
    def run():
        import torch

        Y = torch.as_tensor(np.array([[a, b] for b in MESH for a in MESH]))
        want = (torch.cdist(Y, torch.as_tensor(PROTOTYPES).T).min(1).values ** 2).reshape(len(MESH), len(MESH))
        return compare_trials([("41 x 41 mesh", kmeans_surface(), want.numpy())], RTOL)

    return CheckSpec("oracle", "the plotted surface against torch.cdist and min", run)


# -- (c): steps of the marginalisation --------------------------------------------------------


def _exp_free_energy_is_partition():
    e = sp.exp(-M.beta * M.FREE_ENERGY)
    return _verdict(e == M.integral(sp.exp(-M.beta * M.E(M.x, M.y, M.z)), M.z),
                    "SymPy evaluates exp(-beta F_beta) directly to the integral over z of exp(-beta E(x, y, z))")


def _seed_joint_check():
    """The seed's joint, normalised over y alone, summed over (y, z) on grids of symbolic sizes J and K."""

    def run():
        j, k, jj = sp.symbols("j k jj", integer=True)
        J, K = sp.symbols("J K", integer=True, positive=True)
        e = sp.IndexedBase("E")
        inner = sp.Sum(sp.exp(-M.beta * e[j, k]) / sp.Sum(sp.exp(-M.beta * e[jj, k]), (jj, 1, J)), (j, 1, J))
        total = sp.Sum(sp.simplify(sp.simplify(inner).as_dummy()), (k, 1, K)).doit()
        return _verdict(total == K, "the seed's joint sums to |Z| = K over (y, z), not 1 (symbolic J, K)",
                        f"SymPy left {total}")

    return _symbolic("the seed's joint normaliser", run)


# -- (d): the latent-variable gradient and the seed's last line ---------------------------------


def _latent_gradient_pieces():
    Ew = M.E(M.x, M.y, M.z, M.w)
    Fb = -sp.log(M.integral(sp.exp(-M.beta * Ew), M.z)) / M.beta
    P = sp.exp(-M.beta * Ew) / M.integral(sp.exp(-M.beta * Ew.subs(M.z, M.z_)), M.z_)
    return sp.diff(Fb, M.w), M.integral(P * sp.Derivative(Ew, M.w), M.z)


def _latent_gradient_symbolic():
    derived, want = _latent_gradient_pieces()
    return _verdict(sp.simplify((derived - want).as_dummy()) == 0,
                    "sp.diff of F_beta under the integral minus E_{z ~ P(z|x,y)}[dE/dw] simplifies to 0")


def _latent_gradient_numeric():
    """Complex step of ebm.free_energy in w against the expectation of dE/dw, and torch autograd."""
    import torch

    trials = []
    for dz, Kz in ((1, 4), (2, 7)):
        for seed in (0, 1):
            rng = np.random.default_rng(seed)
            net = oracles_ebm.OneLayer((1, 1, dz), seed=seed, params=True)
            x, y, zs, b = rng.normal(size=1), rng.normal(size=1), rng.normal(size=(Kz, dz)), 1.3
            Fb = ref("ebm.free_energy")

            def at(w):
                return Fb.evaluate({"E": lambda x_, y_, z_: net.numpy(x_, y_, z_, w), "x": x, "y": y, "z": zs,
                                    r"\beta": b})

            energies = np.array([net.numpy(x, y, zk, net.w0) for zk in zs])
            P = np.exp(-b * energies - np.log(np.sum(np.exp(-b * energies))))
            expected = sum(P[k] * gradient_w(net.numpy, (x, y, zs[k]), net.w0, "numpy") for k in range(Kz))
            step = np.array([np.imag(at(net.w0 + 1e-30j * np.eye(net.w0.size)[j])) / 1e-30
                             for j in range(net.w0.size)])
            wt = torch.as_tensor(net.w0).clone().requires_grad_(True)
            E = torch.stack([net.torch(x, y, zk, wt) for zk in zs])
            (g,) = torch.autograd.grad(-torch.logsumexp(-b * E, 0) / b, wt)
            trials += [(f"z size {dz} grid {Kz}, complex step", expected, step),
                       (f"z size {dz} grid {Kz}, torch autograd", expected, g.numpy())]
    return compare_trials(trials, RTOL)


def _seed_last_line():
    """Shift F_w by a constant c: the derived gradient does not move, the seed's F_w + F_beta moves by 2c."""
    c = sp.Symbol("c", real=True)
    shifted = M._dw(M.NLL_TERM).replace(
        lambda e: isinstance(e, sp.core.function.AppliedUndef) and e.func == M.F_w, lambda e: e + c)
    grad = sp.diff(shifted, M.w)
    Fw = M.F_w(M.x_i, M.y_i, M.w) + c
    seed = Fw - sp.log(M.integral(sp.exp(-M.beta * (M.F_w(M.x_i, M.y, M.w) + c)), M.y)) / M.beta
    moves = sp.simplify(sp.diff(grad, c))
    seed_moves = sp.simplify(sp.diff(seed, c))
    if moves == 0 and seed_moves == 2:
        return True, "d/dc of the derived gradient is 0; d/dc of the seed's F_w + F_beta is 2", None
    return None, f"SymPy gave {moves} and {seed_moves}", None


def _likelihood_check():
    """ebm.nll_loss is -(1/(N beta)) log of the product of ebm.gibbs masses at the training pairs."""

    def run():
        trials = []
        for N, K in ((2, 5), (4, 9)):
            rng = np.random.default_rng(N)
            net = oracles_ebm.OneLayer((1, 1), seed=N, params=True)
            grid, idx, xs, b = rng.normal(size=K), rng.integers(0, K, N), rng.normal(size=(N, 1)), 0.9
            masses = [ref("ebm.gibbs").evaluate({"F": lambda x_, y_: net.numpy(x_, y_, net.w0), "x": x, "y": grid,
                                                 r"\beta": b})[k] for x, k in zip(xs, idx)]
            loss = ref("ebm.nll_loss").evaluate({"F_w": net.numpy, "w": net.w0, "x_i": xs, "y_i": grid[idx],
                                                 "y": grid, r"\beta": b})
            trials.append((f"N = {N} grid {K}", loss, -np.log(np.prod(masses)) / (N * b)))
        return compare_trials(trials, RTOL)

    return CheckSpec("numeric", "ebm.nll_loss against -(1/(N beta)) log of the product of ebm.gibbs masses", run)


# -- (e): derived gradient of L_NCE -------------------------------------------------------------


def nce_derivatives():
    L, a, b, c, _ = C.loss_in_similarities()
    return [(name, sp.simplify(sp.diff(L, s))) for name, s in (("a", a), ("b_1", b[0]), ("c_1", c[0]))]


#: The seed's h of (e), as the seed writes it (LaTeX read by symdl's grammar, never evaluated as code).
SEED_H = (r"h(\boldsymbol{v_I}, \boldsymbol{v_{I^t}}) = \frac{\exp{(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}"
          r"{\tau})}}{\exp{(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}{\tau})} + \sum_{I' \in D_N} "
          r"\exp{(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I'}})}{\tau})}}")


def _seed_h_by_checker():
    """symdl.check, the hand-derivation checker, on the seed's own LaTeX for h."""

    def run():
        from symdl.grade.check import check

        verdict = check(SEED_H, against="contrastive.pirl_h")
        first = str(verdict).splitlines()[0]
        if verdict.verdict == "not_equivalent":
            return True, f"symdl.check(seed's h, against='contrastive.pirl_h'): {first}", None
        if verdict.verdict == "equivalent":
            return False, f"symdl.check found the seed's h equivalent: {first}", None
        return None, f"symdl.check could not decide: {first}", None

    return CheckSpec("numeric", "the hand-derivation checker on the seed's LaTeX", run)


def _seed_counterexample_table():
    for label, seed_v, pirl_v, v in C.seed_form_trials():
        if abs(seed_v - pirl_v) > 1e-6 * abs(pirl_v):
            rows = [(tex(k), tex(r"\left(" + ", ".join(f"{x:.4f}" for x in np.ravel(val)) + r"\right)")
                     if np.ndim(val) else tex(f"{val:.4f}")) for k, val in v.items()]
            rows += [("seed's h", tex(f"{seed_v:.6f}")), ("PIRL's h", tex(f"{float(pirl_v):.6f}"))]
            return Table(("input", "value"), tuple(rows), caption=f"The first counterexample found ({label}).")
    raise AssertionError("the seed's form agreed with PIRL's at every trial point")


# -- the document ----------------------------------------------------------------------------


def _inference_section() -> Section:
    """(a): inference is an argmin, the mode of the Gibbs distribution."""
    return Section("(a) Inference", (
        prose("Inference picks the most compatible $y$: the point of lowest energy. On a finite set of candidates "
              "(a grid) it is an argmin over the grid."),
        ReferenceBlock("ebm.inference"),
        Step("mode", tex(r"\frac{P(y_j \mid x)}{P(y_k \mid x)} = e^{\beta (F(x, y_k) - F(x, y_j))} > 1 "
                         r"\iff F(x, y_j) < F(x, y_k)"),
             "the normaliser cancels in the ratio; for $\\beta > 0$ the argmin is the mode of the Gibbs distribution",
             checks=(CheckSpec("symbolic", "the mode is the argmin", M._mode_is_argmin, timeout=60),)),
        prose("The seed's answer (a) is right."),
    ))


def _gibbs_section() -> Section:
    """(b): the Gibbs-Boltzmann distribution and its normalisation."""
    return Section("(b) The Gibbs-Boltzmann distribution", (
        ReferenceBlock("ebm.gibbs"),
        Step("normalised", display(sp.simplify(sp.simplify(M.integral(M.GIBBS, M.y)).as_dummy()),
                                   r"\int_y P(y \mid x)\, dy"),
             "the denominator does not depend on $y$; SymPy, with $F$ abstract",
             checks=(CheckSpec("symbolic", "the integral normalises", M._integral_normalises, timeout=60),
                     CheckSpec("symbolic", "a sum over a grid of K points normalises", M._sum_normalises, timeout=60))),
        prose("The seed's equation (4) integrates over $y$ in the denominator but reuses the same letter $y$ "
              "that is free in the numerator; the denominator needs its own variable $y'$. With that reading it "
              "is right, with $\\beta > 0$."),
        Figure("gibbs", "One energy and its Gibbs distributions at four inverse temperatures: small $\\beta$ "
                        "spreads the mass, large $\\beta$ concentrates it on the argmin.",
               make_gibbs_figure, checks=(_gibbs_figure_check(),), width="0.95"),
    ))


def _latent_section() -> Section:
    """(c): marginalising a latent variable gives the Gibbs distribution of the free energy."""
    _, target = M.marginal_pieces()
    return Section("(c) Latent variables: marginalisation and the free energy", (
        ReferenceBlock("ebm.joint_gibbs"),
        Step("marginal", tex(r"P(y \mid x) = \int_z P(y, z \mid x)\, dz = "
                             r"\frac{\int_z e^{-\beta E(x, y, z)}\, dz}{\int_{y'} \int_{z'} e^{-\beta E(x, y', z')}\,"
                             r" dz'\, dy'}"),
             "sum rule; the joint normaliser does not depend on $z$", relation="def",
             checks=ref("ebm.joint_gibbs").checks[:1]),
        Step("free-energy", display(sp.exp(-M.beta * M.FREE_ENERGY), r"e^{-\beta F_\beta(x, y)}"),
             "define $F_\\beta(x,y) = -\\frac{1}{\\beta} \\log \\int_z e^{-\\beta E(x,y,z)}\\, dz$; "
             "SymPy evaluates the exponential of the logarithm",
             checks=(_symbolic("exp(-beta F_beta) is the partition function over z", _exp_free_energy_is_partition),)),
        Step("marginal-gibbs", display(target, r"P(y_j \mid x)"),
             "substitute; on grids of symbolic sizes $J$ (for $y$) and $K$ (for $z$), SymPy reduces "
             "$\\sum_k P(y_j, z_k \\mid x)$ to this",
             checks=ref("ebm.free_energy").checks[:2], boxed=True),
        ReferenceBlock("ebm.free_energy"),
        prose("So a latent-variable EBM is a Gibbs model of the free energy $F_\\beta$: deterministically "
              "(at zero temperature) $F(x, y) = \\min_z E(x, y, z)$, probabilistically $F_\\beta$."),
        Step("seed-joint", tex(r"\sum_{y} \sum_{z} \frac{e^{-\beta E(x, y, z)}}{\sum_{y'} e^{-\beta E(x, y', z)}} "
                               r"= |Z| \ne 1"),
             "the seed normalises the joint over $y$ only", relation="given", checks=(_seed_joint_check(),)),
        prose("Grading (c). The seed's joint divides by $\\int_y$ alone, and its marginal has $\\int_y$ where "
              "$\\int_z$ belongs in the numerator and $\\int_y\\int_z$ in the denominator; as written it sums to "
              "$|Z|$, not 1. Its final line $e^{-\\beta F_\\beta} / \\int_y e^{-\\beta F_\\beta}$ and its "
              "definition of $F_\\beta$ are right: the intermediate steps are wrong, the result is right."),
    ))


def _zero_temperature_section() -> Section:
    """The free energy tends to the minimum energy as the temperature goes to zero."""
    *_, Fb3 = M.zero_temperature_pieces(3)
    _, lim3, _, factored3, _ = M.zero_temperature_limit(3)
    return Section("Zero temperature: the free energy tends to the minimum", (
        prose("Take a finite set of $|Z|$ latent values with energies $E_k = m + d_k$, where $m = \\min_z E$ "
              "and $d_k > 0$ for the others (shown for $|Z| = 3$; the checks run $|Z| = 2, 3, 4$)."),
        Step("factor", display(factored3, r"F_\beta"), "factor $e^{-\\beta m}$ out of the sum and expand the "
             "logarithm; SymPy confirms it equals the definition",
             checks=(symbolic_equal(Fb3, factored3, "the factored form equals the definition",
                                    simplifier=lambda e: sp.simplify(sp.expand_log(e, force=True))),)),
        Step("bound", tex(r"\min_z E - \frac{\log |Z|}{\beta} \le F_\beta(x, y) \le \min_z E"),
             "each $e^{-\\beta d_k} \\in (0, 1]$, so the sum lies in $[1, |Z|]$", relation="\\le",
             checks=ref("ebm.zero_temperature").checks[1:3]),
        Step("limit", display(lim3, r"\lim_{\beta \to \infty} F_\beta"), "sp.limit; the bound squeezes too",
             checks=ref("ebm.zero_temperature").checks[:1] + ref("ebm.zero_temperature").checks[3:], boxed=True),
        ReferenceBlock("ebm.zero_temperature"),
        Figure("free-energy", "$F_\\beta$ of six latent energies against $\\beta$, inside the bound "
                              "$[\\min E - \\log|Z|/\\beta, \\min E]$ and converging to $\\min_z E$.",
               make_free_energy_figure, checks=_free_energy_figure_checks(), width="0.7"),
    ))


def _nll_section() -> Section:
    """(d): the NLL loss from the likelihood, its gradient by Leibniz, and the seed's last line."""
    return Section("(d) The negative log-likelihood loss and its gradient", (
        Step("likelihood", tex(r"P(y_1, \ldots, y_N \mid x_1, \ldots, x_N, w) = \prod_{i=1}^{N} P_w(y_i \mid x_i)"),
             "an assumption: the training pairs are drawn independently", relation="given"),
        Step("nll", display(M.nll_one_pair(), r"-\frac{1}{\beta} \log P_w(y_i \mid x_i)"),
             "expand the logarithm of the Gibbs density; averaging over the $N$ pairs gives the loss, in units "
             "of energy (the product over pairs is checked on a grid of 3 points with $N = 2$)",
             checks=(symbolic_equal(M.nll_one_pair(), M.NLL_TERM, "one pair's term of the loss",
                                    simplifier=lambda e: sp.simplify(e.as_dummy())),
                     *ref("ebm.nll_loss").checks[:1], _likelihood_check())),
        ReferenceBlock("ebm.nll_loss"),
        Step("leibniz", display(M.w_implicit(M.nll_gradient_derived()), r"\frac{\partial \mathcal{L}_i}{\partial w}"),
             "sp.diff of one sample's loss, $F_w$ abstract: SymPy differentiates under the integral sign",
             checks=ref("ebm.nll_gradient").checks[:2]),
        Step("expectation", tex(r"\frac{\partial \mathcal{L}}{\partial w} = \frac{1}{N} \sum_i \Big["
                                r"\frac{\partial F_w(x_i, y_i)}{\partial w} - \mathbb{E}_{y \sim P_w(\cdot \mid x_i)}"
                                r"\frac{\partial F_w(x_i, y)}{\partial w}\Big]"),
             "the ratio is the Gibbs density: push down the energy of the data, pull up the energy where the "
             "model puts mass", checks=ref("ebm.nll_gradient").checks[2:], boxed=True),
        ReferenceBlock("ebm.nll_gradient"),
        Step("latent-gradient", display(M.w_implicit(_latent_gradient_pieces()[0]),
                                        r"\frac{\partial F_\beta}{\partial w}"),
             "with a latent $z$, differentiate $F_\\beta$ under the integral: this is "
             "$\\mathbb{E}_{z \\sim P(z \\mid x, y)} \\frac{\\partial E(x, y, z)}{\\partial w}$",
             checks=(_symbolic("Leibniz for the free energy, E abstract", _latent_gradient_symbolic),
                     CheckSpec("oracle", "complex step of ebm.free_energy and torch autograd of -(1/beta) logsumexp",
                               _latent_gradient_numeric))),
        Step("seed-gradient", tex(r"\frac{\partial \mathcal{L}}{\partial w} \ne F_w(x_i, y_i) + F_{\beta, w}(x_i, y)"),
             "adding a constant $c$ to $F_w$ leaves the gradient alone but moves the seed's last line by $2c$",
             relation="given", checks=(_symbolic("the seed's last line is not the gradient", _seed_last_line),)),
        prose("Grading (d). The loss is right. The seed's intermediate line, "
              "$-\\log P(y^{(i)} \\mid x^{(i)}, w)$ written as "
              "$\\sum_i^N \\beta F_w(x^{(i)}, y^{(i)}) + \\log \\int_y \\exp(-\\beta F_w(x^{(i)}, y))$, is, for one pair, $\\beta$ times that pair's term of the loss, as "
              "it should be (no $\\frac{1}{\\beta}$ belongs there); its defect is the stray $\\sum_i$ on the "
              "right of a left side that is one sample's. The first gradient line has the right shape for one "
              "sample, but writes $\\mathbb{P}(y^{(i)} \\mid x^{(i)})$ inside the integral where the density at "
              "$y$ belongs. The last line, $F_w + F_{\\beta,w}$, is wrong: it has no derivatives and its sign is "
              "flipped."),
    ))


def _pirl_section() -> Section:
    """(e): PIRL's h and NCE loss, the signs of the loss's gradient, and the seed's h."""
    nce_d = dict(nce_derivatives())
    return Section("(e) PIRL and the NCE loss", (
        ReferenceBlock("contrastive.pirl_h"),
        ReferenceBlock("contrastive.nce_loss"),
        prose("Write every similarity as a free real: $a = s(f(v_I), g(v_{I^t}))$ for the positive pair, "
              "$b_k = s(g(v_{I^t}), v_{I'_k})$ and $c_k = s(g(v_{I^t}), f(v_{I'_k}))$ for the negatives, and "
              "$d_{kl} = s(f(v_{I'_k}), v_{I'_l})$ for the negatives in the denominator of "
              "$h(g(v_{I^t}), f(v_{I'_k}))$. The energy of a pair is $-s/\\tau$. SymPy differentiates the loss "
              "($|D_N| = 2$):"),
        Step("grad-positive", display(nce_d["a"], r"\frac{\partial L_{NCE}}{\partial a}"),
             "negative: a gradient step raises $a$, lowering the positive pair's energy",
             checks=ref("contrastive.nce_loss").checks[:1]),
        Step("grad-negative", display(nce_d["c_1"], r"\frac{\partial L_{NCE}}{\partial c_1}"),
             "positive: a gradient step lowers $c_1$, raising the negative pair's energy",
             checks=ref("contrastive.nce_loss").checks[:1]),
        Step("grad-denominator", display(nce_d["b_1"], r"\frac{\partial L_{NCE}}{\partial b_1}"),
             "positive too: the negatives are pushed away from the transformed image",
             checks=ref("contrastive.nce_loss").checks[:1]),
        Step("seed-h", tex(r"h_{\mathrm{seed}}(v_I, v_{I^t}) = h(v_{I^t}, v_I) \ne h(v_I, v_{I^t})"),
             "the seed compares the negatives with $v_I$ instead of $v_{I^t}$: its h is PIRL's with the "
             "arguments swapped, and the verify engine finds points where the two differ", relation="given",
             checks=(C.seed_form_check(), C.seed_form_exact(), _seed_h_by_checker())),
        _seed_counterexample_table(),
        prose("Grading (e). The loss $L_{NCE}$ is PIRL's; the description of pushing energies down on positive "
              "pairs and up on negatives is right and follows from the signs above. The denominator of $h$ is "
              "wrong: the two forms agree only when $s(v_I, v_{I'}) = s(v_{I^t}, v_{I'})$ for every negative."),
    ))


def _architecture_section() -> Section:
    """(f): K-means, sparse coding and the VAE's KL."""
    zp, zn = Lt.sparse_code_branches()
    return Section("(f) Architectural methods", (
        Step("one-hot", tex(r"z = e_k \implies W z = w_k, \quad \lVert y - W z \rVert^2 = \lVert y - w_k \rVert^2"),
             "a one-hot code picks one column of $W$ (SymPy, $d = 2$, $k = 3$)",
             checks=ref("latent.kmeans_energy").checks[:1]),
        ReferenceBlock("latent.kmeans_energy"),
        Figure("kmeans", "The K-means free energy $F(y) = \\min_k \\lVert y - w_k \\rVert^2$ for three prototypes "
                         "in the plane: low energy only near the $k$ prototypes.",
               make_kmeans_figure, checks=(_kmeans_figure_check(),), width="0.6"),
        ReferenceBlock("latent.sparse_coding_energy"),
        prose("At a one-hot $z$ the sparse-coding energy is the K-means energy plus $\\lambda$; in general the "
              "$\\ell_1$ term limits how many columns of $W$ combine, which bounds the volume of low energy."),
        Step("sparse-one-atom", display(sp.Piecewise((zp, Lt.atom_a > Lt.lam / 2), (zn, Lt.atom_a < -Lt.lam / 2),
                                                     (0, True)),
                                        r"\operatorname{argmin}_z \lVert y - w z \rVert^2 + \lambda |z|"),
             "one atom $w$ and a scalar code: with $a = w^\\top y$ and $c = \\lVert w \\rVert^2$, solve the "
             "stationarity condition on each sign of $z$; between the branches the minimiser is 0. This is soft "
             "thresholding: the $\\ell_1$ term sets small codes exactly to zero",
             checks=ref("latent.sparse_coding_energy").checks[:2], boxed=True),
        Step("kl-integral", display(Lt.kl_derived(), r"\int q \log \frac{q}{p}\, dt"),
             "one coordinate: $q = \\mathcal{N}(\\mu_j, \\sigma_j^2)$, $p = \\mathcal{N}(0, 1)$, integrated by "
             "sp.integrate in $s$, where $t = \\mu_j + \\sigma_j s$ and $dt = \\sigma_j\\, ds$ ($\\sigma_j > 0$ "
             "keeps the limits); the densities factorise, so the KL of the diagonal Gaussian sums over $j$",
             checks=ref("latent.vae_kl").checks[:1] + ref("latent.vae_kl").checks[2:3]),
        ReferenceBlock("latent.vae_kl"),
        ReferenceBlock("latent.vae_loss"),
        prose("Grading (f). The seed's K-means and sparse-coding energies are right once the lost minus sign is "
              "restored ($\\lVert y - W z \\rVert$); they are latent-variable energies $E(y, z)$, whose free "
              "energy is the minimum over $z$. The VAE loss is right, with the KL term made explicit above."),
    ))


def derivation(runner=None) -> Derivation:
    return Derivation(
        slug="q3-energy",
        title="Question 3: Energy-based models",
        description="Gibbs distributions, free energy, the NLL gradient, PIRL's NCE loss and architectural EBMs",
        question=QUESTION,
        sections=(_inference_section(), _gibbs_section(), _latent_section(), _zero_temperature_section(),
                  _nll_section(), _pirl_section(), _architecture_section()) + _audit(runner),
    )


def _audit(runner) -> tuple:
    """The seed audit's section for this question, when the audit module is there."""
    try:
        from _audit.sections import audit_section
    except ImportError:
        return ()
    return (audit_section(3, runner),)
