r"""The seed audit: every answer of the seed graded correct, imprecise or incorrect by checks, with evidence.

The exam's own text (background, definitions, equations 1 and 2) is transcribed
in a table of its own and not graded.  Each answer the student wrote is a
:class:`Claim`; its grade is decided by :class:`Finding` s, each a
symdl.verify.CheckSpec that states one proposition about the answer (it agrees
with a reference, it differs from one, it holds only in a reading or under a
condition it does not state).  The verdict is computed from the outcomes of
those checks (:func:`verdict_of`), never typed, and each claim is a Step, so
``symdl verify seed_audit`` and the build ledger list the checks and a finding
that no longer holds fails the build as refuted.  Equations go through
symdl.check against the reference they state (the lost \b, \t, \r escapes and
minus signs repaired, each repair noted); claims in words by a computation from
the references.  A claim whose only possible form would be the reference itself
or the transcriber's own construction is marked not graded, with the reason.
audit_section(q) gives the audit of one question for that question's worked solution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from symdl._check import check, describe_size
from symdl.derivation import Derivation, Section, Step, Table, prose, tex
from symdl.verify import CheckSpec, relative_error, run_check

TIMEOUT = 1.0
GRADES = ("correct", "imprecise", "incorrect")
NOT_GRADED = "not graded"
UNDECIDED = "undecided"
#: What a finding establishes about the seed's answer.  ``holds``: it agrees with the reference as read;
#: ``fails``: it is false as read (a counterexample); ``loose``: right only in a charitable reading, under a
#: condition it does not state, or ambiguous; ``context``: checks the correct form shown beside it, and does
#: not bear on the grade.
KINDS = ("holds", "fails", "loose", "context")

U = {g: r"W_{%sh} h_{t-1} + W_{%sx} x_t + b_%s" % (g, g, g) for g in "figo"}
D = r"\operatorname{diag}(o_{t-1} \odot \tanh'(c_{t-1}))"
FOUR = (r"\operatorname{diag}(f_t) + \operatorname{diag}(c_{t-1} \odot \sigma'(%s)) W_{fh} %s"
        r" + \operatorname{diag}(\tilde{c}_t \odot \sigma'(%s)) W_{ih} %s"
        r" + \operatorname{diag}(i_t \odot \tanh'(%s)) W_{gh} %s") % (U["f"], D, U["i"], D, U["g"], D)
FOUR_DISPLAY = (r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(f_t) + \operatorname{diag}(c_{t-1} "
                r"\odot \sigma'(u_f)) W_{fh} D_{t-1} \\ & \quad + \operatorname{diag}(\tilde{c}_t \odot \sigma'(u_i)) "
                r"W_{ih} D_{t-1} + \operatorname{diag}(i_t \odot \tanh'(u_g)) W_{gh} D_{t-1}, \\ & \quad u_k = W_{kh} "
                r"h_{t-1} + W_{kx} x_t + b_k, \quad D_{t-1} = " + D)
GIBBS_I = r"\frac{\exp(-\beta F_w(x_i,y))}{\int_{y'} \exp(-\beta F_w(x_i,y'))\, dy'}"


# -- findings: one proposition about an answer, one check ---------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A proposition about the seed's answer (``kind`` says which way it bears on the grade) and its check."""

    kind: str
    spec: CheckSpec

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}; expected one of {KINDS}")


@dataclass(frozen=True)
class Claim:
    """One answer of the seed.  ``says`` is the answer in words; ``seed`` the seed's mathematics as transcribed
    (repaired) and ``correct`` the correct form, both displayed; ``findings`` decide the grade; a claim with no
    findings must say in ``not_graded`` why it is not graded."""

    key: str
    question: int
    part: str
    says: str
    correct: str
    seed: str = ""
    repairs: str = ""
    findings: tuple = ()
    not_graded: str = ""


@dataclass(frozen=True)
class QuestionText:
    """A line of the exam's own text, transcribed; not graded."""

    key: str
    part: str
    text: str
    repairs: str = ""
    math: bool = True


def verdict_of(findings, checks) -> str:
    """The grade the outcomes of the checks give: any check not passed leaves the claim undecided (and a refuted
    one fails the build); else a verified ``fails`` makes it incorrect, a ``loose`` imprecise, a ``holds`` correct."""
    if not findings:
        return NOT_GRADED
    if any(not (c.made and c.passed) for c in checks):
        return UNDECIDED
    kinds = {f.kind for f in findings}
    if "fails" in kinds:
        return "incorrect"
    if "loose" in kinds:
        return "imprecise"
    if "holds" in kinds:
        return "correct"
    return UNDECIDED


def _memo(fn):
    """Run ``fn`` once per process: the build's ledger and the grade see the same outcome."""
    box = []

    def run():
        if not box:
            try:
                box.append((True, fn()))
            except Exception as exc:  # re-raised each time, so run_check reports it as a failed check
                box.append((False, exc))
        ok, value = box[0]
        if not ok:
            raise value
        return value

    run.__name__ = getattr(fn, "__name__", "run")
    return run


def _v(form, against):
    return check(form, against=against, timeout=TIMEOUT)


def _cx_text(v) -> str:
    cx = v.counterexample
    if cx is None:
        return v.message
    where = describe_size(cx["sizes"])
    if "entry" in cx:
        at = f" entry {cx['entry']}" if cx["entry"] else ""
        return (f"not equivalent to {v.reference}: at a random point ({where}){at} the seed's form gives "
                f"{cx['hand_entry']:.6g}, the reference {cx['reference_entry']:.6g}")
    return f"not equivalent to {v.reference}: {v.message}"


def _ok_text(v) -> str:
    how = "proved by SymPy and " if v.method == "symbolic" else ""
    return (f"equivalent to {v.reference} ({how}agreeing at {v.trials} random points, largest relative error "
            f"{v.max_error:.2g})")


