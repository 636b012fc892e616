r"""The optimiser recurrences of seed question 2: GD, SGD, heavy ball, PyTorch's SGD, RMSprop, Adam.

Every optimiser acts coordinate by coordinate, so each symbol is a scalar
SymPy symbol and evaluation broadcasts over arrays.  Each reference returns
the new parameter.  Hyperparameters are checked before evaluation and a bad
one is reported the way ``torch.optim`` reports it
("Invalid beta parameter at index 0: 1.2"), with the domain it must lie in.

Keys of ``evaluate`` beyond REFERENCES.md's symbols: ``optim.gd`` and
``optim.sgd`` take the per-sample gradients as one array
``\nabla \ell_i(\theta_k)`` with a row per sample (``\nabla \ell_j(\theta_k)``
is an alias), and ``optim.sgd`` the batch ``B`` as 1-based row indices;
``optim.sgd_momentum_torch`` takes the step number ``t`` (1 on the first step,
where ``b_{t-1}`` may be left out); ``optim.lr_decay_nonmono`` takes the losses
so far as one sequence ``L`` and returns the new learning rate.

The recurrences unrolled symbolically (:func:`unroll_torch_sgd`,
:func:`unroll_heavy_ball`, :func:`unroll_ema`) are shared with the worked
solution in ``derivations/q2_optimisation.py``.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import sympy as sp
from sympy.logic.boolalg import BooleanFunction

from ..verify.oracles import optim as oracles_optim
from ..numeric.compare import TOLERANCES
from ..numeric.compile import ops as backend_ops
from ..verify.builders import symbolic_equal
from ..model.domains import DOMAINS
from ..model.reference import EvaluationError, Input, Reference, check_keys, evaluate_expression
from ..core.symbols import scalar
from ..verify.spec import CheckSpec, compare_trials
from ._display import ordered_product, ordered_sum, reciprocal

#: Agreement demanded of a reference against torch.optim, at every step (an entry of the one table).
ORACLE_RTOL = TOLERANCES["optim_oracle"]
#: Steps of every oracle trajectory, and the parameter sizes they run at.
ORACLE_STEPS = 120
ORACLE_SIZES = (3, 7)

S = scalar
gamma, beta, mu, tau, alpha, eps = S(r"\gamma"), S(r"\beta"), S(r"\mu"), S(r"\tau"), S(r"\alpha"), S(r"\epsilon")
beta1, beta2 = S(r"\beta_1"), S(r"\beta_2")
t = sp.Symbol("t", integer=True, nonnegative=True)

#: How torch.optim names each hyperparameter in its errors.
TORCH_LABELS = {
    r"\gamma": "learning rate", r"\beta_1": "beta parameter at index 0", r"\beta_2": "beta parameter at index 1",
    r"\epsilon": "epsilon value", r"\mu": "momentum value", r"\tau": "dampening value", r"\alpha": "alpha value",
    r"\beta": "momentum value",
}
GRADIENT_ALIASES = {r"\nabla f_i(w_t)": "g_t", r"\nabla f(w_t)": "g_t"}
RATE_ALIASES = {r"\gamma_t": r"\gamma", r"\eta": r"\gamma", "lr": r"\gamma"}


# -- printing-only pieces of the GD / SGD updates ------------------------------------------


class sample_gradient(sp.Function):
    r""":math:`\nabla \ell_i(\theta_k)`, the gradient of sample ``i``'s loss at the current point."""

    nargs = 1

    def _latex(self, printer, exp=None):
        return r"\nabla \ell_{%s}(\theta_k)" % printer._print(self.args[0])


class batch_gradient_sum(sp.Function):
    r""":math:`\sum_{j \in B} \nabla \ell_j(\theta_k)` over the mini-batch ``B``."""

    nargs = 1

    def _latex(self, printer, exp=None):
        return r"\sum_{j \in %s} \nabla \ell_j(\theta_k)" % printer._print(self.args[0])


class nonmono_condition(BooleanFunction):
    r"""``e > NONMONO`` and :math:`L_e > \min(L_1, \ldots, L_{e - NONMONO})`, printed in that order."""

    nargs = 3

    def _latex(self, printer, exp=None):
        e, L_e, k = (printer._print(a) for a in self.args)
        return r"%s > %s \text{ and } %s > \min(L_1, \ldots, L_{%s - %s})" % (e, k, L_e, e, k)


