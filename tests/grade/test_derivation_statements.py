r"""A line joined by an implication or an equivalence is one claim about statements (issue 13).

``\gamma = 1 \Rightarrow \alpha = 1`` says nothing about whether γ equals 1; reading its ``=`` as links
refuted a true implication with a counterexample (a false verdict found by reading the worked solutions
back).  Such a line is ``unknown``, the connective named, and the lines around it are checked as before.
"""

import pytest

import symdl

ADAM_M = r"m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t"


@pytest.mark.parametrize("joined, symbol", [
    (r"\beta_1 = 0 \Rightarrow m_{t+1} = g_t", r"\Rightarrow"),
    (r"\beta_1 = 0 \implies m_{t+1} = g_t", r"\Rightarrow"),
    (r"\beta_1 = 0 \Longrightarrow m_{t+1} = g_t", r"\Rightarrow"),
    ("\\beta_1 = 0 \u21d2 m_{t+1} = g_t", r"\Rightarrow"),
    (r"m_{t+1} = g_t \iff \beta_1 = 0", r"\iff"),
    (r"m_{t+1} = g_t \Leftrightarrow \beta_1 = 0", r"\iff"),
    (r"m_{t+1} = g_t \Leftarrow \beta_1 = 0", r"\Leftarrow"),
])
def test_an_implication_is_one_undecided_claim_never_refuted(joined, symbol):
    v = symdl.check_derivation(joined, model="optim")
    assert v.verdict == "unknown", str(v)
    (step,) = v.steps
    assert (step.kind, step.relation, step.verdict) == ("relation", symbol, "unknown")
    assert symbol in step.message and "joins statements" in step.message
    assert step.counterexample is None and step.diagnosis is None


def test_the_lines_around_an_implication_are_still_checked():
    good = symdl.check_derivation(ADAM_M + r" \\ \beta_1 = 0 \Rightarrow m_{t+1} = g_t", model="optim")
    assert [s.verdict for s in good.steps] == ["equivalent", "unknown"]
    # the same line after a wrong link: the wrong link is still the first wrong step
    bad = symdl.check_derivation(r"m_{t+1} = \beta_1 m_t + \beta_1 g_t \\ \beta_1 = 0 \Rightarrow m_{t+1} = g_t",
                                 model="optim")
    assert bad.verdict == "not_equivalent" and bad.first_wrong == 0
    assert bad.steps[1].verdict == "unknown"


def test_a_relation_typed_as_a_character_is_a_relation_step():
    v = symdl.check_derivation("h_t \u2264 1", model="rnn")
    assert v.verdict == "unknown" and v.steps[0].relation == r"\le", str(v)
