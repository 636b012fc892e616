"""The checks of the optimiser references (see :mod:`symdl.models.optim`), one factory a reference.

Each factory receives the reference it checks.  The oracle steps the
reference alongside ``torch.optim`` (:func:`trajectory_check`); the symbolic
checks prove the reference equal to PyTorch's own form of the update.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import sympy as sp

from ..numeric.compare import TOLERANCES
from ..model.reference import Reference
from ..verify.builders import symbolic_equal
from ..verify.oracles import optim as oracles_optim
from ..verify.spec import CheckSpec, compare_trials
from ._optim_defs import (BATCH, CARD_B, N_SAMPLES, THETA_K, S, adam_forms, alpha, batch_gradient_sum, beta, eps,
                          gamma, mu, sample_gradient, unroll_ema, unroll_heavy_ball, unroll_torch_sgd)

#: Agreement demanded of a reference against torch.optim, at every step.
ORACLE_RTOL = TOLERANCES["optim_oracle"]
#: Steps of every oracle trajectory, and the parameter sizes they run at.
ORACLE_STEPS = 120
ORACLE_SIZES = (3, 7)
#: The instances the GD and SGD proofs run: N = 1..5 samples, and every batch of N = 4.
ALL_SAMPLES = [(n, None) for n in range(1, 6)]
EVERY_BATCH = [(4, list(c)) for size in (1, 2, 3, 4) for c in combinations(range(1, 5), size)]


# -- the oracle check: step alongside torch.optim ------------------------------------------------


def trajectory_check(ref_step, records_of, configs, description: str, seed: int = 7) -> CheckSpec:
    """The reference, stepped from torch.optim's recorded state, lands on torch's next parameter.

    ``records_of(theta0, grads, **config)`` runs the optimiser; ``ref_step(record, config)``
    evaluates the reference at one record.  Every step of every run must agree
    to :data:`ORACLE_RTOL`, relative; the first step is included.  Both the new
    parameter and the step taken (new minus old, which a small learning rate
    would hide inside the parameter) are compared.
    """

    def run():
        rng = np.random.default_rng(seed)
        params, updates, runs = [], [], 0
        for config in configs:
            for d in ORACLE_SIZES:
                grads = rng.normal(0.0, 1.0, (ORACLE_STEPS, d))
                runs += 1
                for k, rec in enumerate(records_of(rng.normal(0.0, 1.0, d), grads, **config)):
                    label = f"d = {d}, step {k + 1}, {_show(config)}"
                    got = np.asarray(ref_step(rec, config), dtype=np.float64)
                    params.append((label, got, rec["after"]))
                    updates.append((label, got - rec["param"], rec["after"] - rec["param"]))
        passed, detail, err = compare_trials(params, rtol=ORACLE_RTOL)
        if not passed:
            return passed, f"{runs} runs of {ORACLE_STEPS} steps: new parameter: {detail}", err
        passed, step_detail, _ = compare_trials(updates, rtol=ORACLE_RTOL)
        return passed, f"{runs} runs of {ORACLE_STEPS} steps: new parameter: {detail}; the step w_(t+1) - w_t " \
                       f"alone: {step_detail}", err

    return CheckSpec("oracle", description, run)


def _show(config: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in config.items() if k != "lrs")


# -- GD and SGD: the mean gradient ---------------------------------------------------------------


def mean_gradient_checks(ref: Reference, *, batched: bool) -> list[CheckSpec]:
    """GD (N = 1..5 samples) or SGD (every batch of N = 4): a proof by sp.diff, the sum written out, torch."""
    if batched:
        instances, which = EVERY_BATCH, "every batch of N = 4"
        proof = "equals theta - gamma d/dtheta of the batch's mean loss (sp.diff)"
    else:
        instances, which = ALL_SAMPLES, "N = 1..5"
        proof = "equals theta - gamma dL/dtheta for L = (1/N) sum_i l_i (sp.diff)"
    return [
        CheckSpec("symbolic", proof, _mean_gradient_proof(ref, instances, which), timeout=60),
        CheckSpec("numeric", "evaluate against the SymPy sum written out, in float64",
                  _mean_gradient_numeric(ref, instances)),
        _mean_loss_oracle(ref, batched),
    ]


def _written_out(ref: Reference, batch, n: int):
    """The update of optim.gd at ``n`` samples (``batch`` None) or of optim.sgd for one ``batch``: the sum
    written out in sample symbols ``g_1..g_n``."""
    gs = [S(f"g_{k}") for k in range(1, n + 1)]
    if batch is None:
        e = ref.expr.subs(N_SAMPLES, n).doit().replace(sample_gradient, lambda k: gs[int(k) - 1])
    else:
        e = ref.expr.xreplace({batch_gradient_sum(BATCH): sp.Add(*[gs[j - 1] for j in batch]), CARD_B: len(batch)})
    return e, gs


def _mean_gradient_proof(ref: Reference, instances, which: str):
    """At each instance, the written-out update equals theta - gamma dL/dtheta by sp.diff of the mean loss."""
    def run():
        for n, batch in instances:
            ells = [sp.Function(f"ell_{k}") for k in range(1, n + 1)]
            rows = range(1, n + 1) if batch is None else batch
            loss = sp.Add(*[ells[j - 1](THETA_K) for j in rows]) / len(rows)
            want = THETA_K - gamma * sp.diff(loss, THETA_K)
            e, gs = _written_out(ref, batch, n)
            got = e.xreplace({g: sp.diff(ell(THETA_K), THETA_K) for g, ell in zip(gs, ells)})
            if sp.expand(got - want) != 0:
                return False, f"differs from theta - gamma dL/dtheta at N = {n}, B = {batch}", None
        return True, f"equal at {len(instances)} instances ({which})", None
    return run


def _mean_gradient_numeric(ref: Reference, instances):
    """``ref.evaluate`` against the written-out update compiled by lambdify, at d = 1 and 4."""
    def run():
        rng = np.random.default_rng(3)
        trials = []
        for n, batch in instances:
            e, gs = _written_out(ref, batch, n)
            f = sp.lambdify([THETA_K, gamma, *gs], e, "numpy")
            for d in (1, 4):
                th, G, lr = rng.normal(size=d), rng.normal(size=(n, d)), rng.uniform(0.1, 2.0)
                vals = {r"\theta_k": th, r"\gamma": lr, r"\nabla \ell_i(\theta_k)": G}
                if batch is not None:
                    vals["B"] = np.array(batch)
                trials.append((f"N = {n}, d = {d}", ref.evaluate(vals), f(th, lr, *G)))
        return compare_trials(trials)
    return run


def _mean_loss_oracle(ref: Reference, batched: bool) -> CheckSpec:
    def run():
        rng = np.random.default_rng(11)
        trials = []
        for n in (3, 8):
            for d in (1, 5):
                th, G, lr = rng.normal(size=d), rng.normal(size=(n, d)), float(rng.uniform(0.05, 1.0))
                batch = sorted(rng.choice(np.arange(1, n + 1), size=max(1, n // 2), replace=False).tolist()) \
                    if batched else None
                vals = {r"\theta_k": th, r"\gamma": lr, r"\nabla \ell_i(\theta_k)": G}
                if batched:
                    vals["B"] = np.array(batch)
                trials.append((f"N = {n}, d = {d}", ref.evaluate(vals),
                               oracles_optim.mean_loss_step(th, G, lr, batch)))
        return compare_trials(trials, rtol=ORACLE_RTOL)

    return CheckSpec("oracle", "one torch.optim.SGD step on the mean of linear per-sample losses, by autograd", run)


# -- momentum ------------------------------------------------------------------------------------


def heavy_ball_checks(ref: Reference) -> list[CheckSpec]:
    """One heavy-ball step is one PyTorch SGD step (the inductive step), and the trajectory of torch's."""
    w, w_prev, g = (ref.symbols[k] for k in ("w_t", "w_{t-1}", "g_t"))
    # Inductive step: w_{t-1} = w_t + gamma b_{t-1} after a PyTorch step; one heavy-ball step is then one PyTorch step.
    b_prev = S("b_{t-1}")
    torch_form = w - gamma * (mu * b_prev + g)
    heavy = ref.expr.xreplace({beta: mu, w_prev: w + gamma * b_prev})

    def step(rec, config):
        prev = rec["param"] if rec["previous"] is None else rec["previous"]
        return ref.evaluate({"w_t": rec["param"], "w_{t-1}": prev, "g_t": rec["grad"], "lr": rec["lr"],
                             r"\beta": config["momentum"]})

    configs = [{"lr": 0.1, "momentum": 0.9}, {"lr": 0.03, "momentum": 0.5}, {"lr": 0.2, "momentum": 0.0}]
    return [
        symbolic_equal(heavy, torch_form, "with beta = mu and w_{t-1} = w_t + gamma b_{t-1}, equals PyTorch's "
                       "w_t - gamma (mu b_{t-1} + g_t)"),
        trajectory_check(step, oracles_optim.sgd_records, configs,
                         "torch.optim.SGD(momentum=beta, dampening=0), from its last two parameters"),
    ]


