r"""Notation people write (issue 13, item 10), read as the spelling the contract already reads.

Each pair is two ways of writing one thing; what they mean numerically is held against torch in
tests/grade/hand_forms.py.  The notations still refused are refused with a message that names the
notation and says how to write it instead.
"""

import pytest

import symdl
from symdl.grade.check import check
from symdl.reader import ReadError, read


def _same(a: str, b: str, name: str) -> None:
    ref = symdl.ref(name)
    assert read(a, ref).expr == read(b, ref).expr


@pytest.mark.parametrize("written, plain, name", [
    (r"\operatorname{arg\,min}_y F(x,y)", r"\arg\min_y F(x,y)", "ebm.inference"),
    (r"\operatorname*{arg\,min}_y F(x,y)", r"\arg\min_y F(x,y)", "ebm.inference"),
    (r"\nabla_w F_w(x_i, y_i)", r"\frac{\partial F_w(x_i, y_i)}{\partial w}", "ebm.nll_gradient"),
    (r"\nabla_{\mathbf{w}} F_w(x_i, y_i)", r"\frac{\partial F_w(x_i, y_i)}{\partial w}", "ebm.nll_gradient"),
    (r"\mathbb{E}_{y \sim P_w(y \mid x_i)}\left[\frac{\partial F_w(x_i,y)}{\partial w}\right]",
     r"\int_y P_w(y \mid x_i) \frac{\partial F_w(x_i,y)}{\partial w} \, dy", "ebm.nll_gradient"),
    (r"\mathbb{E}_{y \sim P}[F_w(x_i, y)]", r"\int_y P_w(y \mid x_i) F_w(x_i, y) \, dy", "ebm.nll_gradient"),
    (r"F_w(x^{(i)}, y^{(i)})", r"F_w(x_i, y_i)", "ebm.nll_loss"),
    (r"\sum_i -\frac{1}{\beta} F_w(x_i, y_i)", r"\sum_i \left(-\frac{1}{\beta} F_w(x_i, y_i)\right)", "ebm.nll_loss"),
    (r"P_\beta(y \mid x)", r"P(y \mid x)", "ebm.gibbs"),
    (r"\int_{\boldsymbol{y}} \exp(-\beta F(x, y))", r"\int_y \exp(-\beta F(x, y)) \, dy", "ebm.gibbs"),
    (r"\int_{y}\int_{z} E(x,y,z)\,dy\,dz", r"\int_{y}\int_{z} E(x,y,z)", "ebm.joint_gibbs"),
    (r"\frac12 \lVert z \rVert_1", r"\frac{1}{2} \lVert z \rVert_1", "latent.sparse_coding_energy"),
    (r"w_t - \gamma \nabla_w f(w_t)", r"w_t - \gamma g_t", "optim.heavy_ball"),
])
def test_two_spellings_read_the_same(written, plain, name):
    _same(written, plain, name)


def test_the_normaliser_of_a_sample_integrates_over_the_variable_itself():
    import sympy as sp

    ref = symdl.ref("ebm.nll_loss")
    expr = read(r"P_w(y_i \mid x_i)", ref).expr
    assert [lim[0].name for i in expr.atoms(sp.Integral) for lim in i.limits] == ["y'"]  # y_i is one value of y: its normaliser runs over y's own domain


def test_a_joint_distribution_integrates_over_both_variables():
    import sympy as sp

    expr = read(r"P(y, z \mid x)", symdl.ref("ebm.joint_gibbs")).expr
    assert {lim[0].name for i in expr.atoms(sp.Integral) for lim in i.limits} == {"y'", "z'"}


def test_an_absolute_value_opens_after_a_sums_limits():
    ref = symdl.ref("latent.sparse_coding_energy")
    assert read(r"\lambda \sum_j |z_j|", ref).expr == read(r"\lambda \sum_{j=1}^{k} |z_j|", ref).expr


def test_cases_are_read_with_their_conditions():
    import sympy as sp

    expr = read(r"\begin{cases} g_t & t = 1 \\ \mu b_{t-1} & \text{if } t \geq 2 \end{cases}",
                symdl.ref("optim.sgd_momentum_torch")).expr
    assert isinstance(expr, sp.Piecewise) and [type(c) for _, c in expr.args] == [sp.Eq, sp.GreaterThan]


def test_cases_that_leave_a_step_out_are_refuted_there():
    """At t = 2 neither branch holds: the form has no value where PyTorch's update has one."""
    v = check(r"\begin{cases}\theta_{t-1} - \gamma g_t & t = 1 \\ \theta_{t-1} - \gamma(\mu b_{t-1} + (1-\tau) g_t)"
              r" & t > 2\end{cases}", against="optim.sgd_momentum_torch", timeout=1)
    assert v.verdict == "not_equivalent" and "no branch of the cases holds" in v.message
    assert v.counterexample["inputs"]["t"] == 2.0


@pytest.mark.parametrize("text, name, words", [
    (r"\frac{\partial h_{t,i}}{\partial h_{t-1,j}} = \sigma'(a_{t,i}) (W_1)_{ij}", "rnn.state_jacobian",
     "is the index form (one entry of the Jacobian), which is not read; write the whole matrix"),
    (r"\operatorname{diag}(\sigma'(a_t)) (W_1)_{ij}", "rnn.state_jacobian", "is the index form, which is not read"),
    (r"\sigma'(a_{t,i})", "rnn.state_jacobian", "is the index form (one entry of a vector or matrix)"),
    (r"\mathbb{E}_{y}[F_w(x_i, y)]", "ebm.nll_gradient", r"write \mathbb{E}_{y \sim P_w(y \mid x_i)}"),
    (r"\theta_k - \gamma \nabla_\theta J", "optim.gd", r"\nabla_\theta acts on a quantity of optim.gd"),
    (r"\nabla_{h_{t-1}} a_t", "rnn.state_jacobian", r"for vectors write the Jacobian \frac{\partial a}{\partial b}"),
])
def test_what_is_still_refused_says_how_to_write_it(text, name, words):
    with pytest.raises(ReadError) as err:
        read(text, symdl.ref(name))
    assert words in str(err.value)
