"""The seed audit, question 2: the computations behind the claims in words about SGD, momentum, RMSprop, Adam
and NONMONO.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp


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
    return ok, (f"4000 batches drawn without replacement from N = 1000 per-sample gradients: the variance of the batch "
                f"mean is s^2/|B| (N - |B|)/(N - 1) (sampled {out[8][0]:.3g} and {out[128][0]:.3g}, formula "
                f"{out[8][1]:.3g} and {out[128][1]:.3g}), {ratio:.1f} times larger at |B| = 8 than at 128: small "
                "batches are noisier per step and take more steps per epoch; 'converge sooner' holds per epoch, "
                "not per update, and the regularisation is an empirical effect, not a consequence of the update"), None


def _batch_of_k():
    K = 10
    exact = math.factorial(K) / K ** K
    rng = np.random.default_rng(9)
    draws = rng.integers(0, K, size=(200000, K))
    sampled = float(np.mean(np.all(np.sort(draws, axis=1) == np.arange(K), axis=1)))
    stratified = np.array([rng.permutation(K) for _ in range(1000)])
    all_in_stratified = bool(np.all(np.sort(stratified, axis=1) == np.arange(K)))
    ok = abs(sampled - exact) < 2e-4 and all_in_stratified
    return ok, (f"K = {K} balanced classes: a batch of K drawn uniformly holds every class with probability K!/K^K = "
                f"{exact:.2g} (sampled {sampled:.2g} in 200000 batches); a class-stratified batch (one sample per "
                "class, 1000 drawn) holds every class each time: batch size >= K is what stratified batches need, "
                "not what makes a uniform batch represent the data"), None


def _noise_early():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 5))
    w_true = rng.normal(size=5)
    y = X @ w_true + 0.1 * rng.normal(size=500)

    def snr(w):
        g = (X @ w - y)[:, None] * X
        return np.linalg.norm(g.mean(0)) / np.sqrt(np.mean(np.sum((g - g.mean(0)) ** 2, 1)))

    far, at_opt = snr(w_true + 5 * rng.normal(size=5)), snr(w_true)
    return far > 5 * at_opt and far < 1, (
        f"least squares, 500 samples: ||mean gradient|| / rms(sample gradient - mean) is {far:.2g} far from the "
        f"optimum and {at_opt:.2g} at it, so the noise matters more late than early; but one sample's noise still "
        "exceeds the mean gradient early on (ratio < 1): it is 'small' only relative to later"), None


def _sgd_faster():
    rng = np.random.default_rng(4)
    N, d = 200, 4
    X = rng.normal(size=(N, d))
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=N)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]

    def loss(w):
        return 0.5 * np.mean((X @ w - y) ** 2)

    lr, w0 = 0.05, np.zeros(d)
    w_gd = w0 - lr * (X.T @ (X @ w0 - y)) / N                           # one GD update = one epoch
    one_sgd = np.mean([loss(w0 - lr * X[k] * (X[k] @ w0 - y[k])) for k in range(N)])  # expected, over the sample
    w_sgd = w0.copy()
    for k in rng.permutation(N):                                        # one SGD epoch: N updates
        w_sgd = w_sgd - lr * X[k] * (X[k] @ w_sgd - y[k])
    w1, w2 = w0.copy(), w0.copy()
    for e in range(300):                                                 # both to the one minimum
        w1 = w1 - 0.2 * (X.T @ (X @ w1 - y)) / N
        for k in rng.permutation(N):
            w2 = w2 - (0.05 / (1 + e)) * X[k] * (X[k] @ w2 - y[k])
    both = max(np.linalg.norm(w1 - w_star), np.linalg.norm(w2 - w_star)) / np.linalg.norm(w_star)
    ok = loss(w_sgd) < loss(w_gd) <= one_sgd and both < 0.05
    return ok, (f"least squares, N = {N}, step 0.05: after one epoch SGD's loss is {loss(w_sgd):.3g} and GD's "
                f"{loss(w_gd):.3g} (N updates against one), but per update GD is ahead: one SGD update from the same "
                f"point leaves an expected loss of {one_sgd:.4g} (mean over the N samples), GD's {loss(w_gd):.4g} "
                "(Jensen: the loss is convex); faster per epoch, not per update; on this convex loss both reach the "
                f"one minimum (relative distance {both:.2g}), and GD stops where the gradient is zero, it assumes "
                "nothing"), None


def _dampening():
    from symdl import ref

    rng = np.random.default_rng(4)
    w, w_prev, g, lr, beta = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3), 0.1, 0.9
    hb = ref("optim.heavy_ball").evaluate({"w_t": w, "w_{t-1}": w_prev, "g_t": g, r"\gamma": lr, r"\beta": beta})
    torch_form = ref("optim.sgd_momentum_torch").evaluate(
        {r"\theta_{t-1}": w, "b_{t-1}": (w_prev - w) / lr, "g_t": g, r"\gamma": lr, r"\mu": beta, r"\tau": 0.0,
         "t": 2})
    err = float(np.max(np.abs(hb - torch_form)))
    return err < 1e-12, ("beta is the momentum coefficient: the heavy ball is PyTorch's SGD with momentum mu = beta "
                         f"and dampening tau = 0 (optim.heavy_ball and optim.sgd_momentum_torch agree to {err:.1g}); "
                         "dampening is PyTorch's separate (1 - tau) on the gradient"), err


def _spectral_radius(beta, gl):
    return max(abs(r) for r in np.roots([1, -(1 + beta - gl), beta]))


def _beta_range():
    bad = 0
    betas, gls = np.linspace(-0.98, 0.98, 50), np.linspace(0.02, 3.98, 100)
    for b in betas:
        for gl in gls:
            inside = 0 < gl < 2 * (1 + b) and abs(2 * (1 + b) - gl) > 1e-9
            if inside != (_spectral_radius(b, gl) < 1):
                bad += 1
    rho = _spectral_radius(-0.5, 0.5)
    return bad == 0 and rho < 1, (
        f"on f(w) = lambda w^2/2 the heavy ball's characteristic roots lie inside the unit circle exactly when "
        f"|beta| < 1 and 0 < gamma lambda < 2(1 + beta) (all {len(betas) * len(gls)} grid points agree); at "
        f"beta = -0.5, gamma lambda = 0.5 the spectral radius is {rho:.3g} < 1: [0, 1) is the range used in "
        "practice, not the range where the iteration converges"), None


def _negative_beta_is_not_gd():
    from symdl import ref

    r = ref("optim.heavy_ball")
    s = r.symbols
    gd = s["w_t"] - s[r"\gamma"] * s["g_t"]
    diff = sp.factor(r.expr.subs(s[r"\beta"], sp.Rational(-1, 2)) - gd)
    zero_at_0 = sp.simplify(r.expr.subs(s[r"\beta"], 0) - gd) == 0
    return diff != 0 and zero_at_0, (f"the heavy ball minus GD at beta = -1/2 is {diff} (SymPy, from optim.heavy_ball), "
                                     "zero only when w_t = w_(t-1); at beta = 0 it is 0: only beta = 0 is GD"), None


def _beta_above_one():
    rng = np.random.default_rng(31)
    worst = min(_spectral_radius(b, gl) / math.sqrt(b)
                for b, gl in zip(rng.uniform(1 + 1e-6, 3, 2000), rng.uniform(0.01, 8, 2000)))
    b, g, r_ = sp.symbols("beta gamma_lambda r")
    roots = sp.solve(r_ ** 2 - (1 + b - g) * r_ + b, r_)
    product = sp.simplify(roots[0] * roots[1])
    return worst >= 1 - 1e-12 and product == b, (
        f"the two roots of r^2 - (1 + beta - gamma lambda) r + beta multiply to {product} (SymPy), so one has "
        f"|r| >= sqrt(beta) > 1: over 2000 random points with beta in (1, 3], max|r| / sqrt(beta) >= {worst:.6g}"), None


def _rms_is_not_std():
    g, alpha = 0.1, 0.9
    v = 0.0
    for _ in range(200):
        v = alpha * v + (1 - alpha) * g * g
    rng = np.random.default_rng(5)
    zero_mean = 0.01 * rng.normal(size=200000)
    agree = abs(math.sqrt(np.mean(zero_mean ** 2)) / np.std(zero_mean) - 1)
    return abs(v - g * g) < 1e-9 and agree < 1e-3, (
        f"sqrt(v) estimates the root mean square, not the standard deviation: for a constant gradient g = {g} "
        f"the average v reaches {v:.3g} = g^2, so g/sqrt(v) = {g / math.sqrt(v):.3g} while the standard deviation "
        f"is 0; for a zero-mean gradient the two agree (relative {agree:.1g}): it is the mean that must be small "
        "against the spread, not the gradient"), None


def per_coordinate_cost(name: str) -> dict:
    """State and arithmetic of one step of an optimiser, as symdl's reference defines it: the moving averages
    carried from step to step, and the operations of each definition and of the update, counted once each,
    split into per-coordinate operations (those touching w, g or a moment) and per-step scalar ones."""
    from symdl import ref

    r = ref(name)
    coord = {r.symbols[k] for k in ("w_t", "g_t", "m_t", "v_t") if k in r.symbols} | set(r.definitions)
    state = sorted(str(s) for s in coord if str(s) in ("m_t", "v_t"))
    counts = {"per coordinate": 0, "scalar": 0}

    def count(node, in_product=False):
        if node.is_Atom:
            return
        if node.is_Add:
            own = len(node.args) - 1
        elif node.is_Mul:  # a factor -1 is the subtraction of the enclosing sum; a reciprocal factor a division
            own = len([a for a in node.args if a != -1]) - 1
        elif node.is_Pow and node.exp == -1 and in_product:
            own = 0
        else:
            own = 1  # a power (square, root, reciprocal) or a function
        counts["per coordinate" if node.free_symbols & coord else "scalar"] += own
        for a in node.args:
            count(a, node.is_Mul)

    for expr in (*r.definitions.values(), r.expr):
        count(expr)
    return {"state": state, **counts}


def _cost():
    rms, adam = per_coordinate_cost("optim.rmsprop"), per_coordinate_cost("optim.adam")
    ok = len(rms["state"]) < len(adam["state"]) and rms["per coordinate"] < adam["per coordinate"]
    return ok, (f"'takes up more computational efficiency' reads either way; per step RMSprop does less work: it "
                f"carries {len(rms['state'])} moving average ({', '.join(rms['state'])}) and {rms['per coordinate']} "
                f"operations per coordinate (optim.rmsprop, each definition counted once), Adam carries "
                f"{len(adam['state'])} ({', '.join(adam['state'])}) and {adam['per coordinate']} per coordinate plus "
                f"{adam['scalar']} per step for the bias corrections (optim.adam)"), None


def _bias_correction_unlike_rmsprop():
    from symdl import ref

    adam, rms = ref("optim.adam"), ref("optim.rmsprop")
    t = adam.symbols["t"]
    depends = sp.diff(adam.expanded(), t) != 0
    rms_free = {str(s) for s in rms.expanded().free_symbols}
    return depends and "t" not in rms_free, ("optim.adam's update depends on the step count t (the factors "
                                             "1/(1 - beta_1^(t+1)) and 1/(1 - beta_2^(t+1))); optim.rmsprop's does "
                                             "not: Adam has a bias correction, RMSprop none"), None


def _bias_correction_fades():
    from symdl import ref

    r = ref("optim.adam")
    m, v, g, b1, b2 = 0.2, 0.05, 0.3, 0.9, 0.999
    uncorrected = -(b1 * m + (1 - b1) * g) / math.sqrt(b2 * v + (1 - b2) * g * g)
    ratio = {}
    for t in (0, 100, 20000):
        step = float(r.evaluate({"w_t": 0.0, "m_t": m, "v_t": v, "g_t": g, r"\gamma": 1.0, r"\beta_1": b1,
                                 r"\beta_2": b2, r"\epsilon": 0.0, "t": t}))
        ratio[t] = step / uncorrected
    return abs(ratio[0] - 1) > 0.5 and abs(ratio[20000] - 1) < 1e-6, (
        "the correction rescales a step by a factor that tends to 1 (optim.adam against the same step uncorrected, "
        f"beta_1 = 0.9, beta_2 = 0.999: {ratio[0]:.3g} at t = 0, {ratio[100]:.3g} at t = 100, {ratio[20000]:.7g} at "
        "t = 20000): it corrects the zero start of the moving averages, not an oscillatory trajectory (that is "
        "the first moment's averaging), so 'hence preferred for oscillatory problems' does not follow"), None


def _step_size_beta():
    from symdl import ref

    r = ref("optim.adam")
    steps = []
    for b1 in (0.5, 0.9):
        vals = {"w_t": 0.0, "m_t": 0.0, "v_t": 0.0, "g_t": 3.7, r"\gamma": 0.01, r"\beta_1": b1, r"\beta_2": 0.999,
                r"\epsilon": 1e-12, "t": 0}
        steps.append(float(r.evaluate(vals)))
    ok = all(abs(s + 0.01) < 1e-9 for s in steps)
    return ok, (f"beta averages the gradient; gamma still sets the step: Adam's first step is {steps[0]:.6g} at "
                f"beta = 0.5 and {steps[1]:.6g} at 0.9 for a gradient 3.7 and gamma = 0.01 (optim.adam): the step "
                "size is gamma's, whatever beta is"), None


def _nonmono_reading():
    from symdl import ref

    r = ref("optim.lr_decay_nonmono")
    losses, k = [1.0, 0.9, 0.5, 0.6], 2
    rule = float(r.evaluate({r"\gamma": 0.1, "L": losses, "NONMONO": k, r"LR\_DECAY": 4.0}))
    seed_reading = 0.1 / 4.0 if losses[-1] > min(losses[:-1]) else 0.1
    return rule != seed_reading, (
        f"the rule compares L_e with min(L_1, ..., L_(e-NONMONO)), not with the best loss so far: losses {losses}, "
        f"NONMONO = {k}: the rule keeps the rate at {rule:g} (optim.lr_decay_nonmono), the seed's reading divides "
        f"it to {seed_reading:g}"), None