def torch_sgd_checks(ref: Reference) -> list[CheckSpec]:
    """Six unrolled steps equal heavy ball with a varying beta_t, and the trajectory of torch's SGD."""
    theta_prev = ref.symbols[r"\theta_{t-1}"]

    def one(rec, config):
        vals = {r"\theta_{t-1}": rec["param"], "g_t": rec["grad"], r"\gamma": rec["lr"], r"\mu": config["momentum"],
                r"\tau": config["dampening"], "t": rec["number"]}
        if rec["number"] > 1:  # with momentum 0 torch keeps no buffer: mu b_{t-1} is 0 either way
            vals[r"b_{t-1}"] = 0.0 if rec["momentum_buffer"] is None else rec["momentum_buffer"]
        return ref.evaluate(vals)

    configs = [{"lr": 0.1, "momentum": 0.9, "dampening": 0.0}, {"lr": 0.05, "momentum": 0.9, "dampening": 0.5},
               {"lr": 0.2, "momentum": 0.0, "dampening": 0.0}, {"lr": 0.01, "momentum": 0.99, "dampening": 0.1}]
    K = 6
    gs, rates = sp.symbols("g_1:7", real=True), sp.symbols(r"\gamma_1:7", positive=True)
    torch_run = unroll_torch_sgd(K, theta_prev, gs, rates, mu, 0)
    heavy_run = unroll_heavy_ball(K, theta_prev, gs, rates, [0] + [mu * rates[k] / rates[k - 1] for k in range(1, K)])
    return [
        symbolic_equal(sp.Matrix(torch_run), sp.Matrix(heavy_run),
                       f"with tau = 0, {K} unrolled steps equal heavy ball with beta_t = mu gamma_t / gamma_(t-1)",
                       simplifier=lambda z: sp.simplify(sp.together(z))),
        trajectory_check(one, oracles_optim.sgd_records, configs,
                         "torch.optim.SGD(momentum, dampening, nesterov=False), stepped from torch's buffer"),
    ]


