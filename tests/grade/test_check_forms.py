r"""check(): the defects a review found, each with the form that showed it.

Verdicts are what a person would give; values in counterexamples are held
against numpy written here, not against symdl's own evaluation.
"""

import pytest

from symdl.grade.check import check

#: \sum over a variable the reference integrates over is that integral (REFERENCES.md, conventions)
SUMS = [
    ("ebm.gibbs", r"\frac{\exp(-\beta F(x,y))}{\sum_{y'} \exp(-\beta F(x,y'))}", "equivalent"),
    ("ebm.gibbs", r"P(y \mid x) = \frac{\exp(-\beta F(x,y))}{\sum_{y} \exp(-\beta F(x,y))}", "equivalent"),
    ("ebm.gibbs", r"\frac{\exp(-\beta F(x,y))}{\sum_{y'} \exp(-2 \beta F(x,y'))}", "not_equivalent"),
    ("ebm.free_energy", r"-\frac{1}{\beta}\log \sum_z \exp(-\beta E(x,y,z))", "equivalent"),
    ("ebm.free_energy", r"-\frac{1}{\beta}\log \sum_z \exp(\beta E(x,y,z))", "not_equivalent"),
    ("ebm.nll_loss", r"\frac{1}{N}\sum_{i=1}^{N} \left[F_w(x_i,y_i) + \frac{1}{\beta}\log\sum_{y} "
                     r"\exp(-\beta F_w(x_i,y))\right]", "equivalent"),
    ("ebm.nll_loss", r"\frac{1}{N}\sum_{i=1}^{N} \left[F_w(x_i,y_i) + \frac{1}{\beta}\log\sum_{y} "
                     r"\exp(\beta F_w(x_i,y))\right]", "not_equivalent"),
]


@pytest.mark.parametrize("name, form, expected", SUMS)
def test_a_sum_over_the_integrated_variable_is_the_integral(name, form, expected):
    v = check(form, against=name, timeout=1.5)
    assert v.verdict == expected, str(v)


#: a script after a function's closing bracket applies to the function's value
POSTFIX = [
    ("lstm.cell_jacobian_direct", r"\operatorname{diag}(f_t)^\top", "equivalent"),
    ("lstm.cell_jacobian_direct", r"\mathrm{diag}(i_t)^T", "not_equivalent"),
    ("rnn.state_jacobian", r"\left(W_1^\top \operatorname{diag}(\sigma'(a_t))\right)^\top", "equivalent"),
    ("optim.heavy_ball", r"w_t - \gamma g_t + \beta (w_t - w_{t-1}) + \tanh(g_t)^2 - \tanh^2(g_t)", "equivalent"),
    ("optim.heavy_ball", r"w_t - \gamma g_t + \beta (w_t - w_{t-1}) + \tanh(g_t)^2 - \tanh(g_t^2)", "not_equivalent"),
]


@pytest.mark.parametrize("name, form, expected", POSTFIX)
def test_a_script_after_a_functions_bracket_applies_to_its_value(name, form, expected):
    v = check(form, against=name, timeout=1.5)
    assert v.verdict == expected, str(v)


def test_a_factor_close_to_1_is_not_equivalent():
    v = check(r"\operatorname{diag}(f_t) \cdot 1.0000000001", against="lstm.cell_jacobian_direct", timeout=1.5)
    assert v.verdict == "not_equivalent" and v.counterexample is not None, str(v)
    assert v.counterexample["hand_entry"] != v.counterexample["reference_entry"]


#: differences below any float64 tolerance that the symbolic step finds exactly
TINY = [
    ("lstm.cell_jacobian_direct", r"\operatorname{diag}(f_t) (1 + 10^{-15})", "1/1000000000000000"),
    ("lstm.cell_jacobian_direct", r"\operatorname{diag}(f_t) + 10^{-15} I", "I"),
    ("optim.heavy_ball", r"w_t - \gamma g_t + \beta (w_t - w_{t-1}) + 10^{-15}", "not 0"),
    ("optim.heavy_ball", r"(1 - 10^{-15}) (w_t - \gamma g_t + \beta (w_t - w_{t-1}))", "times the reference"),
]


@pytest.mark.parametrize("name, form, evidence", TINY)
def test_an_exact_difference_found_symbolically_is_not_equivalent(name, form, evidence):
    v = check(form, against=name, timeout=5)
    assert v.verdict == "not_equivalent" and v.method == "symbolic" and evidence in v.message, str(v)
    cx = v.counterexample
    assert cx is not None and cx["relative_error"] <= 1e-12 and "inputs" in cx


@pytest.mark.parametrize("form", [r"\operatorname{diag}(f_t) + 10^{-12} I", r"\operatorname{diag}(f_t) + 0.001 I",
                                  r"-0.001 I + \operatorname{diag}(f_t)"])