# -- evaluation ----------------------------------------------------------------------------


def _flat(x) -> list:
    if hasattr(x, "detach"):
        x = x.detach()
    return np.asarray(x, dtype=np.float64).reshape(-1).tolist()


def validate(ref: Reference, values) -> None:
    """Every input inside its domain; the error reads like torch.optim's and names the domain."""
    for inp in ref.inputs:
        dom = DOMAINS[inp.domain]
        if dom.name == "real" or inp.name not in values:
            continue
        flat = _flat(values[inp.name])
        for k, v in enumerate(flat):
            if not dom.contains(v):
                label = TORCH_LABELS.get(inp.name, f"{inp.name} value")
                where = f" (entry {k})" if len(flat) > 1 else ""
                raise EvaluationError(f"{ref.name}: Invalid {label}: {v!r}{where}; {inp.name} must be {dom.text}")


def _arrays(values) -> dict:
    """Lists and tuples as float64 arrays (the backends take arrays, tensors and numbers)."""
    return {k: np.asarray(v, dtype=np.float64) if isinstance(v, (list, tuple)) else v for k, v in values.items()}


def _evaluate_plain(ref: Reference, values, backend: str):
    values = _arrays(values)
    check_keys(ref.name, ref.inputs, {}, values)
    validate(ref, values)
    return evaluate_expression(ref.expanded(), ref.inputs, {}, values, backend_ops(backend), backend, ref.name)


def _evaluate_mean_gradient(ref: Reference, values, backend: str):
    """GD (all N samples) and SGD (the 1-based indices in ``B``)."""
    values = _arrays(values)
    check_keys(ref.name, ref.inputs, {}, values)
    validate(ref, values)
    ops = backend_ops(backend)
    theta, lr = ops.asarray(values[r"\theta_k"]), ops.asarray(values[r"\gamma"])
    G = ops.asarray(values[ref.inputs[2].name])
    N = G.shape[0] if len(G.shape) else 0
    if tuple(G.shape[1:]) != tuple(theta.shape):
        raise EvaluationError(f"{ref.name}: {ref.inputs[2].name!r} has shape {tuple(G.shape)}; expected (N,) + "
                              f"the shape of \\theta_k {tuple(theta.shape)}, one row per sample")
    batch = list(range(1, N + 1)) if "B" not in values else [_index(ref, j, N) for j in _flat(values["B"])]
    if not batch:
        raise EvaluationError(f"{ref.name}: the batch is empty; it needs at least one sample")
    total = G[batch[0] - 1]
    for j in batch[1:]:
        total = total + G[j - 1]
    return theta - lr * total / len(batch)


def _index(ref, j: float, N: int) -> int:
    if not float(j).is_integer() or not 1 <= j <= N:
        raise EvaluationError(f"{ref.name}: invalid batch index {j!r}; B holds indices in 1..{N} (j runs over "
                              f"the N = {N} rows of the per-sample gradients)")
    return int(j)


def _evaluate_torch_sgd(ref: Reference, values, backend: str):
    """``b_1 = g_1`` on the first step (``t = 1``), where ``b_{t-1}`` may be left out."""
    first = r"b_{t-1}" not in values and _flat(values.get("t", [0])) == [1.0]
    if first:
        values = {**values, r"b_{t-1}": 0.0}
    values = _arrays(values)
    validate(ref, values)
    check_keys(ref.name, ref.inputs, {}, values)
    steps = _flat(values["t"])
    if len(steps) != 1:
        raise EvaluationError(f"{ref.name}: t must be one number (the step count), got {len(steps)} values")
    expr = ref.params["first"] if steps[0] == 1 else ref.params["later"]
    return evaluate_expression(expr, ref.inputs, {}, values, backend_ops(backend), backend, ref.name)