# -- adaptive rates ------------------------------------------------------------------------------


def rmsprop_checks(ref: Reference) -> list[CheckSpec]:
    """The update as torch.optim.RMSprop's source writes it, the moving average unrolled, torch's trajectory."""
    w, v, g = (ref.symbols[k] for k in ("w_t", "v_t", "g_t"))

    def one(rec, config):
        return ref.evaluate({"w_t": rec["param"], "v_t": 0.0 if rec["square_avg"] is None else rec["square_avg"],
                             r"\nabla f_i(w_t)": rec["grad"], r"\eta": config["lr"], r"\alpha": config["alpha"],
                             r"\epsilon": config["eps"]})

    K = 6
    gs = sp.symbols("g_1:7", real=True)
    vs = unroll_ema(K, alpha, [x**2 for x in gs])
    closed = [(1 - alpha) * sp.Add(*[alpha ** (k - j) * gs[j - 1] ** 2 for j in range(1, k + 1)]) for k in range(K + 1)]
    configs = [{"lr": 0.01, "alpha": 0.99, "eps": 1e-8}, {"lr": 0.1, "alpha": 0.9, "eps": 1e-3},
               {"lr": 0.05, "alpha": 0.5, "eps": 0.0}]
    # torch.optim.RMSprop's step as its source writes it (centered=False, momentum=0):
    # square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha); avg = square_avg.sqrt().add_(eps);
    # param.addcdiv_(grad, avg, value=-lr)
    square_avg = v * alpha + g * g * (1 - alpha)
    torch_update = w + (-gamma) * g / (sp.sqrt(square_avg) + eps)
    return [
        symbolic_equal(ref.expanded(), torch_update, "the update, v_{t+1} expanded, equals torch.optim.RMSprop's "
                       "as its source writes it: param.addcdiv_(grad, sqrt(square_avg) + eps, value=-lr) after "
                       "square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)"),
        symbolic_equal(sp.Matrix(vs), sp.Matrix(closed), f"the moving average alone: v_t from v_0 = 0 unrolled {K} "
                       "steps is (1-alpha) sum_k alpha^(t-k) g_k^2"),
        trajectory_check(one, oracles_optim.rmsprop_records, configs, "torch.optim.RMSprop, stepped from its state"),
    ]


