"""The seed audit, question 2, parts (c) to (f): the computations behind the claims in words about batches, the
noise of SGD and SGD against GD.

Two least-squares problems serve: one of 500 samples for the noise of a step (parts (e)), one of 200 samples
for whole runs (part (f)); per-sample gradients of l_i(w) = (x_i . w - y_i)^2 / 2 are exact.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from _audit.findings import num

# -- (c), (d): batches -------------------------------------------------------------------------------


def _batch_noise():
    rng = np.random.default_rng(2)
    N = 1000
    grads = rng.normal(size=N) + 0.3
    s2 = grads.var(ddof=1)
    out = {}
    for b in (8, 128):
        means = np.array([grads[rng.choice(N, b, replace=False)].mean() for _ in range(4000)])
        out[b] = (means.var(ddof=1), s2 / b * (N - b) / (N - 1))
    ok = all(abs(emp / th - 1) < 0.1 for emp, th in out.values()) and out[8][0] > 5 * out[128][0]
    ratio = out[8][0] / out[128][0]
    return ok, (f"a batch of 8 has ${num(ratio)}$ times the variance of a batch of 128: small batches take more, "
                "noisier steps, so “sooner” holds per epoch, not per update. The variance of a batch mean is "
                f"$s^2/M \\cdot (N - M)/(N - 1)$ (sampled ${num(out[8][0], 3)}$ and ${num(out[128][0], 3)}$, formula "
                f"${num(out[8][1], 3)}$ and ${num(out[128][1], 3)}$, $N = 1000$); the regularisation is an empirical "
                "effect, not a property of the update"), None


def expected_share(K: int, M: int) -> float:
    """The expected share of K balanced classes present in a batch of M drawn uniformly: 1 - (1 - 1/K)^M."""
    return 1 - (1 - 1 / K) ** M


def _classes_rule():
    rng = np.random.default_rng(19)
    K = 10
    sampled = {M: float(np.mean([len(set(rng.integers(0, K, M))) for _ in range(20000)])) / K for M in (K, 2 * K)}
    exact = {M: expected_share(K, M) for M in (K, 2 * K)}
    floor_k, floor_2k = (min(expected_share(k, m * k) for k in range(2, 1001)) for m in (1, 2))
    ok = (all(abs(sampled[M] - exact[M]) < 0.01 for M in exact) and floor_k > 1 - math.exp(-1) - 1e-12
          and floor_2k > 1 - math.exp(-2) - 1e-12)
    return ok, (f"the course's rule of thumb is $K$ to $2K$: for $K = {K}$ a uniform batch of $K$ holds "
                f"${num(100 * exact[K])}$ percent of the classes on average, one of $2K$ ${num(100 * exact[2 * K])}$ "
                f"percent. Sampled: ${num(100 * sampled[K])}$ and ${num(100 * sampled[2 * K])}$; for every $K$ up to "
                f"$1000$ at least ${num(100 * floor_k)}$ and ${num(100 * floor_2k)}$ percent: most classes in every "
                "batch, with many updates an epoch"), None


def _batch_of_k():
    K = 10
    exact = math.factorial(K) / K ** K
    rng = np.random.default_rng(9)
    draws = rng.integers(0, K, size=(200000, K))
    sampled = float(np.mean(np.all(np.sort(draws, axis=1) == np.arange(K), axis=1)))
    stratified = np.array([rng.permutation(K) for _ in range(1000)])
    all_in_stratified = bool(np.all(np.sort(stratified, axis=1) == np.arange(K)))
    ok = abs(sampled - exact) < 2e-4 and all_in_stratified
    return ok, (f"a uniform batch of $K = {K}$ holds every class with probability $K!/K^K = {num(exact)}$; only a "
                "class-stratified batch always does. Sampled: "
                f"${num(sampled)}$ in 200000 batches, and every one of 1000 stratified batches: $M \\ge K$ is what "
                "stratified batches need, not what makes a uniform batch represent the data"), None


# -- (e): the noise of a step ------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _noise_problem():
    """Least squares, 500 samples in 5 dimensions: X, y, the true weights and a point far from them."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 5))
    w_true = rng.normal(size=5)
    y = X @ w_true + 0.1 * rng.normal(size=500)
    return X, y, w_true, w_true + 5 * rng.normal(size=5)


def _gradients(w):
    """The mean gradient at w, and the root mean square spread of the per-sample gradients about it."""
    X, y, _, _ = _noise_problem()
    g = (X @ w - y)[:, None] * X
    mean = g.mean(0)
    return mean, float(np.sqrt(np.mean(np.sum((g - mean) ** 2, 1)))), g


def snr(w) -> float:
    """Signal to noise of a one-sample gradient at w: ||mean gradient|| / rms(sample gradient - mean)."""
    mean, spread, _ = _gradients(w)
    return float(np.linalg.norm(mean)) / spread


def _noise_early():
    _, _, w_true, w_far = _noise_problem()
    far, at_opt = snr(w_far), snr(w_true)
    return far > 5 * at_opt and far < 1, (
        f"one sample's signal to noise is ${num(far)}$ far from the optimum and ${num(at_opt)}$ at it: “small” "
        "holds relative to later, not outright. Early on the noise of one sample still exceeds the mean gradient "
        "(a ratio below 1); it is small only for large batches"), None


