r"""Whole derivations, step by step (REFERENCES.md, "Checking a whole derivation").

Written the micrograd way: the truth of every link is computed here, independently, in torch
float64 (``torch.func.jacrev`` for Jacobians, ``torch.optim.Adam`` for the optimiser), and the
verdicts symdl gives each step are held against it.  Nothing expected is produced by symdl.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from symdl.grade.derivation import check_derivation

D = torch.float64
RTOL = 1e-10


def close(a, b) -> bool:
    a, b = torch.as_tensor(a, dtype=D), torch.as_tensor(b, dtype=D)
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=RTOL, atol=1e-12))


def truths(links, points) -> list[str]:
    """The verdict each link deserves: a fixed word (``defined``, ``unknown``), or equality of the two
    torch functions at every point."""
    return [item if isinstance(item, str) else
            ("equivalent" if all(close(item[0](p), item[1](p)) for p in points) else "not_equivalent")
            for item in links]


def verdicts(answer) -> list[str]:
    return [s.verdict for s in answer.steps]


# -- the LSTM cell in torch ---------------------------------------------------------------------------


def lstm_points(k=3, n=3, m=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(k):
        p = {f"W{a}{b}": torch.randn(n, n if b == "h" else m, generator=g, dtype=D) for a in "fiog" for b in "hx"}
        p.update({f"b{a}": torch.randn(n, generator=g, dtype=D) for a in "fiog"})
        p.update(c=torch.randn(n, generator=g, dtype=D), o_prev=torch.rand(n, generator=g, dtype=D),
                 x=torch.randn(m, generator=g, dtype=D))
        out.append(p)
    return out


def gates(p, c):
    h = p["o_prev"] * torch.tanh(c)
    pre = {a: p[f"W{a}h"] @ h + p[f"W{a}x"] @ p["x"] + p[f"b{a}"] for a in "fiog"}
    return {"h": h, "pre": pre, "f": torch.sigmoid(pre["f"]), "i": torch.sigmoid(pre["i"]),
            "g": torch.tanh(pre["g"]), "o": torch.sigmoid(pre["o"])}


def cell(p, c):
    z = gates(p, c)
    return z["f"] * c + z["i"] * z["g"]


def jac(p, what):
    return torch.func.jacrev(lambda c: what(p, c))(p["c"])


def dcell(p):
    return jac(p, cell)


def dgate(name):
    return lambda p: jac(p, lambda q, c: gates(q, c)[name])


def explicit(p, drop=None):
    """The four-term Jacobian written out, one gate's term left out if asked."""
    z, c = gates(p, p["c"]), p["c"]
    dh = torch.diag(p["o_prev"] * (1 - torch.tanh(c) ** 2))
    terms = {"f": torch.diag(c * z["f"] * (1 - z["f"])) @ p["Wfh"] @ dh,
             "i": torch.diag(z["g"] * z["i"] * (1 - z["i"])) @ p["Wih"] @ dh,
             "g": torch.diag(z["i"] * (1 - z["g"] ** 2)) @ p["Wgh"] @ dh}
    return torch.diag(z["f"]) + sum(t for k, t in terms.items() if k != drop)


EXPLICIT = (r"\operatorname{diag}(f_t) + \operatorname{diag}(c_{t-1} \odot f_t \odot (1 - f_t)) W_{fh} D "
            r"+ \operatorname{diag}(g_t \odot i_t \odot (1 - i_t)) W_{ih} D")
G_TERM = r"+ \operatorname{diag}(i_t \odot (1 - g_t^2)) W_{gh} D"
D_DEF = r"D = \operatorname{diag}(o_{t-1} \odot (1 - \tanh^2(c_{t-1})))"

LSTM = rf"""We name the pre-activations as we go.
\begin{{align*}}
  u_f &= W_{{fh}} h_{{t-1}} + W_{{fx}} x_t + b_f \\
  f_t &= \sigma(u_f) \\
  u_i &:= W_{{ih}} h_{{t-1}} + W_{{ix}} x_t + b_i \\
  i_t &= \sigma(u_i) \\
  c_t &= f_t \odot c_{{t-1}} + i_t \odot g_t \quad \text{{(equation 1)}} \\
  \frac{{\partial c_t}}{{\partial c_{{t-1}}}} &= \operatorname{{diag}}(f_t)
      + \operatorname{{diag}}(c_{{t-1}}) \frac{{\partial f_t}}{{\partial c_{{t-1}}}}
      + \operatorname{{diag}}(g_t) \frac{{\partial i_t}}{{\partial c_{{t-1}}}}
      + \operatorname{{diag}}(i_t) \frac{{\partial g_t}}{{\partial c_{{t-1}}}} \\
  &= {EXPLICIT} \\
  &\quad {G_TERM}, \quad {D_DEF}
\end{{align*}}
So the cell state's Jacobian has four terms."""