def _evaluate_nonmono(ref: Reference, values, backend: str):
    check_keys(ref.name, ref.inputs, {}, values)
    validate(ref, values)
    losses = _flat(values["L"])
    if not losses:
        raise EvaluationError(f"{ref.name}: L must hold the validation losses L_1..L_e of at least one epoch")
    nonmono, rate = int(_flat(values["NONMONO"])[0]), values[r"\gamma"]
    e = len(losses)
    if e > nonmono and losses[-1] > min(losses[: e - nonmono]):
        return rate / values[r"LR\_DECAY"]
    return rate


# -- symbolic unrolling, shared with the worked solution ---------------------------------------


def unroll_torch_sgd(K: int, theta0, grads, rates, momentum, dampening) -> list:
    r"""PyTorch's SGD for ``K`` steps: ``[theta_0, ..., theta_K]`` (``b_1 = g_1``)."""
    thetas, buf = [theta0], None
    for k in range(K):
        buf = grads[k] if buf is None else momentum * buf + (1 - dampening) * grads[k]
        thetas.append(thetas[-1] - rates[k] * buf)
    return thetas


def unroll_heavy_ball(K: int, w0, grads, rates, betas) -> list:
    r"""Heavy ball from rest (``w_{-1} = w_0``) for ``K`` steps: ``[w_0, ..., w_K]``."""
    ws = [w0, w0]
    for k in range(K):
        ws.append(ws[-1] - rates[k] * grads[k] + betas[k] * (ws[-1] - ws[-2]))
    return ws[1:]


def unroll_sutskever(K: int, theta0, grads, rates, momentum) -> list:
    r"""Sutskever et al.'s form ``v_t = \mu v_{t-1} + \gamma_t g_t``, ``\theta_t = \theta_{t-1} - v_t``."""
    thetas, v = [theta0], 0
    for k in range(K):
        v = momentum * v + rates[k] * grads[k]
        thetas.append(thetas[-1] - v)
    return thetas


def unroll_ema(K: int, decay, xs, start=0) -> list:
    """An exponential moving average ``a_t = decay a_{t-1} + (1 - decay) x_t`` from ``start``: ``[a_0..a_K]``."""
    out = [start]
    for k in range(K):
        out.append(decay * out[-1] + (1 - decay) * xs[k])
    return out


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


def _with(ref: Reference, checks) -> Reference:
    object.__setattr__(ref, "checks", tuple(checks))
    return ref


# -- the references --------------------------------------------------------------------------


THETA_K, N_SAMPLES, BATCH, CARD_B = S(r"\theta_k"), sp.Symbol("N", integer=True, positive=True), S("B"), S("|B|")
SAMPLE = sp.Symbol("i", integer=True, positive=True)
#: The instances the GD and SGD proofs run: N = 1..5 samples, and every batch of N = 4.
ALL_SAMPLES = [(n, None) for n in range(1, 6)]
EVERY_BATCH = [(4, list(c)) for size in (1, 2, 3, 4) for c in combinations(range(1, 5), size)]
MEAN_GRADIENT_INPUTS = (Input(THETA_K, meaning="current parameter"),
                        Input(gamma, "nonnegative", "learning rate (step size)"),
                        Input(S(r"\nabla \ell_i(\theta_k)"),
                              meaning="per-sample gradients, one row per sample i = 1..N"))


def _gd() -> Reference:
    expr = ordered_sum(THETA_K, ordered_product(-1, gamma, reciprocal(N_SAMPLES),
                                                sp.Sum(sample_gradient(SAMPLE), (SAMPLE, 1, N_SAMPLES))))
    ref = Reference("optim.gd", "gradient descent on the mean of the per-sample losses", r"\theta_{k+1}", expr,
                    MEAN_GRADIENT_INPUTS, aliases={**RATE_ALIASES, r"\gamma_k": r"\gamma"},
                    oracle="torch.optim.SGD on the mean of N per-sample losses (autograd)",
                    evaluator=_evaluate_mean_gradient)
    return _with(ref, [
        CheckSpec("symbolic", "equals theta - gamma dL/dtheta for L = (1/N) sum_i l_i (sp.diff)",
                  _mean_gradient_proof(ref, ALL_SAMPLES, "N = 1..5"), timeout=60),
        CheckSpec("numeric", "evaluate against the SymPy sum written out, in float64",
                  _mean_gradient_numeric(ref, ALL_SAMPLES)),
        _mean_loss_oracle(ref, batched=False),
    ])


