"""The GRU: does its update gate stop vanishing gradients? (built only from models/gru.toml)

Everything shown is what symdl derives from the course's model file, models/gru.toml; nothing here
defines the GRU again. The figure's products are computed from the derived Jacobian and held against
torch.func.jacrev through an unrolled torch.nn.GRUCell.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from symdl import ref
from symdl.document.derivation import Derivation, Figure, ReferenceBlock, Section, Step, Table, prose, tex
from symdl.document.figures import pyplot, save
from symdl.verify.spec import CheckSpec, compare_trials

# symdl's loader puts this folder on sys.path; a module loaded by its path alone needs it too.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from _figstyle import PRINT, inches, minus  # noqa: E402

QUESTION = (
    "A gated recurrent unit keeps one state, $h_t = (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}$, with an update "
    "gate $z_t$, a reset gate $r_t$ and a candidate $n_t$. Does the update gate stop the gradient "
    "$\\partial h_\\tau / \\partial h_t$ from vanishing, as the LSTM's forget gate is said to?"
)
SEED = 20261208
N, M, GAP = 16, 4, 60
#: Update-gate biases of the curves (added to the input bias of z): the gate closes, stays balanced, opens.
BIASES = (-2.0, 0.0, 2.0, 5.0)


def gru_run(gaps: int, bias: float, n: int = N, m: int = M, seed: int = SEED):
    """The values met along a GRU run of ``gaps`` steps: fixed weights, fresh inputs, the state carried."""
    rng = np.random.default_rng(seed)
    w = {}
    for g in "rzn":
        w[f"W_{{i{g}}}"] = rng.normal(size=(n, m)) / math.sqrt(m)
        w[f"W_{{h{g}}}"] = rng.normal(size=(n, n)) / math.sqrt(n)
        w[f"b_{{i{g}}}"] = rng.normal(0, 0.1, n)
        w[f"b_{{h{g}}}"] = rng.normal(0, 0.1, n)
    w["b_{iz}"] = w["b_{iz}"] + bias
    h, steps = np.tanh(rng.normal(size=n)), []
    for _ in range(gaps):
        steps.append({**w, "h_{t-1}": h, "x_t": rng.normal(size=m)})
        h = ref("gru.state").evaluate(steps[-1])
    return steps


def log_norms(gaps: int, bias: float, name: str = "gru.state_jacobian", n: int = N):
    """log of the spectral norm of the product of ``name`` along the run, later factors on the left."""
    J = ref(name)
    P, scale, out = np.eye(n), 0.0, []
    for values in gru_run(gaps, bias, n=n):
        P = J.evaluate(values) @ P
        s = np.linalg.norm(P, 2)
        scale += math.log(s)
        P /= s
        out.append(scale)
    return np.array(out)


def torch_log_norm(gaps: int, bias: float) -> float:
    """The same product by torch.func.jacrev through an unrolled torch.nn.GRUCell (gate order r, z, n)."""
    import torch

    steps = gru_run(gaps, bias)
    T = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float64))  # noqa: E731
    cell = torch.nn.GRUCell(M, N, dtype=torch.float64)
    with torch.no_grad():
        for name, part in (("weight_ih", "W_{i%s}"), ("weight_hh", "W_{h%s}"), ("bias_ih", "b_{i%s}"),
                           ("bias_hh", "b_{h%s}")):
            getattr(cell, name).copy_(torch.cat([T(steps[0][part % g]) for g in "rzn"]))
    xs = [T(s["x_t"]) for s in steps]

    def unroll(h):
        for x in xs:
            h = cell(x[None], h[None])[0]
        return h

    J = torch.func.jacrev(unroll)(T(steps[0]["h_{t-1}"])).detach()
    return float(torch.log(torch.linalg.matrix_norm(J, ord=2)))


def figure_check() -> CheckSpec:
    def run():
        trials = [(f"b = {b:g}, gap {k}", log_norms(k, b)[-1], torch_log_norm(k, b)) for b in BIASES for k in (1, 5, 12)]
        return compare_trials(trials, rtol=1e-9)

    return CheckSpec("oracle", "log-norms of the plotted products against torch.func.jacrev through an unrolled "
                               "torch.nn.GRUCell at gaps 1, 5, 12", run)


def gate_product_check() -> CheckSpec:
    """The additive path's product is diag of the product of the update gates, computed apart with numpy."""

    def run():
        trials = []
        for b in BIASES:
            steps = gru_run(12, b)
            P = np.eye(N)
            for values in steps:
                P = ref("gru.direct").evaluate(values) @ P
            z = [1 / (1 + np.exp(-(v["W_{iz}"] @ v["x_t"] + v["b_{iz}"] + v["W_{hz}"] @ v["h_{t-1}"] + v["b_{hz}"])))
                 for v in steps]
            trials.append((f"b = {b:g}, gap 12", P, np.diag(np.prod(z, axis=0))))
        return compare_trials(trials, rtol=1e-12)

    return CheckSpec("numeric", "the product of the derived additive-path factors against the product of the "
                                "update gates computed directly", run)


