r"""The seed audit, question 3, part (f): the computations behind the claims in words about sparse coding and the
VAE.

The VAE here has a linear decoder ``y_hat = W z`` and a Gaussian encoder ``q(z | y) = N(mu, diag sigma^2)``, so
that the expected reconstruction error has a closed form to hold the sampled one against.
"""

from __future__ import annotations

import numpy as np

from _audit.findings import num


def _lasso_codes(W, Y, lam, iterations=20000):
    """argmin_z ||y - W z||^2 + lam ||z||_1 for every row y of Y, by iterative soft thresholding."""
    step = 1 / (2 * np.linalg.norm(W, 2) ** 2)
    Z = np.zeros((len(Y), W.shape[1]))
    for _ in range(iterations):
        U = Z - step * 2 * (Z @ W.T - Y) @ W
        Z = np.sign(U) * np.maximum(np.abs(U) - step * lam, 0)
    return Z


def _piecewise_linear():
    rng = np.random.default_rng(7)
    W, lam = rng.normal(size=(2, 3)), 0.5
    s = np.linspace(-3, 3, 241)
    Y = rng.normal(size=2)[None, :] + s[:, None] * rng.normal(size=2)[None, :]
    Z = _lasso_codes(W, Y, lam)
    G = 2 * (Z @ W.T - Y) @ W  # optimality: G = -lam sign(z) where z != 0, |G| <= lam where z = 0
    kkt = max(np.max(np.abs(G[Z != 0] + lam * np.sign(Z[Z != 0]))), np.max(np.abs(G[Z == 0])) - lam)
    R = Z @ W.T
    bent = np.abs(R[2:] - 2 * R[1:-1] + R[:-2]).max(1) > 1e-8
    support = [tuple(row) for row in (Z != 0)]
    changes = {i for i in range(1, len(s)) if support[i] != support[i - 1]}
    near_change = all(any(abs(i + 1 - c) <= 1 or abs(i + 2 - c) <= 1 for c in changes) for i in np.flatnonzero(bent))
    ok = kkt < 1e-9 and near_change and 0 < bent.sum() < 0.1 * len(bent)
    return ok, (f"along a line the sparse code's reconstruction has zero second differences at "
                f"{len(bent) - int(bent.sum())} of {len(bent)} points, bending only where the active atoms change: "
                f"piecewise linear. Three atoms in the plane, $\\lambda = {lam}$, codes optimal to "
                f"${num(max(kkt, 1e-16))}$; the active set changes {len(changes)} times"), None


def _vae_terms():
    import torch
    from torch.distributions import Normal, kl_divergence

    from symdl import ref

    rng = np.random.default_rng(21)
    worst = 0.0
    for n_, d in ((3, 2), (5, 4)):
        v = {"y": rng.normal(size=n_), r"\hat{y}": rng.normal(size=n_), r"\mu": rng.normal(size=d),
             r"\sigma": rng.uniform(0.3, 2.0, d)}
        one, two = (float(ref("latent.vae_loss").evaluate({**v, r"\beta": b})) for b in (1.0, 2.0))
        t = {k: torch.tensor(x) for k, x in v.items()}
        rec = float(torch.nn.functional.mse_loss(t["y"], t[r"\hat{y}"], reduction="sum"))
        kl = float(kl_divergence(Normal(t[r"\mu"], t[r"\sigma"]), Normal(0.0, 1.0)).sum())
        worst = max(worst, abs((2 * one - two) - rec) / rec, abs((two - one) - kl) / kl)
    return worst < 1e-12, (r"read as the squared error plus $\beta\, \mathrm{KL}(q(z \mid y) \,\Vert\, "
                           r"\mathcal{N}(0, I))$, the seed's two terms are the VAE loss. PyTorch's squared error and "
                           f"Gaussian divergence give its two parts to ${num(worst)}$"), worst


