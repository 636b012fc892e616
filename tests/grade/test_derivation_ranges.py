r"""Products over a symbolic range, checked at range lengths 1 to 4 (REFERENCES.md, "Families and ranges").

The truth is torch's: ``torch.func.jacrev`` through an unrolled RNN loop of ``L`` steps against the
ordered product of the step Jacobians written out in torch, later factors on the left.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from symdl.grade.derivation import check_derivation
from symdl.reader.ranges import has_range, unroll

D = torch.float64
SYMDL = str(Path(sys.executable).with_name("symdl"))
PRODUCT = r"\prod_{k=t+1}^{\tau} \operatorname{diag}(\sigma'(W_1 h_{k-1} + W_2 x_k)) W_1"
TRANSPOSED = r"\prod_{k=t+1}^{\tau} W_1^\top \operatorname{diag}(\sigma'(a_k))"


def unrolled(length, seed=0, n=3, m=2, act=torch.tanh):
    """(jacrev of h_{t+L} by h_t, the product as written, the product of the transposed factors)."""
    g = torch.Generator().manual_seed(seed)
    W1, W2 = torch.randn(n, n, generator=g, dtype=D), torch.randn(n, m, generator=g, dtype=D)
    h0, xs = torch.randn(n, generator=g, dtype=D), [torch.randn(m, generator=g, dtype=D) for _ in range(length)]

    def run(h):
        for x in xs:
            h = act(W1 @ h + W2 @ x)
        return h

    hs, h = [h0], h0
    for x in xs:
        h = act(W1 @ h + W2 @ x)
        hs.append(h)
    dact = lambda u: torch.func.vmap(torch.func.grad(act))(u)  # noqa: E731
    factors = [torch.diag(dact(W1 @ hs[k - 1] + W2 @ xs[k - 1])) @ W1 for k in range(1, length + 1)]
    product, transposed = torch.eye(n, dtype=D), torch.eye(n, dtype=D)
    for k in range(length):  # later factors on the left
        product = factors[k] @ product
        transposed = (W1.T @ torch.diag(dact(W1 @ hs[k] + W2 @ xs[k]))) @ transposed
    return torch.func.jacrev(run)(h0), product, transposed


@pytest.mark.parametrize("length", [1, 2, 3, 4])
def test_the_truth_in_torch(length):
    for act in (torch.tanh, torch.sigmoid):
        J, product, transposed = unrolled(length, act=act)
        assert torch.allclose(J, product, rtol=1e-12, atol=1e-14)
        assert not torch.allclose(J, transposed)


def test_the_range_is_written_out_later_factors_on_the_left():
    assert has_range(PRODUCT) and not has_range(r"\sum_{i=1}^{N} x_i")
    assert " ".join(unroll(r"h_\tau = \prod_{k=t+1}^{\tau} A_{k-1}", 2).split()) == "h_{t+2} = { A_{t+1}} { A_t}"


def test_a_product_over_a_range_is_equivalent_at_every_length():
    answer = check_derivation(r"\frac{\partial h_\tau}{\partial h_t} = " + PRODUCT, against="rnn.jacobian_product")
    (step,) = answer.steps
    assert step.verdict == "equivalent" and step.lengths == [1, 2, 3, 4] and answer.final["lengths"] == [1, 2, 3, 4]
    assert answer.verdict == "equivalent"


def test_the_transposed_factors_are_refuted_at_the_first_length():
    answer = check_derivation(r"\frac{\partial h_\tau}{\partial h_t} = " + TRANSPOSED, model="rnn")
    (step,) = answer.steps
    assert step.verdict == "not_equivalent" and step.lengths == [1] and "at range length 1" in step.message
    assert step.diagnosis["kind"] == "transpose"


def test_the_issues_product_is_read_by_the_command():
    proc = subprocess.run([SYMDL, "check", "--json", "--against", "rnn.jacobian_product", PRODUCT],
                          capture_output=True, text=True, timeout=240)
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["verdict"] == "equivalent" and data["steps"][0]["lengths"] == [1, 2, 3, 4]


def test_a_family_h_k_is_checked_at_each_index():
    g = torch.Generator().manual_seed(5)
    W1, W2 = torch.randn(3, 3, generator=g, dtype=D), torch.randn(3, 2, generator=g, dtype=D)
    h, x = torch.randn(3, generator=g, dtype=D), torch.randn(2, generator=g, dtype=D)
    step = lambda hp: torch.tanh(W1 @ hp + W2 @ x)  # noqa: E731
    J = torch.func.jacrev(step)(h)
    D_k = torch.diag(1 - torch.tanh(W1 @ h + W2 @ x) ** 2)
    assert torch.allclose(J, D_k @ W1) and not torch.allclose(J, W1.T @ D_k)
    right = check_derivation(r"\frac{\partial h_k}{\partial h_{k-1}} = \operatorname{diag}(\sigma'(a_k)) W_1",
                             model="rnn")
    assert right.verdict == "equivalent" and right.steps[0].lengths == [1, 2, 3, 4]
    assert "at index k = t + 1, 2, 3, 4" in right.steps[0].message
    wrong = check_derivation(r"\frac{\partial h_k}{\partial h_{k-1}} = W_1^\top \operatorname{diag}(\sigma'(a_k))",
                             model="rnn")
    assert wrong.steps[0].verdict == "not_equivalent" and wrong.steps[0].diagnosis["kind"] == "transpose"


def test_lengths_asks_for_more_range_lengths_and_each_holds_in_torch():
    for length in (5, 6):
        J, product, _ = unrolled(length)
        assert torch.allclose(J, product, rtol=1e-12, atol=1e-14)
    answer = check_derivation(r"\frac{\partial h_\tau}{\partial h_t} = " + PRODUCT, against="rnn.jacobian_product",
                              lengths=6)
    assert answer.steps[0].lengths == [1, 2, 3, 4, 5, 6] and answer.final["lengths"] == [1, 2, 3, 4, 5, 6]
    assert answer.verdict == "equivalent"


@pytest.mark.parametrize("bad", ["0", "13"])
def test_lengths_out_of_bounds_is_an_error(bad):
    proc = subprocess.run([SYMDL, "check", "--model", "rnn", "--lengths", bad, "h_t = h_t"], capture_output=True,
                          text=True, timeout=240, check=False)
    assert proc.returncode == 2 and f"invalid --lengths {bad}: from 1 to 12" in proc.stdout
