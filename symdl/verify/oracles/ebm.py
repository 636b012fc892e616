"""Independent oracles for seed question 3 (ebm, contrastive, latent), in PyTorch alone.

Nothing here imports symdl.  The energies are small random networks
(:class:`OneLayer`), evaluated on a whole grid at once; normalisers are
``torch.logsumexp``, likelihoods ``torch.distributions.Categorical``,
gradients autograd, similarities ``torch.nn.functional.cosine_similarity``,
the KL ``torch.distributions.kl_divergence`` and K-means ``torch.cdist``.
Inputs are numpy arrays (or numbers); outputs are numpy float64.
"""

from __future__ import annotations

import numpy as np


def _t(x):
    import torch

    return torch.as_tensor(np.asarray(x, dtype=np.float64))


class OneLayer:
    """``v^T tanh(A [a_1; a_2; ...] + c)``: a one-layer network of its arguments, weights seeded.

    ``numpy(*args)`` and ``torch(*args)`` compute the same scalar for one point
    (the numpy form accepts complex input, for complex-step derivatives);
    ``batch(*args)`` takes a stack of points in the last argument's first axis.
    With ``params=True`` the weights are read from a trailing flat vector ``w``
    instead (``F_w(x, y, w)``), and ``w0`` is a random starting value.
    """

    def __init__(self, sizes, seed: int = 0, hidden: int = 4, params: bool = False):
        rng = np.random.default_rng(seed)
        self.sizes, self.hidden, self.params = tuple(sizes), hidden, params
        din = sum(self.sizes)
        self.A = rng.normal(0, 0.8, (hidden, din))
        self.c = rng.normal(0, 0.5, hidden)
        self.v = rng.normal(0, 1.0, hidden)
        self.w0 = np.concatenate([self.A.ravel(), self.c, self.v])

    def _split(self, w, lib):
        h, din = self.hidden, sum(self.sizes)
        return w[: h * din].reshape(h, din), w[h * din: h * din + h], w[h * din + h:]

    def numpy(self, *args):
        if self.params:
            *args, w = args
            A, c, v = self._split(np.asarray(w), np)
        else:
            A, c, v = self.A, self.c, self.v
        u = np.concatenate([np.asarray(a).reshape(-1) for a in args])
        return v @ np.tanh(A @ u + c)

    def torch(self, *args):
        import torch

        if self.params:
            *args, w = args
            A, c, v = self._split(torch.as_tensor(w, dtype=torch.float64), torch)
        else:
            A, c, v = _t(self.A), _t(self.c), _t(self.v)
        u = torch.cat([torch.as_tensor(a, dtype=torch.float64).reshape(-1) for a in args])
        return v @ torch.tanh(A @ u + c)

    def batch(self, *args, w=None):
        """Energies of many points: every argument but the last is one point, the last a stack."""
        import torch

        if self.params:
            A, c, v = self._split(w, torch)
        else:
            A, c, v = _t(self.A), _t(self.c), _t(self.v)
        *fixed, grid = args
        grid = torch.as_tensor(grid, dtype=torch.float64)
        grid = grid.reshape(grid.shape[0], -1)
        head = torch.cat([torch.as_tensor(a, dtype=torch.float64).reshape(-1) for a in fixed]) if fixed else None
        u = grid if head is None else torch.cat([head.expand(grid.shape[0], -1), grid], dim=1)
        return torch.tanh(u @ A.T + c) @ v


# -- ebm -----------------------------------------------------------------------------------


def inference(energy: OneLayer, x, grid) -> np.ndarray:
    """``argmin_y F(x, y)`` over the grid rows."""
    F = energy.batch(x, grid)
    return np.asarray(grid)[int(F.argmin())]


def gibbs(energy: OneLayer, x, grid, beta) -> np.ndarray:
    """``exp(-beta F - logsumexp(-beta F))`` over the grid."""
    import torch

    a = -beta * energy.batch(x, grid)
    return torch.exp(a - torch.logsumexp(a, 0)).numpy()


def joint_gibbs(energy: OneLayer, x, ygrid, zgrid, beta) -> np.ndarray:
    """The matrix ``P(y_j, z_k | x)``, normalised over both grids by one logsumexp."""
    import torch

    ygrid, zgrid = np.asarray(ygrid), np.asarray(zgrid)
    E = torch.stack([energy.batch(x, yj, zgrid) for yj in ygrid])
    a = -beta * E
    return torch.exp(a - torch.logsumexp(a.reshape(-1), 0)).numpy()


