r"""Bad input in the new notation: each is refused or left undecided with its reason, and nothing runs away.

Operators that take all that follows nest the reading once each (``\sum_i \sum_i ...``), and nested
integrals multiply the grid points a finite interpretation visits (40 nested: 4^40): both are bounded.
"""

import pytest

from symdl.grade.check import check


@pytest.mark.parametrize("text, against", [
    (r"\nabla_w " * 500 + "F_w(x_i,y_i)", "ebm.nll_gradient"),
    (r"\sum_i " * 500 + "F_w(x_i,y_i)", "ebm.nll_loss"),
    (r"\mathbb{E}_{y \sim P} " * 300 + "F(x,y)", "ebm.gibbs"),
    (r"\int_y " * 400 + "F(x,y)", "ebm.gibbs"),
])
def test_operators_one_inside_another_are_refused_past_the_limit(text, against):
    v = check(text, against=against, timeout=0.5)
    assert v.verdict == "error" and "more than 40 operators" in v.message and v.position is not None


def test_nested_integrals_past_the_grid_budget_are_unknown_not_endless():
    v = check(r"\int_y " * 30 + "F(x,y)", against="ebm.gibbs", timeout=0.5)
    assert v.verdict == "unknown" and "more than 100,000 grid points" in v.message


@pytest.mark.parametrize("text, words", [
    (r"\begin{cases}" * 150 + "g_t & t = 1" + r"\end{cases} & t = 1" * 149 + r"\end{cases}", "nested more than"),
    (r"\begin{cases} g_t & t = 1", r"expected ',', \end{cases}, \\ (a new row)"),
    (r"\begin{cases} g_t & t \approx 1 \end{cases}", "unknown command \\approx"),
    (r"\frac90", "division by zero"),
])
def test_malformed_notation_is_an_error_that_says_where(text, words):
    v = check(text, against="optim.sgd_momentum_torch", timeout=0.5)
    assert v.verdict == "error" and words in v.message and v.position is not None
