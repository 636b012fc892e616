"""Question 1: products of RNN and LSTM Jacobians along runs, evaluated from the derived closed forms (numpy), and
the same by torch autograd through unrolled loops, for the figure and its checks."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from symdl import ref

RNG_SEED = 20200401


def rnn_values(rng, n_, m_, scale=1.0):
    return {"W_1": scale * rng.normal(0, 1 / math.sqrt(n_), (n_, n_)),
            "W_2": rng.normal(0, 1 / math.sqrt(m_), (n_, m_))}


def activation(name):
    return {"tanh": np.tanh, "sigmoid": lambda x: 1 / (1 + np.exp(-x))}[name]


def rnn_log_norms(gaps: int, act: str, scale: float, n_: int = 16, m_: int = 4, seed: int = RNG_SEED,
                  rest: bool = False):
    """log ||dh_{t+k}/dh_t||_2 for k = 1..gaps, as normalised products of derived step Jacobians.

    ``W_1`` has entries drawn from N(0, 1/n) times ``scale``. The running product is divided by its norm after
    every step and the logs of those norms are summed, so long gaps neither underflow nor overflow. ``rest``
    starts at h = 0 with zero inputs (a fixed point of tanh: there every factor is W_1 itself); otherwise the
    start and the inputs are drawn at random.
    """
    rng = np.random.default_rng(seed)
    v = rnn_values(rng, n_, m_, scale)
    step_j, state = ref("rnn.state_jacobian"), ref("rnn.state")
    h = np.zeros(n_) if rest else np.tanh(rng.normal(size=n_))
    P, logscale, out = np.eye(n_), 0.0, []
    for _ in range(gaps):
        x = np.zeros(m_) if rest else rng.normal(size=m_)
        vals = {**v, "h_{t-1}": h, "x_t": x, r"\sigma": activation(act)}
        P = step_j.evaluate(vals) @ P
        s = np.linalg.norm(P, 2)
        logscale += math.log(s)
        P /= s
        out.append(logscale)
        h = state.evaluate(vals)
    return np.array(out)


def lstm_weights(rng, n_, m_, forget_bias, input_bias=0.0):
    v = {}
    for g in "figo":
        v[f"W_{{{g}h}}"] = rng.normal(0, 1 / math.sqrt(n_), (n_, n_))
        v[f"W_{{{g}x}}"] = rng.normal(0, 1 / math.sqrt(m_), (n_, m_))
        v[f"b_{g}"] = rng.normal(0, 0.1, n_)
    v["b_f"] = v["b_f"] + forget_bias
    v["b_i"] = v["b_i"] + input_bias
    return v


def lstm_trajectory(gaps, biases, n_=16, m_=4, seed=RNG_SEED):
    """Weights, inputs, and the (c_{k-1}, o_{k-1}) met along an LSTM run of ``gaps`` steps.

    ``biases`` is (forget-gate bias, input-gate bias) added to random small biases.
    """
    rng = np.random.default_rng(seed)
    w = lstm_weights(rng, n_, m_, *biases)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    c, o = rng.normal(0, 0.5, n_), sig(rng.normal(size=n_))
    steps = []
    for _ in range(gaps):
        x = rng.normal(size=m_)
        steps.append({**w, "c_{t-1}": c, "o_{t-1}": o, "x_t": x})
        h = o * np.tanh(c)
        o_next = sig(w["W_{oh}"] @ h + w["W_{ox}"] @ x + w["b_o"])
        c = ref("lstm.cell_update").evaluate(steps[-1])
        o = o_next
    return steps


def lstm_log_norms(gaps: int, biases: tuple, n_: int = 16, m_: int = 4, seed: int = RNG_SEED):
    """log of the norm of prod_k dc_k/dc_(k-1), k = t+1..t+gap, from the derived four-term Jacobian.

    Along the run the previous output gate o_(k-1) is held fixed in each factor, as in
    the seed's product; products are normalised at every step (log space).
    """
    J = ref("lstm.cell_jacobian")
    P, logscale, out = np.eye(n_), 0.0, []
    for vals in lstm_trajectory(gaps, biases, n_, m_, seed):
        P = J.evaluate(vals) @ P
        s = np.linalg.norm(P, 2)
        logscale += math.log(s)
        P /= s
        out.append(logscale)
    return np.array(out)


def torch_lstm_log_norm(gaps, biases, n_=16, m_=4, seed=RNG_SEED):
    """The same quantity by torch.func.jacrev through an unrolled torch.nn.LSTMCell."""
    import torch

    from symdl.verify.oracles.recurrent import lstm_cell

    steps = lstm_trajectory(gaps, biases, n_, m_, seed)
    cell = lstm_cell(steps[0])
    T = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float64))  # noqa: E731
    os_, xs = [T(s["o_{t-1}"]) for s in steps], [T(s["x_t"]) for s in steps]

    def unroll(c):
        for o, x in zip(os_, xs):
            c = cell(x, (o * torch.tanh(c), c))[1]
        return c

    J = torch.func.jacrev(unroll)(T(steps[0]["c_{t-1}"])).detach()
    return float(torch.log(torch.linalg.matrix_norm(J, ord=2)))


def torch_rnn_log_norm(gaps, act, scale, n_=16, m_=4, seed=RNG_SEED, rest=False):
    import torch

    rng = np.random.default_rng(seed)
    v = rnn_values(rng, n_, m_, scale)
    h0 = np.zeros(n_) if rest else np.tanh(rng.normal(size=n_))
    xs = [torch.as_tensor(np.zeros(m_) if rest else rng.normal(size=m_)) for _ in range(gaps)]
    W1, W2 = torch.as_tensor(v["W_1"]), torch.as_tensor(v["W_2"])
    f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}[act]

    def unroll(h):
        for x in xs:
            h = f(W1 @ h + W2 @ x)
        return h

    J = torch.func.jacrev(unroll)(torch.as_tensor(h0))
    return float(torch.log(torch.linalg.matrix_norm(J, ord=2)))


#: (forget-gate bias, input-gate bias) of the LSTM curves.
LSTM_BIASES = ((-2.0, 0.0), (0.0, 0.0), (2.0, 0.0), (5.0, 0.0), (5.0, 5.0))
#: (scale of W_1, started at rest) of the RNN curves: random inputs at three scales, and one run at rest.
RNN_CURVES = ((0.5, False), (1.0, False), (2.0, False), (1.5, True))
GAP = 60
CHECKED_GAPS = (1, 5, 12, GAP)


@lru_cache(maxsize=None)
def curves() -> dict:
    """log10 of every plotted norm, gap 1..GAP: computed once a process, for the figure and its caption alike."""
    out = {("rnn", s, rest): rnn_log_norms(GAP, "tanh", s, rest=rest) / math.log(10) for s, rest in RNN_CURVES}
    out.update({("lstm", b): lstm_log_norms(GAP, b) / math.log(10) for b in LSTM_BIASES})
    for a in out.values():
        a.setflags(write=False)
    return out


