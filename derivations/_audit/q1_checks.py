"""The seed audit, question 1: the computations behind the claims in words about LSTMs and BPTT."""

from __future__ import annotations

import re

import numpy as np

from symdl.verify.spec import relative_error

from _audit.findings import agreement_text, counterexample_text, num, verdict

# -- computations behind the claims in words ---------------------------------------------------------


def _sigmoid(u):
    return 0.5 * (1.0 + np.tanh(0.5 * u))


def _lstm_values(rng, n_, m_, scale=0.3):
    """Random values for every input of lstm.cell_jacobian, as symdl.ref(...).evaluate takes them."""
    from symdl import ref

    vals = {}
    for inp in ref("lstm.cell_jacobian").inputs:
        shape = tuple(n_ if str(s) == "n" else m_ if str(s) == "m" else 1 for s in inp.shape)
        vals[inp.name] = rng.normal(0, scale, shape).reshape(-1) if shape[1] == 1 else rng.normal(0, scale, shape)
    return vals


def _forget_path_only_with_h_fixed():
    direct = verdict(r"\operatorname{diag}(f_t)", "lstm.cell_jacobian_direct")
    full = verdict(r"\operatorname{diag}(f_t)", "lstm.cell_jacobian")
    ok = direct.verdict == "equivalent" and full.verdict == "not_equivalent"
    return ok, (r"$\partial c_t / \partial c_{t-1} = \operatorname{diag}(f_t)$ only with $h_{t-1}$ held fixed; "
                r"through $h_{t-1}$ three gate terms appear. With $h_{t-1}$ fixed, "
                f"{agreement_text(direct) if ok else direct.message}; in full, {counterexample_text(full)}"), None


def _forget_product_decays():
    from symdl import ref

    r = ref("lstm.cell_jacobian_direct")
    rng = np.random.default_rng(11)
    n_, m_, steps = 6, 3, 30
    vals = _lstm_values(rng, n_, m_)
    vals["b_f"] = np.full(n_, 1.0)
    P = np.eye(n_)
    for _ in range(steps):
        vals["c_{t-1}"], vals["o_{t-1}"], vals["x_t"] = rng.normal(size=n_), rng.uniform(0, 1, n_), rng.normal(size=m_)
        P = np.asarray(r.evaluate(vals)) @ P
    s = float(np.linalg.norm(P, 2))
    return s < 1e-2, (f"along the additive path alone, {steps} factors $\\operatorname{{diag}}(f_k)$ at random states "
                      f"multiply to norm ${num(s)}$: the path softens vanishing, it does not remove it. The forget "
                      "bias is $b_f = 1$; only a forget gate held near 1 would keep the norm up"), None


def _additive_still_vanishes():
    from symdl import ref

    rng = np.random.default_rng(1)
    r = ref("lstm.cell_jacobian")
    n_, m_, steps = 8, 3, 30
    vals = _lstm_values(rng, n_, m_)
    vals["b_f"] = np.full(n_, -1.0)
    P = np.eye(n_)
    for _ in range(steps):
        vals["c_{t-1}"], vals["o_{t-1}"], vals["x_t"] = rng.normal(size=n_), rng.uniform(0, 1, n_), rng.normal(size=m_)
        P = np.asarray(r.evaluate(vals)) @ P
    s = float(np.linalg.norm(P, 2))
    return s < 1e-6, (f"{steps} four-term cell Jacobians at random states multiply to norm ${num(s)}$: a sum of terms "
                      f"still vanishes. The states have $n = {n_}$, weights of scale $0.3$ and $b_f = -1$"), None


def _dominant_candidate_term(scale: float, steps: int, seed: int):
    """Products over time of the full cell Jacobian (symdl) and of its candidate term alone (numpy, from the
    definitions) where that term dominates: c_(t-1) near 0, input gate open, forget gate shut."""
    from symdl import ref

    r = ref("lstm.cell_jacobian")
    rng = np.random.default_rng(seed)
    n_, m_ = 6, 3
    vals = _lstm_values(rng, n_, m_, scale=0.01)
    Q, _ = np.linalg.qr(rng.normal(size=(n_, n_)))
    vals["W_{gh}"] = scale * Q
    vals["b_i"], vals["b_f"], vals["b_g"] = np.full(n_, 4.0), np.full(n_, -8.0), np.zeros(n_)
    full, term = np.eye(n_), np.eye(n_)
    for _ in range(steps):
        c = 0.01 * rng.normal(size=n_)
        o = rng.uniform(0.9, 1.0, n_)
        x = rng.normal(size=m_)
        vals["c_{t-1}"], vals["o_{t-1}"], vals["x_t"] = c, o, x
        h = o * np.tanh(c)
        i = _sigmoid(vals["W_{ih}"] @ h + vals["W_{ix}"] @ x + vals["b_i"])
        u_g = vals["W_{gh}"] @ h + vals["W_{gx}"] @ x + vals["b_g"]
        G = (i * (1 - np.tanh(u_g) ** 2))[:, None] * vals["W_{gh}"] * (o * (1 - np.tanh(c) ** 2))[None, :]
        full = np.asarray(r.evaluate(vals)) @ full
        term = G @ term
    return float(np.linalg.norm(full, 2)), relative_error(full, term)


