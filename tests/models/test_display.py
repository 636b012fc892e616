"""Displays in REFERENCES.md's order: each printed form, and the display nodes behaving as the plain SymPy
they stand for (equal, same hash, cancelling in a difference, rebuilt as SymPy's own)."""

from __future__ import annotations

import pytest
import sympy as sp

from conftest import ref
from symdl.models import _display as D
from symdl.core.printing import latex

#: The right-hand sides as REFERENCES.md writes them, up to the printer's \left( \right) and spacing.
CONTRACT_ORDER = {
    "optim.heavy_ball": r"w_t - \gamma g_t + \beta \left(w_t - w_{t-1}\right)",
    "optim.rmsprop": r"w_t - \gamma \frac{g_t}{\sqrt{v_{t+1}} + \epsilon}",
    "optim.adam": r"w_t - \gamma \frac{\hat{m}_{t+1}}{\sqrt{\hat{v}_{t+1}} + \epsilon}",
    "optim.gd": r"\theta_k - \gamma \frac{1}{N} \sum_{i=1}^{N} \nabla \ell_{i}(\theta_k)",
    "optim.sgd": r"\theta_k - \gamma \frac{1}{|B|} \sum_{j \in B} \nabla \ell_j(\theta_k)",
    "latent.sparse_coding_energy": r"\lVert y - W z \rVert^2 + \lambda \lVert z \rVert_1",
    "ebm.free_energy": r"-\frac{1}{\beta} \log{\left(\int_{z} e^{- \beta E\left(x, y, z\right)}\, dz \right)}",
    "contrastive.pirl_h": r"\frac{\exp\left(s\left(v_I, v_{I^t}\right)/\tau\right)}{\exp\left(s\left(v_I, "
                          r"v_{I^t}\right)/\tau\right) + \sum_{I' \in D_N} \exp\left(s\left(v_{I^t}, "
                          r"v_{I'}\right)/\tau\right)}",
}


@pytest.mark.parametrize("name", sorted(CONTRACT_ORDER))
def test_reference_prints_in_the_contracts_order(name):
    assert ref(name).latex(equation=False) == CONTRACT_ORDER[name]


def test_nll_displays_read_as_the_course_writes_them():
    loss = ref("ebm.nll_loss").latex(equation=False)
    assert loss.startswith(r"\frac{1}{N} \sum_{i=1}^{N} \Big[F_w\left(x_i, y_i\right) + \frac{1}{\beta} \log")
    grad = ref("ebm.nll_gradient").latex(equation=False)
    assert grad.startswith(r"\frac{1}{N} \sum_{i=1}^{N} \Big[\frac{\partial F_w\left(x_i, y_i\right)}{\partial w} - "
                           r"\int_{y}")
    assert r"P_w(y \mid x_i)" in grad and r"\int_{y'}" not in grad  # the density is a defined name


def test_nce_loss_terms_in_the_contracts_order():
    loss = ref("contrastive.nce_loss").latex(equation=False)
    assert loss.index(r"- \log{\left(h\left(f\left(v_I\right)") < loss.index(r"- \sum_{I' \in D_N}")


def test_nll_gradient_expands_its_defined_density():
    grad = ref("ebm.nll_gradient")
    (name,) = grad.definitions
    assert name not in grad.expanded().free_symbols
    assert len(grad.expanded().atoms(sp.Integral)) == 2  # over y, and the density's normaliser over y'


w, g, b, v, eps = sp.symbols(r"w g \beta v \epsilon")


def test_ordered_nodes_equal_and_hash_as_plain_sympy():
    ordered = D.ordered_sum(w, -g, b * D.ordered_sum(w, -v))
    plain = w - g + b * (w - v)
    assert ordered == plain and plain == ordered and hash(ordered) == hash(plain)
    assert {ordered: 1}[plain] == 1
    assert sp.expand(ordered - plain) == 0
    assert latex(ordered) == r"w - g + \beta \left(w - v\right)"
    assert latex(plain) != latex(ordered)  # the printer's own order differs: the node is doing the work


def test_rebuilt_nodes_are_sympys_own():
    ordered = D.ordered_sum(sp.sqrt(v), eps)
    rebuilt = ordered.xreplace({eps: 2 * eps})
    assert type(rebuilt) is sp.Add and rebuilt == sp.sqrt(v) + 2 * eps
    kept = D.ordered_xreplace(ordered, {eps: 2 * eps})
    assert isinstance(kept, D.Add) and latex(kept) == r"\sqrt{v} + 2 \epsilon"


def test_display_product_and_exponential():
    N, i = sp.symbols("N i", positive=True)
    f = sp.Function("f")
    mean = D.ordered_product(D.reciprocal(N), D.bracketed_sum(f(i), (i, 1, N)))
    assert latex(mean) == r"\frac{1}{N} \sum_{i=1}^{N} \Big[f\left(i\right)\Big]"
    assert sp.simplify(mean - sp.Sum(f(i), (i, 1, N)) / N) == 0
    e = D.exp_of(w, b)
    assert latex(e) == r"\exp\left(w/\beta\right)" and e == sp.exp(w / b)
    assert float(e.subs({w: 1, b: 2})) == pytest.approx(float(sp.exp(sp.Rational(1, 2))), rel=1e-15)
    d = D.partial(f(w), w)
    assert latex(d) == r"\frac{\partial f\left(w\right)}{\partial w}" and d == sp.Derivative(f(w), w)
