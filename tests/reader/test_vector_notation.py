r"""The notation of functions of a whole vector: softmax, logsumexp, norms, \mathbf{1}^\top u, the mean, I.

Each form is read, evaluated by symdl's numpy and torch printers, and held against the same formula
written in torch float64 here.
"""

import numpy as np
import pytest
import sympy as sp
import torch

from symdl.core.symbols import matrix, n, vector
from symdl.core.vector import LogSumExp, Mean, Norm, Softmax, SumOf
from symdl.model.reference import Input, Reference, evaluate_expression
from symdl.numeric import compile as backends
from symdl.reader import ReadError, read

x, y, W = vector("x"), vector("y"), matrix("W")
SCOPE = Reference("t", "", "", x, (Input(x), Input(y), Input(W)))  # its expression names n: \frac{1}{n} reads


def t_softmax(u):
    return torch.softmax(u, 0)


#: LaTeX -> the same formula in torch, a function of (x, y, W)
FORMS = {
    r"\operatorname{softmax}(W x)": lambda x_, y_, W_: t_softmax(W_ @ x_),
    r"\mathrm{softmax}\left(x + y\right)": lambda x_, y_, W_: t_softmax(x_ + y_),
    r"\operatorname{logsumexp}(x) - y^\top x": lambda x_, y_, W_: torch.logsumexp(x_, 0) - y_ @ x_,
    r"\lVert x \rVert": lambda x_, y_, W_: torch.linalg.vector_norm(x_),
    r"\|W x - y\|^2": lambda x_, y_, W_: ((W_ @ x_ - y_) ** 2).sum(),
    r"\lVert x \rVert_2": lambda x_, y_, W_: torch.linalg.vector_norm(x_),
    r"\mathbf{1}^\top x": lambda x_, y_, W_: x_.sum(),
    r"\mathbf{1}^T (x \odot y)": lambda x_, y_, W_: (x_ * y_).sum(),
    r"\frac{1}{n} \mathbf{1}^\top x": lambda x_, y_, W_: x_.mean(),
    r"\operatorname{mean}(\tanh(x))": lambda x_, y_, W_: torch.tanh(x_).mean(),
    r"(x - \operatorname{mean}(x)) / \lVert x - \operatorname{mean}(x) \rVert": (
        lambda x_, y_, W_: (x_ - x_.mean()) / torch.linalg.vector_norm(x_ - x_.mean())),
    r"x - \operatorname{mean}(x) \mathbf{1}": lambda x_, y_, W_: x_ - x_.mean(),
    r"W \mathbf{1}": lambda x_, y_, W_: W_.sum(1),
    r"I - \frac{1}{n} \mathbf{1} \mathbf{1}^\top - x x^\top": (
        lambda x_, y_, W_: torch.eye(len(x_), dtype=torch.float64) - 1 / len(x_) - torch.outer(x_, x_)),
    r"\operatorname{diag}(\operatorname{softmax}(x)) - \operatorname{softmax}(x) \operatorname{softmax}(x)^\top": (
        lambda x_, y_, W_: torch.diag(t_softmax(x_)) - torch.outer(t_softmax(x_), t_softmax(x_))),
    r"\tanh^2(W x) \odot \sigma'(x) / \exp(y)": (
        lambda x_, y_, W_: torch.tanh(W_ @ x_) ** 2 * torch.sigmoid(x_) * (1 - torch.sigmoid(x_)) / torch.exp(y_)),
}


@pytest.mark.parametrize("tex", sorted(FORMS))
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_form_reads_and_evaluates_as_torch_computes_it(tex, backend):
    rng = np.random.default_rng(len(tex))
    v = {"x": rng.normal(size=5), "y": rng.normal(size=5), "W": rng.normal(size=(5, 5))}
    t = {k: torch.tensor(a) for k, a in v.items()}
    expr = read(tex, SCOPE).expr
    got = evaluate_expression(expr, SCOPE.inputs, {}, t if backend == "torch" else v, backends.ops(backend), backend,
                              tex)
    want = FORMS[tex](t["x"], t["y"], t["W"]).numpy()
    got = np.asarray(got)
    assert got.shape == want.shape
    assert np.allclose(got, want, rtol=1e-13, atol=1e-14)


def test_the_nodes_a_form_reads_into():
    assert read(r"\operatorname{softmax}(x)", SCOPE).expr == Softmax(x)
    assert read(r"\operatorname{logsumexp}(x)", SCOPE).expr == LogSumExp(x)
    assert read(r"\lVert x \rVert", SCOPE).expr == Norm(x)
    assert read(r"\lVert x \rVert^2", SCOPE).expr == Norm(x) ** 2
    assert read(r"\mathbf{1}^\top x", SCOPE).expr == SumOf(x)
    assert read(r"\operatorname{mean}(x)", SCOPE).expr == Mean(x)
    assert read(r"I - \mathbf{1}\mathbf{1}^\top + W", SCOPE).expr.has(sp.OneMatrix(n, n), sp.Identity(n))


@pytest.mark.parametrize("tex, words", [
    (r"\operatorname{softmax}(W)", "takes one column vector"),
    (r"\operatorname{softmax}(x, y)", "takes one column vector"),
    (r"\operatorname{softmax}'(x)", "unknown symbol"),
    (r"\mathbf{1}", "vector of ones"),
    (r"\mathbf{1} + 2", "vector of ones"),
    (r"\mathbf{1}^2", "takes only a transpose"),
    (r"\lVert W \rVert", "only of vectors"),
    (r"I - \mathbf{1}\mathbf{1}^\top", "identity"),
])
def test_what_is_refused_is_said(tex, words):
    with pytest.raises(ReadError, match=words.replace("(", r"\(")):
        read(tex, SCOPE)