def _dominating_term():
    big, big_err = _dominant_candidate_term(1.5, 30, 21)
    small, small_err = _dominant_candidate_term(0.5, 20, 22)
    ok = big > 1e3 and small < 1e-4 and max(big_err, small_err) < 0.1
    return ok, ("where the candidate's term dominates, the product of cell Jacobians follows that term's RNN-like "
                f"product: it blows up to ${num(big)}$ in 30 steps or vanishes to ${num(small)}$ in 20, as $W_{{gh}}$ "
                "is large or small. Here $c_{t-1}$ is near 0, the input gate open and the forget gate shut; the full "
                f"product stays within ${num(max(big_err, small_err))}$ of the term's, for $W_{{gh}} = 1.5\\,Q$ and "
                "$0.5\\,Q$ ($Q$ orthogonal)"), max(big_err, small_err)


def _lstm_problem(seed=8, n_=4, m_=3, T=3):
    rng = np.random.default_rng(seed)
    from symdl import ref

    W = {k: v for k, v in _lstm_values(rng, n_, m_, scale=0.6).items() if k.startswith(("W_", "b_"))}
    c0, o0 = rng.normal(size=n_), rng.uniform(0.2, 0.9, n_)
    xs = [rng.normal(size=m_) for _ in range(T)]
    states, c, o = [], c0, o0
    for x in xs:
        h = o * np.tanh(c)
        u = {g: W["W_{%sh}" % g] @ h + W["W_{%sx}" % g] @ x + W["b_%s" % g] for g in "figo"}
        f, i, gg, o_new = _sigmoid(u["f"]), _sigmoid(u["i"]), np.tanh(u["g"]), _sigmoid(u["o"])
        c_new = f * c + i * gg
        states.append({"c_prev": c, "o_prev": o, "h_prev": h, "x": x, "u_f": u["f"], "c": c_new, "o": o_new})
        c, o = c_new, o_new
    del ref
    return W, c0, o0, xs, states


def _torch_grad_W_fh(W, c0, o0, xs, restricted: bool):
    """dL/dW_fh for L = |h_T|^2 / 2 of the unrolled LSTM, by torch autograd.  ``restricted``: W_fh acts through
    the graph only at step 1 (a detached copy later) and every output gate is held fixed: the seed's single path."""
    import torch

    Wt = {k: torch.tensor(v, dtype=torch.float64) for k, v in W.items()}
    Wfh = torch.tensor(W["W_{fh}"], dtype=torch.float64, requires_grad=True)
    c, o = torch.tensor(c0), torch.tensor(o0)
    for k, x in enumerate(xs):
        x = torch.tensor(x)
        h = o * torch.tanh(c)
        wf = Wfh if (k == 0 or not restricted) else Wfh.detach()
        f = torch.sigmoid(wf @ h + Wt["W_{fx}"] @ x + Wt["b_f"])
        i = torch.sigmoid(Wt["W_{ih}"] @ h + Wt["W_{ix}"] @ x + Wt["b_i"])
        g = torch.tanh(Wt["W_{gh}"] @ h + Wt["W_{gx}"] @ x + Wt["b_g"])
        o_new = torch.sigmoid(Wt["W_{oh}"] @ h + Wt["W_{ox}"] @ x + Wt["b_o"])
        c, o = f * c + i * g, (o_new.detach() if restricted else o_new)
    h = o * torch.tanh(c)
    (0.5 * (h ** 2).sum()).backward()
    return Wfh.grad.numpy()


def seed_bptt_chain(W, states):
    """The seed's chain dL/dh_T dh_T/dc_T [prod_k dc_k/dc_(k-1)] dc_1/dW_fh for L = |h_T|^2 / 2, each
    dc_k/dc_(k-1) from symdl's lstm.cell_jacobian at the trajectory's states."""
    from symdl import ref

    r = ref("lstm.cell_jacobian")
    last = states[-1]
    h_T = last["o"] * np.tanh(last["c"])
    v = h_T * last["o"] * (1 - np.tanh(last["c"]) ** 2)
    for s in reversed(states[1:]):
        J = np.asarray(r.evaluate({**W, "c_{t-1}": s["c_prev"], "o_{t-1}": s["o_prev"], "x_t": s["x"]}))
        v = v @ J
    s1 = states[0]
    sp_f = _sigmoid(s1["u_f"]) * (1 - _sigmoid(s1["u_f"]))
    return np.outer(v * s1["c_prev"] * sp_f, s1["h_prev"])


