"""optim.*: each update written twice, through symdl and in torch float64, and held against torch.optim."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symdl.model.registry as registry
from symdl.models import optim
from symdl.model.reference import EvaluationError
from symdl.verify.spec import run_checks

RTOL = 1e-12
STEPS = 120


def rel(got, want) -> float:
    got, want = torch.as_tensor(np.asarray(got, dtype=np.float64)), torch.as_tensor(np.asarray(want, dtype=np.float64))
    return float((got - want).abs().max() / want.abs().max())


def ref(name):
    return registry.ref(name)


# -- the trajectories, stepped alongside torch.optim ------------------------------------------


def test_sgd_momentum_torch_follows_torch_optim_sgd_with_dampening():
    gen = torch.Generator().manual_seed(0)
    p = torch.nn.Parameter(torch.randn(6, dtype=torch.float64, generator=gen))
    opt = torch.optim.SGD([p], lr=0.05, momentum=0.9, dampening=0.3)
    r = ref("optim.sgd_momentum_torch")
    buf, worst = None, 0.0
    for t in range(1, STEPS + 1):
        g = torch.randn(6, dtype=torch.float64, generator=gen)
        vals = {r"\theta_{t-1}": p.detach().clone(), "g_t": g, "lr": 0.05, r"\mu": 0.9, r"\tau": 0.3, "t": t}
        if buf is not None:
            vals["b_{t-1}"] = buf
        got = r.evaluate(vals, backend="torch")
        # the same step by hand in torch: b_1 = g_1, then b_t = mu b + (1 - tau) g
        buf = g.clone() if buf is None else 0.9 * buf + (1 - 0.3) * g
        by_hand = p.detach() - 0.05 * buf
        p.grad = g
        opt.step()
        assert rel(got, by_hand) < RTOL
        worst = max(worst, rel(got, p.detach()))
    assert worst < RTOL


def test_heavy_ball_with_beta_t_mu_gamma_ratio_is_torch_sgd_under_a_varying_rate():
    gen = torch.Generator().manual_seed(1)
    w0 = torch.randn(4, dtype=torch.float64, generator=gen)
    p = torch.nn.Parameter(w0.clone())
    rates = [0.1 * (1 + 0.5 * np.sin(k)) for k in range(STEPS)]
    opt = torch.optim.SGD([p], lr=rates[0], momentum=0.8)
    hb = ref("optim.heavy_ball")
    w_prev, w = w0.clone(), w0.clone()
    for k in range(STEPS):
        g = torch.randn(4, dtype=torch.float64, generator=gen)
        beta_t = 0.0 if k == 0 else 0.8 * rates[k] / rates[k - 1]
        w_next = hb.evaluate({"w_t": w, "w_{t-1}": w_prev, r"\nabla f(w_t)": g, r"\gamma_t": rates[k],
                              r"\beta_t": beta_t}, backend="torch")
        opt.param_groups[0]["lr"] = rates[k]
        p.grad = g
        opt.step()
        assert rel(w_next, p.detach()) < 1e-11  # free-running: rounding accumulates over 120 steps
        w_prev, w = w, w_next


def test_heavy_ball_with_constant_beta_is_not_torch_sgd_under_a_varying_rate():
    rates, g = [0.1, 0.2], [1.0, 1.0]
    hb = ref("optim.heavy_ball")
    w1 = hb.evaluate({"w_t": 0.0, "w_{t-1}": 0.0, "g_t": g[0], r"\gamma": rates[0], r"\beta": 0.9})
    w2 = hb.evaluate({"w_t": w1, "w_{t-1}": 0.0, "g_t": g[1], r"\gamma": rates[1], r"\beta": 0.9})
    p = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=rates[0], momentum=0.9)
    for lr, gk in zip(rates, g):
        opt.param_groups[0]["lr"] = lr
        p.grad = torch.tensor(gk, dtype=torch.float64)
        opt.step()
    assert abs(float(w2) - float(p.detach())) > 0.05  # 0.9 * 1 * (0.2 - 0.1) apart


def test_rmsprop_follows_torch_optim_rmsprop_free_running():
    gen = torch.Generator().manual_seed(2)
    w = torch.randn(5, dtype=torch.float64, generator=gen)
    p = torch.nn.Parameter(w.clone())
    opt = torch.optim.RMSprop([p], lr=0.01, alpha=0.95, eps=1e-6)
    r = ref("optim.rmsprop")
    v = torch.zeros(5, dtype=torch.float64)
    for _ in range(STEPS):
        g = torch.randn(5, dtype=torch.float64, generator=gen)
        w = r.evaluate({"w_t": w, "v_t": v, r"\nabla f_i(w_t)": g, r"\eta": 0.01, r"\alpha": 0.95, r"\epsilon": 1e-6},
                       backend="torch")
        v = 0.95 * v + 0.05 * g * g
        p.grad = g
        opt.step()
        assert rel(w, p.detach()) < RTOL


@pytest.mark.parametrize("betas,eps", [((0.9, 0.999), 1e-8), ((0.5, 0.9), 1e-3)])
def test_adam_follows_torch_optim_adam_free_running(betas, eps):
    gen = torch.Generator().manual_seed(3)
    w = torch.randn(5, dtype=torch.float64, generator=gen)
    p = torch.nn.Parameter(w.clone())
    opt = torch.optim.Adam([p], lr=0.01, betas=betas, eps=eps)
    r = ref("optim.adam")
    m = v = torch.zeros(5, dtype=torch.float64)
    for t in range(STEPS):
        g = torch.randn(5, dtype=torch.float64, generator=gen)
        w = r.evaluate({"w_t": w, "m_t": m, "v_t": v, "g_t": g, "lr": 0.01, r"\beta_1": betas[0], r"\beta_2": betas[1],
                        r"\epsilon": eps, "t": t}, backend="torch")
        m, v = betas[0] * m + (1 - betas[0]) * g, betas[1] * v + (1 - betas[1]) * g * g
        p.grad = g
        opt.step()
        assert rel(w, p.detach()) < 1e-11


def test_adam_update_by_hand_in_torch_and_its_gradient_by_autograd():
    vals = {"w_t": 0.3, "m_t": -0.2, "v_t": 0.7, "lr": 0.05, r"\beta": 0.8, r"\alpha": 0.95, r"\epsilon": 1e-4, "t": 3}
    g = torch.tensor([0.4, -1.5], dtype=torch.float64, requires_grad=True)
    got = ref("optim.adam").evaluate({**vals, "g_t": g}, backend="torch")
    m = 0.8 * -0.2 + 0.2 * g
    v = 0.95 * 0.7 + 0.05 * g**2
    want = 0.3 - 0.05 * (m / (1 - 0.8**4)) / (torch.sqrt(v / (1 - 0.95**4)) + 1e-4)
    assert rel(got.detach(), want.detach()) < RTOL
    (dg_got,) = torch.autograd.grad(got.sum(), g)
    (dg_want,) = torch.autograd.grad(want.sum(), g)
    assert rel(dg_got, dg_want) < RTOL


def test_seed_adam_numerator_m_t_does_not_move_on_the_first_step():
    vals = {"w_t": 1.0, "m_t": 0.0, "v_t": 0.0, "g_t": 0.5, "lr": 0.1, r"\beta": 0.9, r"\alpha": 0.999,
            r"\epsilon": 1e-8, "t": 0}
    p = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=0.1)
    p.grad = torch.tensor([0.5], dtype=torch.float64)
    opt.step()
    new = ref("optim.adam").evaluate(vals)
    assert rel(new, p.detach()) < RTOL
    seed = 1.0 - 0.1 * 0.0 / (np.sqrt(0.001 * 0.25) + 1e-8)  # the seed's w_t - gamma m_t / (sqrt(v_{t+1}) + eps)
    assert abs(seed - float(p.detach())) > 0.09


def test_gd_and_sgd_against_autograd_of_the_mean_loss():
    gen = torch.Generator().manual_seed(4)
    X, y = torch.randn(6, 3, dtype=torch.float64, generator=gen), torch.randn(6, dtype=torch.float64, generator=gen)
    theta = torch.randn(3, dtype=torch.float64, generator=gen, requires_grad=True)
    per_sample = torch.stack([torch.autograd.grad(0.5 * (X[i] @ theta - y[i]) ** 2, theta)[0] for i in range(6)])
    for batch in (None, [2, 5], [1, 3, 6]):
        rows = range(6) if batch is None else [j - 1 for j in batch]
        loss = sum(0.5 * (X[i] @ theta - y[i]) ** 2 for i in rows) / len(rows)
        (grad,) = torch.autograd.grad(loss, theta)
        want = theta.detach() - 0.3 * grad
        vals = {r"\theta_k": theta.detach(), r"\gamma_k": 0.3, r"\nabla \ell_i(\theta_k)": per_sample}
        name = "optim.gd" if batch is None else "optim.sgd"
        if batch is not None:
            vals["B"] = batch
        assert rel(ref(name).evaluate(vals, backend="torch"), want) < RTOL
        assert rel(ref(name).evaluate({k: np.asarray(v) for k, v in vals.items()}), want) < RTOL


def test_nonmono_rule_and_the_seeds_reading_disagree():
    r = ref("optim.lr_decay_nonmono")
    losses = [1.0, 0.9, 0.95]  # epoch 3 is worse than the best so far (0.9), not than L_1 = 1.0
    assert r.evaluate({"lr": 20.0, "L": losses, "NONMONO": 2, "LR_DECAY": 4.0}) == 20.0
    seed_reading = 20.0 / 4.0 if losses[-1] > min(losses[:-1]) else 20.0
    assert seed_reading == 5.0
    assert r.evaluate({"lr": 20.0, "L": [1.0, 0.9, 0.95, 1.1], "NONMONO": 2, "LR_DECAY": 4.0}) == 5.0
    assert r.evaluate({"lr": 20.0, "L": [1.0, 2.0], "NONMONO": 2, "LR_DECAY": 4.0}) == 20.0  # e = 2 is not > 2


# -- aliases and bad input ----------------------------------------------------------------


def test_aliases_give_the_same_value():
    base = {"w_t": 0.2, "m_t": 0.1, "v_t": 0.3, "g_t": -0.7, r"\gamma": 0.01, r"\beta_1": 0.9, r"\beta_2": 0.99,
            r"\epsilon": 1e-8, "t": 2}
    want = ref("optim.adam").evaluate(base)
    for grad_key in ("g_t", r"\nabla f_i(w_t)", r"\nabla f(w_t)"):
        for lr_key in (r"\gamma", r"\gamma_t", r"\eta", "lr"):
            vals = {k: v for k, v in base.items() if k not in ("g_t", r"\gamma", r"\beta_1", r"\beta_2")}
            vals.update({grad_key: -0.7, lr_key: 0.01, r"\beta": 0.9, r"\alpha": 0.99})
            assert ref("optim.adam").evaluate(vals) == want


def test_alias_and_canonical_name_together_is_an_error():
    with pytest.raises(EvaluationError, match="both give"):
        ref("optim.heavy_ball").evaluate({"w_t": 0, "w_{t-1}": 0, "g_t": 1, r"\nabla f(w_t)": 1, "lr": 0.1,
                                          r"\beta": 0.5})


ADAM = {"w_t": 1.0, "m_t": 0.0, "v_t": 0.0, "g_t": 0.5, "lr": 0.1, r"\beta": 0.9, r"\alpha": 0.999,
        r"\epsilon": 1e-8, "t": 0}


@pytest.mark.parametrize("change,message", [
    ({r"\beta": 1.2}, r"Invalid beta parameter at index 0: 1\.2; \\beta_1 must be in \[0, 1\)"),
    ({r"\alpha": 1.0}, r"Invalid beta parameter at index 1: 1\.0; \\beta_2 must be in \[0, 1\)"),
    ({"lr": -0.1}, r"Invalid learning rate: -0\.1; \\gamma must be >= 0"),
    ({r"\epsilon": -1e-8}, r"Invalid epsilon value: -1e-08; \\epsilon must be >= 0"),
    ({"v_t": np.array([0.1, -0.2])}, r"Invalid v_t value: -0\.2 \(entry 1\)"),
    ({"t": 1.5}, r"Invalid t value: 1\.5; t must be an integer >= 0"),
])
def test_adam_bad_hyperparameters_are_named_like_torch(change, message):
    with pytest.raises(EvaluationError, match=message):
        ref("optim.adam").evaluate({**ADAM, **change})


def test_torch_itself_rejects_the_same_beta():
    p = torch.nn.Parameter(torch.zeros(1))
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0: 1.2"):
        torch.optim.Adam([p], betas=(1.2, 0.999))


@pytest.mark.parametrize("name,vals,message", [
    ("optim.heavy_ball", {"w_t": 0, "w_{t-1}": 0, "g_t": 1, "lr": 0.1, r"\beta": -0.5}, "Invalid momentum value: -0.5"),
    ("optim.sgd_momentum_torch", {r"\theta_{t-1}": 0, "g_t": 1, "lr": 0.1, r"\mu": 0.9, r"\tau": 0, "t": 0},
     "Invalid t value: 0.*integer >= 1"),
    ("optim.sgd_momentum_torch", {r"\theta_{t-1}": 0, "g_t": 1, "lr": 0.1, r"\mu": 0.9, r"\tau": 0, "t": 2},
     "missing 'b_{t-1}'"),
    ("optim.rmsprop", {"w_t": 0, "v_t": 0, "g_t": 1, "lr": 0.1, r"\alpha": 1.5, r"\epsilon": 0}, "Invalid alpha value"),
    ("optim.rmsprop", {"w_t": 0, "v_t": 0, "g": 1, "lr": 0.1, r"\alpha": 0.5, r"\epsilon": 0}, "unknown 'g'"),
    ("optim.sgd", {r"\theta_k": 0.0, "lr": 0.1, r"\nabla \ell_j(\theta_k)": [1.0, 2.0], "B": [0]},
     "invalid batch index 0.0; B holds indices in 1..2"),
    ("optim.gd", {r"\theta_k": [0.0, 1.0], "lr": 0.1, r"\nabla \ell_i(\theta_k)": [1.0, 2.0]}, "one row per sample"),
    ("optim.lr_decay_nonmono", {"lr": 1.0, "L": [1.0], "NONMONO": 2, "LR_DECAY": 0.0}, "Invalid LR\\\\_DECAY value"),
])
def test_bad_input_is_an_error_that_names_it(name, vals, message):
    with pytest.raises(EvaluationError, match=message):
        ref(name).evaluate(vals)


def test_first_torch_sgd_step_needs_no_buffer_and_ignores_dampening():
    r = ref("optim.sgd_momentum_torch")
    got = r.evaluate({r"\theta_{t-1}": 1.0, "g_t": 2.0, "lr": 0.1, r"\mu": 0.9, r"\tau": 0.5, "t": 1})
    p = torch.nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    p.grad = torch.tensor(2.0, dtype=torch.float64)
    opt.step()
    assert rel(got, p.detach()) < RTOL


# -- the checks each reference carries ------------------------------------------------------


def test_every_optim_reference_is_verified():
    names = [r.name for r in registry.refs() if r.section == "optim"]
    assert names == ["optim.gd", "optim.sgd", "optim.heavy_ball", "optim.sgd_momentum_torch", "optim.rmsprop",
                     "optim.adam", "optim.lr_decay_nonmono"]
    for r in registry.refs():
        if r.section != "optim":
            continue
        result = run_checks(r.name, r.checks)
        assert result.status == "verified", result.to_json()
        assert all(c.passed for c in result.checks), result.to_json()
        assert any(c.method == "oracle" for c in result.checks)


def test_the_trajectory_check_refutes_the_seeds_adam():
    """The oracle check is able to fail: the seed's numerator m_t instead of the corrected m_{t+1}."""

    def seed_step(rec, config):
        b1, b2 = config["betas"]
        m = 0.0 if rec["exp_avg"] is None else rec["exp_avg"]
        v = b2 * (0.0 if rec["exp_avg_sq"] is None else rec["exp_avg_sq"]) + (1 - b2) * rec["grad"] ** 2
        return rec["param"] - config["lr"] * m / (np.sqrt(v) + config["eps"])

    from symdl.verify.oracles import optim as oracles_optim

    spec = optim.trajectory_check(seed_step, oracles_optim.adam_records,
                                  [{"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8}], "the seed's Adam")
    result = run_checks("seed adam", [spec])
    assert result.status == "refuted"
    assert result.checks[0].max_error > 1e-6
