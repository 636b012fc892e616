"""The public reference API: names, errors, printing, Jupyter display."""

import numpy as np
import pytest
import sympy as sp

import symdl
from symdl.core.printing import escape_text, latex, safe_name


def test_refs_lists_every_q1_reference_of_the_contract():
    names = {r.name for r in symdl.refs()}
    assert {"rnn.state", "rnn.state_jacobian", "rnn.jacobian_product", "lstm.cell_update", "lstm.hidden",
            "lstm.cell_jacobian", "lstm.cell_jacobian_direct", "lstm.state_jacobian"} <= names


def test_unknown_name_lists_the_known_ones_and_suggests():
    with pytest.raises(symdl.UnknownNameError) as exc:
        symdl.ref("lstm.cell_jacobain")
    msg = str(exc.value)
    assert "lstm.cell_jacobian" in msg and "rnn.state" in msg and "Did you mean" in msg


def test_missing_and_unknown_keys_are_named_with_the_expected_ones():
    r = symdl.ref("rnn.state_jacobian")
    with pytest.raises(symdl.EvaluationError) as exc:
        r.evaluate({"W_1": np.eye(2), "W2": np.eye(2), "h_{t-1}": np.ones(2), r"\sigma": np.tanh})
    msg = str(exc.value)
    assert "missing 'x_t', 'W_2'" in msg and "unknown 'W2'" in msg and "Expected keys" in msg


def test_shapes_that_do_not_fit_are_named():
    r = symdl.ref("rnn.state")
    with pytest.raises(symdl.EvaluationError, match=r"'W_1' has shape \(3, 3\), but the other inputs give n = 2"):
        r.evaluate({"h_{t-1}": np.ones(2), "x_t": np.ones(1), "W_1": np.eye(3), "W_2": np.ones((2, 1)),
                    r"\sigma": np.tanh})
    # the odd one out is blamed, whichever input comes first
    with pytest.raises(symdl.EvaluationError, match=r"'x_t' has shape \(4, 1\), but the other inputs give m = 3"):
        r.evaluate({"h_{t-1}": np.ones(2), "x_t": np.ones(4), "W_1": np.eye(2), "W_2": np.ones((2, 3)),
                    r"\sigma": np.tanh})


def test_torch_tensors_on_the_numpy_backend_and_non_mappings_are_named():
    import torch

    r = symdl.ref("rnn.state")
    vals = {"h_{t-1}": torch.ones(2), "x_t": np.ones(1), "W_1": np.eye(2), "W_2": np.ones((2, 1)), r"\sigma": np.tanh}
    with pytest.raises(symdl.EvaluationError, match="'h_{t-1}' is a torch tensor; pass backend='torch'"):
        r.evaluate(vals)
    with pytest.raises(symdl.EvaluationError, match="values must be a mapping"):
        r.evaluate([1, 2, 3])


def test_abstract_function_must_be_callable():
    r = symdl.ref("rnn.state")
    with pytest.raises(symdl.EvaluationError, match="must be a callable"):
        r.evaluate({"h_{t-1}": np.ones(2), "x_t": np.ones(1), "W_1": np.eye(2), "W_2": np.ones((2, 1)),
                    r"\sigma": 3.0})


def test_unknown_backend_is_an_error():
    with pytest.raises(ValueError, match="unknown backend 'jax'"):
        symdl.ref("rnn.state").evaluate({}, backend="jax")


def test_jacobian_product_takes_the_gap_from_the_inputs_and_from_at():
    base = symdl.ref("rnn.jacobian_product")
    five = base.at(gap=5)
    assert five.params["gap"] == 5 and len([i for i in five.inputs if i.name.startswith("x_")]) == 5
    rng = np.random.default_rng(0)
    vals = {"W_1": rng.normal(size=(2, 2)), "W_2": rng.normal(size=(2, 1)), "h_t": rng.normal(size=2),
            r"\sigma": np.tanh, **{f"x_{{t+{k}}}": rng.normal(size=1) for k in range(1, 6)}}
    assert np.array_equal(base.evaluate(vals), five.evaluate(vals))
    with pytest.raises(ValueError, match="invalid gap 0"):
        base.at(gap=0)


def test_printed_forms_read_as_a_person_writes_them():
    assert symdl.ref("rnn.state_jacobian").latex() == (
        r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}\left(\sigma'\left(a_t\right)\right) W_1")
    assert symdl.ref("lstm.cell_jacobian_direct").latex(equation=False) == r"\operatorname{diag}\left(f_t\right)"
    four = symdl.ref("lstm.cell_jacobian").latex(equation=False)
    assert four.count(r"\operatorname{diag}") == 7 and r"\odot" in four and "W_{fh}" in four
    assert symdl.ref("lstm.cell_update").latex() == r"c_t = f_t \odot c_{t-1} + i_t \odot \tilde{c}_t"


def test_four_terms_and_definitions_expand_to_inputs_only():
    r = symdl.ref("lstm.cell_jacobian")
    assert isinstance(r.expr, sp.MatAdd) and len(r.expr.args) == 4
    names = {s.name for s in r.expanded().atoms(sp.MatrixSymbol)}
    assert names <= {i.name for i in r.inputs}


def test_repr_latex_for_jupyter():
    s = symdl.ref("rnn.state")._repr_latex_()
    assert s.startswith("$\\displaystyle ") and s.endswith("$") and r"\sigma" in s


def test_unsafe_symbol_names_are_printed_as_text():
    assert latex(sp.Symbol(r"\input{/etc/passwd}")) == r"\texttt{\textbackslash{}input\{/etc/passwd\}}"
    assert safe_name(r"\beta_1") == r"\beta_1"
    assert safe_name(r"\write18{rm}") .startswith(r"\texttt{")


def test_escape_text_makes_every_special_character_literal():
    assert escape_text(r"50% of $x_1 & {y}^~#\ok") == (
        r"50\% of \$x\_1 \& \{y\}\textasciicircum{}\textasciitilde{}\#\textbackslash{}ok")
    assert escape_text("a\x00b\x1bc") == "abc"


def test_check_is_exported_without_importing_the_reader_at_import_time():
    import subprocess
    import sys

    code = ("import sys, symdl; before = 'lark' in sys.modules; "
            "v = symdl.check(r'\\operatorname{diag}(f_t)', against='lstm.cell_jacobian_direct'); "
            "print(before, v.verdict, type(v).__name__ == symdl.Verdict.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split()
    assert out == ["False", "equivalent", "True"]


@pytest.mark.parametrize("source", [r"^^5cinput{/etc/passwd}", r"x^^5cdef", r"a % hidden", r"#1", "a\x00b"])
def test_author_mathematics_cannot_spell_commands_with_tex_tricks(source):
    from symdl.document.derivation import UnsafeTeX, prose, tex

    with pytest.raises(UnsafeTeX):
        tex(source)
    with pytest.raises(UnsafeTeX):
        prose(f"see ${source}$")


def test_symbol_names_with_caret_caret_are_printed_as_text():
    assert latex(sp.Symbol("^^5cinput")).startswith(r"\texttt{")