def test_an_lstm_derivation_with_definitions_introduced_midway_is_all_correct():
    pts = lstm_points()
    z = lambda p: gates(p, p["c"])  # noqa: E731
    want = truths([
        "defined",
        (lambda p: z(p)["f"], lambda p: torch.sigmoid(p["Wfh"] @ z(p)["h"] + p["Wfx"] @ p["x"] + p["bf"])),
        "defined",
        (lambda p: z(p)["i"], lambda p: torch.sigmoid(p["Wih"] @ z(p)["h"] + p["Wix"] @ p["x"] + p["bi"])),
        (lambda p: cell(p, p["c"]), lambda p: z(p)["f"] * p["c"] + z(p)["i"] * z(p)["g"]),
        (dcell, lambda p: torch.diag(z(p)["f"]) + torch.diag(p["c"]) @ dgate("f")(p)
         + torch.diag(z(p)["g"]) @ dgate("i")(p) + torch.diag(z(p)["i"]) @ dgate("g")(p)),
        (dcell, explicit),  # the step compares with the side before it, which equals the Jacobian
        "defined",
    ], pts)
    assert want == ["defined", "equivalent", "defined", "equivalent", "equivalent", "equivalent", "equivalent",
                    "defined"]
    answer = check_derivation(LSTM, against="lstm.cell_jacobian")
    assert verdicts(answer) == want
    assert answer.verdict == "equivalent" and answer.first_wrong is None and answer.model == "lstm"
    assert answer.final["verdict"] == "equivalent" and close(dcell(pts[0]), explicit(pts[0]))
    assert [s.kind for s in answer.steps] == ["definition", "link", "definition", "link", "link", "link", "link",
                                              "definition"]
    assert answer.steps[4].reason == "(equation 1)" and answer.skipped[0]["line"] == 1
    assert [s.line for s in answer.steps] == [3, 4, 5, 6, 7, 8, 12, 13]


def test_a_dropped_gate_term_is_a_missing_term():
    text = rf"\frac{{\partial c_t}}{{\partial c_{{t-1}}}} = {EXPLICIT}, \quad {D_DEF}"
    (truth,) = truths([(dcell, lambda p: explicit(p, drop="g"))], lstm_points())
    answer = check_derivation(text, model="lstm")
    assert truth == "not_equivalent" == answer.steps[0].verdict and answer.first_wrong == 0
    found = answer.steps[0].diagnosis
    assert found["kind"] == "missing_term" and "W_{gh}" in found["detail"]


def test_a_sign_slip_in_one_term():
    text = r"c_t = f_t \odot c_{t-1} - i_t \odot g_t"
    z = lambda p: gates(p, p["c"])  # noqa: E731
    (truth,) = truths([(lambda p: cell(p, p["c"]), lambda p: z(p)["f"] * p["c"] - z(p)["i"] * z(p)["g"])],
                      lstm_points())
    answer = check_derivation(text, model="lstm")
    assert truth == answer.verdict == "not_equivalent"
    found = answer.steps[0].diagnosis
    assert found["kind"] == "sign" and "i_t" in found["detail"] and "opposite sign" in found["detail"]


