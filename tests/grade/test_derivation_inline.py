r"""Inline definitions (issue 13, item 10): ``, \; Z = \int_y ...`` and ``, \quad \text{where } u_t = ...``.

A definition written out after the formula is explicit: it is applied to its own line, also when the line is
one formula naming the reference's quantity, and a name such as ``Z`` is not refused for resembling the
model's ``z`` when its line does not use ``z``.  The truth of each form is computed here in numpy: the Gibbs
distribution on a grid of y, and the RNN state.
"""

from __future__ import annotations

import numpy as np

from symdl.grade.derivation import check_derivation

GIBBS = r"\frac{\exp(-\beta F(x,y))}{Z}, \; Z = \int_y \exp(-BETA F(x,y))\,dy"


def gibbs_truth(scale: float) -> bool:
    """Whether exp(-beta F)/Z, Z the sum of exp(-scale beta F) over the grid, is softmax(-beta F)."""
    rng = np.random.default_rng(0)
    energy, beta = rng.normal(size=6), 1.7
    p = np.exp(-beta * energy) / np.exp(-scale * beta * energy).sum()
    return bool(np.allclose(p, np.exp(-beta * energy - np.logaddexp.reduce(-beta * energy)), rtol=1e-12))


def test_the_truths_used_below():
    assert gibbs_truth(1.0) and not gibbs_truth(2.0)


def test_an_inline_normaliser_is_a_definition_not_a_slip_of_z():
    for text in (GIBBS, "P(y \\mid x) = " + GIBBS):
        out = check_derivation(text.replace("BETA", "\\beta"), against="ebm.gibbs")
        assert out.verdict == "equivalent", out.message
        assert [s.verdict for s in out.steps][-1] == "defined", out.message
        assert out.final["verdict"] == "equivalent"


def test_a_wrong_inline_normaliser_is_not_equivalent():
    out = check_derivation("P(y \\mid x) = " + GIBBS.replace("BETA", "2\\beta"), against="ebm.gibbs")
    assert out.verdict == "not_equivalent", out.message


def test_a_row_beginning_with_a_near_name_is_still_refused():
    out = check_derivation("Z = \\int_y \\exp(-\\beta F(x,y))\\,dy \\\\\n P(y \\mid x) = \\frac{\\exp(-\\beta F(x,y))}{Z}",
                           model="ebm")
    assert out.verdict == "error" and "resembles z" in out.steps[0].message, out.message


def rnn_truth(offset: float) -> bool:
    """Whether tanh(u_t), u_t = W_1 h + W_2 x + offset, is the RNN state tanh(W_1 h + W_2 x)."""
    rng = np.random.default_rng(1)
    W1, W2, h, x = rng.normal(size=(3, 3)), rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=2)
    return bool(np.allclose(np.tanh(W1 @ h + W2 @ x + offset), np.tanh(W1 @ h + W2 @ x), rtol=1e-12))


def test_where_after_one_line_naming_the_quantity_is_applied():
    assert rnn_truth(0.0) and not rnn_truth(1.0)
    line = r"h_t = \sigma(u_t), \quad \text{where } u_t = W_1 h_{t-1} + W_2 x_t"
    out = check_derivation(line, against="rnn.state")
    assert out.verdict == "equivalent" and out.final["verdict"] == "equivalent", out.message
    assert [s.verdict for s in out.steps] == ["equivalent", "defined"]
    wrong = check_derivation(line.replace("W_2 x_t", "W_2 x_t + 1"), against="rnn.state")
    assert wrong.verdict == "not_equivalent", wrong.message
