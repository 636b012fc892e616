r"""check(): the defects a review found, each with the form that showed it.

Verdicts are what a person would give; values in counterexamples are held
against numpy written here, not against symdl's own evaluation.
"""

import pytest

from symdl.check import check

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