def _sgd() -> Reference:
    expr = ordered_sum(THETA_K, ordered_product(-1, gamma, reciprocal(CARD_B), batch_gradient_sum(BATCH)))
    ref = Reference("optim.sgd", "mini-batch SGD: the mean gradient over a batch $B$ of samples", r"\theta_{k+1}",
                    expr, (*MEAN_GRADIENT_INPUTS, Input(BATCH, "count", "mini-batch: indices j in 1..N")),
                    aliases={**RATE_ALIASES, r"\gamma_k": r"\gamma",
                             r"\nabla \ell_j(\theta_k)": r"\nabla \ell_i(\theta_k)", "M_i": "B", "M": "B"},
                    oracle="torch.optim.SGD on the mean of the batch's losses (autograd)",
                    evaluator=_evaluate_mean_gradient)
    return _with(ref, [
        CheckSpec("symbolic", "equals theta - gamma d/dtheta of the batch's mean loss (sp.diff)",
                  _mean_gradient_proof(ref, EVERY_BATCH, "every batch of N = 4"), timeout=60),
        CheckSpec("numeric", "evaluate against the SymPy sum written out, in float64",
                  _mean_gradient_numeric(ref, EVERY_BATCH)),
        _mean_loss_oracle(ref, batched=True),
    ])


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


def _heavy_ball() -> Reference:
    w, w_prev, g = S("w_t"), S("w_{t-1}"), S("g_t")
    expr = ordered_sum(w, -gamma * g, beta * ordered_sum(w, -w_prev))
    inputs = (Input(w, meaning="current parameter"), Input(w_prev, meaning="previous parameter"),
              Input(g, meaning="gradient at w_t"), Input(gamma, "nonnegative", "learning rate"),
              Input(beta, "nonnegative", "momentum coefficient"))
    ref = Reference("optim.heavy_ball",
                    r"Polyak's heavy ball: a gradient step plus $\beta$ times the last step $w_t - w_{t-1}$", "w_{t+1}",
                    expr, inputs, aliases={**GRADIENT_ALIASES, **RATE_ALIASES, r"\beta_t": r"\beta"},
                    oracle="torch.optim.SGD(momentum=beta, dampening=0)", evaluator=_evaluate_plain)

    # Inductive step: w_{t-1} = w_t + gamma b_{t-1} after a PyTorch step; one heavy-ball step is then one PyTorch step.
    b_prev = S("b_{t-1}")
    torch_form = w - gamma * (mu * b_prev + g)
    heavy = expr.xreplace({beta: mu, w_prev: w + gamma * b_prev})

    def step(rec, config):
        prev = rec["param"] if rec["previous"] is None else rec["previous"]
        return ref.evaluate({"w_t": rec["param"], "w_{t-1}": prev, "g_t": rec["grad"], "lr": rec["lr"],
                             r"\beta": config["momentum"]})

    configs = [{"lr": 0.1, "momentum": 0.9}, {"lr": 0.03, "momentum": 0.5}, {"lr": 0.2, "momentum": 0.0}]
    return _with(ref, [
        symbolic_equal(heavy, torch_form, "with beta = mu and w_{t-1} = w_t + gamma b_{t-1}, equals PyTorch's "
                       "w_t - gamma (mu b_{t-1} + g_t)"),
        trajectory_check(step, oracles_optim.sgd_records, configs,
                         "torch.optim.SGD(momentum=beta, dampening=0), from its last two parameters"),
    ])


