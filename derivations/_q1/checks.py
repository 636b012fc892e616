"""Question 1: the checks of the bound steps, the BPTT sum against torch, the gates against nn.LSTMCell, and steps
derived from the model's definitions."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symdl import ref
from symdl.core.calculus import jacobian, substitute_definitions
from symdl.core.elementwise import sigmoid
from symdl.core.symbols import m, n
from symdl.document.derivation import Step, math as display
from symdl.models import lstm as L
from symdl.verify.builders import complex_step_check, explicit_proof
from symdl.verify.spec import CheckSpec, compare_trials

from _q1.numerics import RNG_SEED, activation, lstm_weights, rnn_values


def rnn_bound_check():
    def run():
        rng = np.random.default_rng(RNG_SEED + 1)
        worst, count = 0.0, 0
        for act, gamma in (("tanh", 1.0), ("sigmoid", 0.25)):
            for n_ in (2, 6):
                for gap in (1, 3, 7):
                    v = rnn_values(rng, n_, 3, scale=rng.uniform(0.3, 3))
                    vals = {**v, "h_t": rng.normal(size=n_), r"\sigma": activation(act),
                            **{f"x_{{t+{k}}}": rng.normal(size=3) for k in range(1, gap + 1)}}
                    J = ref("rnn.jacobian_product").evaluate(vals)
                    bound = (gamma * np.linalg.norm(v["W_1"], 2)) ** gap
                    ratio = np.linalg.norm(J, 2) / bound
                    worst, count = max(worst, ratio), count + 1
                    if ratio > 1 + 1e-12:
                        return False, f"{act}, n = {n_}, gap {gap}: norm / bound = {ratio:.6g}", None
        return True, f"{count} trials (tanh, sigmoid; n = 2, 6; gaps 1, 3, 7), largest norm / bound {worst:.3g}", None

    return CheckSpec("numeric", "the bound holds at random points", run)


def gamma_check():
    def run():
        x = sp.Symbol("x", real=True)
        found = {}
        for name, fprime in (("sigmoid", sigmoid(x).diff(x).rewrite(sp.exp)), ("tanh", sp.tanh(x).diff(x))):
            crit = sp.solve(sp.diff(fprime, x), x)
            found[name] = sp.simplify(max(fprime.subs(x, c) for c in crit if c.is_real))
            if sp.limit(fprime, x, sp.oo) > found[name]:
                return False, f"{name}: the supremum is not at a critical point", None
        ok = found == {"sigmoid": sp.Rational(1, 4), "tanh": 1}
        return ok, f"max sigma' = {found['sigmoid']}, max tanh' = {found['tanh']} (critical points, limits 0)", None

    return CheckSpec("symbolic", "the largest slope of each activation, from sigma'' = 0", run, timeout=60)


def diag_product_check():
    def run():
        rng = np.random.default_rng(RNG_SEED + 2)
        trials = []
        for n_ in (2, 7):
            for gap in (3, 20):
                fs = rng.uniform(0.05, 0.999, (gap, n_))
                P = np.eye(n_)
                for f in fs:
                    P = np.diag(f) @ P
                trials.append((f"n = {n_}, gap {gap}, product", P, np.diag(np.prod(fs, axis=0))))
                trials.append((f"n = {n_}, gap {gap}, norm", np.linalg.norm(P, 2), np.max(np.prod(fs, axis=0))))
        return compare_trials(trials, rtol=1e-12)

    def prove():
        k = 3
        fs = [sp.Matrix(sp.symbols(f"f{j}_1:4", positive=True)) for j in range(k)]
        P = sp.eye(3)
        for f in fs:
            P = sp.diag(*f) * P
        want = sp.diag(*[sp.Mul(*[f[i] for f in fs]) for i in range(3)])
        return (P - want == sp.zeros(3)), "diag(f_3) diag(f_2) diag(f_1) = diag(f_3 * f_2 * f_1) at n = 3", None

    return (CheckSpec("symbolic", "product of diagonal matrices", prove, timeout=60),
            CheckSpec("numeric", "products of random forget gates in (0, 1)", run))


def gate_term_bound_check():
    def run():
        rng = np.random.default_rng(RNG_SEED + 3)
        worst, exceed = 0.0, 0.0
        for n_ in (2, 6):
            for scale in (0.5, 2.0, 6.0):
                for _ in range(5):
                    v = lstm_weights(rng, n_, 3, 0.0)
                    v = {k: (scale * a if k.startswith("W_") else a) for k, a in v.items()}
                    v.update({"c_{t-1}": rng.normal(0, 2, n_), "o_{t-1}": rng.uniform(0.05, 0.95, n_),
                              "x_t": rng.normal(size=3)})
                    a_f = v["W_{fh}"] @ (v["o_{t-1}"] * np.tanh(v["c_{t-1}"])) + v["W_{fx}"] @ v["x_t"] + v["b_f"]
                    s = 1 / (1 + np.exp(-a_f))
                    term = np.diag(v["c_{t-1}"] * s * (1 - s)) @ v["W_{fh}"] @ np.diag(
                        v["o_{t-1}"] * (1 - np.tanh(v["c_{t-1}"]) ** 2))
                    bound = 0.25 * np.max(np.abs(v["c_{t-1}"])) * np.linalg.norm(v["W_{fh}"], 2)
                    worst = max(worst, np.linalg.norm(term, 2) / bound)
                    J = ref("lstm.cell_jacobian").evaluate(v)
                    exceed = max(exceed, np.linalg.norm(J, 2))
                    if np.linalg.norm(term, 2) > bound * (1 + 1e-12):
                        return False, f"the bound fails at n = {n_}, scale {scale}", None
        if exceed <= 1:
            return False, "no trial had ||dc_t/dc_{t-1}|| > 1", None
        return True, (f"60 trials: largest term / bound {worst:.3g}; largest ||dc_t/dc_(t-1)||_2 = {exceed:.3g} > 1, "
                      f"while ||diag(f_t)||_2 < 1 always"), None

    return CheckSpec("numeric", "the bound holds, and the full Jacobian's norm exceeds 1 at some points", run)


def bptt_check():
    """dL/dW_1 by the BPTT chain built from symdl's Jacobians, against torch autograd."""

    def run():
        import torch

        rng = np.random.default_rng(RNG_SEED + 4)
        trials = []
        for act in ("tanh", "sigmoid"):
            for n_, T in ((3, 4), (5, 6)):
                v = rnn_values(rng, n_, 2)
                h0 = rng.normal(size=n_)
                xs = [rng.normal(size=2) for _ in range(T)]
                hs, vals = [h0], []
                for x in xs:
                    vals.append({**v, "h_{t-1}": hs[-1], "x_t": x, r"\sigma": activation(act)})
                    hs.append(ref("rnn.state").evaluate(vals[-1]))
                dL_dh = hs[-1]  # L = 1/2 ||h_T||^2
                grad = np.zeros_like(v["W_1"])
                for t in range(1, T + 1):
                    if t == T:
                        Jtau = np.eye(n_)
                    else:
                        Jtau = ref("rnn.jacobian_product").evaluate({
                            **v, "h_t": hs[t], r"\sigma": activation(act),
                            **{f"x_{{t+{k}}}": xs[t + k - 1] for k in range(1, T - t + 1)}})
                    a = v["W_1"] @ hs[t - 1] + v["W_2"] @ xs[t - 1]
                    sp_ = 1 - np.tanh(a) ** 2 if act == "tanh" else (1 / (1 + np.exp(-a))) * (1 - 1 / (1 + np.exp(-a)))
                    delta = sp_ * (Jtau.T @ dL_dh)
                    grad += np.outer(delta, hs[t - 1])
                W1 = torch.tensor(v["W_1"], requires_grad=True)
                W2 = torch.tensor(v["W_2"])
                f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}[act]
                h = torch.tensor(h0)
                for x in xs:
                    h = f(W1 @ h + W2 @ torch.tensor(x))
                (0.5 * (h ** 2).sum()).backward()
                trials.append((f"{act}, n = {n_}, T = {T}", grad, W1.grad.numpy()))
        return compare_trials(trials)

    return CheckSpec("oracle", "the BPTT sum built from symdl's Jacobians against torch autograd of "
                               "L = |h_T|^2 / 2", run)


