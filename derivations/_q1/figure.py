"""Question 1, Figure 1: the norms of products of Jacobians against the gap, its checks and its caption."""

from __future__ import annotations

import numpy as np

from symdl.document.figures import pyplot, save
from symdl.verify.spec import CheckSpec, compare_trials

from _figstyle import PRINT, inches
from _q1.numerics import (CHECKED_GAPS, GAP, LSTM_BIASES, RNN_CURVES, curves, lstm_log_norms, rnn_log_norms,
                          torch_lstm_log_norm, torch_rnn_log_norm)


def figure_check():
    def run():
        trials = []
        for b in LSTM_BIASES:
            for k in CHECKED_GAPS:
                trials.append((f"LSTM b_f, b_i = {b}, gap {k}", lstm_log_norms(k, b)[-1], torch_lstm_log_norm(k, b)))
        for s, rest in RNN_CURVES:
            for k in CHECKED_GAPS:
                trials.append((f"RNN tanh, scale {s:g}{', at rest' if rest else ''}, gap {k}",
                               rnn_log_norms(k, "tanh", s, rest=rest)[-1], torch_rnn_log_norm(k, "tanh", s, rest=rest)))
        return compare_trials(trials, rtol=1e-9)

    return CheckSpec("oracle", f"log-norms of the plotted products against torch.func.jacrev through "
                               f"unrolled nn.LSTMCell / RNN loops at gaps {', '.join(map(str, CHECKED_GAPS))}", run)


def figure_finite_check():
    def run():
        curves_ = [lstm_log_norms(1000, b, n_=8) for b in ((-2.0, 0.0), (5.0, 5.0))] + [
            rnn_log_norms(1000, "tanh", 2.0, n_=8), rnn_log_norms(1000, "tanh", 1.5, n_=8, rest=True)]
        ok = all(np.all(np.isfinite(c)) for c in curves_)
        lows = ", ".join(f"{c[-1]:.4g}" for c in curves_)
        return ok, f"T = 1000 products stay finite in log space (final log-norms {lows})", None

    return CheckSpec("numeric", "log-space products over 1000 steps", run)


def lstm_label(bf, bi):
    return f"$b_f = {bf:g}$" + (f", $b_i = {bi:g}$" if bi else "")


def rnn_label(s, rest):
    return f"$s = {s:g}$" + (", at rest" if rest else ", random inputs")


def make_norm_figure(path):
    plt = pyplot()
    gaps = np.arange(1, GAP + 1)
    with plt.rc_context(PRINT):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(inches(1.0), 2.9), sharey=True)
        for s, rest in RNN_CURVES:
            a1.plot(gaps, curves()[("rnn", s, rest)], ls="--" if rest else "-", label=rnn_label(s, rest))
        a1.set_title(r"RNN ($\tanh$): $\|\partial h_\tau / \partial h_t\|_2$")
        for bf, bi in LSTM_BIASES:
            a2.plot(gaps, curves()[("lstm", (bf, bi))], label=lstm_label(bf, bi))
        a2.set_title(r"LSTM: $\|\prod_k \partial c_k / \partial c_{k-1}\|_2$")
        for a in (a1, a2):
            a.set_xlabel(r"gap $\tau - t$")
            a.grid(alpha=0.3)
            a.legend(loc="lower left", ncol=1)
        a1.set_ylabel(r"$\log_{10}$ of the norm")
        save(fig, path)


def figure_caption() -> str:
    """The caption, its numbers read from the plotted curves (which the figure's checks hold against torch)."""
    c = curves()
    final = {k: v[-1] for k, v in c.items()}
    grow = [b for b in LSTM_BIASES if final[("lstm", b)] > 0]
    decay = [b for b in LSTM_BIASES if final[("lstm", b)] <= 0]
    rnn_up = [(s, rest) for s, rest in RNN_CURVES if final[("rnn", s, rest)] > 0]
    random_top = max(final[("rnn", s, rest)] for s, rest in RNN_CURVES if not rest)
    power = lambda x: f"$10^{{{x:.1f}}}$"  # noqa: E731
    label = lambda b: lstm_label(*b).replace("$, $", ",\\ ")  # noqa: E731
    listed = lambda items: ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]  # noqa: E731
    at_rest = ("the product explodes: " + listed([f"$s = {s:g}$ reaches {power(final[('rnn', s, True)])}"
                                                  for s, rest in rnn_up if rest])
               if any(rest for _, rest in rnn_up) else "no curve grows either")
    return ("Norms of the products of Jacobians against the gap $\\tau - t$, for $n = 16$, on a $\\log_{10}$ scale. "
            "Each product is renormalised after every factor and the logarithms of the norms are added, so that no "
            "value under- or overflows. Left: the RNN with $\\tanh$ and $W_1 = s\\,G$, where $G$ has independent "
            "entries of variance $1/n$. With random inputs no scale tried explodes (largest final value "
            f"{power(random_top)}): a larger $W_1$ also saturates $\\tanh$ and shrinks $\\sigma'$. At rest "
            "($h = 0$ and $x = 0$, where every factor is $W_1$ itself) "
            f"{at_rest}. Right: the seed's product $\\prod_{{k=t+1}}^{{\\tau}} \\partial c_k / \\partial c_{{k-1}}$ "
            "of four-term Jacobians along an LSTM run, $o_{k-1}$ held fixed in each factor, with five gate biases "
            f"added to small random ones. It decays for {listed([label(b) for b in decay])}, and ends above 1 for "
            f"{listed([label(b) + ' (' + power(final[('lstm', b)]) + ')' for b in grow])}: an open forget gate "
            "stops the decay, and the gate terms can then make the product grow.")


