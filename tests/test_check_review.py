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