def test_sigma_prime_in_place_of_tanh_prime_is_a_symbol_slip():
    text = (r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(f_t) + \operatorname{diag}(c_{t-1} \odot "
            r"\sigma'(u_f)) W_{fh} D + \operatorname{diag}(g_t \odot \sigma'(u_i)) W_{ih} D + \operatorname{diag}(i_t "
            r"\odot \sigma'(u_g)) W_{gh} D")
    defs = "\n".join([r"u_f = W_{fh} h_{t-1} + W_{fx} x_t + b_f", r"u_i = W_{ih} h_{t-1} + W_{ix} x_t + b_i",
                      r"u_g = W_{gh} h_{t-1} + W_{gx} x_t + b_g",
                      r"D = \operatorname{diag}(o_{t-1} \odot \tanh'(c_{t-1}))"])

    def slipped(p):  # the candidate's derivative taken as the sigmoid's
        z, c = gates(p, p["c"]), p["c"]
        s = lambda u: torch.sigmoid(u) * (1 - torch.sigmoid(u))  # noqa: E731
        dh = torch.diag(p["o_prev"] * (1 - torch.tanh(c) ** 2))
        return (torch.diag(z["f"]) + torch.diag(c * s(z["pre"]["f"])) @ p["Wfh"] @ dh
                + torch.diag(z["g"] * s(z["pre"]["i"])) @ p["Wih"] @ dh
                + torch.diag(z["i"] * s(z["pre"]["g"])) @ p["Wgh"] @ dh)

    (truth,) = truths([(dcell, slipped)], lstm_points())
    answer = check_derivation(defs + "\n" + text, model="lstm")
    assert verdicts(answer) == ["defined"] * 4 + [truth] and truth == "not_equivalent"
    assert answer.steps[4].diagnosis == {"kind": "symbol_slip", "detail": "\\sigma' in place of \\tanh'"}


# -- the RNN ----------------------------------------------------------------------------------------------


ACTIVATIONS = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}


def rnn_points(seed=1, n=3, m=2):
    g = torch.Generator().manual_seed(seed)
    return [dict(h=torch.randn(n, generator=g, dtype=D), x=torch.randn(m, generator=g, dtype=D),
                 W1=torch.randn(n, n, generator=g, dtype=D), W2=torch.randn(n, m, generator=g, dtype=D), s=s)
            for s in ACTIVATIONS.values() for _ in range(2)]


def rnn_state(p, h):
    return p["s"](p["W1"] @ h + p["W2"] @ p["x"])


def sigma_prime(p, u):
    return torch.func.vmap(torch.func.grad(p["s"]))(u)


def test_the_transposed_rnn_jacobian_is_diagnosed_as_the_transpose():
    text = ("\\begin{align*}\n"
            "\\frac{\\partial h_t}{\\partial h_{t-1}} &= \\operatorname{diag}(\\sigma'(a_t)) W_1 \\\\\n"
            "  &= W_1^\\top \\operatorname{diag}(\\sigma'(a_t))\n\\end{align*}")
    a = lambda p: p["W1"] @ p["h"] + p["W2"] @ p["x"]  # noqa: E731
    J = lambda p: torch.func.jacrev(lambda h: rnn_state(p, h))(p["h"])  # noqa: E731
    want = truths([(J, lambda p: torch.diag(sigma_prime(p, a(p))) @ p["W1"]),
                   (lambda p: torch.diag(sigma_prime(p, a(p))) @ p["W1"],
                    lambda p: p["W1"].T @ torch.diag(sigma_prime(p, a(p))))], rnn_points())
    answer = check_derivation(text)
    assert answer.model == "rnn" and verdicts(answer) == want == ["equivalent", "not_equivalent"]
    assert answer.first_wrong == 1 and answer.steps[1].line == 3
    assert answer.steps[1].diagnosis == {"kind": "transpose",
                                         "detail": "the transpose of the reference: you wrote the denominator layout"}
    assert answer.steps[1].counterexample is not None


def test_an_approx_line_is_a_relation_left_undecided():
    text = r"h_t = \sigma(W_1 h_{t-1} + W_2 x_t) \approx \sigma(W_2 x_t) = \sigma(a_t - W_1 h_{t-1})"
    a = lambda p: p["W1"] @ p["h"] + p["W2"] @ p["x"]  # noqa: E731
    want = truths([(lambda p: rnn_state(p, p["h"]), lambda p: p["s"](a(p))), "unknown",
                   (lambda p: p["s"](p["W2"] @ p["x"]), lambda p: p["s"](a(p) - p["W1"] @ p["h"]))], rnn_points())
    answer = check_derivation(text, model="rnn")
    assert verdicts(answer) == want == ["equivalent", "unknown", "equivalent"]
    assert answer.steps[1].kind == "relation" and "\\approx" in answer.steps[1].message
    assert answer.verdict == "unknown" and answer.first_wrong is None


# -- Adam -----------------------------------------------------------------------------------------------------


