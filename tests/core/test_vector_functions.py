r"""Functions of a whole vector in the engine: softmax, logsumexp, the norm and its square, 1^T u, the mean.

Each rule is proved against SymPy's explicit ``Matrix.jacobian`` at n = 1, 2, 3, and its value is held
against ``torch.func.jacrev`` of the same function written in torch float64 here (micrograd style: no
expected value comes from symdl).  Both printers (numpy, torch) evaluate it.
"""

import numpy as np
import pytest
import sympy as sp
import torch
from sympy.matrices.expressions.matexpr import MatrixElement

from symdl.core.calculus import explicit_jacobian, gradient, instantiate, jacobian
from symdl.core.elementwise import collapse_derivatives, sigmoid, sigmoid_prime, tanh_prime
from symdl.core.printing import latex
from symdl.core.symbols import matrix, n, vector
from symdl.core.vector import LogSumExp, Mean, Norm, Softmax, SumOf
from symdl.model.reference import Input, evaluate_expression
from symdl.numeric import compile as backends
from symdl.core.calculus import add, elementwise, hadamard

x, b = vector("x"), vector("b")
A = matrix("A")
d = sp.Dummy("d")
INPUTS = (Input(x), Input(A), Input(b))


def lin(x_, A_, b_):
    return A_ @ x_ + b_


#: name -> (the expression in the engine's nodes, the same function in torch of (x, A, b))
CASES = {
    "softmax": (Softmax(x), lambda x_, A_, b_: torch.softmax(x_, 0)),
    "softmax-affine": (Softmax(A * x + b), lambda x_, A_, b_: torch.softmax(lin(x_, A_, b_), 0)),
    "logsumexp": (LogSumExp(x), lambda x_, A_, b_: torch.logsumexp(x_, 0)),
    "logsumexp-affine": (LogSumExp(A * x + b), lambda x_, A_, b_: torch.logsumexp(lin(x_, A_, b_), 0)),
    "norm": (Norm(x), lambda x_, A_, b_: torch.sqrt(x_ @ x_)),
    "norm-affine": (Norm(A * x + b), lambda x_, A_, b_: torch.linalg.vector_norm(lin(x_, A_, b_))),
    "squared-norm": (Norm(A * x) ** 2, lambda x_, A_, b_: (A_ @ x_) @ (A_ @ x_)),
    "sum": (SumOf(x), lambda x_, A_, b_: x_.sum()),
    "sum-hadamard": (SumOf(hadamard(x, A * x)), lambda x_, A_, b_: (x_ * (A_ @ x_)).sum()),
    "mean": (Mean(x), lambda x_, A_, b_: x_.mean()),
    "mean-tanh": (Mean(elementwise(sp.tanh, A * x)), lambda x_, A_, b_: torch.tanh(A_ @ x_).mean()),
    "scalar-times-vector": (sp.MatMul(Mean(x), A * x), lambda x_, A_, b_: x_.mean() * (A_ @ x_)),
    "centred-over-norm": (
        sp.MatMul(1 / Norm(add(x, sp.MatMul(-Mean(x), sp.OneMatrix(n, 1)))), add(x, sp.MatMul(-Mean(x), sp.OneMatrix(n, 1)))),
        lambda x_, A_, b_: (x_ - x_.mean()) / torch.linalg.vector_norm(x_ - x_.mean())),
    "inner-product": (sp.MatMul(sp.Transpose(x), A * x), lambda x_, A_, b_: x_ @ (A_ @ x_)),
    "exp-of-logsumexp": (sp.exp(-LogSumExp(x)) * Norm(x) ** 2, lambda x_, A_, b_: torch.exp(-torch.logsumexp(x_, 0)) * (x_ @ x_)),
    "sigmoid-of-mean": (sigmoid(Mean(A * x)), lambda x_, A_, b_: torch.sigmoid((A_ @ x_).mean())),
    "hadamard-power": (sp.HadamardPower(elementwise(sp.tanh, A * x), 2), lambda x_, A_, b_: torch.tanh(A_ @ x_) ** 2),
    "elementwise-division": (hadamard(x, sp.HadamardPower(elementwise(sp.exp, A * x), -1)),
                             lambda x_, A_, b_: x_ / torch.exp(A_ @ x_)),
}


def _elementary(m: sp.Matrix) -> sp.Matrix:
    """Named derivatives (tanh', sigma') in their explicit forms, then everything in exponentials."""
    m = collapse_derivatives(m).applyfunc(lambda z: z.replace(lambda a: isinstance(a, (tanh_prime, sigmoid_prime)),
                                                            lambda a: a.explicit(a.args[0])))
    return m.applyfunc(lambda z: z.rewrite([sp.tanh, sigmoid], sp.exp))