def agrees(form: str, against: str, kind: str = "holds", what: str = "the seed's form") -> Finding:
    """``form`` is equivalent to reference ``against`` (symdl.check)."""

    def run():
        v = _v(form, against)
        if v.verdict == "equivalent":
            return True, _ok_text(v).split(" (", 1)[1].rstrip(")"), v.max_error
        if v.verdict == "not_equivalent":
            return False, _cx_text(v), None
        return None, f"symdl.check gave {v.verdict}: {v.message}", None

    return Finding(kind, CheckSpec("numeric", f"symdl.check: {what} is equivalent to {against}", _memo(run)))


def differs(form: str, against: str, what: str = "the seed's form") -> Finding:
    """``form`` is not equivalent to reference ``against``: symdl.check finds a counterexample."""

    def run():
        v = _v(form, against)
        if v.verdict == "not_equivalent":
            return True, _cx_text(v).split(": ", 1)[1], None
        if v.verdict == "equivalent":
            return False, "no counterexample: " + _ok_text(v), None
        return None, f"symdl.check gave {v.verdict}: {v.message}", None

    return Finding("fails", CheckSpec("numeric", f"symdl.check: {what} differs from {against}", _memo(run)))


def computed(kind: str, method: str, description: str, fn) -> Finding:
    """A proposition decided by a computation ``fn() -> (passed, detail, max_error)``."""
    return Finding(kind, CheckSpec(method, description, _memo(fn)))


def _clean(text: str) -> str:
    return text.replace("$", "")


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


def _finite_marginal(numerator_over: str):
    """Sum over a y grid of the seed's marginal (numerator integrated over ``numerator_over``)."""
    rng = np.random.default_rng(5)
    gy, gz, beta = rng.normal(size=4), rng.normal(size=3), 0.8
    a, b = rng.normal(size=2)

    def E(y, z):
        return np.tanh(a * y + b * z) + 0.5 * (y - z) ** 2

    ez = np.array([[np.exp(-beta * E(y, z)) for z in gz] for y in gy])
    total = ez.sum()
    if numerator_over == "z":
        return float(sum(ez[j].sum() / total for j in range(len(gy))))
    z0 = gz[0]
    return float(sum(sum(np.exp(-beta * E(yy, z0)) for yy in gy) / total for _ in gy))


def _marginal_middle():
    seed, right = _finite_marginal("y"), _finite_marginal("z")
    return abs(seed - 1) > 1e-3 and abs(right - 1) < 1e-12, (
        f"the numerator integrates over y, so it no longer depends on y: on a 4-point y grid and a 3-point z grid "
        f"(random E) the seed's P(y|x) sums to {seed:.4g} over y; with the numerator integrated over z it sums to "
        f"{right:.4g}"), None


def _marginal_last():
    rng = np.random.default_rng(6)
    gy, gz, beta = rng.normal(size=4), rng.normal(size=3), 1.3
    E = np.array([[np.sin(y + 2 * z) + y * z for z in gz] for y in gy])
    F_beta = -np.log(np.exp(-beta * E).sum(1)) / beta
    seed = np.exp(-beta * F_beta) / np.exp(-beta * F_beta).sum()
    marginal = np.exp(-beta * E).sum(1) / np.exp(-beta * E).sum()
    err = relative_error(seed, marginal)
    return err < 1e-12, ("exp(-beta F_beta(x,y)) is the integral over z of exp(-beta E) (ebm.free_energy), so the "
                         f"Gibbs form of F_beta is the marginal: on grids of 4 y and 3 z points they agree to "
                         f"{err:.1g}"), err


def _nll_gradient_first():
    literal = _v(r"\frac{\partial F_w(x_i,y_i)}{\partial w} - \int_y \frac{\partial F_w(x_i,y)}{\partial w}"
                 r" \frac{\exp(-\beta F_w(x_i,y_i))}{\int_{y'} \exp(-\beta F_w(x_i,y'))\, dy'}\, dy", "ebm.nll_gradient")
    meant = _v(r"\frac{1}{N}\sum_{i=1}^{N} \left[\frac{\partial F_w(x_i,y_i)}{\partial w} - \int_y "
               r"\frac{\partial F_w(x_i,y)}{\partial w} " + GIBBS_I + r"\, dy\right]", "ebm.nll_gradient")
    ok = literal.verdict == "not_equivalent" and meant.verdict == "equivalent"
    return ok, ("read literally, with P(y^(i) | x^(i)) under the integral over y and no mean over i, "
                f"{_cx_text(literal)}; with P(y | x_i) and (1/N) sum_i, "
                f"{_ok_text(meant) if meant else meant.message}"), None


def _nce_minimised():
    from symdl.models.contrastive import gradient_signs

    passed, detail, _ = gradient_signs()
    return passed, ("L_NCE = -log h(positive) - sum log(1 - h(negative)) is the negative of NCE's objective and is "
                    f"minimised: {detail}, so a descent step on L_NCE raises the positive pair's similarity and "
                    "lowers the negatives'; maximising the objective (log-probabilities) is right, maximising the "
                    "cost is not"), None


# -- the exam's own text: transcribed, not graded -----------------------------------------------------