def adam_points(k=4, seed=2):
    rng = np.random.default_rng(seed)
    return [dict(w=rng.normal(), m=rng.normal(), v=rng.uniform(0, 2), g=rng.normal(), lr=rng.uniform(0.01, 1),
                 b1=rng.uniform(0, 0.95), b2=rng.uniform(0, 0.95), eps=rng.uniform(0, 2), t=int(rng.integers(0, 5)))
            for _ in range(k)]


def torch_adam(p) -> float:
    """``w_{t+1}`` by torch.optim.Adam, from the state after ``t`` updates (PyTorch's step is t + 1)."""
    w = torch.tensor([p["w"]], dtype=D, requires_grad=True)
    opt = torch.optim.Adam([w], lr=p["lr"], betas=(p["b1"], p["b2"]), eps=p["eps"])
    opt.state[w] = {"step": torch.tensor(float(p["t"])), "exp_avg": torch.tensor([p["m"]], dtype=D),
                    "exp_avg_sq": torch.tensor([p["v"]], dtype=D)}
    w.grad = torch.tensor([p["g"]], dtype=D)
    opt.step()
    return w.detach()


def m_next(p):
    return p["b1"] * p["m"] + (1 - p["b1"]) * p["g"]


def v_hat(p):
    return (p["b2"] * p["v"] + (1 - p["b2"]) * p["g"] ** 2) / (1 - p["b2"] ** (p["t"] + 1))


def adam_form(p, first=None, power=1):
    """``w_t - gamma (first/(1-beta_1^{t+power})) / (sqrt(vhat) + eps)``."""
    first = m_next(p) if first is None else first
    return torch.tensor([p["w"] - p["lr"] * first / (1 - p["b1"] ** (p["t"] + power)) / (np.sqrt(v_hat(p)) + p["eps"])],
                        dtype=D)


CHAIN = r"""\begin{align*}
w_{t+1} &= w_t - \gamma \frac{\hat m_{t+1}}{\sqrt{\hat v_{t+1}} + \epsilon} \\
 &= w_t - \gamma \frac{m_{t+1}/(1-\beta_1^{t+1})}{\sqrt{\hat v_{t+1}} + \epsilon} \\
 &= w_t - \gamma \frac{(\beta_1 m_t + (1-\beta_1) g_t)/(1-\beta_1^{t+1})}{\sqrt{\hat v_{t+1}} + \epsilon} \\
 &= w_t - \gamma \frac{(\beta_1 m_t + (1-\beta_1) g_t)/(1-\beta_1^{t})}{\sqrt{\hat v_{t+1}} + \epsilon} \\
 &= w_t - \frac{\gamma}{1-\beta_1^{t}} \frac{\beta_1 m_t + (1-\beta_1) g_t}{\sqrt{\hat v_{t+1}} + \epsilon} \\
 &= w_t - \frac{\gamma (\beta_1 m_t + (1-\beta_1) g_t)}{(1-\beta_1^{t}) (\sqrt{v_{t+1}/(1-\beta_2^{t+1})} + \epsilon)}
\end{align*}"""


def test_a_wrong_step_in_the_middle_of_a_long_chain_is_the_first_wrong():
    pts = [p for p in adam_points(8) if p["t"] > 0][:4]  # 1 - beta_1^0 = 0 has no value
    correct, slipped = (lambda p: adam_form(p)), (lambda p: adam_form(p, power=0))
    want = truths([(torch_adam, correct), (correct, correct), (correct, correct), (correct, slipped),
                   (slipped, slipped), (slipped, slipped)], pts)
    assert want == ["equivalent"] * 3 + ["not_equivalent"] + ["equivalent"] * 2
    answer = check_derivation(CHAIN, against="optim.adam")
    assert verdicts(answer) == want
    assert answer.first_wrong == 3 and answer.steps[3].line == 5 and answer.verdict == "not_equivalent"
    assert answer.final["verdict"] == "not_equivalent" and answer.message.startswith("step 3 (line 5)")


