"""Question 1: RNN and LSTM gradients, and why the LSTM's additive cell path does not stop vanishing.

Everything displayed is derived by symdl's Jacobian engine from the model's
definitions (symdl.models.rnn, symdl.models.lstm) and checked three ways:
a bounded SymPy proof against explicit Jacobians, complex-step derivatives of
the forward map, and PyTorch (autograd, nn.LSTMCell).
"""

from __future__ import annotations

import sys
from pathlib import Path

import sympy as sp

from symdl.document.derivation import Derivation, Figure, ReferenceBlock, Section, Step, Table, prose, tex
from symdl.models import lstm as L

# The parts live in the private package derivations/_q1/; symdl's loader puts this folder on sys.path, and a
# module loaded by its path alone needs it too.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _q1.checks import (bptt_check, diag_product_check, engine_step, gamma_check, gate_display,  # noqa: E402
                        gate_term_bound_check, gates_oracle, rnn_bound_check)
from _q1.figure import figure_caption, figure_check, figure_finite_check, make_norm_figure  # noqa: E402
from _q1.numerics import lstm_log_norms, rnn_log_norms  # noqa: E402,F401  (benchmarks/run.py uses them)

QUESTION = (
    r"LSTMs don't solve vanishing gradient. The RNN state is $h_t = \sigma(W_1 h_{t-1} + W_2 x_t)$, and the "
    r"gradient from the loss $\mathcal{L}_\tau$ back to $h_t$ goes through $\partial h_\tau / \partial h_t$, "
    r"which vanishes or explodes for $\tau \gg t$ through the repeated application of $W_1$. The LSTM keeps a cell "
    r"state, $c_t = f_t \odot c_{t-1} + i_t \odot \tilde{c}_t$ (equation 1) and $h_t = o_t \odot \tanh(c_t)$ "
    r"(equation 2), with gates $f_t$, $i_t$, $o_t$ and candidate $\tilde{c}_t$ computed from $h_{t-1}$ and $x_t$ "
    r"by eight matrices $W$. Consider the gradient of $\mathcal{L}_t$ for all eight matrices: do LSTMs still have "
    r"vanishing gradients?"
)



def _notation() -> Table:
    rows = [
        (tex(r"h_t,\ c_t,\ x_t"), "hidden state, cell state and input at one time step"),
        (tex(r"n,\ m"), "the sizes of the state and of the input"),
        (tex(r"f_t,\ i_t,\ o_t,\ \tilde{c}_t"), "forget, input and output gates, and the candidate cell (its "
                                                "weights carry the letter g)"),
        (tex(r"W_{fh},\ W_{fx},\ b_f"), "a gate's weights on the state and on the input, and its bias"),
        (tex(r"\sigma,\ \sigma'"), "the logistic sigmoid of the gates (the RNN's activation in general) and its "
                                   "derivative, applied entry by entry"),
        (tex(r"\odot,\ \operatorname{diag}(v)"), "entrywise product; the diagonal matrix with a vector on its "
                                                 "diagonal"),
        (tex(r"\frac{\partial a}{\partial b}"), "Jacobian in numerator layout: one row per entry of the "
                                                "differentiated vector"),
        (tex(r"\|A\|_2"), "spectral norm: the largest singular value"),
        (tex(r"t < \tau,\ k"), "an earlier and a later time step; the index of the steps between them"),
    ]
    return Table(("symbol", "meaning"), tuple(rows), caption="Notation", widths=(0.22, 0.68))


def _answer_text() -> str:
    return ("Answer. Yes. The cell update is additive, so the Jacobian $\\partial c_t / \\partial c_{t-1}$ has a "
            "term $\\operatorname{diag}(f_t)$ with no weight matrix in it. That path softens vanishing, and removes "
            "it only while the forget gate stays close to 1: across time it contributes "
            "$\\prod_{k=t+1}^{\\tau} \\operatorname{diag}(f_k)$, which still decays geometrically because every "
            "$f_k < 1$. The other three terms of the Jacobian carry $W_{fh}$, $W_{ih}$ and $W_{gh}$, and their "
            "products can vanish or explode as an RNN's do. So the LSTM eases the vanishing gradient; it does not "
            "solve it.")


