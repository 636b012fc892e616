"""Reading and deciding are separate public steps of symdl.grade, and together they are symdl.check."""

import pytest

from symdl.grade import HandForm, decide, read
from symdl.grade.check import check
from symdl.model.registry import UnknownNameError
from symdl.reader import ReadError

PRODUCT = (r"\operatorname{diag}(\sigma'(a_{t+3})) W_1 \operatorname{diag}(\sigma'(a_{t+2})) W_1"
           r" \operatorname{diag}(\sigma'(a_{t+1})) W_1")


@pytest.mark.parametrize("against, hand", [
    ("optim.heavy_ball", r"w_t - \gamma g_t + \beta (w_t - w_{t-1})"),  # equivalent
    ("optim.heavy_ball", r"w_t - \gamma g_t - \beta (w_t - w_{t-1})"),  # a sign: a counterexample
    ("rnn.jacobian_product", PRODUCT),  # the gap read from the form, and said in the message
])
def test_read_then_decide_is_check(against, hand):
    form = read(hand, against)
    assert isinstance(form, HandForm) and form.reference.name == against
    assert decide(form, timeout=2.0) == check(hand, against=against, timeout=2.0)


def test_read_reads_the_gap_a_form_is_written_for():
    form = read(PRODUCT, "rnn.jacobian_product")
    assert form.reference.params["gap"] == 3 and "gap 3" in form.note and "a_{t+k}" in form.note
    assert "gap 3" in decide(form, timeout=2.0).message


def test_read_raises_what_check_answers_as_an_error():
    with pytest.raises(ReadError) as caught:
        read(r"\frac{", "optim.adam")
    assert caught.value.position == check(r"\frac{", against="optim.adam").position == 6
    with pytest.raises(UnknownNameError):
        read("w_t", "optim.no_such_optimiser")
    with pytest.raises(ValueError, match="gaps 1 to 20"):
        read(r"\operatorname{diag}(\sigma'(a_{t+99})) W_1", "rnn.jacobian_product")