def test_a_scalar_times_the_identity_gives_a_verdict(form):
    import numpy as np

    v = check(form, against="lstm.cell_jacobian_direct", timeout=1.5)
    assert v.verdict == "not_equivalent" and v.counterexample is not None, str(v)
    hand, want = np.asarray(v.counterexample["hand"]), np.asarray(v.counterexample["reference"])
    c = 1e-12 if "12" in form else (0.001 if "+ 0.001" in form else -0.001)
    assert np.allclose(hand - want, c * np.eye(2), rtol=1e-3, atol=0) if c != 1e-12 else \
        np.all(np.diag(hand - want) != 0)


def test_a_scalar_times_the_identity_that_cancels_is_equivalent():
    v = check(r"\operatorname{diag}(f_t) - 0.001 I + \frac{1}{1000} I", against="lstm.cell_jacobian_direct",
              timeout=1.5)
    assert v.verdict == "equivalent", str(v)


G2 = r"\operatorname{diag}(\sigma'(a_{t+2})) W_1 \operatorname{diag}(\sigma'(a_{t+1})) W_1"
#: rnn.jacobian_product at the gap the form is written for
GAPS = [
    (r"\frac{\partial h_{t+2}}{\partial h_t} = " + G2, "equivalent", "gap 2"),
    (G2, "equivalent", "gap 2"),
    (r"\frac{\partial \mathbf{h}_{t+2}}{\partial \mathbf{h}_t} = \operatorname{diag}(\sigma'(W_1 h_{t+1} + W_2 "
     r"x_{t+2})) W_1 \operatorname{diag}(\sigma'(W_1 h_t + W_2 \mathbf{x}_{t+1})) W_1", "equivalent", "gap 2"),
    (r"\frac{\partial h_{t+2}}{\partial h_t} = \operatorname{diag}(\sigma'(a_{t+1})) W_1 "
     r"\operatorname{diag}(\sigma'(a_{t+2})) W_1", "not_equivalent", "gap 2"),
    (r"\frac{\partial h_{t+3}}{\partial h_t} = " + G2, "not_equivalent", "gap 3"),
    (r"\operatorname{diag}(\sigma'(W_1 h_t + W_2 x_{t+1})) W_1", "equivalent", "gap 1"),
    (r"\frac{\partial h_{t+5}}{\partial h_t} = " + r" ".join(r"\operatorname{diag}(\sigma'(a_{t+%d})) W_1" % k
                                                            for k in range(5, 0, -1)), "equivalent", "gap 5"),
]


@pytest.mark.parametrize("form, expected, gap", GAPS)
def test_the_gap_of_a_jacobian_product_is_read_from_the_form(form, expected, gap):
    v = check(form, against="rnn.jacobian_product", timeout=1.5)
    assert v.verdict == expected and gap in v.message, str(v)


def test_a_gap_beyond_the_limit_is_an_error_that_says_so():
    v = check(r"\frac{\partial h_{t+99}}{\partial h_t} = W_1", against="rnn.jacobian_product")
    assert v.verdict == "error" and "gap 99" in v.message


def test_the_counterexample_at_gap_2_has_the_inputs_of_gap_2():
    import numpy as np

    v = check(r"\frac{\partial h_{t+2}}{\partial h_t} = W_1 W_1", against="rnn.jacobian_product", timeout=1.5)
    cx = v.counterexample
    assert v.verdict == "not_equivalent" and set(cx["inputs"]) == {"h_t", "x_{t+1}", "x_{t+2}", "W_1", "W_2"}
    w1 = np.asarray(cx["inputs"]["W_1"])
    assert np.allclose(cx["hand"], w1 @ w1, rtol=1e-13, atol=0)


def test_a_counterexample_names_symbols_and_functions_as_references_md_writes_them():
    from symdl.grade.check import format_counterexample

    v = check(r"W_1 W_1 W_1", against="rnn.jacobian_product", timeout=1.5)
    cx = v.counterexample
    assert {"x_{t+1}", "x_{t+2}", "x_{t+3}", "h_t"} <= set(cx["inputs"]) and r"\sigma" in cx["functions"]
    text = format_counterexample(cx)
    assert "x_t+1" not in text and "sigma' =" not in text.replace(r"\sigma' =", "") and "tanh/quadratic" not in text


def test_integers_print_as_integers_and_sizes_say_what_they_count():
    from symdl.grade.check import format_counterexample

    v = check(r"\theta_k - \gamma \sum_{i=1}^{N} \nabla \ell_i(\theta_k)", against="optim.gd", timeout=1.5)
    assert v.verdict == "not_equivalent" and "N = 2" in v.message and "samples" not in v.message
    v = check(r"\frac{1}{2}\sum_j (\sigma_j^2 + \mu_j^2 - \log \sigma_j^2)", against="latent.vae_kl", timeout=1.5)
    assert v.verdict == "not_equivalent" and "d = 2" in v.message and "samples" not in v.message, v.message
    v = check(r"\theta_{t-1} + \gamma b_t", against="optim.sgd_momentum_torch", timeout=1.5)
    text = format_counterexample(v.counterexample)
    assert v.counterexample["inputs"]["t"] == 1 and "t = 1\n" in text and "t = 1." not in text