def test_m_t_in_place_of_m_t_plus_1_against_adam():
    text = "\n".join([r"m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t", r"\hat m_{t+1} = \frac{m_{t+1}}{1-\beta_1^{t+1}}",
                      r"w_{t+1} = w_t - \gamma \frac{m_t / (1-\beta_1^{t+1})}{\sqrt{\hat v_{t+1}} + \epsilon}"])
    pts = adam_points()
    want = truths([(lambda p: m_next(p), lambda p: p["b1"] * p["m"] + (1 - p["b1"]) * p["g"]),
                   (lambda p: m_next(p) / (1 - p["b1"] ** (p["t"] + 1)),
                    lambda p: m_next(p) / (1 - p["b1"] ** (p["t"] + 1))),
                   (torch_adam, lambda p: adam_form(p, first=p["m"]))], pts)
    answer = check_derivation(text, against="optim.adam")
    assert verdicts(answer) == want == ["equivalent", "equivalent", "not_equivalent"]
    assert answer.steps[2].diagnosis == {"kind": "symbol_slip", "detail": "m_t in place of m_{t+1}"}
    assert answer.final["verdict"] == "not_equivalent" and answer.first_wrong == 2


def test_a_derivation_ending_on_another_quantity_rests_on_its_links():
    text = "m_0 = 0\nm_{t+1} = \\beta_1 m_t + (1-\\beta_1) g_t"
    answer = check_derivation(text, against="optim.adam")
    assert [(s.kind, s.verdict) for s in answer.steps] == [("given", "given"), ("link", "equivalent")]
    assert answer.final["verdict"] is None and "m_{t+1}" in answer.final["message"]
    assert answer.verdict == "equivalent"


def test_a_whole_side_scaled_is_a_factor():
    answer = check_derivation(r"m_{t+1} = 2\beta_1 m_t + 2(1-\beta_1) g_t", against="optim.adam")
    (truth,) = truths([(m_next, lambda p: 2 * m_next(p))], adam_points())
    assert answer.steps[0].verdict == truth == "not_equivalent"
    assert answer.steps[0].diagnosis == {"kind": "factor", "detail": "2"}


# -- what is refused, and where ----------------------------------------------------------------------------


def test_names_that_cannot_be_definitions_are_errors_naming_the_line():
    text = "c_t = f_t \\odot c_{t-1} + i_t \\odot g_t\nf_t' = \\sigma(u)\nW_{fh} := 3\n\\delta := W_{fh}\nz_t = q_t + 1"
    answer = check_derivation(text, model="lstm")
    assert verdicts(answer) == ["equivalent", "error", "error", "defined", "error"]
    assert "resembles f_t" in answer.steps[1].message and answer.steps[1].line == 2
    assert "redefine" in answer.steps[2].message
    assert (answer.steps[4].line, answer.steps[4].column) == (5, 7) and "q_t" in answer.steps[4].message
    assert answer.verdict == "error" and answer.first_wrong is None


def test_the_model_is_inferred_or_the_candidates_are_named():
    assert check_derivation(r"m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t").model == "optim"
    none = check_derivation(r"\zeta = \xi + \chi")  # no model has these names
    assert none.verdict == "error" and "no model's symbols" in none.message
    assert all(t in none.message for t in ("rnn", "lstm", "optim", "gru"))  # built-in modules and model files
    tie = check_derivation(r"u = W_{fh} \beta_1")  # one name of lstm's, one of optim's
    assert tie.verdict == "error" and "lstm and optim equally" in tie.message and "--model" in tie.message
    clash = check_derivation("--model", model="lstm", against="optim.adam")
    assert clash.verdict == "error" and "disagree" in clash.message


@pytest.mark.parametrize("bad", ["\\begin{align}\na = b", "a = \\input{x}"])
def test_input_that_is_not_read_at_all_names_its_line(bad):
    answer = check_derivation(bad, model="lstm")
    assert answer.verdict == "error" and answer.steps == [] and answer.to_json()["line"] >= 1


def test_a_weight_slipped_in_one_term_is_a_symbol_slip():
    text = rf"\frac{{\partial c_t}}{{\partial c_{{t-1}}}} = {EXPLICIT} {G_TERM.replace('W_{gh}', 'W_{fh}')}, \quad {D_DEF}"

    def slipped(p):
        z, c = gates(p, p["c"]), p["c"]
        dh = torch.diag(p["o_prev"] * (1 - torch.tanh(c) ** 2))
        return explicit(p, drop="g") + torch.diag(z["i"] * (1 - z["g"] ** 2)) @ p["Wfh"] @ dh

    (truth,) = truths([(dcell, slipped)], lstm_points())
    answer = check_derivation(text, model="lstm")
    assert answer.steps[0].verdict == truth == "not_equivalent"
    assert answer.steps[0].diagnosis == {"kind": "symbol_slip", "detail": "W_{fh} in place of W_{gh}"}
