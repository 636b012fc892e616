r"""Unrolled optimiser sums (issue 13, item 3): ``m_0 = 0``, ``m_{t+1} = (1-\beta_1)\sum_{k=0}^{t}\beta_1^{t-k} g_k``.

The truth of each link at t = 0, 1, 2, 3 comes from ``torch.optim.Adam``'s own state (``exp_avg``,
``exp_avg_sq`` after each step, from a zero start as torch makes it) or, for a first moment that is not
zero, from the recurrence written out in numpy.  A link is equivalent when the closed form matches at
every t; otherwise symdl must stop at the first t where it does not, and say so in ``lengths``
(t + 1, the updates made).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from symdl.grade.derivation import check_derivation

B1, B2 = 0.8, 0.95
STEPS = range(4)


def adam_states(grads):
    """``(m, v)``: torch.optim.Adam's first and second moments after 0, 1, 2, ... steps."""
    p = torch.zeros(grads[0].shape, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.1, betas=(B1, B2))
    m, v = [torch.zeros_like(p)], [torch.zeros_like(p)]
    for g in grads:
        p.grad = g.clone()
        opt.step()
        m.append(opt.state[p]["exp_avg"].detach().clone())
        v.append(opt.state[p]["exp_avg_sq"].detach().clone())
    return m, v


def closed(t, grads, power=lambda t, k: t - k, low=0, high=None, scale=1 - B1, square=False, beta=B1):
    """``scale * sum_{k=low}^{high} beta^{power(t, k)} g_k`` (``g_k^2`` when ``square``), in torch."""
    high = t if high is None else high
    terms = [beta ** power(t, k) * (grads[k] ** 2 if square else grads[k]) for k in range(low, high + 1)]
    return scale * sum(terms, torch.zeros_like(grads[0]))


def first_failure(hand, want, seeds=3) -> int | None:
    """The first t at which ``hand(t, grads)`` and ``want(t, grads)`` differ for some random gradients."""
    for t in STEPS:
        for seed in range(seeds):
            gen = torch.Generator().manual_seed(seed)
            grads = [torch.randn(3, generator=gen, dtype=torch.float64) for _ in range(5)]
            if not torch.allclose(hand(t, grads), want(t, grads), rtol=1e-12, atol=1e-14):
                return t
    return None


def M_NEXT(t, grads):
    return adam_states(grads)[0][t + 1]


def M_NOW(t, grads):
    return adam_states(grads)[0][t]


SUM = r"(1-\beta_1)\sum_{k=0}^{t}\beta_1^{t-k} g_k"

CASES = {
    "the unrolled first moment": (r"m_{t+1}", SUM, M_NEXT, lambda t, g: closed(t, g)),
    "one power too many": (r"m_{t+1}", r"(1-\beta_1)\sum_{k=0}^{t}\beta_1^{t-k+1} g_k", M_NEXT,
                           lambda t, g: closed(t, g, power=lambda t, k: t - k + 1)),
    "the first gradient left out": (r"m_{t+1}", r"(1-\beta_1)\sum_{k=1}^{t}\beta_1^{t-k} g_k", M_NEXT,
                                    lambda t, g: closed(t, g, low=1)),
    "the weights reversed": (r"m_{t+1}", r"(1-\beta_1)\sum_{k=0}^{t}\beta_1^{k} g_k", M_NEXT,
                             lambda t, g: closed(t, g, power=lambda t, k: k)),
    "no factor 1 - beta_1": (r"m_{t+1}", r"\sum_{k=0}^{t}\beta_1^{t-k} g_k", M_NEXT,
                             lambda t, g: closed(t, g, scale=1.0)),
    "m_t in place of m_{t+1}": (r"m_t", SUM, M_NOW, lambda t, g: closed(t, g)),
    "m_t, its sum to t - 1": (r"m_t", r"(1-\beta_1)\sum_{k=0}^{t-1}\beta_1^{t-1-k} g_k", M_NOW,
                              lambda t, g: closed(t, g, high=t - 1, power=lambda t, k: t - 1 - k)),
    "the second moment": (r"v_{t+1}", r"(1-\beta_2)\sum_{k=0}^{t}\beta_2^{t-k} g_k^2",
                          lambda t, g: adam_states(g)[1][t + 1],
                          lambda t, g: closed(t, g, scale=1 - B2, square=True, beta=B2)),
    "the bias-corrected moment": (r"\hat{m}_{t+1}", r"\frac{1-\beta_1}{1-\beta_1^{t+1}}\sum_{k=0}^{t}\beta_1^{t-k} g_k",
                                  lambda t, g: adam_states(g)[0][t + 1] / (1 - B1 ** (t + 1)),
                                  lambda t, g: closed(t, g) / (1 - B1 ** (t + 1))),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_unrolled_moment_holds_exactly_where_torch_says(case):
    lhs, rhs, want, hand = CASES[case]
    wrong_at = first_failure(hand, want)
    text = f"m_0 = 0 \\\\ v_0 = 0 \\\\ {lhs} = {rhs}"
    answer = check_derivation(f"\\begin{{align*}} {text} \\end{{align*}}", model="optim")
    step = answer.steps[-1]
    assert [s.verdict for s in answer.steps[:2]] == ["given", "given"]
    if wrong_at is None:
        assert step.verdict == "equivalent" and step.lengths == [1, 2, 3, 4], step.message
    else:
        assert step.verdict == "not_equivalent" and answer.first_wrong == 2, step.message
        assert step.lengths == list(range(1, wrong_at + 2)) and "t + 1 = " in step.message


def test_without_its_premise_the_sum_misses_the_first_moment():
    """With m_0 free, m_{t+1} = beta_1^{t+1} m_0 + the sum: the sum alone is wrong from t = 0 on."""
    gen = np.random.default_rng(0)
    m0, grads = gen.standard_normal(3), gen.standard_normal((4, 3))
    m = m0
    for g in grads[:1]:
        m = B1 * m + (1 - B1) * g
    assert not np.allclose(m, (1 - B1) * grads[0])  # the truth at t = 0, in numpy
    answer = check_derivation(rf"m_{{t+1}} = {SUM}", model="optim")
    step = answer.steps[0]
    assert step.verdict == "not_equivalent" and step.lengths == [1]
    assert step.diagnosis["kind"] == "missing_term" and "m_{0}" in step.diagnosis["detail"]


def test_the_recurrence_and_its_unrolled_form_in_one_derivation_against_adam():
    text = rf"""\begin{{align*}}
    m_0 &= 0 \\
    m_{{t+1}} &= \beta_1 m_t + (1-\beta_1) g_t \\
    &= {SUM}
    \end{{align*}}"""
    assert first_failure(lambda t, g: closed(t, g), M_NEXT) is None
    answer = check_derivation(text, against="optim.adam")
    assert [s.verdict for s in answer.steps] == ["given", "equivalent", "equivalent"]
    assert answer.steps[2].lengths == [1, 2, 3, 4] and answer.final["verdict"] is None
    assert answer.verdict == "equivalent"