def _noise_not_accumulated():
    from symdl import ref

    X, y, _, w_far = _noise_problem()
    w_opt = np.linalg.lstsq(X, y, rcond=None)[0]
    w_near = w_opt + 0.01 * (w_far - w_opt) / np.linalg.norm(w_far - w_opt)
    near, far = snr(w_near), snr(w_far)
    reads = sorted(i.name for i in ref("optim.sgd").inputs)
    stateless = reads == sorted([r"\theta_k", r"\gamma", r"\nabla \ell_i(\theta_k)", "B"])
    return stateless and near < 0.1 < far, (
        f"plain SGD carries nothing from step to step, and a first step near the optimum has signal to noise "
        f"${num(near)}$, against ${num(far)}$ far away: the noise depends on where the iterate is, not on what has "
        r"accumulated. The update reads only $\theta_k$, $\gamma$ and the batch's gradients; the near start is "
        "$0.01$ from the optimum"), None


def _not_comparable():
    _, _, _, w_far = _noise_problem()
    mean, spread, g = _gradients(w_far)
    n = len(g)
    signal = float(np.linalg.norm(mean))
    cosine = float(np.mean(g @ mean / (np.linalg.norm(g, axis=1) * signal)))

    def noise(m):  # rms distance of a batch mean from the mean gradient, batches drawn without replacement
        return spread * math.sqrt((n - m) / (m * (n - 1)))

    need = next(m for m in range(1, n + 1) if noise(m) <= 0.1 * signal)
    ok = spread / signal > 2 and need > n / 4
    return ok, (f"far from the optimum a one-sample step misses GD's by ${num(spread / signal)}$ times GD's length, "
                f"and a batch needs $M \\ge {need}$ of $N = {n}$ to come within 10 percent. The signal to noise is "
                f"${num(signal / spread)}$ there and the mean cosine ${num(cosine)}$: not virtually GD's step"), None


# -- (f): SGD against GD ------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _run_problem():
    """Least squares, 200 samples in 4 dimensions: X, y and the minimiser."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 4))
    y = X @ rng.normal(size=4) + 0.1 * rng.normal(size=200)
    return X, y, np.linalg.lstsq(X, y, rcond=None)[0]


def _loss(w) -> float:
    X, y, _ = _run_problem()
    return float(0.5 * np.mean((X @ w - y) ** 2))


def _sgd_faster():
    X, y, w_star = _run_problem()
    rng = np.random.default_rng(4)
    N, d = X.shape
    lr, w0 = 0.05, np.zeros(d)
    w_gd = w0 - lr * (X.T @ (X @ w0 - y)) / N                           # one GD update = one epoch
    one_sgd = np.mean([_loss(w0 - lr * X[k] * (X[k] @ w0 - y[k])) for k in range(N)])  # expected, over the sample
    w_sgd = w0.copy()
    for k in rng.permutation(N):                                        # one SGD epoch: N updates
        w_sgd = w_sgd - lr * X[k] * (X[k] @ w_sgd - y[k])
    ok = _loss(w_sgd) < _loss(w_gd) <= one_sgd
    return ok, (f"one epoch of SGD leaves a loss of ${num(_loss(w_sgd))}$, one GD update ${num(_loss(w_gd), 3)}$, but "
                f"one SGD update ${num(one_sgd, 3)}$: faster per epoch, not per update. The step is $0.05$ and "
                f"$N = {N}$; GD stops where the gradient vanishes, it assumes nothing"), None


def _sgd_run(rate, epochs: int, seed: int = 0):
    """SGD, one sample an update drawn with replacement, at learning rate ``rate(epoch)``: the mean excess loss
    over the last 20 epochs."""
    X, y, w_star = _run_problem()
    rng = np.random.default_rng(seed)
    w, tail = np.zeros(X.shape[1]), []
    for e in range(epochs):
        lr = rate(e)
        for k in rng.integers(0, len(y), len(y)):
            w = w - lr * X[k] * (X[k] @ w - y[k])
        if e >= epochs - 20:
            tail.append(_loss(w) - _loss(w_star))
    return float(np.mean(tail))


def _noise_ball():
    X, y, w_star = _run_problem()
    w = np.zeros(X.shape[1])
    for _ in range(300):
        w = w - 0.2 * (X.T @ (X @ w - y)) / len(y)
    gd = _loss(w) - _loss(w_star)
    big, small = _sgd_run(lambda e: 0.05, 60), _sgd_run(lambda e: 0.0125, 60)
    ok = gd < 1e-12 and big > 2 * small > 0 and small > 1e3 * max(gd, 1e-16)
    return ok, (f"at a constant step SGD stalls at an excess loss of ${num(big)}$ (${num(small)}$ at a quarter of the "
                f"step) while GD reaches ${num(gd)}$: a noise ball. The loss is least squares with one minimum; the "
                "ball shrinks with the step but stays"), None


def _decaying_converges():
    big, decaying = _sgd_run(lambda e: 0.05, 60), _sgd_run(lambda e: 0.05 / (1 + e), 200)
    return decaying < big / 100, (f"with a decaying step SGD's excess loss falls to ${num(decaying)}$: both converge "
                                  "only if SGD's step decays, a condition the seed does not state. The step is "
                                  f"$0.05/(1 + e)$ in epoch $e$, against ${num(big)}$ at the constant step"), None
