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