def _kl_of_a_point():
    from symdl import ref

    kl = {s: float(ref("latent.vae_kl").evaluate({r"\mu": np.array([0.5]), r"\sigma": np.array([s])}))
          for s in (1e-2, 1e-4, 1e-8)}
    slope = (kl[1e-8] - kl[1e-4]) / np.log(1e4)
    ok = kl[1e-2] < kl[1e-4] < kl[1e-8] and abs(slope - 1) < 1e-3
    return ok, (r"the terms are the right two, but the divergence must be of $q(z \mid y)$: of the code $z$, a "
                rf"point, it is infinite (${num(kl[1e-8], 3)}$ at $\sigma = 10^{{-8}}$), and the expectation over "
                r"$z \sim q$ is missing. $\mathrm{KL}(\mathcal{N}(0.5, \sigma^2) \,\Vert\, \mathcal{N}(0, 1))$ "
                rf"is ${num(kl[1e-2], 3)}$ at $\sigma = 10^{{-2}}$, growing like $-\log\sigma$"), None


def _expected_reconstruction(y, W, mu, sigma, samples=0, seed=0):
    """E_{z ~ N(mu, sigma^2)} ||y - W z||^2: in closed form, or by ``samples`` reparameterised samples."""
    if not samples:
        return float(np.sum((y - W @ mu) ** 2) + np.sum(sigma ** 2 * np.sum(W ** 2, 0)))
    eps = np.random.default_rng(seed).normal(size=(samples, len(mu)))
    return float(np.mean(np.sum((y - (mu + sigma * eps) @ W.T) ** 2, 1)))


def _no_kl_collapses():
    rng = np.random.default_rng(22)
    y, W, mu = rng.normal(size=4), rng.normal(size=(4, 2)), rng.normal(size=2)
    closed = {s: _expected_reconstruction(y, W, mu, np.full(2, s)) for s in (1.0, 0.1, 0.0)}
    sampled = _expected_reconstruction(y, W, mu, np.full(2, 1.0), samples=200000)
    ok = closed[1.0] > closed[0.1] > closed[0.0] and abs(sampled / closed[1.0] - 1) < 0.02
    return ok, (f"without the divergence the expected reconstruction error falls as $\\sigma \\to 0$, "
                f"${num(closed[1.0], 3)}$ at $\\sigma = 1$ and ${num(closed[0.1], 3)}$ at $0.1$: the encoder turns "
                r"deterministic, a plain autoencoder. For a linear decoder it is $\lVert y - W\mu \rVert^2 + "
                r"\sum_j \sigma_j^2 \lVert w_j \rVert^2$; sampling agrees to "
                f"${num(abs(sampled / closed[1.0] - 1))}$"), None


def _no_kl_scale_free():
    from symdl import ref

    rng = np.random.default_rng(23)
    y, W, mu, sigma = rng.normal(size=4), rng.normal(size=(4, 2)), rng.normal(size=2), np.full(2, 1e-3)
    plain, with_kl = {}, {}
    for c in (0.1, 1.0, 10.0):  # codes scaled by c, the decoder by 1/c: the same reconstructions
        plain[c] = _expected_reconstruction(y, W / c, c * mu, c * sigma)
        with_kl[c] = plain[c] + float(ref("latent.vae_kl").evaluate({r"\mu": c * mu, r"\sigma": c * sigma}))
    spread = max(plain.values()) / min(plain.values()) - 1
    ok = spread < 1e-9 and max(with_kl.values()) / min(with_kl.values()) - 1 > 0.01
    return ok, ("without the divergence the loss does not change when the codes are scaled by $0.1$ or $10$, so "
                r"nothing ties them to $\mathcal{N}(0, I)$: generation is lost, which the seed calls overfitting. "
                f"The loss stays within ${num(max(spread, 1e-16))}$ (the decoder scaled by the inverse); with the "
                f"divergence the three differ: ${num(with_kl[0.1], 3)}$, ${num(with_kl[1.0], 3)}$, "
                f"${num(with_kl[10.0], 3)}$"), None
