r"""The forms a model file gained to carry the seed's rnn and lstm: a quantity with names held fixed
(``\left.\frac{\partial c}{\partial a}\right|_{b}``), a block Jacobian of stacked outputs by stacked variables,
``expand`` (a value shown with a definition written out), ``oracle`` (the words for the oracle), and an
abstract function's instance handed to the oracle by name.  Expected values come from torch."""

import numpy as np
import pytest
import sympy as sp
import torch

import symdl.model.registry as registry
from symdl.core.printing import latex
from symdl.models import load_file
from symdl.verify.spec import run_check

HEAD = '''[model]
name = "toy"
[sizes]
n = "size"
[inputs]
'a' = { shape = ["n"] }
'u' = { shape = ["n"] }
'W' = { shape = ["n", "n"] }
[functions]
'\\phi' = { meaning = "any activation" }
[definitions]
'b' = '\\tanh(a)'
'p' = 'W b + u'
'c' = '\\phi(p) \\odot a'
'd' = '\\tanh(c) \\odot b'
'''

ORACLE = '''import torch
ACT = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "softplus": torch.nn.functional.softplus}
def _t(v, k):
    return torch.as_tensor(v[k], dtype=torch.float64).reshape(-1) if k != "W" else torch.as_tensor(v[k])
def c_of(v):
    phi, W, u = ACT[v["\\\\phi"]], _t(v, "W"), _t(v, "u")
    return torch.func.jacrev(lambda a: phi(W @ torch.tanh(a) + u) * a)(_t(v, "a"))
ORACLES = {"toy.total": c_of}
'''


@pytest.fixture(autouse=True)
def fresh():
    registry.reset()
    yield
    registry.reset()


def load(tmp_path, references: str, oracle: bool = False):
    path = tmp_path / "toy.toml"
    tail = '[oracle]\nmodule = "toy_oracle.py"\n' if oracle else ""
    path.write_text(HEAD + "[references]\n" + references + tail, encoding="utf-8")
    (tmp_path / "toy_oracle.py").write_text(ORACLE, encoding="utf-8")
    return {r.name: r for r in load_file(path).references}


def values(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return {"a": rng.normal(size=n), "u": rng.normal(size=n), "W": rng.normal(size=(n, n)) / 2}


def torch_c(a, b, W, u, phi=torch.tanh):
    return phi(W @ b + u) * a


def test_names_after_the_bar_are_held_fixed(tmp_path):
    r = load(tmp_path, '''"toy.direct" = { quantity = '\\left.\\frac{\\partial c}{\\partial a}\\right|_{b}' }\n''')["toy.direct"]
    v = values()
    got = r.evaluate({**v, r"\phi": np.tanh})
    a, W, u = (torch.as_tensor(v[k]) for k in ("a", "W", "u"))
    want = torch.func.jacrev(lambda a_: torch_c(a_, torch.tanh(a), W, u))(a)  # b = tanh(a) held at its value
    assert np.abs(got - want.numpy()).max() < 1e-12
    assert r.lhs == r"\left.\frac{\partial c}{\partial a}\right|_{b}"
    assert all(run_check(c).passed for c in r.checks), [run_check(c).detail for c in r.checks]


def test_a_block_jacobian_stacks_outputs_and_variables(tmp_path):
    r = load(tmp_path, '''"toy.block" = { quantity = '\\frac{\\partial (c, d)}{\\partial (a, u)}' }\n''')["toy.block"]
    v = values()
    got = r.evaluate({**v, r"\phi": np.tanh})
    a, W, u = (torch.as_tensor(v[k]) for k in ("a", "W", "u"))

    def both(s):
        a_, u_ = s[:3], s[3:]
        b = torch.tanh(a_)
        c = torch_c(a_, b, W, u_)
        return torch.cat([c, torch.tanh(c) * b])

    want = torch.func.jacrev(both)(torch.cat([a, u]))
    assert got.shape == (6, 6) and np.abs(got - want.numpy()).max() < 1e-12
    checks = [run_check(c) for c in r.checks]
    assert [c.method for c in checks] == ["symbolic"] * 4 + ["numeric"]
    assert all(c.passed for c in checks), [c.detail for c in checks]


def test_expand_shows_a_value_with_a_definition_written_out(tmp_path):
    r = load(tmp_path, '''"toy.c" = { quantity = 'c', expand = ['p'] }\n''')["toy.c"]
    assert latex(r.expr) == r"\phi\left(W b + u\right) \odot a"
    v = values()
    a, W, u = (torch.as_tensor(v[k]) for k in ("a", "W", "u"))
    want = torch_c(a, torch.tanh(a), W, u, torch.sigmoid)
    assert np.abs(r.evaluate({**v, r"\phi": lambda x: 1 / (1 + np.exp(-x))}) - want.numpy()).max() < 1e-14


def test_the_oracle_gets_each_instance_by_name_and_its_words_are_kept(tmp_path):
    r = load(tmp_path, '''"toy.total" = { quantity = '\\frac{\\partial c}{\\partial a}', oracle = "jacrev of a torch step" }\n''',
             oracle=True)["toy.total"]
    assert r.oracle == "jacrev of a torch step"
    oracle = [run_check(c) for c in r.checks if c.method == "oracle"]
    assert len(oracle) == 1 and oracle[0].passed, oracle[0].detail
    assert oracle[0].detail.startswith("jacrev of a torch step: 27 trials")  # 3 instances x 3 sizes x 3
    assert sp.Function("phi") in r.functions.values()