def bptt_sum(W, states):
    """The whole gradient dL/dW_fh: the sum over time of the immediate dependence at each step, carried back
    by symdl's 2n x 2n lstm.state_jacobian of (c_k, h_k) on (c_(k-1), h_(k-1))."""
    from symdl import ref

    r = ref("lstm.state_jacobian")
    n_ = len(states[0]["c"])
    last = states[-1]
    lam = np.concatenate([np.zeros(n_), last["o"] * np.tanh(last["c"])])  # dL/d(c_T, h_T)
    grad = np.zeros((n_, n_))
    for s in reversed(states):
        sp_f = _sigmoid(s["u_f"]) * (1 - _sigmoid(s["u_f"]))
        mu = lam[:n_] + lam[n_:] * s["o"] * (1 - np.tanh(s["c"]) ** 2)
        grad += np.outer(mu * s["c_prev"] * sp_f, s["h_prev"])
        S = np.asarray(r.evaluate({**W, "c_{t-1}": s["c_prev"], "h_{t-1}": s["h_prev"], "x_t": s["x"]}))
        lam = lam @ S
    return grad


def _bptt_is_one_path():
    W, c0, o0, xs, states = _lstm_problem()
    seed = seed_bptt_chain(W, states)
    one_path = _torch_grad_W_fh(W, c0, o0, xs, restricted=True)
    err = relative_error(seed, one_path)
    return err < 1e-10, ("the seed's chain is PyTorch's gradient through $W_{fh}$'s use at step 1 along the cell "
                         f"path, output gates held fixed (relative error ${num(err)}$). The LSTM runs 3 steps, $n = 4$, "
                         "$L = \\lVert h_3 \\rVert^2/2$"), err


def _bptt_not_the_gradient():
    W, c0, o0, xs, states = _lstm_problem()
    seed = seed_bptt_chain(W, states)
    full = _torch_grad_W_fh(W, c0, o0, xs, restricted=False)
    gap = relative_error(seed, full)
    return gap > 0.05, (f"PyTorch's whole gradient differs from the seed's chain by ${num(gap)}$ (relative): the "
                        "chain is one path of the gradient. The uses of $W_{fh}$ at steps 2 and 3 and the paths "
                        "through $h$ are missing"), None


def _bptt_sum_is_the_gradient():
    W, c0, o0, xs, states = _lstm_problem()
    full = _torch_grad_W_fh(W, c0, o0, xs, restricted=False)
    err = relative_error(bptt_sum(W, states), full)
    return err < 1e-10, ("the sum over time, carried back by the Jacobian of the state $(c_k, h_k)$, is PyTorch's "
                         f"gradient of the unrolled loss (relative error ${num(err)}$)"), err


# -- the seed's cell Jacobian as a derivation ----------------------------------------------------------------

#: The product rule on eq. (1), the step the seed takes in words ("accumulated through both terms of (eq. 1)"):
#: each gate's derivative is left for the checker to derive from the model.
PRODUCT_RULE = (r"\operatorname{diag}(f_t) + \operatorname{diag}(c_{t-1}) \frac{\partial f_t}{\partial c_{t-1}} + "
                r"\operatorname{diag}(\tilde{c}_t) \frac{\partial i_t}{\partial c_{t-1}} + "
                r"\operatorname{diag}(i_t) \frac{\partial \tilde{c}_t}{\partial c_{t-1}}")


def seed_derivation_text(read: str) -> str:
    """The seed's cell Jacobian as the two-link derivation it makes: the product rule, then its display ``read``."""
    return ("\\begin{align*}\n\\frac{\\partial c_t}{\\partial c_{t-1}} &= " + PRODUCT_RULE
            + " \\quad \\text{the product rule on (1)} \\\\\n&= " + read + " \\quad \\text{the seed's display}\n"
            "\\end{align*}")


def _typeset_slip(detail: str) -> str:
    r"""A diagnosis such as ``\sigma' in place of \tanh'`` with its two formulas as mathematics."""
    m = re.fullmatch(r"(.+) in place of (.+)", detail)
    return f"${m.group(1)}$ in place of ${m.group(2)}$" if m else detail


def seed_derivation(read: str):
    """A check that the seed's derivation of the cell Jacobian goes wrong at its display, and nowhere before:
    symdl.check_derivation reads it link by link in the LSTM model's symbols, each derivative derived from the
    model, and names the first wrong step and its diagnosis."""

    def run():
        import symdl

        v = symdl.check_derivation(seed_derivation_text(read), model="lstm", timeout=30, total_timeout=60)
        links = [s for s in v.steps if s.kind == "link"]
        if v.verdict != "not_equivalent" or len(links) != 2 or links[0].verdict != "equivalent":
            return False, f"the derivation checker gave {v.verdict}: {v.message}", None
        wrong = links[1]
        why = wrong.diagnosis or {}
        ok = v.first_wrong == wrong.index and why.get("kind") == "symbol_slip"
        cx = wrong.counterexample or {}
        at = (f"${num(cx['hand_entry'], 5)}$ against ${num(cx['reference_entry'], 5)}$ at entry {cx['entry']}"
              if "entry" in cx else wrong.message)
        return ok, ("checked as a derivation, link by link, in the model's symbols (the seed's "
                    "$W[h_{t-1}, x_t]$ read per gate): "
                    "link 1, the product rule on (1) that the seed states in words, holds (numerically, at random points "
                    "of two sizes); "
                    f"link 2, the seed's display, is the first wrong step ({at}): "
                    f"{_typeset_slip(why.get('detail', 'no simple slip'))}"), None

    return run
