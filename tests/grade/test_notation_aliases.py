r"""The names the worked solutions write for a contract quantity (issue 15) read as that quantity, never guessed.

``L_{\mathrm{NCE}}`` is declared by ``contrastive.nce_loss`` as an alias of its quantity; ``\mathrm{KL}(\ldots)``
is the contract's ``KL(\ldots)`` of ``latent.vae_kl`` in upright type.  Each test first establishes in torch which
written form is right (the NCE loss by its definition, the KL by ``torch.distributions.kl_divergence``), then
asks the checker: the right form ``equivalent``, the wrong one ``not_equivalent``.
"""

from __future__ import annotations

import pytest
import torch

import symdl

NCE_RIGHT = (r"L_{\mathrm{NCE}} = -\log h(f(v_I), g(v_{I^t})) - \sum_{I' \in D_N} "
             r"\log(1 - h(g(v_{I^t}), f(v_{I'})))")
NCE_WRONG = NCE_RIGHT.replace(r"- \sum", r"+ \sum")
KL_LEFT = r"\mathrm{KL}(\mathcal{N}(\mu, \operatorname{diag}\sigma^2) \,\Vert\, \mathcal{N}(0, I))"
KL_RIGHT = KL_LEFT + r" = \frac{1}{2} \sum_{j=1}^{d} (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2)"
KL_WRONG = KL_LEFT + r" = \frac{1}{2} \sum_{j=1}^{d} (\sigma_j^2 + \mu_j^2 - 1 + \log \sigma_j^2)"


def _h(a, b, negatives, tau):
    """PIRL's h by its definition: e^{s(a, b)/tau} over itself plus e^{s(b, v')/tau} for each negative."""
    cos = torch.nn.functional.cosine_similarity
    top = torch.exp(cos(a, b, dim=0) / tau)
    return top / (top + torch.exp(cos(b.expand_as(negatives), negatives, dim=1) / tau).sum())


def _nce_forms(sign: float):
    """(the loss by definition, the form with ``sign`` before the sum over negatives) at a random point."""
    g = torch.Generator().manual_seed(3)
    v, vt = (torch.randn(4, generator=g, dtype=torch.float64) for _ in range(2))
    negs = torch.randn(3, 4, generator=g, dtype=torch.float64)
    F, G = (torch.randn(4, 4, generator=g, dtype=torch.float64) for _ in range(2))
    tau = 0.7
    first = -torch.log(_h(F @ v, G @ vt, negs, tau))
    terms = torch.stack([torch.log(1 - _h(G @ vt, F @ n, negs, tau)) for n in negs]).sum()
    return first - terms, first + sign * terms


def test_the_nce_alias_reads_the_loss():
    definition, right = _nce_forms(-1.0)
    _, wrong = _nce_forms(+1.0)
    assert torch.isclose(right, definition) and not torch.isclose(wrong, definition)
    assert symdl.check_derivation(NCE_RIGHT, model="contrastive", timeout=30).verdict == "equivalent"
    assert symdl.check_derivation(NCE_WRONG, model="contrastive", timeout=30).verdict == "not_equivalent"


def test_the_nce_alias_with_arguments_is_not_read_as_a_product():
    v = symdl.check_derivation(r"L_{\mathrm{NCE}}(v_I) = 1", model="contrastive", timeout=30)
    assert v.verdict == "error" and "without arguments" in str(v)


@pytest.mark.parametrize("claim, holds", [(KL_RIGHT, True), (KL_WRONG, False)])
def test_the_upright_kl_reads_the_divergence(claim, holds):
    g = torch.Generator().manual_seed(5)
    mu, sigma = torch.randn(3, generator=g, dtype=torch.float64), torch.rand(3, generator=g, dtype=torch.float64) + 0.2
    truth = torch.distributions.kl_divergence(torch.distributions.Normal(mu, sigma),
                                              torch.distributions.Normal(torch.zeros(3, dtype=torch.float64),
                                                                         torch.ones(3, dtype=torch.float64))).sum()
    sign = -1.0 if holds else 1.0
    written = 0.5 * (sigma ** 2 + mu ** 2 - 1 + sign * torch.log(sigma ** 2)).sum()
    assert bool(torch.isclose(written, truth)) is holds
    verdict = symdl.check_derivation(claim, model="latent", timeout=30).verdict
    assert verdict == ("equivalent" if holds else "not_equivalent")