QUESTION_TEXT: tuple[QuestionText, ...] = (
    QuestionText("1.rnn", "background",
                 r"\boldsymbol{h}_t = \sigma(\boldsymbol{W}_1 \boldsymbol{h}_{t-1} + \boldsymbol{W}_2 \boldsymbol{x}_t)"),
    QuestionText("1.vanish", "background",
                 "dh_tau/dh_t is what vanishes or explodes, through the repeated application of W_1", math=False),
    QuestionText("1.eq1", "eq. (1)",
                 r"\boldsymbol{c}_t = \boldsymbol{f}_t \odot \boldsymbol{c}_{t-1} + \boldsymbol{i}_t \odot "
                 r"\tilde{\boldsymbol{c}}_t"),
    QuestionText("1.eq2", "eq. (2)", r"\boldsymbol{h}_t = \boldsymbol{o}_t \odot \tanh(\boldsymbol{c}_t)"),
    QuestionText("1.cand", "gates",
                 r"\tilde{\boldsymbol{c}}_t = \tanh(\boldsymbol{W}_{gh}\boldsymbol{h}_{t-1} + "
                 r"\boldsymbol{W}_{gx}\boldsymbol{x}_t + \boldsymbol{b}_g)",
                 repairs=r"'egin', 'ilde', 'anh', 'oldsymbol' read as \begin, \tilde, \tanh, \boldsymbol (lost \b, \t)"),
    QuestionText("1.forget", "gates",
                 r"\boldsymbol{f}_t = \sigma(\boldsymbol{W}_{ih}\boldsymbol{h}_{t-1} + \boldsymbol{W}_{ix}\boldsymbol{x}_t"
                 r" + \boldsymbol{b}_i)",
                 repairs=r"'extbf{\emph{f}}' read as \textbf{f} (lost \t). The extraction lost a line: this is the "
                         "input gate's line (W_ih, W_ix, b_i) under f_t's name; the question defines i_t with those "
                         "and the forget gate f_t with W_fh, W_fx, b_f"),
    QuestionText("1.out", "gates",
                 r"\boldsymbol{o}_t = \sigma(\boldsymbol{W}_{oh}\boldsymbol{h}_{t-1} + \boldsymbol{W}_{ox}\boldsymbol{x}_t"
                 r" + \boldsymbol{b}_o)", repairs="'extbf{\\emph{o}}' read as \\textbf{o} (lost \\t)"),
    QuestionText("2.loss", "question",
                 r"L(\hat{\boldsymbol{Y}}_{\theta}(\boldsymbol{X}), \boldsymbol{y}) = \frac{1}{N} \sum_{i} "
                 r"\ell(\hat{\boldsymbol{y}}_{\theta}(x_i), y_i)"),
)


# -- the student's answers: graded -----------------------------------------------------------------

_SEED_JACOBIAN = (r"\frac{\partial \boldsymbol{c}_t}{\partial \boldsymbol{c}_{t-1}} = \sigma'(\boldsymbol{W}"
                  r"[\boldsymbol{h}_{t-1}, \boldsymbol{x}_t]) \boldsymbol{W} \boldsymbol{o}_{t-1} \odot "
                  r"\tanh'(\boldsymbol{c}_{t-1}) \boldsymbol{c}_{t-1} \\ & \quad + \boldsymbol{f}_t + \sigma'(\cdot) "
                  r"\boldsymbol{W} \boldsymbol{o}_{t-1} \odot \tanh'(\boldsymbol{c}_{t-1}) \tilde{\boldsymbol{c}}_t "
                  r"+ \sigma'(\cdot) \boldsymbol{W} \boldsymbol{o}_{t-1} \odot \tanh'(\boldsymbol{c}_{t-1}) "
                  r"\boldsymbol{i}_t")
#: The seed's Jacobian read per gate: each term with its gate's own W and pre-activation, products of vectors as
#: diag(.) factors.  Its one departure from the reference: sigma' where the candidate's tanh' belongs.
SEED_JACOBIAN_READ = FOUR.replace(r"\tanh'(%s)" % U["g"], r"\sigma'(%s)" % U["g"])