def _grading() -> tuple:
    return (
        prose("What the seed gets right and wrong. Its final paragraph is right: when one of the four terms of "
              "$\\partial c_t / \\partial c_{t-1}$ dominates, the product behaves like a vanilla RNN's and the "
              "gradient can still vanish or blow up. The middle of its answer is wrong: “since they are additive in "
              "nature, the gradients will not explode/vanish” is contradicted by the product of forget gates above and by "
              "the figure, and crediting the term $f_t \\odot c_{t-1}$ with solving the vanishing gradient "
              "overstates it (the term softens vanishing). Its chain $\\prod_{t=2} \\partial c_t / \\partial c_{t-1}$ "
              "has no upper limit and reuses $t$ as the running index; written out it is "
              "$\\prod_{k=2}^{t} \\partial c_k / \\partial c_{k-1}$, and the full gradient also sums such chains "
              "over every time step at which $W$ acts. Its four-term Jacobian does not match the derived one "
              "above: the gates' derivatives are taken at the wrong arguments. The appendix grades each of these "
              "claims."),
    )


def _recurrences() -> Section:
    return Section("The two recurrences", (
        prose("The exam defines the vanilla RNN and the LSTM cell. Every result below is derived for a state of any "
              "size $n$ and an input of any size $m$: nothing depends on a size."),
        ReferenceBlock("rnn.state"),
        Step("gates", gate_display(),
             "the gates (the transcription of the exam lost the line of $f_t$: the $f_t$ it shows carries the "
             "input gate's $W_{ih}$ and $b_i$)", checks=(gates_oracle(),), relation="def"),
        ReferenceBlock("lstm.cell_update"),
        ReferenceBlock("lstm.hidden"),
    ))


def _bptt() -> Section:
    slope_check, bound_check = gamma_check(), rnn_bound_check()
    return Section("Back-propagation through time in the RNN", (
        prose("With $\\mathcal{L}_\\tau$ a function of $h_\\tau$, the chain rule sums over every time step at which "
              "$W_1$ acts; the factor that carries the gradient across time is $\\partial h_\\tau / \\partial h_t$."),
        Step("bptt", tex(r"\frac{\partial \mathcal{L}_\tau}{\partial W_1} = \sum_{t \le \tau} "
                         r"\frac{\partial \mathcal{L}_\tau}{\partial h_\tau} "
                         r"\frac{\partial h_\tau}{\partial h_t} \frac{\partial^{+} h_t}{\partial W_1}"),
             "chain rule; $\\partial^{+} h_t / \\partial W_1$ is the immediate dependence at step $t$, with "
             "$h_{t-1}$ held fixed", checks=(bptt_check(),), label="bptt"),
        ReferenceBlock("rnn.state_jacobian"),
        prose("Unrolling $\\tau - t$ steps gives the ordered product, later factors on the left; it is shown for a "
              "gap of 3, and has the same form for any gap:"),
        ReferenceBlock("rnn.jacobian_product"),
        Step("sup-slope", tex(r"\gamma_\sigma = \sup_u |\sigma'(u)|: \quad \gamma_{\mathrm{sigmoid}} = \tfrac{1}{4}, "
                              r"\quad \gamma_{\tanh} = 1"),
             "the largest slope, where the second derivative vanishes", checks=(slope_check,), relation="def"),
        Step("rnn-bound", tex(r"\Big\| \frac{\partial h_\tau}{\partial h_t} \Big\|_2 \le \prod_{k=t+1}^{\tau} "
                              r"\|\operatorname{diag}(\sigma'(a_k))\|_2 \, \|W_1\|_2 \le "
                              r"\big(\gamma_\sigma \|W_1\|_2\big)^{\tau - t}"),
             "the factor $\\partial h_\\tau / \\partial h_t$ of $\\eqref{eq:bptt}$: the spectral norm is "
             "submultiplicative", checks=(bound_check,), relation="\\le", label="rnn-bound"),
        prose("So, by $\\eqref{eq:rnn-bound}$, the gradient from $\\mathcal{L}_\\tau$ back to $h_t$ vanishes geometrically when "
              "$\\gamma_\\sigma \\|W_1\\|_2 < 1$, and can explode only when $\\gamma_\\sigma \\|W_1\\|_2 > 1$: the "
              "repeated application of $W_1$ that the question names."),
    ))