def test_pirl_h_is_compared_with_the_cosine_similarity_of_vectors():
    import numpy as np
    import torch

    v = check(r"\frac{\exp(s(v_I, v_{I^t}))}{\exp(s(v_I, v_{I^t})) + \sum_{I' \in D_N} \exp(s(v_{I^t}, v_{I'}))}",
              against="contrastive.pirl_h", timeout=1.5)
    cx = v.counterexample
    assert v.verdict == "not_equivalent" and cx["functions"] == {"s": "cosine similarity"} and "negatives" not in cx
    x = {k: torch.tensor(np.asarray(val), dtype=torch.float64) for k, val in cx["inputs"].items()}
    assert x["v_I"].shape == x["v_{I^t}"].shape == (cx["sizes"]["d"],) and x["v_{I'}"].shape == (2, cx["sizes"]["d"])
    cos = torch.nn.functional.cosine_similarity
    pos = cos(x["v_I"], x["v_{I^t}"], dim=0)
    negs = cos(x["v_{I^t}"].expand_as(x["v_{I'}"]), x["v_{I'}"], dim=1)
    logits = torch.cat([pos.reshape(1), negs]) / x[r"\tau"]
    want = torch.exp(logits[0] - torch.logsumexp(logits, 0))
    hand = torch.exp(pos) / (torch.exp(pos) + torch.exp(negs).sum())
    assert cx["reference"] == pytest.approx(float(want), rel=1e-12)
    assert cx["hand"] == pytest.approx(float(hand), rel=1e-12)


@pytest.mark.parametrize("name, form", [("optim.heavy_ball", r"e^{e^{e^{10}}} w_t"),
                                        ("lstm.cell_update", r"f_t / (f_t - f_t)")])
def test_a_hand_form_that_overflows_everywhere_is_unknown_and_says_so(name, form):
    v = check(form, against=name, timeout=0.5)
    assert v.verdict == "unknown" and v.counterexample is None and "not finite in float64" in v.message, str(v)


@pytest.mark.parametrize("hand", [r"\infty w_t", "sympy zoo"])
def test_an_infinite_hand_form_is_unknown_with_the_reason_not_a_name_error(hand):
    import sympy as sp

    from symdl.model.registry import ref

    if hand == "sympy zoo":
        hand = sp.log(sp.Integer(0)) + ref("optim.heavy_ball").symbols["w_t"]
    v = check(hand, against="optim.heavy_ball", timeout=1)
    assert v.verdict == "unknown" and "infinite or undefined at every point" in v.message, str(v)
    assert "not defined" not in v.message and "zoo" not in v.message


@pytest.mark.parametrize("form, name", [(r"\log(\gamma-\gamma)", "optim.heavy_ball"),
                                        (r"\log \int_z (E(x,y,z)-E(x,y,z)) dz", "ebm.free_energy")])
def test_the_log_of_0_is_a_read_error_that_says_so(form, name):
    v = check(form, against=name, timeout=1)
    assert v.verdict == "error" and "log(0) is undefined" in v.message and "Integral" not in v.message, str(v)


def test_leaving_out_pytorchs_first_step_is_explained():
    import torch

    v = check(r"\theta_{t-1} - \gamma (\mu b_{t-1} + (1 - \tau) g_t)", against="optim.sgd_momentum_torch", timeout=1.5)
    assert v.verdict == "not_equivalent" and "differs only at the first step t = 1" in v.message, str(v)
    assert "b_t = g_t at t = 1" in v.message and "leaves out the first step" in v.message
    x = v.counterexample["inputs"]
    assert x["t"] == 1
    p = torch.nn.Parameter(torch.tensor([x[r"\theta_{t-1}"]], dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=x[r"\gamma"], momentum=x[r"\mu"], dampening=x[r"\tau"])
    p.grad = torch.tensor([x["g_t"]], dtype=torch.float64)
    opt.step()  # PyTorch's first step: the buffer is g_1 itself
    assert v.counterexample["reference"] == pytest.approx(float(p.detach()[0]), rel=1e-14)


def test_a_form_wrong_at_every_step_gets_no_first_step_note():
    v = check(r"\theta_{t-1} + \gamma (\mu b_{t-1} + (1 - \tau) g_t)", against="optim.sgd_momentum_torch", timeout=1.5)
    assert v.verdict == "not_equivalent" and "first step" not in v.message, str(v)


def test_importing_the_checker_module_leaves_symdl_check_the_function():
    import subprocess
    import sys

    code = ("import sys, symdl; assert 'lark' not in sys.modules, 'import symdl loaded lark'\n"
            "from symdl.grade.check import Verdict\nimport symdl.grade.check\n"
            "v = symdl.check(r'\\operatorname{diag}(f_t)', against='lstm.cell_jacobian_direct', timeout=1.5)\n"
            "assert callable(symdl.check) and isinstance(v, Verdict) and symdl.Verdict is Verdict\n"
            "from symdl.testing import assert_equivalent\n"
            "assert_equivalent(r'\\operatorname{diag}(f_t)', 'lstm.cell_jacobian_direct', timeout=1.5)\n"
            "print(v.verdict)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "equivalent", out.stderr
