"""assert_equivalent and the pytest plugin: a failing hand form shows its counterexample."""

import pytest

from symdl.testing import assert_equivalent

pytest_plugins = ["pytester"]


def test_passes_and_returns_the_verdict():
    v = assert_equivalent(r"o_t \odot \tanh(c_t)", "lstm.hidden")
    assert v.verdict == "equivalent"


def test_failure_message_has_the_counterexample():
    with pytest.raises(AssertionError) as err:
        assert_equivalent(r"\operatorname{diag}(f_t)", "lstm.cell_jacobian")
    text = str(err.value)
    assert "not equivalent to lstm.cell_jacobian" in text and r"\operatorname{diag}(f_t)" in text
    assert "counterexample at n = 2, m = 3" in text and "largest difference at entry" in text


def test_a_form_that_cannot_be_read_fails_with_the_position():
    with pytest.raises(AssertionError) as err:
        assert_equivalent(r"f_t \odot", "lstm.hidden")
    assert "error" in str(err.value) and "character 9" in str(err.value)


def test_plugin_in_a_course_test_file(pytester):
    pytester.makepyfile(
        r'''
        from symdl.testing import assert_equivalent

        def test_right(symdl_check):
            assert symdl_check(r"\operatorname{diag}(f_t)", against="lstm.cell_jacobian_direct")

        def test_wrong():
            assert_equivalent(r"w_t - \gamma \frac{m_t}{\sqrt{v_{t+1}} + \epsilon}", "optim.adam")
        '''
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*not equivalent to optim.adam*", "*counterexample at scalar inputs*",
                                 "*m_t = *", "*reference = *"])


# -- issue 13, item 12: the decisive line first, frames hidden, a Reference accepted ---------------------


def test_the_decisive_line_comes_first_then_counterexample_then_diagnosis():
    import symdl

    with pytest.raises(AssertionError) as err:
        assert_equivalent(r"W_1^\top \operatorname{diag}(\sigma'(a_t))", symdl.ref("rnn.state_jacobian"))
    text = str(err.value)
    first = text.split("\n", 1)[0]
    assert first.startswith("hand form is not equivalent to rnn.state_jacobian: differs"), text
    assert text.index("counterexample at") < text.index("diagnosis: transpose"), text


def test_a_form_that_cannot_be_read_says_so_first():
    with pytest.raises(AssertionError) as err:
        assert_equivalent(r"f_t \odot", "lstm.hidden")
    first = str(err.value).split("\n", 1)[0]
    assert first.startswith("hand form could not be read against lstm.hidden") and "not equivalent" not in str(err.value)


def test_check_accepts_a_reference_as_well_as_a_name():
    import symdl

    r = symdl.ref("lstm.hidden")
    assert symdl.check(r"o_t \odot \tanh(c_t)", against=r).verdict == "equivalent"
    assert symdl.check(r"o_t \odot c_t", against=r).verdict == "not_equivalent"
    assert assert_equivalent(r"o_t \odot \tanh(c_t)", r).reference == "lstm.hidden"


def test_the_helpers_frames_are_hidden_from_the_traceback(pytester):
    pytester.makepyfile(
        r'''
        from symdl.testing import assert_derivation, assert_equivalent

        def test_wrong_form():
            assert_equivalent(r"o_t \odot c_t", "lstm.hidden")

        def test_wrong_derivation():
            assert_derivation(r"h_t = o_t \odot c_t", model="lstm")
        '''
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--tb=long")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert "symdl/testing.py" not in out and "def assert_equivalent" not in out, out
    result.stdout.fnmatch_lines(["*hand form is not equivalent to lstm.hidden*", "*not equivalent: step 0*"])
