r"""The rules of REFERENCES.md, "Checking a whole derivation", one by one: what a step is, how steps are
numbered and placed, and the verdict of the whole.

Each link's truth is computed here in torch float64 on the RNN of REFERENCES.md
(``h_t = \sigma(W_1 h_{t-1} + W_2 x_t)``, ``a_t = W_1 h_{t-1} + W_2 x_t``) for tanh and the sigmoid.
"""

from __future__ import annotations

import pytest
import torch

from symdl.grade.derivation import check_derivation

D = torch.float64


def rnn(seed):
    g = torch.Generator().manual_seed(seed)
    return dict(h=torch.randn(3, generator=g, dtype=D), x=torch.randn(2, generator=g, dtype=D),
                W1=torch.randn(3, 3, generator=g, dtype=D), W2=torch.randn(3, 2, generator=g, dtype=D))


def holds(lhs, rhs) -> bool:
    return all(torch.allclose(lhs(p, s), rhs(p, s), rtol=1e-10, atol=1e-12)
               for p in map(rnn, range(3)) for s in (torch.tanh, torch.sigmoid))


def a(p, s):
    return p["W1"] @ p["h"] + p["W2"] @ p["x"]


def state(p, s):
    return s(a(p, s))


def test_the_truths_used_below():
    assert holds(state, lambda p, s: s(p["W1"] @ p["h"] + p["W2"] @ p["x"]))  # h_t = sigma(u_t), u_t = a_t
    assert not holds(state, lambda p, s: s(p["W1"] @ p["h"]))  # h_t = sigma(W_1 h_{t-1})
    assert not holds(state, lambda p, s: s(a(p, s)) + 1)  # h_t = sigma(a_t) + 1


def test_an_inline_definition_applies_to_its_own_line_and_is_reported_after_it():
    answer = check_derivation(r"h_t = \sigma(u_t) \quad \text{where } u_t = W_1 h_{t-1} + W_2 x_t" "\n"
                              r"h_t = \sigma(u_t + 0)", model="rnn")
    assert [(s.index, s.kind, s.verdict, s.line) for s in answer.steps] == [
        (0, "link", "equivalent", 1), (1, "definition", "defined", 1), (2, "link", "equivalent", 2)]
    assert answer.steps[1].column > answer.steps[0].column


@pytest.mark.parametrize("line", [r"\delta := W_1 h_{t-1}", r"\text{let } \delta = W_1 h_{t-1}"])
def test_let_and_colon_equals_define(line):
    answer = check_derivation(line + "\n" + r"h_t = \sigma(\delta + W_2 x_t)", model="rnn")
    assert [(s.kind, s.verdict) for s in answer.steps] == [("definition", "defined"), ("link", "equivalent")]


@pytest.mark.parametrize("rel,name", [(r"\le", r"\le"), (r"\geq", r"\ge"), (r"\propto", r"\propto"),
                                      (r"\to", r"\to"), (r"\approx", r"\approx")])
def test_relations_other_than_equals_are_unknown_and_named(rel, name):
    answer = check_derivation(rf"h_t {rel} \sigma(a_t)", model="rnn")
    (step,) = answer.steps
    assert (step.kind, step.verdict) == ("relation", "unknown") and step.message.startswith(name + " ")
    assert answer.verdict == "unknown"


def test_an_error_outranks_a_wrong_step_which_is_still_named():
    assert not holds(state, lambda p, s: s(p["W1"] @ p["h"]))
    answer = check_derivation("h_t = \\sigma(W_1 h_{t-1})\nh_t = \\sigma(q_t)", model="rnn")
    assert [s.verdict for s in answer.steps] == ["not_equivalent", "error"]
    assert answer.verdict == "error" and answer.first_wrong == 0


def test_a_wrong_final_answer_with_correct_links():
    assert not holds(state, lambda p, s: s(a(p, s)) + 1)
    answer = check_derivation(r"u = \sigma(a_t) + 1" "\n" r"u = \sigma(W_1 h_{t-1} + W_2 x_t) + 1",
                              against="rnn.state")
    assert [s.verdict for s in answer.steps] == ["defined", "equivalent"]
    assert answer.final["verdict"] is None  # the derivation ends on u, not on h_t
    answer = check_derivation(r"h_t = \sigma(a_t) \\ &= \sigma(a_t) + 1", against="rnn.state")
    assert [s.verdict for s in answer.steps] == ["equivalent", "not_equivalent"]
    assert answer.final["verdict"] == "not_equivalent" and answer.verdict == "not_equivalent"


def test_an_error_in_a_continued_line_names_that_line_and_column():
    text = "\\begin{align*}\nh_t &= \\sigma(W_1 h_{t-1}\n  &\\quad + W_2 q_t)\n\\end{align*}"
    (step,) = check_derivation(text, model="rnn").steps
    assert step.verdict == "error" and (step.line, step.column) == (3, 16) and "q_t" in step.message


def test_a_chain_continued_after_a_wrong_side_judges_each_link_on_its_own():
    wrong = lambda p, s: s(p["W1"] @ p["h"])  # noqa: E731
    assert not holds(state, wrong) and holds(wrong, lambda p, s: s(p["W1"] @ p["h"] + 0 * p["h"]))
    answer = check_derivation(r"h_t = \sigma(W_1 h_{t-1}) = \sigma(W_1 h_{t-1} + 0 h_{t-1})", model="rnn")
    assert [s.verdict for s in answer.steps] == ["not_equivalent", "equivalent"] and answer.first_wrong == 0