#: One step's Jacobian as a person writes it: the pre-activations named, the terms in the order of the text, one
#: term a line.  It is not typed in as the answer: the check reads it back and holds it against the Jacobian the
#: model derives (gru.state_jacobian), which the ledger shows with its own checks.
PREACTIVATIONS = (r"u_z = W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}",
                  r"u_r = W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}",
                  r"a_n = W_{hn} h_{t-1} + b_{hn}",
                  r"u_n = W_{in} x_t + b_{in} + r_t \odot a_n")
JACOBIAN_TERMS = (r"\frac{\partial h_t}{\partial h_{t-1}} &= \operatorname{diag}(z_t) + "
                  r"\operatorname{diag}\big((h_{t-1} - n_t) \odot \sigma'(u_z)\big) W_{hz}",
                  r"&\quad + \operatorname{diag}\big((1 - z_t) \odot \tanh'(u_n)\big) "
                  r"\big(\operatorname{diag}(r_t) W_{hn} + \operatorname{diag}(a_n \odot \sigma'(u_r)) W_{hr}\big)")


def jacobian_text() -> str:
    """The definitions, then the Jacobian, as one display: what the page shows is what the checker reads."""
    lines = [d.replace(" = ", " &= ", 1) for d in PREACTIVATIONS] + list(JACOBIAN_TERMS)
    return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"


def jacobian_check() -> CheckSpec:
    """The displayed Jacobian read back by the derivation checker and proved equal to the model's."""

    def run():
        import symdl

        v = symdl.check_derivation(jacobian_text(), against="gru.state_jacobian", timeout=None)
        final = v.final or {}
        if v.verdict != "equivalent":
            return False, f"{v.verdict}: {v.message}", None
        proved = final.get("method") == "symbolic"
        return (True if proved else None), final.get("message", v.message), None

    return CheckSpec("symbolic", "the Jacobian as displayed, read back with its definitions, against "
                                 "gru.state_jacobian", run, timeout=120)


def make_figure(path) -> None:
    """Drawn at its printed width (_figstyle), so that its text is at least 8 pt on the page."""
    plt = pyplot()
    gaps = np.arange(1, GAP + 1)
    with plt.rc_context(PRINT):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(inches(1.0), 2.9), sharey=True)
        for b in BIASES:
            a1.plot(gaps, log_norms(GAP, b) / math.log(10), label=f"bias {minus(b)}")
            a2.plot(gaps, log_norms(GAP, b, "gru.direct") / math.log(10), label=f"bias {minus(b)}")
        a1.set_title(r"whole Jacobian: $\|\partial h_\tau / \partial h_t\|_2$")
        a2.set_title(r"additive path alone: $\|\prod_k \mathrm{diag}(z_k)\|_2$")
        for a in (a1, a2):
            a.set_xlabel(r"gap $\tau - t$")
            a.grid(alpha=0.3)
            a.legend(loc="lower left", title="update gate")
        a1.set_ylabel(r"$\log_{10}$ of the norm")
        save(fig, path)