def adam_checks(ref: Reference) -> list[CheckSpec]:
    """PyTorch's rearranged update equals the textbook one, and the trajectory of torch.optim.Adam."""

    def one(rec, config):
        b1, b2 = config["betas"]
        return ref.evaluate({"w_t": rec["param"], "m_t": 0.0 if rec["exp_avg"] is None else rec["exp_avg"],
                             "v_t": 0.0 if rec["exp_avg_sq"] is None else rec["exp_avg_sq"], "g_t": rec["grad"],
                             "lr": config["lr"], r"\beta": b1, r"\alpha": b2, r"\epsilon": config["eps"],
                             "t": rec["step"]})

    configs = [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8}, {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-3},
               {"lr": 0.02, "betas": (0.0, 0.99), "eps": 0.0}]
    return [
        symbolic_equal(*adam_forms(ref), "PyTorch's rearranged update (gamma/(1-beta_1^s)) m / (sqrt(v)/sqrt(1-"
                       "beta_2^s) + eps) equals the textbook form"),
        trajectory_check(one, oracles_optim.adam_records, configs, "torch.optim.Adam, stepped from its state"),
    ]


# -- the learning-rate schedule ------------------------------------------------------------------


def nonmono_checks(ref: Reference) -> list[CheckSpec]:
    """The schedule, epoch by epoch, against an AWD-LSTM-style training loop on random loss sequences."""

    def run():
        rng = np.random.default_rng(5)
        trials, changed = [], 0
        for _ in range(200):
            losses = np.round(rng.uniform(1.0, 2.0, int(rng.integers(1, 12))), 2).tolist()
            nm, lr, dec = int(rng.integers(0, 6)), float(rng.uniform(0.1, 30)), float(rng.uniform(1.5, 10))
            want = oracles_optim.nonmono_schedule(losses, lr, nm, dec)
            rate = lr
            got = []
            for k in range(1, len(losses) + 1):
                rate = ref.evaluate({r"\gamma": rate, "L": losses[:k], "NONMONO": nm, r"LR\_DECAY": dec})
                got.append(rate)
            changed += sum(a != b for a, b in zip(want, [lr] + want[:-1]))
            trials.append((f"{len(losses)} epochs, NONMONO = {nm}", np.array(got), np.array(want)))
        passed, detail, err = compare_trials(trials, rtol=ORACLE_RTOL)
        return passed, f"{detail}; {changed} decays among them", err

    return [CheckSpec("oracle", "200 random loss sequences against an AWD-LSTM-style loop", run)]