def _cell() -> Section:
    d_h_d_c = engine_step("dh/dc", L.h_prev, L.c_prev, r"\frac{\partial h_{t-1}}{\partial c_{t-1}}",
                          "entrywise product rule, with $o_{t-1}$ held fixed and $\\tanh$ applied entry by entry")
    gate_steps = [
        engine_step(f"d{g}/dc", L.gate[g], L.c_prev,
                    r"\frac{\partial %s}{\partial c_{t-1}}" % sp.latex(L.gate[g]).replace("\\tilde{c}_{t}", r"\tilde{c}_t"),
                    f"chain rule through the {L.GATE_MEANING[g]}'s pre-activation and $h_{{t-1}}$")
        for g in "fig"]
    return Section("The LSTM cell-state Jacobian", (
        prose("The seed's product runs over $\\partial c_t / \\partial c_{t-1}$. Because "
              "$h_{t-1} = o_{t-1} \\odot \\tanh(c_{t-1})$, every gate depends on $c_{t-1}$ too, so the Jacobian has "
              "more than the additive term. Differentiating through each definition:"),
        d_h_d_c, *gate_steps,
        prose("The product rule over both entrywise products of equation 1 gives four terms:"),
        ReferenceBlock("lstm.cell_jacobian"),
        prose("Holding $h_{t-1}$ fixed (the usual truncated view) leaves only the additive path:"),
        ReferenceBlock("lstm.cell_jacobian_direct"),
        prose("With $c_{t-1}$ and $h_{t-1}$ both free, the full state Jacobian is $2n \\times 2n$:"),
        ReferenceBlock("lstm.state_jacobian"),
    ))


def _vanish() -> Section:
    diag_proof, diag_num = diag_product_check()
    return Section("Does the additive path prevent vanishing?", (
        prose("Across time the Jacobians multiply. Along the additive path alone the product is diagonal:"),
        Step("diag-product", tex(r"\prod_{k=t+1}^{\tau} \operatorname{diag}(f_k) = "
                                 r"\operatorname{diag}\big(f_\tau \odot \cdots \odot f_{t+1}\big), \qquad "
                                 r"\Big\|\prod_{k=t+1}^{\tau} \operatorname{diag}(f_k)\Big\|_2 = "
                                 r"\max_i \prod_{k=t+1}^{\tau} f_{k,i} \le \big(\max_{k,i} f_{k,i}\big)^{\tau - t}"),
             "diagonal matrices multiply entry by entry; the spectral norm of a diagonal matrix is its largest entry",
             checks=(diag_proof, diag_num)),
        prose("Each $f_{k,i} = \\sigma(\\cdot) \\in (0, 1)$, so this product still vanishes geometrically unless "
              "the forget gate saturates near 1 (a large forget bias). The gate terms are not bounded by 1:"),
        Step("gate-bound", tex(r"\Big\| \operatorname{diag}\big(c_{t-1} \odot \sigma'(\cdot)\big) W_{fh} "
                               r"\operatorname{diag}\big(o_{t-1} \odot \tanh'(c_{t-1})\big) \Big\|_2 \le "
                               r"\tfrac{1}{4} \|c_{t-1}\|_\infty \|W_{fh}\|_2"),
             "$|\\sigma'| \\le 1/4$, $|o| < 1$, $|\\tanh'| \\le 1$, and submultiplicativity; the check also finds "
             "random points where the full Jacobian's norm exceeds 1",
             checks=(gate_term_bound_check(),),
             relation="\\le"),
        prose("The bound grows with the cell state and the weights, and at some points "
              "$\\|\\partial c_t / \\partial c_{t-1}\\|_2 > 1$: products of such factors can explode. Figure 1 "
              "computes both products from the derived Jacobians."),
        Figure("norms", figure_caption(), make_norm_figure, checks=(figure_check(), figure_finite_check()),
               width="1.0"),
        *_grading(),
    ))


def derivation(runner=None) -> Derivation:
    answer = Section("The answer", (prose(_answer_text()), _notation()))
    return Derivation(
        slug="q1-recurrent",
        title="Question 1: LSTMs don't solve vanishing gradient",
        description="RNN and LSTM Jacobians, the BPTT product, and vanishing or exploding gradients",
        question=QUESTION,
        sections=(answer, _recurrences(), _bptt(), _cell(), _vanish()) + _audit(runner),
        template="solution.tex.j2",
    )


def _audit(runner) -> tuple:
    """The seed audit's section for this question (derivations/_audit/sections.py)."""
    from _audit.sections import audit_section

    return (audit_section(1, runner),)