def _notation() -> Table:
    rows = (
        (tex(r"h_t,\ x_t"), "the state and the input at one time step; sizes n and m"),
        (tex(r"r_t,\ z_t,\ n_t"), "reset gate, update gate and candidate state"),
        (tex(r"W_{ir},\ W_{hr},\ b_{ir},\ b_{hr}"), "a gate's weights on the input and on the state, and its two "
                                                      "biases (z and n alike)"),
        (tex(r"u_z,\ u_r,\ u_n,\ a_n"), "the pre-activations of the gates and the candidate, as defined below "
                                         "the Jacobian"),
        (tex(r"\sigma,\ \tanh,\ \sigma',\ \tanh'"), "the activations and their derivatives, entry by entry"),
        (tex(r"\odot,\ \operatorname{diag}(v)"), "entrywise product; the diagonal matrix with v on its diagonal"),
        (tex(r"\frac{\partial a}{\partial b}"), "Jacobian in numerator layout: one row per entry of a"),
        (tex(r"t < \tau,\ k"), "an earlier and a later time step; the index of the steps between them"),
    )
    return Table(("symbol", "meaning"), rows, caption="Notation", widths=(0.27, 0.63))


def derivation() -> Derivation:
    answer = Section("Answer", (
        prose("Only while the update gate stays close to 1. One step's Jacobian holds an additive term "
              "$\\operatorname{diag}(z_t)$ with no weight matrix, so when $z_t \\approx 1$ the gradient passes "
              "through unchanged (and the state barely changes). For $z_t$ away from 1 the product of update gates "
              "decays geometrically, and the other terms carry $W_{hz}$, $W_{hr}$ and $W_{hn}$, whose products "
              "vanish or explode as a plain recurrent network's do. The figure shows both."),
        _notation(),
    ))
    cell = Section("The cell", (
        prose("The course's model defines the reset gate, the update gate, the candidate and the new state; "
              "this is the state as the model gives it:"),
        ReferenceBlock("gru.state"),
    ))
    jac = Section("One step's Jacobian", (
        prose("Name the pre-activations of the update gate, the reset gate and the candidate. Differentiating "
              "through every definition, with the product rule for each Hadamard product and the chain rule for "
              "each gate, gives one step's Jacobian in numerator layout:"),
        Step("jacobian", tex(jacobian_text()), "the pre-activations, then one step's Jacobian",
             checks=(jacobian_check(),)),
        prose("Holding the three gates fixed leaves the path on which $h_{t-1}$ is copied forward:"),
        ReferenceBlock("gru.direct"),
    ))
    vanish = Section("Across many steps", (
        prose("Across time the Jacobians multiply, later factors on the left. Along the additive path alone:"),
        Step("gate-product", tex(r"\prod_{k=t+1}^{\tau} \operatorname{diag}(z_k) = "
                                 r"\operatorname{diag}\big(z_\tau \odot \cdots \odot z_{t+1}\big), \qquad "
                                 r"\Big\|\prod_{k=t+1}^{\tau} \operatorname{diag}(z_k)\Big\|_2 = "
                                 r"\max_i \prod_{k=t+1}^{\tau} z_{k,i}"),
             "diagonal matrices multiply entrywise; the spectral norm of a diagonal matrix is its largest entry",
             checks=(gate_product_check(),)),
        prose("Each $z_{k,i} \\in (0, 1)$, so this product decays geometrically unless the update gate saturates "
              "near 1, where it no longer updates the state. The figure draws both products along one run "
              "($n = 16$, $m = 4$, random weights of scale $1/\\sqrt{\\text{fan-in}}$), for four biases of the "
              "update gate; products are renormalised at every step, so that the logarithm is exact at any gap."),
        Figure("norms", "Norms of the Jacobian products against the gap $\\tau - t$, in log space. Left: the "
                        "whole Jacobian; right: the additive path alone. A larger update-gate bias keeps $z_k$ "
                        "near 1 and the product near the identity; smaller biases let it decay.",
               make_figure, checks=(figure_check(),), width="1.0"),
    ))
    return Derivation(
        slug="gru-update-gate",
        title="The GRU: does its update gate stop vanishing gradients?",
        description="the GRU's Jacobian derived from a course's model file, and the products of its update gates",
        question=QUESTION,
        sections=(answer, cell, jac, vanish),
        references=("gru.state_jacobian",),
    )