def _zero(z) -> bool:
    z = sp.together(sp.powsimp(sp.expand(z, power_exp=True)))
    return sp.expand(sp.numer(z)) == 0 or sp.simplify(z) == 0


def _proved(J, expr, size) -> bool:
    at = {n: size}
    want, got = _elementary(explicit_jacobian(expr, x, at)), _elementary(instantiate(J, at))
    assert got.shape == want.shape
    # the entries are real numbers (sqrt(x^2)/x is x/sqrt(x^2) only for real x)
    real = {e: sp.Symbol(f"r{k}", real=True) for k, e in enumerate(sorted((want.atoms(MatrixElement)
                                                                           | got.atoms(MatrixElement)), key=str))}
    return all(_zero(g - w) for g, w in zip(got.xreplace(real), want.xreplace(real)))


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("size", [1, 2, 3])
def test_rule_matches_explicit_jacobian(name, size):
    expr, _ = CASES[name]
    assert _proved(jacobian(expr, x), expr, size)


def values(size: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"x": rng.normal(size=size), "A": rng.normal(size=(size, size)) / np.sqrt(size), "b": rng.normal(size=size)}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("size", [1, 4, 9])
def test_derived_jacobian_against_jacrev(name, backend, size):
    if name == "centred-over-norm" and size == 1:
        pytest.skip("x - mean(x) is 0 at n = 1: the normalised vector is 0/0")
    expr, forward = CASES[name]
    v = values(size, seed=size)
    t = {k: torch.tensor(a, dtype=torch.float64) for k, a in v.items()}
    want = torch.func.jacrev(lambda xx: forward(xx, t["A"], t["b"]))(t["x"]).numpy()
    given = t if backend == "torch" else v
    J = jacobian(expr, x)
    got = np.asarray(evaluate_expression(J, INPUTS, {}, given, backends.ops(backend), backend, name))
    want = want.reshape(got.shape)  # jacrev of a scalar is a 1-D gradient; the engine gives the row
    assert np.max(np.abs(got - want)) <= 1e-12 * max(1.0, np.max(np.abs(want)))
    value = np.asarray(evaluate_expression(expr, INPUTS, {}, given, backends.ops(backend), backend, name))
    assert np.allclose(value.reshape(-1), forward(t["x"], t["A"], t["b"]).numpy().reshape(-1), rtol=1e-13, atol=0)


def test_softmax_jacobian_reads_diag_s_minus_s_s_transpose():
    s = vector("s")
    J = jacobian(s, x, {s: Softmax(x)})
    assert J == add(sp.DiagMatrix(s), sp.MatMul(-1, s, sp.Transpose(s)))
    assert latex(J) == r"\operatorname{diag}\left(s\right) - s s^\top"


def test_gradient_of_cross_entropy_after_softmax_is_softmax_minus_target():
    y = vector("y")
    loss = add(sp.MatMul(LogSumExp(x), sp.OneMatrix(1, 1)), sp.MatMul(-1, sp.Transpose(y), x))
    g = gradient(loss, x)
    assert g.shape == (n, 1) and latex(g) == r"\operatorname{softmax}\left(x\right) - y"


def test_squared_norm_has_no_division_by_the_norm():
    # 2 ||u|| * (u^T / ||u||) cancels: the derivative of the square is defined at 0
    J = jacobian(Norm(x) ** 2, x)
    assert J == sp.MatMul(2, sp.Transpose(x)) and not J.has(Norm)
    got = evaluate_expression(J, INPUTS, {}, {"x": np.zeros(3), "A": np.eye(3), "b": np.zeros(3)},
                              backends.ops("numpy"), "numpy", "at zero")
    assert np.array_equal(got, np.zeros((1, 3)))


def test_numpy_spellings_stay_analytic_for_the_complex_step():
    """Im f(x + ih)/h is the derivative only if every spelling accepts complex input analytically."""
    rng = np.random.default_rng(3)
    v = values(5, seed=3)
    direction = rng.normal(size=5)
    for name in ("softmax", "logsumexp", "norm", "sum", "mean", "squared-norm"):
        expr, forward = CASES[name]
        vc = dict(v, x=v["x"] + 1e-30j * direction)
        step = np.imag(np.asarray(evaluate_expression(expr, INPUTS, {}, vc, backends.ops("numpy"), "numpy", name))) / 1e-30
        t = {k: torch.tensor(a) for k, a in v.items()}
        jac = torch.func.jacrev(lambda xx: forward(xx, t["A"], t["b"]))(t["x"]).numpy().reshape(-1, 5)
        assert np.allclose(step.reshape(-1), jac @ direction, rtol=1e-12, atol=1e-14), name
