r"""The small keys a model file gained with the vector functions: ``\nabla_{x} f`` (a gradient, as a column),
``domains = {...}`` on a reference, and sizes read as numbers (``\frac{1}{n}``).  Expected values in torch."""

import numpy as np
import pytest
import torch

import symdl.model.registry as registry
from symdl.models import load_file
from symdl.models._modelfile import ModelFileError

HEAD = '''[model]
name = "toy"
[sizes]
n = "size"
[inputs]
'x' = { shape = ["n"] }
'A' = { shape = ["n", "n"] }
'w' = { shape = ["n"], domain = "simplex" }
[definitions]
'f' = '\\frac{1}{n} \\lVert A x \\rVert^2 + \\operatorname{logsumexp}(x) \\, w^\\top x'
'''


@pytest.fixture(autouse=True)
def fresh():
    registry.reset()
    yield
    registry.reset()


def load(tmp_path, references: str):
    path = tmp_path / "toy.toml"
    path.write_text(HEAD + "[references]\n" + references, encoding="utf-8")
    return {r.name: r for r in load_file(path).references}


def torch_f(x, A, w):
    return (A @ x) @ (A @ x) / len(x) + torch.logsumexp(x, 0) * (w @ x)


def test_nabla_gives_the_gradient_as_a_column_and_frac_the_row(tmp_path):
    refs = load(tmp_path, '''"toy.g" = { quantity = '\\nabla_{x} f' }
"toy.r" = { quantity = '\\frac{\\partial f}{\\partial x}' }
"toy.f" = { quantity = 'f' }
''')
    rng = np.random.default_rng(0)
    v = {"x": rng.normal(size=4), "A": rng.normal(size=(4, 4)), "w": rng.dirichlet(np.ones(4))}
    t = {k: torch.tensor(a) for k, a in v.items()}
    x = t["x"].clone().requires_grad_(True)
    value = torch_f(x, t["A"], t["w"])
    (grad,) = torch.autograd.grad(value, x)
    g, r, f = (refs[k].evaluate(v) for k in ("toy.g", "toy.r", "toy.f"))
    assert g.shape == (4,) and r.shape == (1, 4) and np.shape(f) == ()
    assert np.allclose(g, grad.numpy(), rtol=1e-13, atol=0) and np.allclose(r[0], grad.numpy(), rtol=1e-13, atol=0)
    assert np.isclose(f, value.item(), rtol=1e-14)
    assert refs["toy.g"].latex().startswith(r"\nabla_{x} f = ")


def test_every_check_of_a_gradient_is_made_and_passes(tmp_path):
    from symdl.verify.spec import run_check

    refs = load(tmp_path, '''"toy.g" = { quantity = '\\nabla_x f' }\n''')
    checks = [run_check(c) for c in refs["toy.g"].checks]
    assert checks and all(c.made and c.passed for c in checks), [c.detail for c in checks]


def test_domains_on_a_reference_change_where_its_checks_draw(tmp_path):
    refs = load(tmp_path, '''"toy.g" = { quantity = '\\nabla_{x} f', domains = { w = "onehot" } }
"toy.h" = { quantity = '\\nabla_{x} f' }
''')
    assert {i.name: i.domain for i in refs["toy.g"].inputs}["w"] == "onehot"
    assert {i.name: i.domain for i in refs["toy.h"].inputs}["w"] == "simplex"


@pytest.mark.parametrize("references, words, key", [
    ('''"toy.g" = { quantity = '\\nabla_{x} f', domains = { q = "onehot" } }\n''', "'q' is not an input", "domains"),
    ('''"toy.g" = { quantity = '\\nabla_{x} f', domains = { w = "cube" } }\n''', "unknown domain 'cube'", "domains"),
    ('''"toy.g" = { quantity = '\\nabla_{x} f', domains = ["w"] }\n''', "inline table", "domains"),
    ('''"toy.g" = { quantity = '\\nabla_{x} x' }\n''', "not a scalar", ""),
    ('''"toy.g" = { quantity = '\\nabla_{x} f', shown = "x" }\n''', "unknown key 'shown'", ""),
    ('''"toy.g" = { quantity = 'f', expand = ['x'] }\n''', "an input has nothing to expand", "expand"),
    ('''"toy.g" = { quantity = '\\nabla_{x} f', expand = ['f'] }\n''', "only a named value", "expand"),
    ('''"toy.g" = { quantity = '\\nabla_{x} f', fixed = "f" }\n''', "list of names", "fixed"),
    ('''"toy.g" = { quantity = '\\nabla_{x} f', oracle = 3 }\n''', "oracle must be a string", ""),
])
def test_bad_keys_name_the_reference(tmp_path, references, words, key):
    with pytest.raises(ModelFileError, match=words) as info:
        load(tmp_path, references)
    assert info.value.key == "references.toy.g" + ("." + key if key else "")
