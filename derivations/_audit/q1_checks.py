"""The seed audit, question 1: the computations behind the claims in words about LSTMs and BPTT."""

from __future__ import annotations

import numpy as np

from symdl.verify.spec import relative_error

from _audit.findings import _cx_text, _ok_text, _v

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
    direct = _v(r"\operatorname{diag}(f_t)", "lstm.cell_jacobian_direct")
    full = _v(r"\operatorname{diag}(f_t)", "lstm.cell_jacobian")
    ok = direct.verdict == "equivalent" and full.verdict == "not_equivalent"
    return ok, (f"diag(f_t) is the whole Jacobian only with h_(t-1) held fixed ({_ok_text(direct) if direct else direct.message}); "
                f"through h_(t-1) three gate terms appear ({_cx_text(full)})"), None


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
    return s < 1e-2, (f"along the additive path alone, the product of {steps} factors diag(f_k) (lstm.cell_jacobian_direct "
                      f"at random states, n = {n_}, forget bias b_f = 1) has spectral norm {s:.2g}: it softens "
                      "vanishing, it does not remove it unless f stays near 1"), None


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
    return s < 1e-6, (f"the largest singular value of the product of {steps} cell Jacobians dc_k/dc_(k-1) (all four "
                      f"terms, lstm.cell_jacobian at random states, n = {n_}, weights ~ N(0, 0.3^2), b_f = -1) is "
                      f"{s:.2g}: a sum of terms still vanishes"), None


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
    return ok, (f"where the candidate's term diag(i_t * tanh'(u_g)) W_gh D dominates (c_(t-1) near 0, b_i = 4, "
                f"b_f = -8), the product of full cell Jacobians (lstm.cell_jacobian) stays within relative "
                f"{max(big_err, small_err):.2g} of the product of that term alone, an RNN-like product "
                f"diag(tanh'(a)) W: with W_gh = 1.5 Q (Q orthogonal) its norm after 30 steps is {big:.3g} (blows up), "
                f"with 0.5 Q after 20 steps {small:.3g} (vanishes)"), max(big_err, small_err)


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
    return err < 1e-10, (f"3-step LSTM, n = 4, L = |h_3|^2/2: the seed's chain (symdl's cell Jacobians) equals torch "
                         f"autograd through W_fh's use at step 1 along the cell path with the output gates held fixed "
                         f"(relative error {err:.2g})"), err


def _bptt_not_the_gradient():
    W, c0, o0, xs, states = _lstm_problem()
    seed = seed_bptt_chain(W, states)
    full = _torch_grad_W_fh(W, c0, o0, xs, restricted=False)
    gap = relative_error(seed, full)
    return gap > 0.05, (f"torch autograd of the same unrolled loss differs from the seed's chain by {gap:.2g} "
                        "(relative): the uses of W_fh at steps 2 and 3 and the paths through h (the output gates) "
                        "are missing"), None


def _bptt_sum_is_the_gradient():
    W, c0, o0, xs, states = _lstm_problem()
    full = _torch_grad_W_fh(W, c0, o0, xs, restricted=False)
    err = relative_error(bptt_sum(W, states), full)
    return err < 1e-10, (f"the sum over time with lstm.state_jacobian equals torch autograd of the unrolled loss "
                         f"(relative error {err:.2g})"), err
