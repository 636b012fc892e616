r"""The normaliser of ``P_w(y_i \mid x_i)`` integrates over the domain of y, not a grid of ``y_i``'s own.

The truth is computed here in torch (micrograd style): on a grid of y, with a small random network as
``F_w``, ``-\frac{1}{\beta}\log P_w(y_i \mid x_i)`` is ``F_w(x_i, y_i) + \frac{1}{\beta}\log\sum_y
\exp(-\beta F_w(x_i, y))`` -- the NLL loss -- at sample values y_i off the grid as well as on it.
"""

import pytest
import torch

from symdl.grade.check import check


def _torch_truth(seed: int) -> tuple[float, float]:
    """(the hand form, the reference) in torch float64 at one random point."""
    g = torch.Generator().manual_seed(seed)
    layer = torch.nn.Linear(3, 1).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
    w, beta, n = torch.randn((), generator=g, dtype=torch.float64), torch.tensor(0.7, dtype=torch.float64), 3
    x, y = torch.randn(n, generator=g, dtype=torch.float64), torch.randn(n, generator=g, dtype=torch.float64)
    grid = torch.randn(5, generator=g, dtype=torch.float64)

    def F(a, b):
        return torch.tanh(layer(torch.stack([a, b, w.expand_as(a)], -1))).squeeze(-1)

    log_z = torch.stack([torch.logsumexp(-beta * F(x[i].expand_as(grid), grid), 0) for i in range(n)])
    log_p = -beta * F(x, y) - log_z  # log P_w(y_i | x_i), the normaliser over the grid of y
    hand = torch.mean(-log_p / beta)
    reference = torch.mean(F(x, y) + log_z / beta)
    return float(hand.detach()), float(reference.detach())


@pytest.mark.parametrize("form", [
    r"\frac{1}{N}\sum_i \left(-\frac{1}{\beta}\log P_w(y_i \mid x_i)\right)",
    r"-\frac{1}{N\beta}\sum_i \log P_w(y_i \mid x_i)",
    r"-\frac{1}{N\beta}\sum_{i=1}^{N} \log P_w(y_i \mid x_i)",
])
def test_log_likelihood_of_a_sample_is_the_nll_loss(form):
    hand, reference = _torch_truth(0)
    assert hand == pytest.approx(reference, rel=1e-12)  # the torch truth: the form is correct
    assert check(form, against="ebm.nll_loss", timeout=2).verdict == "equivalent"


def test_dropping_the_temperature_is_still_refuted():
    hand, reference = _torch_truth(1)
    assert -hand * 0.7 != pytest.approx(reference, rel=1e-6)  # without 1/beta the value differs in torch
    assert check(r"-\frac{1}{N}\sum_i \log P_w(y_i \mid x_i)", against="ebm.nll_loss", timeout=2).verdict \
        == "not_equivalent"


def test_a_derivations_final_answer_may_sum_over_samples_and_integrate():
    r"""The final answer is read in the reference's symbols and handed over as SymPy: N (the reference's own
    count) and the variables its integrals and sums bind are no unknown symbols.  The truth in torch: the
    gradient written by parts is autograd's gradient of the NLL loss."""
    from hand_truths import ebm_points, gradient_by_parts, nll_gradient

    from symdl.grade.derivation import check_derivation

    for p in ebm_points(torch.Generator().manual_seed(3)):
        assert float(gradient_by_parts(p)) == pytest.approx(float(nll_gradient(p)), rel=1e-9)
    text = (r"\frac{\partial \mathcal{L}}{\partial w} = \frac{1}{N}\sum_i \left[\nabla_w F_w(x_i,y_i) - \int_y "
            r"P_w(y \mid x_i) \nabla_w F_w(x_i,y)\, dy\right]" "\n"
            r"= \frac{1}{N}\sum_i \left[\nabla_w F_w(x_i,y_i) - \mathbb{E}_{y \sim P_w(y \mid x_i)}"
            r"[\nabla_w F_w(x_i,y)]\right]")
    answer = check_derivation(text, against="ebm.nll_gradient")
    assert answer.final["verdict"] == "equivalent", answer.final["message"]
    assert answer.verdict == "equivalent"
