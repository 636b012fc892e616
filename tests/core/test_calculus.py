"""The Jacobian engine, rule by rule, against SymPy's explicit Matrix.jacobian at n = 1, 2, 3."""

import pytest
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from symdl.core.calculus import (NotDifferentiable, add, diag, elementwise, explicit_jacobian, hadamard, instantiate, jacobian, substitute_definitions)
from symdl.core.elementwise import collapse_derivatives, expand_primes, sigmoid, softplus
from symdl.core.symbols import m, matrix, n, vector

x, u, v = vector("x"), vector("u"), vector("v")
A, B = matrix("A"), matrix("B")
C = matrix("C", n, m)
z = vector("z", m)
f = sp.Function("f")

CASES = {
    "identity": x,
    "constant": u,
    "sum": add(A * x, u, x),
    "matmul": A * B * x,
    "scalar": 3 * A * x,
    "hadamard": hadamard(x, A * x),
    "hadamard-constant": hadamard(u, x),
    "tanh": elementwise(sp.tanh, A * x + C * z),
    "sigmoid": elementwise(sigmoid, A * x),
    "softplus": elementwise(softplus, x),
    "exp": elementwise(sp.exp, B * x),
    "abstract": elementwise(f, A * x),
    "diag-product": diag(u) * A * x,
    "nested": hadamard(elementwise(sigmoid, A * hadamard(u, elementwise(sp.tanh, x))), x),
    "ones-minus": add(sp.OneMatrix(n, 1), -elementwise(sigmoid, x)),
}


def _equal(J_engine, expr, sizes):
    at = {n: sizes, m: 2}
    want = expand_primes(collapse_derivatives(explicit_jacobian(expr, x, at)))
    got = expand_primes(instantiate(J_engine, at))
    return all(sp.simplify(sp.expand((g - w).rewrite(sp.exp))) == 0 for g, w in zip(got, want))


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("size", [1, 2, 3])
def test_rule_matches_explicit_jacobian(name, size):
    expr = CASES[name]
    assert _equal(jacobian(expr, x), expr, size)


def test_layout_is_numerator_not_sympys_transpose():
    J = jacobian(A * x, x)
    assert J == A
    at = {n: 2}
    explicit = instantiate(A, at)
    assert instantiate(J, at) == explicit
    assert instantiate(J, at) != explicit.T


def test_definitions_are_differentiated_through_and_kept_by_name():
    h = vector("h")
    defs = {h: elementwise(sp.tanh, A * x)}
    J = jacobian(hadamard(h, x), x, defs)
    # the result keeps the name h where h itself appears (diag(h)), and differentiates h's definition
    assert J.has(h) and J.has(A)
    assert _equal(substitute_definitions(J, defs), substitute_definitions(hadamard(h, x), defs), 2)


def test_a_matrix_factor_depending_on_x_is_refused_with_the_expression():
    with pytest.raises(NotDifferentiable, match="depends on x"):
        jacobian(sp.MatMul(x, sp.Transpose(x), x), x)


def test_row_vectors_are_refused():
    with pytest.raises(NotDifferentiable, match="column vector"):
        jacobian(sp.Transpose(x), x)


def test_abs_is_differentiated_as_a_function_of_a_real_variable():
    """|x| elementwise: the slope is sign, as torch's autograd gives it.

    Before, SymPy differentiated |d| of a complex dummy through re and im, which no printer evaluates.
    """
    import torch

    point = torch.tensor([-1.5, 0.25, 2.0], dtype=torch.float64)
    J = sp.Matrix(instantiate(jacobian(elementwise(sp.Abs, x), x), {n: 3}))
    assert not J.has(sp.re, sp.im, sp.Subs, sp.Derivative)
    entries = {e: float(point[e.i]) for e in J.atoms(MatrixElement)}   # x[i, 0] -> its value
    truth = torch.func.jacrev(torch.abs)(point)
    assert torch.allclose(torch.tensor(J.subs(entries).tolist(), dtype=torch.float64), truth, atol=1e-12)