def gate_display():
    """The four gate definitions of the model, printed by symdl."""
    from symdl.document.derivation import TeX
    from symdl.core.printing import latex

    rows = [f"{latex(L.gate[g])} &= {latex(L.GATE_DEFS[L.gate[g]])}" for g in "figo"]
    return TeX(r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}")


def gates_oracle():
    """The model's gates against the gates torch.nn.LSTMCell computes from its stacked weights."""

    def run():
        import torch

        from symdl.numeric import compile as backends
        from symdl.verify.oracles.recurrent import lstm_cell
        from symdl.model.reference import evaluate_expression
        from symdl.model.domains import random_values

        rng = np.random.default_rng(RNG_SEED + 5)
        ops = backends.ops("numpy")
        trials = []
        for n_, m_ in ((2, 3), (5, 2), (16, 7)):
            v = random_values(L.INPUTS, {n: n_, m: m_}, rng)
            cell = lstm_cell(v)
            h = torch.as_tensor(v["o_{t-1}"]).reshape(-1) * torch.tanh(torch.as_tensor(v["c_{t-1}"]).reshape(-1))
            x = torch.as_tensor(v["x_t"]).reshape(-1)
            with torch.no_grad():
                pre = cell.weight_ih @ x + cell.bias_ih + cell.weight_hh @ h + cell.bias_hh
            i_, f_, g_, o_ = pre.chunk(4)
            torch_gates = {"f": torch.sigmoid(f_), "i": torch.sigmoid(i_), "g": torch.tanh(g_), "o": torch.sigmoid(o_)}
            for g in "figo":
                expr = substitute_definitions(L.GATE_DEFS[L.gate[g]], L.DEFS)
                got = evaluate_expression(expr, L.INPUTS, {}, v, ops, "numpy", g)
                trials.append((f"n = {n_}, m = {m_} | {g}", got, torch_gates[g].numpy()))
        return compare_trials(trials)

    return CheckSpec("oracle", "each gate against torch.nn.LSTMCell's own gates (chunks i, f, g, o)", run)


def engine_step(name, out, wrt, lhs, reason, defs=L.DEFS, inputs=L.INPUTS):
    J = jacobian(out, wrt, defs)
    return Step(name, display(J, lhs), reason, checks=(
        explicit_proof(J, out, wrt, defs, (n, m), sizes=(1, 2), description="against SymPy's explicit Matrix.jacobian"),
        complex_step_check(J, out, defs, inputs, {}, wrt.name, (n, m))))


