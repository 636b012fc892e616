"""A course's model as a Python module: registered by its path (``symdl.register``, ``--models FILE.py``) or
the entry point, never imported by finding it in a folder (a folder found without being named must not run
code on ``symdl check``, and it holds the oracles, which run only for verify and build).  Expected values
come from torch."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import symdl
import symdl.model.registry as registry

SYMDL = str(Path(sys.executable).parent / "symdl")
ROOT = Path(__file__).resolve().parents[2]

MODULE = '''"""A course's model in Python."""
import pathlib
import sympy as sp
from symdl.models import Input, Reference, elementwise, jacobian, matrix, vector

pathlib.Path(__file__).with_name("imported").write_text("yes")
h, W, y = vector("h"), matrix("W"), vector("y")
DEFS = {y: elementwise(sp.tanh, W * h)}


def references():
    J = jacobian(y, h, DEFS)
    return [Reference("toy2.jacobian", "its Jacobian", r"\\frac{\\partial y}{\\partial h}", J, (Input(h), Input(W)), DEFS)]
'''

FILE = '''[model]
name = "toy3"
[sizes]
n = "size"
[inputs]
'x' = { shape = ["n"] }
[definitions]
'y' = '\\tanh(x)'
[references]
"toy3.y" = { quantity = 'y' }
'''


@pytest.fixture(autouse=True)
def fresh():
    registry.reset()
    yield
    registry.reset()


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "toy2.py").write_text(MODULE, encoding="utf-8")
    (tmp_path / "toy3.toml").write_text(FILE, encoding="utf-8")
    return tmp_path


def run(*args, env=None, cwd=ROOT):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([SYMDL, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def torch_jacobian(h, W):
    return torch.func.jacrev(lambda h_: torch.tanh(torch.tensor(W) @ h_))(torch.tensor(h)).numpy()


def test_a_python_file_in_a_folder_is_never_imported(folder):
    listed = run("list", env={"SYMDL_MODELS": str(folder)})
    checked = run("check", "--against", "toy3.y", r"\tanh(x)", env={"SYMDL_MODELS": str(folder)})
    assert "toy3.y" in listed.stdout and "toy2" not in listed.stdout
    assert checked.returncode == 0, checked.stderr
    assert not (folder / "imported").exists()


def test_models_names_a_python_module_by_its_path(folder):
    out = run("derive", "--models", str(folder / "toy2.py"), "toy2", r"\frac{\partial y}{\partial h}", "--check")
    assert out.returncode == 0, out.stderr
    assert r"\operatorname{diag}\left(\tanh'\left(W h\right)\right) W" in out.stdout
    assert (folder / "imported").exists()


def test_register_a_python_module_by_its_path(folder):
    assert symdl.register(folder / "toy2.py") == ["toy2"]
    assert not (folder / "imported").exists()  # imported when its model is first used
    rng = np.random.default_rng(0)
    h, W = rng.normal(size=4), rng.normal(size=(4, 4))
    got = symdl.ref("toy2.jacobian").evaluate({"h": h, "W": W})
    assert np.abs(got - torch_jacobian(h, W)).max() < 1e-14


def test_a_module_without_references_is_an_error_naming_it(tmp_path):
    (tmp_path / "empty.py").write_text("X = 1\n", encoding="utf-8")
    symdl.register(tmp_path / "empty.py")
    with pytest.raises(registry.ModelError, match="empty.py: a model module defines model"):
        registry.model("empty")
