r"""Compositions of elementwise functions, nested to depth three, derived and compiled in every printer.

A map inside a map (``\tanh(W \sigma(x))``) once crashed the printers with ``KeyError: '_d'``: the maps
that :func:`symdl.core.calculus.elementwise` builds share one bound variable, and the inner binding
deleted the outer one.  Every nesting here is derived by the engine, printed in the course's LaTeX, and
evaluated by the numpy, torch and fused printers (a spy fails the test if the fused kernel did not run);
the expected Jacobian is ``torch.func.jacrev`` of the same composition written in torch float64 here.
"""

import itertools

import numpy as np
import pytest
import sympy as sp
import torch

import symdl.numeric.fused.dispatch as fused
from symdl.core.calculus import elementwise, hadamard, jacobian
from symdl.core.elementwise import sigmoid
from symdl.core.printing import latex
from symdl.core.symbols import matrix, vector
from symdl.model.reference import Input, Reference, evaluate_expression
from symdl.numeric import compile as backends
from symdl.reader import read

import numba  # noqa: F401  (the fused kernel needs it)

x, W = vector("x"), matrix("W")
INPUTS = (Input(x), Input(W))
SCOPE = Reference("nest", "", "", sp.S.Zero, INPUTS)

#: The course's spelling, its SymPy class (for the Python path), and torch's.
FUNCTIONS = {
    r"\tanh": (sp.tanh, torch.tanh),
    r"\sigma": (sigmoid, torch.sigmoid),
    r"\exp": (sp.exp, torch.exp),
    r"\tanh^2": (None, lambda u: torch.tanh(u) ** 2),
    r"\sigma'": (None, lambda u: torch.sigmoid(u) * (1 - torch.sigmoid(u))),
}

#: Where W and a Hadamard product sit in the nesting: (LaTeX, torch) templates of three functions f, g, h.
SHAPES = [
    ("{f}(W {g}({h}(x)))", lambda f, g, h, x_, W_: f(W_ @ g(h(x_)))),
    ("{f}({g}(W {h}(x)))", lambda f, g, h, x_, W_: f(g(W_ @ h(x_)))),
    ("{f}({g}({h}(W x)))", lambda f, g, h, x_, W_: f(g(h(W_ @ x_)))),
    ("{f}({g}({h}(x)) \\odot {h}(W x))", lambda f, g, h, x_, W_: f(g(h(x_)) * h(W_ @ x_))),
]

NAMES = list(FUNCTIONS)
#: Every function at every depth, in five rotations, and each function nested in itself.
TRIPLES = [(NAMES[i], NAMES[(i + 1) % 5], NAMES[(i + 3) % 5]) for i in range(5)] + [(f, f, f) for f in NAMES]
CASES = [(shape, triple) for shape in range(len(SHAPES)) for triple in TRIPLES]


@pytest.fixture
def spy(monkeypatch, tmp_path):
    monkeypatch.setattr(fused, "_cache_dir", lambda: tmp_path / "kernels")
    monkeypatch.setattr(fused, "MODE", "always")
    runs = []
    real = fused._run

    def counting(*a, **k):
        runs.append(a[0])
        return real(*a, **k)

    monkeypatch.setattr(fused, "_run", counting)
    return runs


def values(size=7, seed=0):
    rng = np.random.default_rng(seed)
    return {"x": 0.5 * rng.normal(size=size), "W": rng.normal(size=(size, size)) / np.sqrt(size)}


def jacrev(forward, v):
    t = {k: torch.tensor(a) for k, a in v.items()}
    return torch.func.jacrev(lambda xx: forward(xx, t["W"]))(t["x"]).numpy()


def evaluate_everywhere(J, v, spy):
    """J in numpy and torch (the ordinary printed code: autograd on), then with the fused kernel."""
    out = {}
    for backend in ("numpy", "torch"):
        given = {k: torch.tensor(a, requires_grad=True) for k, a in v.items()} if backend == "torch" else v
        got = evaluate_expression(J, INPUTS, {}, given, backends.ops(backend), backend, "nested")
        out[backend] = got.detach().numpy() if backend == "torch" else got
    before = len(spy)
    out["fused"] = evaluate_expression(J, INPUTS, {}, v, backends.ops("numpy"), "numpy", "nested")
    assert len(spy) == before + 1, "the fused kernel did not run"
    return out


@pytest.mark.parametrize("shape, triple", CASES)
def test_nested_maps_read_from_latex(spy, shape, triple):
    tex_t, torch_t = SHAPES[shape]
    f, g, h = triple
    tex = tex_t.format(f=f, g=g, h=h)
    J = jacobian(read(tex, SCOPE).expr, x)
    assert latex(J)
    v = values(seed=shape)
    want = jacrev(lambda x_, W_: torch_t(*(FUNCTIONS[k][1] for k in triple), x_, W_), v)
    for where, got in evaluate_everywhere(J, v, spy).items():
        assert np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want)), (tex, where)


PYTHON_TRIPLES = list(itertools.product([r"\tanh", r"\sigma", r"\exp"], repeat=3))


@pytest.mark.parametrize("triple", PYTHON_TRIPLES)
def test_nested_maps_built_in_python_share_one_variable(spy, triple):
    """``elementwise`` gives every map the same bound variable: the case that crashed."""
    f, g, h = (FUNCTIONS[k][0] for k in triple)
    expr = elementwise(f, W * elementwise(g, hadamard(elementwise(h, x), x)))
    J = jacobian(expr, x)
    assert latex(expr) and latex(J)
    ft, gt, ht = (FUNCTIONS[k][1] for k in triple)
    v = values(seed=len(triple))
    want = jacrev(lambda x_, W_: ft(W_ @ gt(ht(x_) * x_)), v)
    for where, got in evaluate_everywhere(J, v, spy).items():
        assert np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want)), (triple, where)