CLAIMS: tuple[Claim, ...] = (
    Claim("1.credited", 1, "answer",
          "the term f_t * c_(t-1), with the don't-forget gate, is credited with solving the vanishing gradient problem",
          r"\frac{\partial c_t}{\partial c_{t-1}}\Big|_{h_{t-1}\ \mathrm{fixed}} = \operatorname{diag}(f_t), \qquad "
          r"\Big\|\prod_{k=t+1}^{\tau} \operatorname{diag}(f_k)\Big\|_2 \le \big(\max_{k,i} f_{k,i}\big)^{\tau - t}",
          findings=(computed("loose", "numeric", "diag(f_t) is the additive path, not the whole Jacobian",
                             _forget_path_only_with_h_fixed),
                    computed("loose", "numeric", "the additive path alone still decays", _forget_product_decays))),
    Claim("1.bptt", 1, "answer",
          "back-propagation through time: the gradient is the chain along the cell state, through the product of "
          "dc_k/dc_(k-1)",
          r"\frac{\partial \mathcal{L}_t}{\partial W} = \sum_{k=1}^{t} \frac{\partial \mathcal{L}_t}{\partial s_t} "
          r"\Big[\prod_{j=k+1}^{t} \frac{\partial s_j}{\partial s_{j-1}}\Big] \frac{\partial^{+} s_k}{\partial W}, "
          r"\quad s_k = (c_k, h_k)",
          seed=r"\frac{\partial \mathcal{L}_t}{\partial \boldsymbol{W}} = \frac{\partial \mathcal{L}_t}{\partial "
               r"\boldsymbol{h}_t} \frac{\partial \boldsymbol{h}_t}{\partial \boldsymbol{c}_t} \Big[\prod_{t=2} "
               r"\frac{\partial \boldsymbol{c}_t}{\partial \boldsymbol{c}_{t-1}}\Big] \frac{\partial \boldsymbol{c}_1}"
               r"{\partial \boldsymbol{W}}",
          repairs=r"'rac', 'oldsymbol', 'ight' read as \frac, \boldsymbol, \right (lost \f, \b, \r); the product read "
                  "over k = 2..t; W taken as W_fh, the loss as |h_t|^2/2",
          findings=(computed("loose", "oracle", "the seed's chain is one path of the gradient", _bptt_is_one_path),
                    computed("loose", "oracle", "the seed's chain is not the whole gradient", _bptt_not_the_gradient),
                    computed("context", "oracle", "the correct form: the sum over time", _bptt_sum_is_the_gradient))),
    Claim("1.additive", 1, "answer",
          "since the terms of the bracket are additive, the gradients will not explode or vanish",
          r"\Big\|\prod_{k=1}^{30} \frac{\partial c_k}{\partial c_{k-1}}\Big\|_2 \ll 1 \text{ is possible: a sum of "
          r"terms can still vanish (or explode)}",
          findings=(computed("fails", "numeric", "a product of four-term cell Jacobians vanishes",
                             _additive_still_vanishes),)),
    Claim("1.jacobian", 1, "answer", "the cell-state Jacobian, four additive terms",
          FOUR_DISPLAY, seed=_SEED_JACOBIAN,
          repairs=r"'anh', 'ilde', 'oldsymbol', 'ight)', 'rac' read as \tanh, \tilde, \boldsymbol, \right), \frac; "
                  "W[h_(t-1), x_t] read per gate, each term with its own gate's weights and pre-activation (W_fh with "
                  "c_(t-1), W_ih with the candidate, W_gh with i_t), the most charitable faithful reading; products "
                  "of vectors as diag(.) factors",
          findings=(differs(SEED_JACOBIAN_READ, "lstm.cell_jacobian", "the seed's Jacobian read per gate"),
                    agrees(FOUR, "lstm.cell_jacobian", what="the same with tanh' for sigma' on the candidate's term "
                                                            "(its only error)"))),
    Claim("1.dominate", 1, "answer",
          "if one of the four additive terms dominates, the LSTM back-propagates like a vanilla RNN and the "
          "gradient may still vanish or blow up",
          r"\prod_k \frac{\partial c_k}{\partial c_{k-1}} \approx \prod_k \operatorname{diag}(i_k \odot "
          r"\tanh'(u_{g,k})) W_{gh} D_{k-1} \quad \text{when it dominates}",
          findings=(computed("holds", "numeric", "a dominating term makes the product RNN-like", _dominating_term),)),
    Claim("2.gd", 2, "(a)", "the gradient-descent update",
          r"\theta_{k+1} = \theta_k - \gamma \frac{1}{N}\sum_{i=1}^{N} \nabla \ell_i(\theta_k)",
          seed=r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{N} \frac{\partial (\sum_i \ell(\hat{y}_\theta(x_i), "
               r"y_i))}{\partial \theta_k}",
          repairs=r"the derivative of the sum written as the sum of per-sample gradients \nabla \ell_i(\theta_k)",
          findings=(agrees(r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{N} \sum_{i=1}^{N} \nabla "
                           r"\ell_i(\theta_k)", "optim.gd"),)),
    Claim("2.sgd", 2, "(b)", "the SGD update on a mini-batch",
          r"\theta_{k+1} = \theta_k - \gamma \frac{1}{|B|}\sum_{j \in B} \nabla \ell_j(\theta_k)",
          seed=r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{|M_i|} \sum_{j \in M_i} \frac{\partial \ell_j(\hat{"
               r"\boldsymbol{y}}_{\theta}(x_j), y_j)}{\partial \theta_k}",
          repairs=r"the derivative of sample j's loss written \nabla \ell_j(\theta_k); M_i is the batch B",
          findings=(agrees(r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{|M_i|} \sum_{j \in M_i} \nabla "
                           r"\ell_j(\theta_k)", "optim.sgd"),)),
    Claim("2.batch", 2, "(c)", "smaller batches converge sooner and regularise",
          r"\operatorname{Var}\Big[\frac{1}{|B|}\sum_{j \in B} g_j\Big] = \frac{s^2}{|B|}\,\frac{N - |B|}{N - 1}",
          findings=(computed("loose", "numeric", "batch noise against batch size", _batch_noise),)),
    Claim("2.classes", 2, "(d)", "a batch of slightly more than or equal to K samples represents all K classes",
          r"P(\text{a uniform batch of } K \text{ has every class}) = \frac{K!}{K^K}; \quad "
          r"\text{stratified: } |B| \ge K \text{ suffices}",
          findings=(computed("loose", "numeric", "batch size K against the classes it holds", _batch_of_k),)),
    Claim("2.early", 2, "(e)", "early in training the SGD noise is small compared with the information in the gradient",
          r"\frac{\lVert \bar g \rVert}{\operatorname{rms}(g_i - \bar g)} \text{ is larger far from the optimum, "
          r"and below } 1 \text{ for one sample}",
          findings=(computed("loose", "numeric", "signal to noise of a sample gradient", _noise_early),)),
    Claim("2.faster", 2, "(f)", "SGD converges faster since it updates more often; GD may stop at a local optimum "
          "and assume it is global",
          r"\text{SGD: } N/|B| \text{ updates per epoch, GD: } 1; \text{ faster per epoch, not per update}",
          findings=(computed("loose", "numeric", "one epoch and one update of GD and SGD", _sgd_faster),)),
    Claim("2.heavy", 2, "(g)", "the stochastic heavy-ball update",
          r"w_{t+1} = w_t - \gamma g_t + \beta (w_t - w_{t-1})",
          seed=r"\boldsymbol{w}_{t+1} = \boldsymbol{w}_t - \gamma_t \nabla f_i(\boldsymbol{w}_t) + \beta_t "
               r"(\boldsymbol{w}_t - \boldsymbol{w}_{t-1})",
          repairs="the lost minus of (w_t w_{t-1}) restored",
          findings=(agrees(r"\boldsymbol{w}_{t+1} = \boldsymbol{w}_t - \gamma_t \nabla f_i(\boldsymbol{w}_t) + \beta_t "
                           r"(\boldsymbol{w}_t - \boldsymbol{w}_{t-1})", "optim.heavy_ball"),)),
    Claim("2.dampening", 2, "(g)", "beta_t is the dampening factor",
          r"\beta = \mu \text{ (PyTorch's momentum)}, \quad \tau = 0 \text{ (its dampening)}",
          findings=(computed("loose", "numeric", "the heavy ball is PyTorch's momentum with dampening 0", _dampening),)),
    Claim("2.range", 2, "(g)", "the appropriate range of beta_t is [0, 1)",
          r"\text{converges iff } |\beta| < 1,\; 0 < \gamma \lambda < 2(1 + \beta); \quad [0, 1) \text{ is the "
          r"range used in practice}",
          findings=(computed("loose", "numeric", "where the heavy ball converges on a quadratic", _beta_range),)),
    Claim("2.negative", 2, "(g)", "if beta_t < 0, the algorithm is simply standard gradient descent",
          r"\text{only } \beta = 0 \text{ gives } w_{t+1} = w_t - \gamma g_t",
          findings=(differs(r"w_t - \gamma_t \nabla f_i(w_t)", "optim.heavy_ball", "GD's update"),
                    computed("fails", "symbolic", "a negative beta is not GD", _negative_beta_is_not_gd))),
    Claim("2.above", 2, "(g)", "if beta_t > 1, the iteration blows up eventually",
          r"|r_1|\,|r_2| = \beta > 1 \;\Rightarrow\; \max_i |r_i| \ge \sqrt{\beta} > 1",
          findings=(computed("holds", "numeric", "beta > 1 puts a root outside the unit circle", _beta_above_one),)),
    Claim("2.rmsprop", 2, "(h)", "the RMSprop updates",
          r"w_{t+1} = w_t - \gamma \frac{g_t}{\sqrt{v_{t+1}} + \epsilon}, \quad v_{t+1} = \alpha v_t + (1 - \alpha) g_t^2",
          seed=r"v_{t+1} = \alpha v_t + (1 - \alpha) \nabla f_i(w_t)^2,\quad w_{t+1} = w_t - \gamma \frac{\nabla f_i(w_t)}"
               r"{\sqrt{v_{t+1}} + \epsilon}",
          repairs="both equations checked at once, v_{t+1} put into the update",
          findings=(agrees(r"w_t - \gamma \frac{\nabla f_i(w_t)}{\sqrt{\alpha v_t + (1 - \alpha) \nabla f_i(w_t)^2} + "
                           r"\epsilon}", "optim.rmsprop"),)),
    Claim("2.std", 2, "(h)", "if the gradient is small, dividing by sqrt(v) is dividing by the standard deviation",
          r"\sqrt{v} \approx \sqrt{\mathbb{E}[g^2]} = \sqrt{\operatorname{Var}[g] + \mathbb{E}[g]^2}",
          findings=(computed("loose", "numeric", "root mean square against standard deviation", _rms_is_not_std),)),
    Claim("2.adam", 2, "(h)", "the Adam update (the bias correction left out, as the seed says)",
          r"w_{t+1} = w_t - \gamma \frac{\hat{m}_{t+1}}{\sqrt{\hat{v}_{t+1}} + \epsilon}",
          seed=r"\boldsymbol{w}_{t+1} = \boldsymbol{w}_t - \gamma \frac{\boldsymbol{m}_t}{\sqrt{\boldsymbol{v}_{t+1}} + "
               r"\boldsymbol{\epsilon}}",
          repairs=r"the seed's \beta and \alpha are Adam's \beta_1 and \beta_2; the bias correction the seed says it "
                  "leaves out put back before checking, so that only what it wrote is graded",
          findings=(differs(r"w_t - \gamma \frac{m_t/(1 - \beta_1^{t+1})}{\sqrt{v_{t+1}/(1 - \beta_2^{t+1})} + \epsilon}",
                            "optim.adam", "the seed's update with the bias correction put back (m_t, not m_(t+1))"),)),
    Claim("2.adam_m", 2, "(h)", "Adam's first moment",
          r"m_{t+1} = \beta_1 m_t + (1 - \beta_1) g_t",
          seed=r"\boldsymbol{m}_{t+1} = \beta \boldsymbol{m}_t + (1 - \beta) \nabla f_i(\boldsymbol{w}_t)",
          repairs=r"checked inside the bias-corrected update \hat{m}_{t+1} = m_{t+1}/(1 - \beta^{t+1})",
          findings=(agrees(r"w_t - \gamma \frac{(\beta m_t + (1 - \beta) \nabla f_i(w_t))/(1 - \beta^{t+1})}{\sqrt{\hat v_{t+1}} "
                           r"+ \epsilon}", "optim.adam"),)),
    Claim("2.bias", 2, "(h)", "Adam has a bias correction (not shown), unlike RMSprop, hence Adam is preferred for "
          "problems with an oscillatory trajectory",
          r"\hat m_{t+1} = \frac{m_{t+1}}{1 - \beta_1^{t+1}} \to m_{t+1} \quad (t \to \infty)",
          findings=(computed("holds", "symbolic", "Adam's update has a bias correction, RMSprop's none",
                             _bias_correction_unlike_rmsprop),
                    computed("loose", "numeric", "the bias correction fades after the first steps",
                             _bias_correction_fades))),
    Claim("2.cost", 2, "(h)", "RMS Prop takes up more computational efficiency compared to Adam",
          r"\text{per step: RMSprop keeps } v;\ \text{Adam keeps } m, v \text{ and does more arithmetic}",
          findings=(computed("loose", "numeric", "state and arithmetic of one step of RMSprop and Adam", _cost),)),
    Claim("2.stepsize", 2, "(h)", "with Adam the step size need not change, since beta takes care of it",
          r"|w_1 - w_0| = \gamma \frac{|g_0|}{|g_0| + \epsilon} \approx \gamma \text{ for every } \beta_1",
          findings=(computed("loose", "numeric", "Adam's first step against beta", _step_size_beta),)),
    Claim("2.nonmono", 2, "(i)", "the condition checks whether the current loss exceeds the lowest loss so far",
          r"L_e > \min(L_1, \ldots, L_{e - NONMONO}) \text{ and } e > NONMONO",
          findings=(computed("fails", "numeric", "the seed's reading of the condition against the rule",
                             _nonmono_reading),)),
    Claim("3.infer", 3, "(a)", "inference by the lowest energy",
          r"\hat y = \operatorname{argmin}_y F(x, y)",
          seed=r"\hat{\mathbf{y}} = \operatorname{argmin}_{y} F(\mathbf{x}, \mathbf{y})",
          repairs=r"'argmin' read as \operatorname{argmin}",
          findings=(agrees(r"\hat{\mathbf{y}} = \operatorname{argmin}_{y} F(\mathbf{x}, \mathbf{y})", "ebm.inference"),)),
    Claim("3.gibbs", 3, "(b)", "the Gibbs-Boltzmann distribution",
          r"P(y \mid x) = \frac{\exp(-\beta F(x,y))}{\int_{y'} \exp(-\beta F(x,y'))\, dy'}",
          seed=r"\mathbb{P}(\boldsymbol{y} \mid \boldsymbol{x}) = \frac{\exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}))}"
               r"{\int_{\mathcal{U}} \exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}))}",
          repairs=r"the integral over \mathcal{U} without a differential read as over y, dy: the set, the differential "
                  "and a dummy variable distinct from the free y are missing",
          findings=(agrees(r"P(y \mid x) = \frac{\exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}))}{\int_{y} \exp(-\beta "
                           r"F(\boldsymbol{x}, \boldsymbol{y}))\, dy}", "ebm.gibbs", kind="loose",
                           what="the seed's form, read with a dummy y and dy"),)),
    Claim("3.joint", 3, "(c)", "the joint Gibbs distribution with a latent z",
          r"P(y, z \mid x) = \frac{\exp(-\beta E(x,y,z))}{\int_{y'}\int_{z'} \exp(-\beta E(x,y',z'))\, dz'\, dy'}",
          seed=r"\mathbb{P}(\boldsymbol{y}, \boldsymbol{z} \mid \boldsymbol{x}) = \frac{\exp(-\beta F(\boldsymbol{x}, "
               r"\boldsymbol{y}, \boldsymbol{z}))}{\int_{\boldsymbol{y}} \exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}, "
               r"\boldsymbol{z}))}",
          repairs="the energy with a latent read as E (the seed's F(x, y, z)); dummy y' and dy' added",
          findings=(differs(r"\frac{\exp(-\beta E(x,y,z))}{\int_{y'} \exp(-\beta E(x,y',z))\, dy'}",
                            "ebm.joint_gibbs"),)),
    Claim("3.marginal", 3, "(c)", "the marginal over z",
          r"P(y \mid x) = \frac{\int_{z} \exp(-\beta E(x,y,z))\, dz}{\int_{y'}\int_{z} \exp(-\beta E(x,y',z))\, dz\, "
          r"dy'}",
          seed=r"\mathbb{P}(\boldsymbol{y} \mid \boldsymbol{x}) = \frac{\int_{\boldsymbol{y}} \exp(-\beta E(\boldsymbol{x}, "
               r"\boldsymbol{y}, \boldsymbol{z}))}{\int_{\boldsymbol{y}} \int_{\boldsymbol{z}} \exp(-\beta E(\boldsymbol{x}, "
               r"\boldsymbol{y}, \boldsymbol{z}))}",
          findings=(computed("fails", "numeric", "the seed's marginal is not a distribution over y", _marginal_middle),)),
    Claim("3.freegibbs", 3, "(c)", "the marginal as a Gibbs distribution of the free energy",
          r"P(y \mid x) = \frac{\exp(-\beta F_\beta(x,y))}{\int_{y'} \exp(-\beta F_\beta(x,y'))\, dy'}",
          seed=r"\mathbb{P}(\boldsymbol{y} \mid \boldsymbol{x}) = \frac{\exp(-\beta F_{\beta}(\boldsymbol{x}, \boldsymbol{y}))}"
               r"{\int_{\boldsymbol{y}} \exp(-\beta F_{\beta}(\boldsymbol{x}, \boldsymbol{y}))}",
          findings=(computed("holds", "numeric", "the Gibbs form of F_beta is the marginal", _marginal_last),)),
    Claim("3.free", 3, "(c)", "the free energy",
          r"F_\beta(x,y) = -\frac{1}{\beta}\log \int_z \exp(-\beta E(x,y,z))\, dz",
          seed=r"F_{\beta}(\boldsymbol{x}, y) = -\frac{1}{\beta} \log \int_{\boldsymbol{z}} \exp(-\beta E(\boldsymbol{x}, "
               r"\boldsymbol{y}, \boldsymbol{z}))",
          repairs="dz added",
          findings=(agrees(r"F_{\beta}(\boldsymbol{x}, y) = -\frac{1}{\beta} \log \int_{\boldsymbol{z}} \exp(-\beta "
                           r"E(\boldsymbol{x}, \boldsymbol{y}, \boldsymbol{z}))\, dz", "ebm.free_energy"),)),
    Claim("3.nll", 3, "(d)", "the negative log-likelihood loss",
          r"\mathcal{L}(w) = \frac{1}{N}\sum_{i=1}^{N} \Big[F_w(x_i,y_i) + \frac{1}{\beta}\log\int_y \exp(-\beta "
          r"F_w(x_i,y))\, dy\Big]",
          seed=r"\mathcal{L}(\boldsymbol{w}) = \frac{1}{N} \sum_{i}^{N} \Big[F_{\boldsymbol{w}}(\boldsymbol{x}^{(i)}, "
               r"\boldsymbol{y}^{(i)}) + \frac{1}{\beta} \log \int_{y} \exp(-\beta F_{\boldsymbol{w}}(\boldsymbol{x}^{(i)}, "
               r"y)) \Big]",
          repairs="x^(i), y^(i) written x_i, y_i; dy added",
          findings=(agrees(r"\mathcal{L}(w) = \frac{1}{N} \sum_{i=1}^{N} \left[F_{\boldsymbol{w}}(x_i, y_i) + \frac{1}"
                           r"{\beta} \log \int_{y} \exp(-\beta F_{\boldsymbol{w}}(x_i, y))\, dy \right]", "ebm.nll_loss"),)),
    Claim("3.grad1", 3, "(d)", "the gradient of the loss",
          r"\frac{\partial \mathcal{L}}{\partial w} = \frac{1}{N}\sum_{i=1}^{N} \Big[\frac{\partial F_w(x_i,y_i)}"
          r"{\partial w} - \int_y P_w(y \mid x_i) \frac{\partial F_w(x_i,y)}{\partial w}\, dy\Big]",
          seed=r"\frac{\partial \mathcal{L}(\boldsymbol{w})}{\partial \boldsymbol{w}} = \frac{\partial F_{\boldsymbol{w}}"
               r"(\boldsymbol{x}^{(i)}, \boldsymbol{y}^i)}{\partial \boldsymbol{w}} - \int_{\boldsymbol{y}} \frac{\partial "
               r"F_{\boldsymbol{w}}(\boldsymbol{x}^{(i)}, \boldsymbol{y})}{\partial \boldsymbol{w}} \mathbb{P}"
               r"(\boldsymbol{y}^{(i)} \mid \boldsymbol{x}^{(i)})",
          repairs="x^(i), y^(i) written x_i, y_i; P written out as the Gibbs distribution of F_w",
          findings=(computed("loose", "numeric", "wrong as written, right with P(y | x_i) and the mean over i",
                             _nll_gradient_first),)),
    Claim("3.grad2", 3, "(d)", "the gradient, second line",
          r"\frac{\partial \mathcal{L}}{\partial w} = \frac{1}{N}\sum_{i=1}^{N} \Big[\frac{\partial F_w(x_i,y_i)}"
          r"{\partial w} - \int_y P_w(y \mid x_i) \frac{\partial F_w(x_i,y)}{\partial w}\, dy\Big]",
          seed=r"\frac{\partial \mathcal{L}(\boldsymbol{w})}{\partial \boldsymbol{w}} = F_{\boldsymbol{w}}"
               r"(\boldsymbol{x}^{(i)}, \boldsymbol{y}^{(i)}) + F_{\beta, \boldsymbol{w}}(\boldsymbol{x}^{(i)}, y)",
          repairs="F_{beta,w}(x_i, y) read as the free energy of F_w over y, (1/N) sum_i added",
          findings=(differs(r"\frac{1}{N}\sum_{i=1}^{N} \left[F_w(x_i,y_i) - \frac{1}{\beta}\log\int_y \exp(-\beta "
                            r"F_w(x_i,y))\, dy\right]", "ebm.nll_gradient"),)),
    Claim("3.h", 3, "(e)", "PIRL's h",
          r"h(v_I, v_{I^t}) = \frac{\exp(s(v_I, v_{I^t})/\tau)}{\exp(s(v_I, v_{I^t})/\tau) + \sum_{I' \in D_N} "
          r"\exp(s(v_{I^t}, v_{I'})/\tau)}",
          seed=r"h(\boldsymbol{v_I}, \boldsymbol{v_{I^t}}) = \frac{\exp(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}"
               r"{\tau})}{\exp(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}{\tau}) + \sum_{I' \in D_N} "
               r"\exp(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I'}})}{\tau})}",
          findings=(differs(r"h(\boldsymbol{v_I}, \boldsymbol{v_{I^t}}) = \frac{\exp{(\frac{s(\boldsymbol{v_I}, "
                            r"\boldsymbol{v_{I^t}})}{\tau})}}{\exp{(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}"
                            r"{\tau})} + \sum_{I' \in D_N} \exp{(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I'}})}{\tau})}}",
                            "contrastive.pirl_h"),)),
    Claim("3.nce", 3, "(e)", "the NCE loss",
          r"L_{NCE}(I, I^t) = -\log h(f(v_I), g(v_{I^t})) - \sum_{I' \in D_N} \log(1 - h(g(v_{I^t}), f(v_{I'})))",
          seed=r"L_{NCE}(\boldsymbol{I}, \boldsymbol{I^t}) = -\log[h(f(\boldsymbol{v_I}), g(\boldsymbol{v_{I^t}}))] - "
               r"\sum_{I' \in D_N} \log[1 - h(g(\boldsymbol{v_{I^t}}), f(\boldsymbol{v_{I'}}))]",
          repairs=r"an unbalanced \left[ closed",
          findings=(agrees(r"L_{NCE}(\boldsymbol{I}, \boldsymbol{I^t}) = -\log\left[h(f(\boldsymbol{v_I}), "
                           r"g(\boldsymbol{v_{I^t}}))\right] - \sum_{\boldsymbol{I'} \in D_N} \log\left[1 - "
                           r"h(g(\boldsymbol{v_{I^t}}), f(\boldsymbol{v_{I'}}))\right]", "contrastive.nce_loss"),)),
    Claim("3.maximise", 3, "(e)", "NCE's objective function tries to maximise the cost function",
          r"L_{NCE} \text{ is minimised}",
          findings=(computed("loose", "symbolic", "L_NCE is minimised: the signs of its gradient", _nce_minimised),)),
    Claim("3.kmeans", 3, "(f)", "the K-means energy",
          r"E(y, z) = \lVert y - W z \rVert^2,\; F(y) = \min_z E(y, z)",
          seed=r"F(\boldsymbol{x}, \boldsymbol{y}) = ||\boldsymbol{y} - \boldsymbol{W}\boldsymbol{z}||^2",
          repairs="the lost minus of ||y Wz|| restored; it is the energy E(y, z) of the latent-variable model, not "
                  "F(x, y): F(y) = min_z E(y, z)",
          findings=(agrees(r"||\boldsymbol{y} - \boldsymbol{W}\boldsymbol{z}||^2", "latent.kmeans_energy", kind="loose",
                           what="the seed's right-hand side, which is E(y, z) under the name F(x, y)"),)),
    Claim("3.sparse", 3, "(f)", "the sparse-coding energy",
          r"E(y, z) = \lVert y - W z \rVert^2 + \lambda \lVert z \rVert_1",
          seed=r"F(\boldsymbol{x}, \boldsymbol{y}) = ||y - Wz||^2 + \lambda ||z||_{L1}",
          repairs="the lost minus of ||y Wz|| restored; it is the energy E(y, z), not F(x, y); F(y) = min_z E(y, z)",
          findings=(agrees(r"||y - Wz||^2 + \lambda ||z||_{L1}", "latent.sparse_coding_energy", kind="loose",
                           what="the seed's right-hand side, which is E(y, z) under the name F(x, y)"),)),
    Claim("3.vae", 3, "(f)", "the VAE loss: reconstruction error plus beta times a KL term",
          r"\lVert y - \hat y \rVert^2 + \frac{\beta}{2} \sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2)",
          seed=r"l(\boldsymbol{x}, \hat{\boldsymbol{x}}) = l_{reconstruction} + \beta l_{KL}(\boldsymbol{z}, N(0, I_d))",
          not_graded="the seed names the two terms without writing either; any form to check would be the "
                     "transcriber's own construction of latent.vae_loss, so a check could only confirm itself"),
)


# -- grading: the checks decide ----------------------------------------------------------------------


@lru_cache(maxsize=None)
def graded() -> tuple:
    """``(claim, verdict, checks)`` for every answer: each finding's check run once per process, the verdict
    computed from their outcomes by :func:`verdict_of`."""
    out = []
    for c in CLAIMS:
        if not c.findings and not c.not_graded:
            raise ValueError(f"claim {c.key}: no findings and no reason for not grading it")
        checks = tuple(run_check(f.spec) for f in c.findings)
        out.append((c, verdict_of(c.findings, checks), checks))
    return tuple(out)


def evidence(claim: Claim, checks) -> str:
    """What the checks found, in words (each check's description and detail)."""
    if not claim.findings:
        return "Not graded: " + claim.not_graded + "."
    return _clean(" ".join(f"{c.mark.capitalize()}: {c.detail}." for c in checks))


def tally(question: int | None = None) -> dict:
    keys = (*GRADES, NOT_GRADED, UNDECIDED)
    out = {k: 0 for k in keys}
    for c, verdict, _ in graded():
        if question is None or c.question == question:
            out[verdict] += 1
    return out


def _display(c: Claim):
    rows = ([r"\text{seed:} \quad & " + c.seed] if c.seed else []) + [r"\text{correct:} \quad & " + c.correct]
    return tex(r"\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned}")


def _question_table(question: int) -> Table | None:
    rows = [(_label(q.key, q.part), tex(q.text) if q.math else q.text, q.repairs or "none")
            for q in QUESTION_TEXT if q.key.startswith(f"{question}.")]
    if not rows:
        return None
    return Table(("item", "the question says (transcribed)", "transcription repairs"), tuple(rows),
                 caption=f"Question {question}'s own text, as transcribed from the seed: not graded.",
                 widths=(0.12, 0.5, 0.26))


def _overview(question: int) -> Table:
    rows = [(_label(c.key, c.part), verdict, c.says) for c, verdict, _ in graded() if c.question == question]
    return Table(("answer", "verdict", "the seed says"), tuple(rows),
                 caption=f"The answers to question {question}, graded by the checks below.",
                 widths=(0.15, 0.11, 0.62))


def _label(key: str, part: str) -> str:
    return f"{key} {part}" if part.startswith("(") else f"{key} ({part})"


def _claim_blocks(c: Claim, verdict: str, checks) -> tuple:
    head = f"{_label(c.key, c.part)}, {verdict}. The seed: {c.says}."
    if c.repairs:
        head += f" Transcription: {c.repairs}."
    if not c.findings:
        return (prose(_clean(f"{head} Not graded: {c.not_graded}.")),)
    return (prose(_clean(head)),
            Step(f"audit {c.key}", _display(c), evidence(c, checks), checks=tuple(f.spec for f in c.findings)))


def audit_section(question: int) -> Section:
    """The audit of the seed's answers to one question, for that question's worked solution."""
    if question not in (1, 2, 3):
        raise ValueError(f"invalid question {question!r}: the seed has questions 1, 2 and 3")
    counts = tally(question)
    summary = ", ".join(f"{k} {v}" for k, v in counts.items() if v or k != UNDECIDED)
    blocks = [prose(f"Each answer is transcribed from the seed, repaired where the extraction lost a backslash "
                    f"escape or a minus sign, and graded by checks: equations by symdl.check against the reference "
                    f"they state, answers in words by a computation from the references. The verdict follows from "
                    f"the checks (any finding that fails makes an answer incorrect, one that holds only in a reading "
                    f"or under an unstated condition imprecise). Grades: {summary}.")]
    qt = _question_table(question)
    if qt is not None:
        blocks.append(prose("The question's own background and definitions are the exam's text, not the student's "
                            "answers: they are transcribed here and not graded."))
        blocks.append(qt)
    blocks.append(_overview(question))
    for c, verdict, checks in graded():
        if c.question == question:
            blocks.extend(_claim_blocks(c, verdict, checks))
    return Section(f"Audit of the seed's answers to question {question}", tuple(blocks))


def derivation() -> Derivation:
    counts = tally()
    graded_n = sum(counts[g] for g in GRADES)
    intro = Section("How the seed was graded", (
        prose(f"The seed's answers hold {len(CLAIMS)} claims: "
              + ", ".join(f"{counts[g]} {g}" for g in GRADES) + f" and {counts[NOT_GRADED]} not graded"
              + (f", {counts[UNDECIDED]} undecided" if counts[UNDECIDED] else "") +
              f" ({graded_n} graded). The exam's own text (background, definitions, equations 1 and 2, "
              f"{len(QUESTION_TEXT)} items) is transcribed and not graded."),
        prose("Each answer is a step whose checks decide its grade. A check states one finding: the answer agrees "
              "with its reference (symdl.check finds them equivalent: a numeric witness in float64 at random points, "
              "two sizes, abstract functions instantiated several ways, and a bounded SymPy proof where one exists), "
              "it differs from it (a counterexample), or it holds only in a charitable reading or under a condition "
              "it does not state. An answer with a finding that fails is incorrect; else one with a loose finding is "
              "imprecise; else correct. If a finding stops holding, its check fails and so does the build. An "
              "answer whose only possible form would be the reference itself is not graded."),
        prose("The text was extracted from a PDF: the escapes \\b, \\t, \\r and \\f were eaten (egin, ilde, anh, "
              "oldsymbol, extbf, ight, rac) and some minus signs lost; each repair is noted with its item."),
    ))
    return Derivation(
        slug="seed-audit",
        title="Seed audit: the midterm answers, claim by claim",
        description="every answer of the seed graded correct, imprecise or incorrect by checks, with their evidence",
        sections=(intro, *(audit_section(q) for q in (1, 2, 3))),
    )
