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
