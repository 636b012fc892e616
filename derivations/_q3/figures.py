"""Question 3: the Gibbs distributions, the free energy against the temperature and the K-means surface, each
with its check against PyTorch."""

from __future__ import annotations

import numpy as np

from symdl import ref
from symdl.document.figures import pyplot, save
from symdl.verify.spec import RTOL, CheckSpec, compare_trials

from _figstyle import PRINT, inches


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
    with plt.rc_context(PRINT):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(inches(0.95), 2.6))
        a1.plot(Y_GRID, double_well(0.0, Y_GRID), color="k")
        a1.set_title(r"energy $F(x, y) = (y^2 - 1)^2 + 0.3\,y$")
        for b, p in gibbs_curves().items():
            a2.plot(Y_GRID, p, label=rf"$\beta = {b:g}$")
        a2.set_title(r"Gibbs masses $P(y \mid x)$, 201 grid points")
        for a in (a1, a2):
            a.set_xlabel("$y$")
            a.grid(alpha=0.3)
        a2.legend(loc="upper right")
        save(fig, path)


def gibbs_figure_check():
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
    with plt.rc_context(PRINT):
        fig, ax = plt.subplots(figsize=(inches(0.7), 2.7))
        ax.semilogx(BETA_RANGE, F, lw=2, label=r"$F_\beta(x, y)$")
        ax.axhline(m, color="k", ls="--", label=r"$\min_z E(x, y, z)$")
        ax.semilogx(BETA_RANGE, low, color="gray", ls=":", label=r"$\min_z E - \log|Z| / \beta$")
        pad = 0.05 * (m - low.min())
        ax.set_ylim(low.min() - pad, m + 2 * pad)
        ax.set_xlabel(r"inverse temperature $\beta$")
        ax.set_ylabel("energy")
        ax.legend(loc="lower right")
        ax.grid(alpha=0.3)
        save(fig, path)


def free_energy_figure_checks():
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


PROTOTYPES = np.array([[-1.0, 0.2], [1.2, 0.8], [0.3, -1.1]]).T  # W: columns w_k in 2-D
MESH = np.linspace(-2.5, 2.5, 41)


def kmeans_surface():
    km = ref("latent.kmeans_energy")
    return np.array([[float(km.evaluate({"y": np.array([a, b]), "W": PROTOTYPES})) for a in MESH] for b in MESH])


def make_kmeans_figure(path):
    plt = pyplot()
    with plt.rc_context(PRINT):
        fig, ax = plt.subplots(figsize=(inches(0.55), 3.0))
        cs = ax.contourf(MESH, MESH, kmeans_surface(), levels=20, cmap="viridis")
        fig.colorbar(cs, ax=ax, label=r"$F(y) = \min_k \|y - w_k\|^2$")
        ax.scatter(*PROTOTYPES, color="w", edgecolor="k", zorder=3, label="prototypes $w_k$")
        ax.set_xlabel("$y_1$")
        ax.set_ylabel("$y_2$")
        ax.legend(loc="upper left")
        ax.set_aspect("equal")
        save(fig, path)


def kmeans_figure_check():
    def run():
        import torch

        Y = torch.as_tensor(np.array([[a, b] for b in MESH for a in MESH]))
        want = (torch.cdist(Y, torch.as_tensor(PROTOTYPES).T).min(1).values ** 2).reshape(len(MESH), len(MESH))
        return compare_trials([("41 x 41 mesh", kmeans_surface(), want.numpy())], RTOL)

    return CheckSpec("oracle", "the plotted surface against torch.cdist and min", run)


