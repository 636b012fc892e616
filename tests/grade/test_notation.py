r"""Notation people actually write (issue 13, items 10 and 11), each form held against its truth.

Written the micrograd way: what each form means is computed here in torch float64, at random points,
and compared with the quantity's own torch definition; the verdict symdl must give is the one that
comparison gives.  Nothing expected is produced by symdl.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from symdl.grade.check import check

D = torch.float64


def agree(form_fn, truth_fn, points) -> str:
    """``equivalent`` when the torch value of the form equals the truth at every point, else ``not_equivalent``."""
    same = all(torch.allclose(torch.as_tensor(form_fn(p), dtype=D), torch.as_tensor(truth_fn(p), dtype=D),
                              rtol=1e-10, atol=1e-12) for p in points)
    return "equivalent" if same else "not_equivalent"


# -- item 11: PIRL's score with the cosine written out -------------------------------------------------


def pirl_points(k=4, d=3, negatives=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [{"a": torch.randn(d, generator=g, dtype=D), "b": torch.randn(d, generator=g, dtype=D),
             "n": torch.randn(negatives, d, generator=g, dtype=D), "tau": 0.5 + torch.rand((), generator=g, dtype=D)}
            for _ in range(k)]


def pirl_truth(p):
    """PIRL's h: the softmax share of the positive pair, torch's own cosine similarity."""
    cos = torch.nn.functional.cosine_similarity
    logits = torch.cat([cos(p["a"], p["b"], dim=0).reshape(1), cos(p["b"].expand_as(p["n"]), p["n"], dim=1)])
    return torch.softmax(logits / p["tau"], 0)[0]


def dot_over_norms(u, v):
    return (u * v).sum(-1) / (u.norm(dim=-1) * v.norm(dim=-1))


def written_h(pos, neg):
    return lambda p: torch.exp(pos(p) / p["tau"]) / (torch.exp(pos(p) / p["tau"]) + torch.exp(neg(p) / p["tau"]).sum())


COS = r"\frac{v_I^\top v_{I^t}}{\lVert v_I \rVert \lVert v_{I^t} \rVert}"
NEG = r"\frac{v_{I^t}^\top v_{I'}}{\lVert v_{I^t} \rVert \lVert v_{I'} \rVert}"
PIRL_FORMS = [
    # the cosine written out, as the student wrote it
    (r"\frac{\exp(%s/\tau)}{\exp(%s/\tau) + \sum_{I' \in D_N} \exp(%s/\tau)}" % (COS, COS, NEG),
     written_h(lambda p: dot_over_norms(p["a"], p["b"]), lambda p: dot_over_norms(p["b"], p["n"]))),
    # other spellings of the same: \| \|, \Vert, |v|, and \cdot for the dot product
    (r"\frac{\exp(\frac{v_I \cdot v_{I^t}}{\|v_I\| \|v_{I^t}\|}/\tau)}{\exp(\frac{v_I^\top v_{I^t}}{|v_I| |v_{I^t}|}"
     r"/\tau) + \sum_{I' \in D_N} \exp(\frac{v_{I^t}^\top v_{I'}}{\Vert v_{I^t}\Vert \Vert v_{I'}\Vert}/\tau)}",
     written_h(lambda p: dot_over_norms(p["a"], p["b"]), lambda p: dot_over_norms(p["b"], p["n"]))),
    # the norms left out of the positive pair: a dot product, not a cosine
    (r"\frac{\exp(v_I^\top v_{I^t}/\tau)}{\exp(v_I^\top v_{I^t}/\tau) + \sum_{I' \in D_N} \exp(%s/\tau)}" % NEG,
     written_h(lambda p: (p["a"] * p["b"]).sum(), lambda p: dot_over_norms(p["b"], p["n"]))),
    # the negatives compared with v_I instead of v_{I^t}
    (r"\frac{\exp(%s/\tau)}{\exp(%s/\tau) + \sum_{I' \in D_N} \exp(\frac{v_I^\top v_{I'}}{\lVert v_I \rVert "
     r"\lVert v_{I'} \rVert}/\tau)}" % (COS, COS),
     written_h(lambda p: dot_over_norms(p["a"], p["b"]), lambda p: dot_over_norms(p["a"], p["n"]))),
    # one norm squared in the denominator
    (r"\frac{\exp(%s/\tau)}{\exp(%s/\tau) + \sum_{I' \in D_N} \exp(\frac{v_{I^t}^\top v_{I'}}{\lVert v_{I^t} "
     r"\rVert^2}/\tau)}" % (COS, COS),
     written_h(lambda p: dot_over_norms(p["a"], p["b"]), lambda p: (p["b"] * p["n"]).sum(-1) / (p["b"] * p["b"]).sum())),
]


@pytest.mark.parametrize("form, meaning", PIRL_FORMS)
def test_pirl_score_with_the_cosine_written_out(form, meaning):
    expected = agree(meaning, pirl_truth, pirl_points())
    v = check(form, against="contrastive.pirl_h", timeout=1.0)
    assert v.verdict == expected, str(v)
    if expected == "not_equivalent":  # the hand value is a scalar, as h is, not a vector of entries
        assert v.counterexample is not None and len(set(map(float, torch.as_tensor(v.counterexample["hand"])
                                                           .reshape(-1).tolist()))) == 1, str(v)


def test_the_truth_of_the_first_pirl_form_is_pirl():
    """The first form is the correct one: the test above would pass vacuously if torch said otherwise."""
    assert all(agree(m, pirl_truth, pirl_points()) == "equivalent" for _, m in PIRL_FORMS[:2])
    assert all(agree(m, pirl_truth, pirl_points()) == "not_equivalent" for _, m in PIRL_FORMS[2:])


def test_two_feature_vectors_side_by_side_are_refused_with_the_dot_product_to_write():
    v = check(r"\exp(v_I v_{I^t} / \tau)", against="contrastive.pirl_h", timeout=1.0)
    assert v.verdict == "error" and "v_I^\\top v_{I^t}" in v.message and "\\cdot" in v.message, str(v)


# -- item 10: the left side the reference prints, with any spacing or bold -------------------------------


def lstm_state_jacobian_and_forget_gate(n=3, m=2, seed=0):
    """torch: the Jacobian of (c_t, h_t) by (c_{t-1}, h_{t-1}) of an LSTM cell, and f_t, at a random point."""
    g = torch.Generator().manual_seed(seed)
    W = {k: torch.randn(n, n + m, generator=g, dtype=D) for k in "fiog"}
    b = {k: torch.randn(n, generator=g, dtype=D) for k in "fiog"}
    x = torch.randn(m, generator=g, dtype=D)

    def step(state):
        c, h = state[:n], state[n:]
        u = {k: W[k] @ torch.cat([h, x]) + b[k] for k in "fiog"}
        c_new = torch.sigmoid(u["f"]) * c + torch.sigmoid(u["i"]) * torch.tanh(u["g"])
        return torch.cat([c_new, torch.sigmoid(u["o"]) * torch.tanh(c_new)])

    state = torch.randn(2 * n, generator=g, dtype=D)
    f = torch.sigmoid(W["f"] @ torch.cat([state[n:], x]) + b["f"])
    return torch.autograd.functional.jacobian(step, state), f


BLOCKS = r"\begin{bmatrix} \operatorname{diag}(f_t) & \operatorname{diag}(f_t) \\ \operatorname{diag}(f_t) & " \
         r"\operatorname{diag}(f_t) \end{bmatrix}"


@pytest.mark.parametrize("lhs", [r"\frac{\partial (c_t, h_t)}{\partial (c_{t-1}, h_{t-1})}",
                                 r"\frac{\partial(\mathbf{c}_t,\mathbf{h}_t)}{\partial(\mathbf{c}_{t-1},\ \mathbf{h}_{t-1})}",
                                 r"\dfrac{\partial \left(c_{t}, h_{t}\right)}{\partial \left(c_{t - 1}, h_{t - 1}\right)}"])
def test_the_left_side_the_reference_prints_is_read_with_any_spacing_or_bold(lhs):
    jac, f = lstm_state_jacobian_and_forget_gate()
    blocks = torch.diag(f).repeat(2, 2)
    expected = "equivalent" if torch.allclose(jac, blocks) else "not_equivalent"
    v = check(lhs + " = " + BLOCKS, against="lstm.state_jacobian", timeout=1.0)
    assert v.verdict == expected, str(v)


def test_a_left_side_that_is_another_quantity_is_still_refused():
    v = check(r"\frac{\partial (h_t, c_t)}{\partial (c_{t-1}, h_{t-1})} = " + BLOCKS, against="lstm.state_jacobian")
    assert v.verdict == "error" and "is not what lstm.state_jacobian gives" in v.message, str(v)


# -- item 10: argmin as people write it ------------------------------------------------------------------


def argmin_truth(written: str) -> str:
    """numpy: at a random energy on a grid of y, the y written (argmin or argmax) against the argmin."""
    rng = np.random.default_rng(0)
    energy = rng.normal(size=(5, 7))  # five random functions of y, each on a grid of seven points
    pick = np.argmax if written == "max" else np.argmin
    return "equivalent" if np.array_equal(pick(energy, axis=1), np.argmin(energy, axis=1)) else "not_equivalent"


@pytest.mark.parametrize("form, written", [(r"\hat y = \arg\min_y F(x, y)", "min"),
                                           (r"\operatorname*{argmin}_y F(x, y)", "min"),
                                           (r"\operatorname*{arg\,min}_{y} F(x,y)", "min"),
                                           (r"\arg\max_y F(x, y)", "max")])
def test_argmin_as_people_write_it(form, written):
    v = check(form, against="ebm.inference", timeout=1.0)
    assert v.verdict == argmin_truth(written), str(v)
