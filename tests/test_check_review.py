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
