r"""A derivative of an abstract function of the parameters inside a derivation (issue 13, item 2).

The course writes the energy as ``F_w(x, y)``, ``w`` implicit.  ``\frac{\partial F_w(x_i, y)}{\partial w}``
in a line of a derivation must be the derivative of that energy in ``w``, not 0 because no ``w`` is written.
The truth of each gradient is computed here in torch: a concrete energy on a grid of y, the NLL loss of
REFERENCES.md, and its derivative by autograd against each hand form written out in torch.
"""

from __future__ import annotations

import torch

from symdl.grade.derivation import check_derivation

D = torch.float64
LOSS = (r"\mathcal{L} &= \frac{1}{N}\sum_i\left[F_w(x_i,y_i) + \frac{1}{\beta}\log \int_y "
        r"\exp(-\beta F_w(x_i,y))\,dy\right] \\")
GRADIENT = (r"\frac{\partial \mathcal{L}}{\partial w} &= \frac{1}{N}\sum_i\left[\frac{\partial F_w(x_i,y_i)}"
            r"{\partial w} SIGN \int_y P_w(y \mid x_i)\frac{\partial F_w(x_i,y)}{\partial w}\,dy\right]")


def align(*lines: str) -> str:
    return "\\begin{align*}\n" + "\n".join(lines) + "\n\\end{align*}\n"


def torch_truth(sign: float) -> bool:
    """Whether the hand gradient with ``sign`` before the integral is autograd's gradient of the loss,
    for an energy F_w(x, y) = tanh(w x + y) + w y^2 on a grid of y."""
    g = torch.Generator().manual_seed(1)
    beta, ys = 1.3, torch.randn(5, generator=g, dtype=D)
    xs, obs = torch.randn(3, generator=g, dtype=D), ys[torch.tensor([0, 2, 4])]
    w = torch.tensor(0.4, dtype=D, requires_grad=True)

    def energy(w, x, y):
        return torch.tanh(w * x + y) + w * y * y

    def loss(w):
        return torch.mean(energy(w, xs, obs) + torch.logsumexp(-beta * energy(w, xs[:, None], ys), 1) / beta)

    (auto,) = torch.autograd.grad(loss(w), w)
    with torch.no_grad():
        dF = torch.func.vmap(torch.func.grad(energy), (None, 0, 0))
        p = torch.softmax(-beta * energy(w, xs[:, None], ys), 1)
        expected = (p * torch.stack([dF(w, torch.full_like(ys, x), ys) for x in xs])).sum(1)
        hand = torch.mean(dF(w, xs, obs) + sign * expected)
    return bool(torch.allclose(hand, auto, rtol=1e-12))


def test_the_truths_used_below():
    assert torch_truth(-1.0)
    assert not torch_truth(+1.0)


def test_the_gradient_of_an_implicit_energy_after_the_loss_is_equivalent():
    text = align(LOSS, GRADIENT.replace("SIGN", "-"))
    for kwargs in ({"against": "ebm.nll_gradient"}, {"model": "ebm"}):
        out = check_derivation(text, **kwargs)
        assert [s.verdict for s in out.steps] == ["defined", "equivalent"], out.message
        assert out.verdict == "equivalent", out.message


def test_the_gradient_with_the_wrong_sign_is_not_equivalent():
    out = check_derivation(align(LOSS, GRADIENT.replace("SIGN", "+")), against="ebm.nll_gradient")
    assert out.verdict == "not_equivalent" and out.first_wrong == 1, out.message


def test_the_gradient_continued_with_nabla_is_equivalent():
    out = check_derivation(align(LOSS, GRADIENT.replace("SIGN", "-") + r" \\",
                                 r"&= \frac{1}{N}\sum_i\left[\nabla_w F_w(x_i,y_i) - \int_y P_w(y \mid x_i)"
                                 r"\nabla_w F_w(x_i,y)\,dy\right]"), against="ebm.nll_gradient")
    assert [s.verdict for s in out.steps] == ["defined", "equivalent", "equivalent"], out.message


def test_nabla_w_of_the_loss_names_the_reference_quantity():
    r"""``\nabla_w \mathcal{L}`` is ``\frac{\partial \mathcal{L}}{\partial w}``: a line beginning with it is held
    against ebm.nll_gradient, and a derivation ending on it has its final answer checked."""
    line = GRADIENT.replace("&=", "=").replace(r"\frac{\partial \mathcal{L}}{\partial w}", r"\nabla_w \mathcal{L}")
    for sign, verdict in (("-", "equivalent"), ("+", "not_equivalent")):
        assert torch_truth(-1.0 if sign == "-" else 1.0) == (verdict == "equivalent")
        out = check_derivation(line.replace("SIGN", sign), against="ebm.nll_gradient")
        assert out.verdict == verdict, out.message
        assert out.final is not None and out.final["verdict"] == verdict
    chained = check_derivation(align(LOSS, line.replace("SIGN", "-").replace(" =", " &=")), against="ebm.nll_gradient")
    assert chained.final["verdict"] == "equivalent", chained.message