def free_energy(energy: OneLayer, x, y, zgrid, beta) -> float:
    """``-(1/beta) logsumexp(-beta E(x, y, z))`` over the z grid."""
    import torch

    return float(-torch.logsumexp(-beta * energy.batch(x, y, zgrid), 0) / beta)


def nll_loss_torch(energy: OneLayer, w, xs, ys_index, grid, beta):
    """``-(1/(N beta)) sum_i log P_w(y_i | x_i)`` by ``Categorical(logits=-beta F_w)`` (a tensor)."""
    import torch

    logp = []
    for x, k in zip(np.asarray(xs), ys_index):
        dist = torch.distributions.Categorical(logits=-beta * energy.batch(x, grid, w=w))
        logp.append(dist.log_prob(torch.tensor(int(k))))
    return -torch.stack(logp).mean() / beta


def nll_loss(energy: OneLayer, w, xs, ys_index, grid, beta) -> float:
    return float(nll_loss_torch(energy, _t(w), xs, ys_index, grid, beta))


def nll_gradient(energy: OneLayer, w, xs, ys_index, grid, beta) -> np.ndarray:
    """Autograd of the loss above with respect to ``w``."""
    import torch

    wt = _t(w).clone().requires_grad_(True)
    (g,) = torch.autograd.grad(nll_loss_torch(energy, wt, xs, ys_index, grid, beta), wt)
    return g.numpy()


def free_energy_bounds(energy: OneLayer, x, y, zgrid, betas) -> list[tuple[float, float, float]]:
    """``(beta, F_beta - min E, log|Z| / beta)`` at each beta, by a stable logsumexp."""
    import torch

    E = energy.batch(x, y, zgrid)
    out = []
    for beta in betas:
        F = -torch.logsumexp(-beta * E, 0) / beta
        out.append((float(beta), float(F - E.min()), float(np.log(len(zgrid)) / beta)))
    return out


# -- contrastive ---------------------------------------------------------------------------


def pirl_h(a, b, negatives, tau) -> float:
    """PIRL's ``h(a, b)``: the positive's share of a softmax over {(a, b)} and {(b, v_I') : I' in D_N}."""
    import torch
    from torch.nn.functional import cosine_similarity as cos

    a, b, neg = _t(a).reshape(1, -1), _t(b).reshape(1, -1), _t(negatives)
    logits = torch.cat([cos(a, b), cos(b.expand_as(neg), neg)]) / tau
    return float(torch.exp(logits[0] - torch.logsumexp(logits, 0)))


def nce_loss(vI, vIt, negatives, tau, f, g) -> float:
    """``-log h(f(v_I), g(v_It)) - sum_I' log(1 - h(g(v_It), f(v_I')))``, f and g matrices."""
    f, g = np.asarray(f), np.asarray(g)
    fv, gv = f @ np.asarray(vI), g @ np.asarray(vIt)
    loss = -np.log(pirl_h(fv, gv, negatives, tau))
    for vn in np.asarray(negatives):
        loss -= np.log1p(-pirl_h(gv, f @ vn, negatives, tau))
    return float(loss)


# -- latent --------------------------------------------------------------------------------


def kmeans_free_energy(y, W) -> float:
    """``min_k ||y - w_k||^2`` by ``torch.cdist`` to the columns of ``W`` and argmin."""
    import torch

    d = torch.cdist(_t(y).reshape(1, -1), _t(W).T)[0]
    return float(d[d.argmin()] ** 2)


def squared_error(y, yhat) -> float:
    import torch

    return float(torch.nn.functional.mse_loss(_t(yhat), _t(y), reduction="sum"))


def sparse_coding_energy(y, W, z, lam) -> float:
    import torch

    return float(torch.nn.functional.mse_loss(_t(W) @ _t(z), _t(y), reduction="sum")
                 + lam * torch.linalg.vector_norm(_t(z), ord=1))


def vae_kl(mu, sigma) -> float:
    """``KL(N(mu, diag sigma^2) || N(0, I))`` by ``torch.distributions.kl_divergence``."""
    import torch
    from torch.distributions import Independent, Normal, kl_divergence

    q = Independent(Normal(_t(mu), _t(sigma)), 1)
    p = Independent(Normal(torch.zeros(len(mu), dtype=torch.float64), torch.ones(len(mu), dtype=torch.float64)), 1)
    return float(kl_divergence(q, p))


def vae_loss(y, yhat, mu, sigma, beta) -> float:
    return squared_error(y, yhat) + beta * vae_kl(mu, sigma)