def _torch_sgd() -> Reference:
    theta, theta_prev, b_t, b_prev, g = S(r"\theta_t"), S(r"\theta_{t-1}"), S("b_t"), S("b_{t-1}"), S("g_t")
    step = sp.Symbol("t", integer=True, positive=True)
    later = mu * b_prev + (1 - tau) * g
    buffer = sp.Piecewise((g, sp.Eq(step, 1)), (later, True))
    expr = theta_prev - gamma * b_t
    inputs = (Input(theta_prev, meaning="current parameter"), Input(b_prev, meaning="momentum buffer"),
              Input(g, meaning="gradient"), Input(gamma, "nonnegative", "learning rate"),
              Input(mu, "nonnegative", "momentum"), Input(tau, "unit", "dampening"),
              Input(step, "step", "step number, 1 on the first step"))
    ref = Reference("optim.sgd_momentum_torch",
                    r"PyTorch's SGD with momentum $\mu$ and dampening $\tau$; the first step uses the gradient "
                    r"alone, $b_1 = g_1$",
                    r"\theta_t", expr, inputs, {b_t: buffer}, aliases={**GRADIENT_ALIASES, **RATE_ALIASES},
                    oracle="torch.optim.SGD(momentum, dampening, nesterov=False)", evaluator=_evaluate_torch_sgd,
                    params={"first": theta_prev - gamma * g, "later": theta_prev - gamma * later})

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
    return _with(ref, [
        symbolic_equal(sp.Matrix(torch_run), sp.Matrix(heavy_run),
                       f"with tau = 0, {K} unrolled steps equal heavy ball with beta_t = mu gamma_t / gamma_(t-1)",
                       simplifier=lambda z: sp.simplify(sp.together(z))),
        trajectory_check(one, oracles_optim.sgd_records, configs,
                         "torch.optim.SGD(momentum, dampening, nesterov=False), stepped from torch's buffer"),
    ])


def _rmsprop() -> Reference:
    w, v, v_next, g = S("w_t"), S("v_t"), S("v_{t+1}"), S("g_t")
    expr = ordered_sum(w, ordered_product(-1, gamma, g / ordered_sum(sp.sqrt(v_next), eps)))
    defs = {v_next: ordered_sum(alpha * v, ordered_product(1 - alpha, g**2))}
    inputs = (Input(w, meaning="current parameter"), Input(v, "nonnegative", "second-moment average"),
              Input(g, meaning="gradient"), Input(gamma, "nonnegative", "learning rate"),
              Input(alpha, "unit", "decay of the second moment"), Input(eps, "nonnegative", "added to the root"))
    ref = Reference("optim.rmsprop", r"RMSprop as torch.optim.RMSprop computes it, $\epsilon$ outside the square root",
                    "w_{t+1}", expr, inputs, defs, aliases={**GRADIENT_ALIASES, **RATE_ALIASES},
                    oracle="torch.optim.RMSprop(centered=False, momentum=0)", evaluator=_evaluate_plain)

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
    return _with(ref, [
        symbolic_equal(ref.expanded(), torch_update, "the update, v_{t+1} expanded, equals torch.optim.RMSprop's "
                       "as its source writes it: param.addcdiv_(grad, sqrt(square_avg) + eps, value=-lr) after "
                       "square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)"),
        symbolic_equal(sp.Matrix(vs), sp.Matrix(closed), f"the moving average alone: v_t from v_0 = 0 unrolled {K} "
                       "steps is (1-alpha) sum_k alpha^(t-k) g_k^2"),
        trajectory_check(one, oracles_optim.rmsprop_records, configs, "torch.optim.RMSprop, stepped from its state"),
    ])


