r"""The LaTeX reader: notation of REFERENCES.md in, SymPy in a reference's symbols out.

Values are compared by evaluating the read expression with numpy against the
same formula written directly in numpy (the two never share code).
"""

import numpy as np
import pytest
import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix

from symdl.numeric.compile import ops
from symdl.core.calculus import substitute_definitions
from symdl.reader import ReadError, read
from symdl.reader.names import canon
from symdl.model.reference import evaluate_expression
from symdl.model.registry import ref
from symdl.core.symbols import m as M
from symdl.core.symbols import n as N


@pytest.fixture(scope="module")
def lstm():
    return ref("lstm.cell_jacobian")


@pytest.fixture(scope="module")
def rnn():
    return ref("rnn.state_jacobian")


def _point(r, n=3, m=2, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for i in r.inputs:
        shape = tuple(int(s.subs({N: n, M: m})) for s in i.shape)
        out[i.name] = rng.normal(size=shape).reshape(-1) if shape[1:] == (1,) else rng.normal(size=shape)
    return out


def _value(expr, r, values):
    full = substitute_definitions(expr, r.definitions)
    return evaluate_expression(full, r.inputs, r.functions, values, ops("numpy"), "numpy", "test")


def _sig(u):
    return 1 / (1 + np.exp(-u))


def _gates(v):
    h = v["o_{t-1}"] * np.tanh(v["c_{t-1}"])

    def pre(g):
        return v[f"W_{{{g}h}}"] @ h + v[f"W_{{{g}x}}"] @ v["x_t"] + v[f"b_{g}"]

    return h, _sig(pre("f")), _sig(pre("i")), np.tanh(pre("g")), pre


@pytest.mark.parametrize("text", [
    r"\boldsymbol{c}_{t-1}", r"\mathbf{c}_{t-1}", r"\bm{c}_{t-1}", r"c_{t-1}", r"\boldsymbol{c_{t-1}}",
    r"c_{t - 1}", r"{c}_{t-1}", r"\left( c_{t-1} \right)", r"\Big( c_{t-1} \Big)",
])
def test_bold_and_sizes_are_decoration(lstm, text):
    assert read(text, lstm).expr == lstm.symbols["c_{t-1}"]


def test_alias_and_defined_names(lstm):
    assert read(r"g_t", lstm).expr == read(r"\tilde{c}_t", lstm).expr == read(r"\tilde c_t", lstm).expr
    assert read(r"f_t", lstm).expr.name == "f_t"


def test_cell_update_values_match_numpy(lstm):
    v = _point(lstm)
    h, f, i, g, _ = _gates(v)
    got = _value(read(r"f_t \odot c_{t-1} + i_t \odot \tilde{c}_t", lstm).expr, lstm, v)
    assert np.allclose(got, f * v["c_{t-1}"] + i * g, rtol=1e-13, atol=0)


def test_juxtaposition_is_a_matrix_product_and_cdot_too(lstm):
    v = _point(lstm)
    h = v["o_{t-1}"] * np.tanh(v["c_{t-1}"])
    for text in (r"W_{fh} h_{t-1}", r"W_{fh} \cdot h_{t-1}", r"W_{fh}h_{t-1}", r"\mathbf{W}_{fh}\mathbf{h}_{t-1}"):
        e = read(text, lstm).expr
        assert isinstance(e, sp.MatMul)
        assert np.allclose(_value(e, lstm, v), v["W_{fh}"] @ h, rtol=1e-13, atol=0)


def test_functions_primes_powers_and_scalars_broadcast(lstm):
    v = _point(lstm)
    c = v["c_{t-1}"]
    cases = {
        r"\tanh^2(c_{t-1})": np.tanh(c) ** 2,
        r"\tanh'(c_{t-1})": 1 - np.tanh(c) ** 2,
        r"\tanh^{\prime}(c_{t-1})": 1 - np.tanh(c) ** 2,
        r"\sigma(c_{t-1})": _sig(c),
        r"\sigma^{'}(c_{t-1})": _sig(c) * (1 - _sig(c)),
        r"1 - c_{t-1}": 1 - c,
        r"e^{-c_{t-1}}": np.exp(-c),
        r"\exp(c_{t-1}) \odot \frac{c_{t-1}}{2}": np.exp(c) * c / 2,
        r"\frac{c_{t-1}}{1 + c_{t-1}^2}": c / (1 + c ** 2),
        r"\sqrt{1 + c_{t-1} \odot c_{t-1}}": np.sqrt(1 + c * c),
        r"\log(2 + \tanh c_{t-1})": np.log(2 + np.tanh(c)),
        r"-0.5 c_{t-1}": -0.5 * c,
    }
    for text, want in cases.items():
        assert np.allclose(_value(read(text, lstm).expr, lstm, v), want, rtol=1e-13, atol=0), text


def test_diag_transpose_and_identity(lstm):
    v = _point(lstm)
    h, f, *_ = _gates(v)
    e = read(r"\operatorname{diag}(f_t) W_{fh}^\top", lstm).expr
    assert any(isinstance(a, DiagMatrix) for a in e.args)
    assert np.allclose(_value(e, lstm, v), np.diag(f) @ v["W_{fh}"].T, rtol=1e-13, atol=0)
    for text in (r"\mathrm{diag}(f_t)", r"\text{diag}(f_t)", r"\operatorname{diag}\left(f_t\right)"):
        assert np.allclose(_value(read(text, lstm).expr, lstm, v), np.diag(f), rtol=1e-13, atol=0)
    e = read(r"I - \operatorname{diag}(f_t)", lstm).expr
    assert np.allclose(_value(e, lstm, v), np.eye(3) - np.diag(f), rtol=1e-13, atol=0)
    assert np.allclose(_value(read(r"W_{fh}^T", lstm).expr, lstm, v), v["W_{fh}"].T)


def test_sigma_is_abstract_in_rnn_and_the_sigmoid_in_lstm(rnn, lstm):
    e = read(r"\sigma(a_t)", rnn).expr
    assert "sigma" in str(e) and "sigmoid" not in str(e)
    assert "sigmoid" in str(read(r"\sigma(f_t)", lstm).expr)


def test_equation_form_and_left_side(lstm):
    a = read(r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(f_t)", lstm)
    b = read(r"\frac{\partial \boldsymbol{c}_t}{\partial \boldsymbol{c}_{t-1}} = \operatorname{diag}(f_t)", lstm)
    assert a.expr == b.expr and a.lhs == b.lhs == "d(c_t)/d(c_t-1)"
    with pytest.raises(ReadError) as err:
        read(r"\frac{\partial h_t}{\partial c_{t-1}} = \operatorname{diag}(f_t)", lstm)
    assert err.value.position == 0 and r"\frac{\partial c_t}{\partial c_{t-1}}" in str(err.value)


def test_unknown_symbol_lists_the_known_ones(lstm):
    with pytest.raises(ReadError) as err:
        read(r"W_{fh} q_t", lstm)
    e = err.value
    assert e.position == 7
    assert "'q_t'" in str(e) and "W_{fh}" in str(e) and "c_{t-1}" in str(e) and "g_t" in str(e)
    assert e.caret().splitlines() == [r"W_{fh} q_t", "       ^"]


def test_shape_errors_name_both_shapes(lstm):
    with pytest.raises(ReadError) as err:
        read(r"W_{fh} + c_{t-1}", lstm)
    assert err.value.position == 7 and "(n, n)" in str(err.value) and "(n, 1)" in str(err.value)
    with pytest.raises(ReadError) as err:
        read(r"W_{fh} c_{t-1} \cdot f_t", lstm)
    assert err.value.position == 21 and "\\odot" in str(err.value)
    with pytest.raises(ReadError) as err:
        read(r"W_{fx} W_{fh}", lstm)
    assert "(n, m)" in str(err.value) and "(n, n)" in str(err.value)
    with pytest.raises(ReadError) as err:
        read(r"f_t \odot W_{fh}", lstm)
    assert err.value.position == 4


def test_two_column_vectors_side_by_side_are_read_elementwise_with_a_note(lstm):
    """Issue 13, item 10: ``f_t c_{t-1}`` has no matrix product; it is read as ``f_t \\odot c_{t-1}``, and said."""
    got = read(r"f_t c_{t-1}", lstm)
    assert got.expr == read(r"f_t \odot c_{t-1}", lstm).expr
    assert got.notes == (r"read f_t c_{t-1} as f_t \odot c_{t-1}: two column vectors side by side have no matrix "
                         "product, so they were multiplied elementwise",)
    assert read(r"f_t \odot c_{t-1}", lstm).notes == ()


@pytest.mark.parametrize("text, position, words", [
    (r"\tanh(c_{t-1}", 13, "end of the input"),
    (r"f_t + ", 6, "operand"),
    (r"f_t \odot \foo", 10, r"unknown command \foo"),
    # not read on purpose, and the message says why and what to write: never a guess at the elided terms
    (r"f_t + \ldots + f_{t-1}", 6, r"\ldots stands for terms symdl does not guess: write the sum"),
    (r"f_t \odot \cdots", 10, r"\cdots stands for terms"),
    (r"\sup_u \tanh(u)", 0, r"\sup is not computed"),
    ("f_t ≤ c_{t-1}", 4, r"typed as a character: write \le"),
    ("f_t ⇒ c_{t-1}", 4, r"write \Rightarrow"),
    (r"f_t ++ c_{t-1}", 5, "'+'"),
    (r"\sigma(W[h_{t-1}, x_t])", 8, "stacked vector"),
    (r"f_t \odot \tanh", 15, "needs an argument"),
    (r"__import__('os')", 0, "unexpected"),
    ("", 0, "empty"),
])
def test_malformed_inputs_say_where(lstm, text, position, words):
    with pytest.raises(ReadError) as err:
        read(text, lstm)
    assert err.value.position == position, str(err.value)
    assert words in str(err.value)


def test_names_are_keyed_without_decoration():
    assert canon(r"\boldsymbol{c}_{t-1}") == canon("c_{t-1}") == canon("c_{t - 1}")
    assert canon(r"\hat m_{t+1}") == canon(r"\hat{m}_{t+1}")
    assert canon(r"\sigma^{\prime}") == canon(r"\sigma'")
    assert canon("W_{fh}") != canon("W_{hf}")


def test_optimiser_aliases_and_defined_moments():
    adam = ref("optim.adam")
    assert read(r"\beta", adam).expr == adam.symbols[r"\beta_1"]
    assert read(r"\alpha", adam).expr == adam.symbols[r"\beta_2"]
    assert read(r"\nabla f_i(\boldsymbol{w}_t)", adam).expr == adam.symbols["g_t"]
    assert read(r"\hat m_{t+1}", adam).expr.name == r"\hat{m}_{t+1}"
    v = {r"w_t": 0.3, "m_t": 0.2, "v_t": 0.5, "g_t": -0.7, r"\gamma": 0.1, r"\beta_1": 0.9, r"\beta_2": 0.99,
         r"\epsilon": 1e-8, "t": 2.0}
    got = _value(read(r"\frac{\hat m_{t+1}}{\sqrt{\hat v_{t+1}} + \epsilon}", adam).expr, adam, v)
    m = 0.9 * 0.2 + 0.1 * -0.7
    vv = 0.99 * 0.5 + 0.01 * 0.49
    assert np.isclose(got, (m / (1 - 0.9 ** 3)) / (np.sqrt(vv / (1 - 0.99 ** 3)) + 1e-8), rtol=1e-13, atol=0)


def test_block_matrix():
    st = ref("lstm.state_jacobian")
    e = read(r"\begin{bmatrix} \operatorname{diag}(f_t) & 0 W_{fh} \\ W_{oh} & I \end{bmatrix}", st).expr
    assert isinstance(e, sp.BlockMatrix) and e.shape == (2 * N, 2 * N)
    with pytest.raises(ReadError) as err:
        read(r"\begin{bmatrix} W_{fh} & f_t \\ x_t & f_t \end{bmatrix}", st)
    assert "rows" in str(err.value)