def _adam() -> Reference:
    w, m, v, g = S("w_t"), S("m_t"), S("v_t"), S("g_t")
    m_next, v_next, m_hat, v_hat = S("m_{t+1}"), S("v_{t+1}"), S(r"\hat{m}_{t+1}"), S(r"\hat{v}_{t+1}")
    expr = ordered_sum(w, ordered_product(-1, gamma, m_hat / ordered_sum(sp.sqrt(v_hat), eps)))
    defs = {m_next: ordered_sum(beta1 * m, ordered_product(1 - beta1, g)),
            v_next: ordered_sum(beta2 * v, ordered_product(1 - beta2, g**2)),
            m_hat: m_next / (1 - beta1 ** (t + 1)), v_hat: v_next / (1 - beta2 ** (t + 1))}
    inputs = (Input(w, meaning="current parameter"), Input(m, meaning="first-moment average"),
              Input(v, "nonnegative", "second-moment average"), Input(g, meaning="gradient"),
              Input(gamma, "nonnegative", "learning rate"), Input(beta1, "unit", "decay of the first moment"),
              Input(beta2, "unit", "decay of the second moment"), Input(eps, "nonnegative", "added to the root"),
              Input(t, "count", "updates already made (0 on the first)"))
    ref = Reference("optim.adam",
                    "Adam with bias correction as torch.optim.Adam computes it; $t$ counts the updates made",
                    "w_{t+1}", expr, inputs, defs,
                    aliases={**GRADIENT_ALIASES, **RATE_ALIASES, r"\beta": r"\beta_1", r"\alpha": r"\beta_2"},
                    oracle="torch.optim.Adam (amsgrad=False)", evaluator=_evaluate_plain)

    def one(rec, config):
        b1, b2 = config["betas"]
        return ref.evaluate({"w_t": rec["param"], "m_t": 0.0 if rec["exp_avg"] is None else rec["exp_avg"],
                             "v_t": 0.0 if rec["exp_avg_sq"] is None else rec["exp_avg_sq"], "g_t": rec["grad"],
                             "lr": config["lr"], r"\beta": b1, r"\alpha": b2, r"\epsilon": config["eps"],
                             "t": rec["step"]})

    configs = [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8}, {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-3},
               {"lr": 0.02, "betas": (0.0, 0.99), "eps": 0.0}]
    return _with(ref, [
        symbolic_equal(*adam_forms(ref), "PyTorch's rearranged update (gamma/(1-beta_1^s)) m / (sqrt(v)/sqrt(1-"
                       "beta_2^s) + eps) equals the textbook form"),
        trajectory_check(one, oracles_optim.adam_records, configs, "torch.optim.Adam, stepped from its state"),
    ])


def adam_forms(ref: Reference) -> tuple:
    """``(textbook, pytorch)``: the reference's update and PyTorch's rearrangement of it, in the
    positive quantities ``M = m_{t+1}``, ``V = v_{t+1}``, ``c_1 = 1 - beta_1^s``, ``c_2 = 1 - beta_2^s``
    (``s = t + 1``, PyTorch's step count)."""
    M, V, c1, c2 = S("M", positive=True), S("V", positive=True), S("c_1", positive=True), S("c_2", positive=True)
    d = {k.name: k for k in ref.definitions}
    textbook = ref.expr.xreplace({d[r"\hat{m}_{t+1}"]: ref.definitions[d[r"\hat{m}_{t+1}"]],
                                  d[r"\hat{v}_{t+1}"]: ref.definitions[d[r"\hat{v}_{t+1}"]]})
    textbook = textbook.xreplace({d["m_{t+1}"]: M, d["v_{t+1}"]: V}).subs({beta1 ** (t + 1): 1 - c1,
                                                                          beta2 ** (t + 1): 1 - c2})
    w = ref.symbols["w_t"]
    pytorch = w - (gamma / c1) * M / (sp.sqrt(V) / sp.sqrt(c2) + eps)
    return textbook, pytorch


def _nonmono() -> Reference:
    e, L_e, nonmono, decay = sp.Symbol("e", integer=True, positive=True), S("L_e"), S("NONMONO"), S(r"LR\_DECAY")
    expr = sp.Piecewise((gamma / decay, nonmono_condition(e, L_e, nonmono)), (gamma, True))
    inputs = (Input(gamma, "positive", "learning rate before the update"),
              Input(S("L"), meaning="validation losses L_1..L_e, one per epoch so far"),
              Input(nonmono, "count", "epochs of patience"), Input(decay, "positive", "divisor of the rate"))
    ref = Reference("optim.lr_decay_nonmono", r"after epoch $e$ divide the rate by $LR\_DECAY$ when $e > NONMONO$ and "
                    r"$L_e > \min(L_1, \ldots, L_{e-NONMONO})$", r"\gamma_{e+1}", expr, inputs,
                    aliases={"lr": r"\gamma", r"\eta": r"\gamma", "LR_DECAY": r"LR\_DECAY", "lr_decay": r"LR\_DECAY",
                             "nonmono": "NONMONO", "losses": "L"},
                    oracle="an AWD-LSTM-style training loop keeping every validation loss",
                    evaluator=_evaluate_nonmono)

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

    return _with(ref, [CheckSpec("oracle", "200 random loss sequences against an AWD-LSTM-style loop", run)])


def references() -> list[Reference]:
    return [_gd(), _sgd(), _heavy_ball(), _torch_sgd(), _rmsprop(), _adam(), _nonmono()]
