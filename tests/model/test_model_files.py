r"""Model files: a course's own model as TOML, found, derived and checked like the built-in ones.

The GRU of ``models/gru.toml`` (beside ``derivations/``) is held here against ``torch.nn.GRUCell`` and
``torch.func.jacrev`` written from torch alone; errors are held against what a person would need to read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import symdl.model.registry as registry
from symdl.models import load_file
from symdl.models._modelfile import ModelFileError

ROOT = Path(__file__).resolve().parents[2]
GRU = ROOT / "models" / "gru.toml"
SYMDL = str(Path(sys.executable).parent / "symdl")


@pytest.fixture(autouse=True)
def fresh_registry():
    registry.reset()
    yield
    registry.reset()


def gru_values(n: int, m: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    v = {"h_{t-1}": rng.normal(size=n), "x_t": rng.normal(size=m)}
    for g in "rzn":
        v[f"W_{{i{g}}}"] = rng.normal(size=(n, m)) / np.sqrt(m)
        v[f"W_{{h{g}}}"] = rng.normal(size=(n, n)) / np.sqrt(n)
        v[f"b_{{i{g}}}"] = rng.normal(size=n)
        v[f"b_{{h{g}}}"] = rng.normal(size=n)
    return v


def torch_gru(v: dict):
    """nn.GRUCell with the same weights (torch stacks the gates r, z, n), and x, h as tensors."""
    n, m = len(v["h_{t-1}"]), len(v["x_t"])
    cell = torch.nn.GRUCell(m, n, dtype=torch.float64)
    t = {k: torch.tensor(a, dtype=torch.float64) for k, a in v.items()}
    with torch.no_grad():
        cell.weight_ih.copy_(torch.cat([t[f"W_{{i{g}}}"] for g in "rzn"]))
        cell.weight_hh.copy_(torch.cat([t[f"W_{{h{g}}}"] for g in "rzn"]))
        cell.bias_ih.copy_(torch.cat([t[f"b_{{i{g}}}"] for g in "rzn"]))
        cell.bias_hh.copy_(torch.cat([t[f"b_{{h{g}}}"] for g in "rzn"]))
    return cell, t["x_t"], t["h_{t-1}"]


def rel(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("n, m", [(1, 1), (3, 2), (7, 5)])
def test_gru_state_and_jacobian_against_torch(n, m):
    registry.register(GRU)
    v = gru_values(n, m)
    cell, x, h = torch_gru(v)
    want_h = cell(x[None], h[None])[0].detach().numpy()
    want_J = torch.func.jacrev(lambda hh: cell(x[None], hh[None])[0])(h).detach().numpy()
    assert rel(registry.ref("gru.state").evaluate(v), want_h) < 1e-12
    assert rel(registry.ref("gru.state_jacobian").evaluate(v), want_J) < 1e-12
    J = registry.ref("gru.state_jacobian").evaluate({k: torch.tensor(a) for k, a in v.items()}, backend="torch")
    assert rel(J.numpy(), want_J) < 1e-12


def test_gru_additive_path_is_the_update_gate():
    """With every gate held fixed, the Jacobian is diag(z_t): z_t computed here from torch's own weights."""
    registry.register(GRU)
    v = gru_values(4, 3)
    cell, x, h = torch_gru(v)
    n = 4
    z = torch.sigmoid((cell.weight_ih @ x + cell.bias_ih)[n:2 * n] + (cell.weight_hh @ h + cell.bias_hh)[n:2 * n])
    assert rel(registry.ref("gru.direct").evaluate(v), torch.diag(z).detach().numpy()) < 1e-12


def test_every_check_of_the_gru_model_is_made_and_passes():
    from symdl.verify.spec import run_check

    registry.register(GRU)
    for ref in registry.model("gru").references:
        checks = [run_check(c) for c in ref.checks]
        assert checks, ref.name
        assert all(c.made and c.passed for c in checks), (ref.name, [c.detail for c in checks])


def test_the_models_folder_beside_derivations_is_found(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert "gru" in registry.model_names()
    assert registry.ref("gru.state").lhs == "h_t"


def write(tmp_path: Path, body: str, name: str = "m.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


HEAD = '''[model]
name = "toy"
[sizes]
n = "size"
[inputs]
"x" = { shape = ["n"] }
"A" = { shape = ["n", "n"] }
'''


@pytest.mark.parametrize("body, key, words, column", [
    ("[definitions]\n\"u\" = 'A q'\n", "definitions.u", "unknown symbol 'q'", 3),
    ("[definitions]\n\"u\" = 'A + x'\n", "definitions.u", "cannot add a (n, n) matrix and a (n, 1) vector", 3),
    ("[definitions]\n\"u\" = 'x^\\top A x + x'\n", "definitions.u", "cannot add a (1, 1) vector and a (n, 1)", 12),
    ("[definitions]\n\"u\" = '__import__(\\\"os\\\").system(\\\"id\\\")'\n", "definitions.u", "unexpected '_'", 1),
    ("[definitions]\n\"u\" = '\\def\\x{1} x'\n", "definitions.u", "unknown command \\def", 1),
    ("[definitions]\n\"u\" = '\\immediate\\write18{id} x'\n", "definitions.u", "unknown command \\immediate", 1),
    ("[definitions]\n\"u\" = '\\tanh(v)'\n\"v\" = '\\tanh(u)'\n", "definitions.u", "defined after it", 7),
    ("[definitions]\n'\\input{x}' = 'A x'\n", "definitions.\\input{x}", "not a symbol name", None),
    ("[aliases]\n'z' = 'q'\n", "aliases.z", "'q' is not an input or a definition", None),
    ("[references]\n\"toy.j\" = { quantity = '\\frac{\\partial x}{\\partial A}' }\n", "references.toy.j",
     "must be a column vector", None),
    ("[definitions]\n\"u\" = '\\tanh(v)'\n\"v\" = 'A x'\n", "definitions.u", "defined after it", 7),
    ("[definitions]\n\"u\" = '\\tanh(u)'\n", "definitions.u", "defined after it (or is itself)", 7),
    ("[definitions]\n\"x\" = 'A x'\n", "definitions.x", "defined twice", None),
    ("[references]\n\"toy.q\" = { quantity = 'q' }\n", "references.toy.q.quantity", "not an input or a definition", 1),
    ("[references]\n\"toy.q\" = { quantity = '\\frac{\\partial x}{\\partial q}' }\n", "references.toy.q.quantity",
     "'q' is not an input or a definition", 28),
    ("[references]\n\"toy.q\" = { quantity = '\\frac{\\partial x}{\\partial x}', fixed = ['q'] }\n", "references.toy.q.fixed",
     "'q' is not an input or a definition", None),
    ("[references]\n\"other.u\" = { quantity = 'x' }\n", "references.other.u", "starts with the model's name", None),
    ("[definitions]\n\"u\" = '\\input{/etc/passwd} x'\n", "definitions.u", "\\input", 1),
    ("[inputs2]\n", "inputs2", "unknown section", None),
])
def test_errors_name_the_file_the_key_and_the_column(tmp_path, body, key, words, column):
    path = write(tmp_path, HEAD + body)
    with pytest.raises(ModelFileError) as info:
        load_file(path)
    err = info.value
    assert err.path == str(path) and err.key == key
    assert words in str(err) and str(path) in str(err)
    if column is not None:
        assert err.column == column


def test_a_file_that_is_not_toml_is_an_error_naming_it(tmp_path):
    path = write(tmp_path, "this is = not [toml\n")
    with pytest.raises(ModelFileError, match="is not TOML") as info:
        load_file(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("body, key", [
    ('[aliases]\n"\\tilde{x}" = "x"\n', "aliases.\tilde{x}"),
    ('[definitions]\n"u" = "\\tanh(A x)"\n', "definitions.u"),
    ('[definitions]\n"u" = "\\frac{1}{2} x"\n', "definitions.u"),
    ('[references]\n"toy.j" = { quantity = "\\tilde{x}" }\n', "references.toy.j.quantity"),
])
def test_latex_in_double_quotes_is_explained(tmp_path, body, key):
    path = write(tmp_path, HEAD + body)
    with pytest.raises(ModelFileError, match="single quotes") as info:
        load_file(path)
    assert info.value.key == key


def test_two_models_of_one_name_are_an_error_naming_both(tmp_path):
    a = write(tmp_path, HEAD + "[definitions]\n\"u\" = 'A x'\n", "a.toml")
    b = write(tmp_path, HEAD + "[definitions]\n\"u\" = 'A x'\n", "b.toml")
    registry.register(tmp_path)
    with pytest.raises(registry.ModelError) as info:
        registry.model("toy")
    assert str(a) in str(info.value) and str(b) in str(info.value)


def test_a_broken_model_file_leaves_the_others_working_and_list_shows_it(tmp_path):
    write(tmp_path, HEAD + "[definitions]\n\"u\" = 'A q'\n", "broken.toml")
    env = {**os.environ, "SYMDL_MODELS": str(tmp_path)}
    out = subprocess.run([SYMDL, "list"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "lstm.cell_jacobian" in out.stdout
    assert "could not be loaded" in out.stdout and "unknown symbol 'q'" in out.stdout and "broken.toml" in out.stdout


def test_a_derivative_reference_of_a_model_file_is_verified(tmp_path):
    """d tanh(A x)/dx = diag(1 - tanh^2(A x)) A, computed here by torch.func.jacrev."""
    path = write(tmp_path, HEAD + "[definitions]\n\"u\" = '\\tanh(A x)'\n[references]\n"
                 "\"toy.J\" = { quantity = '\\frac{\\partial u}{\\partial x}' }\n")
    registry.register(path)
    rng = np.random.default_rng(3)
    v = {"x": rng.normal(size=4), "A": rng.normal(size=(4, 4))}
    want = torch.func.jacrev(lambda x: torch.tanh(torch.tensor(v["A"]) @ x))(torch.tensor(v["x"])).numpy()
    assert rel(registry.ref("toy.J").evaluate(v), want) < 1e-12


def run_derive(*args, cwd=ROOT, env=None):
    return subprocess.run([SYMDL, "derive", *args], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env=env or os.environ)


def test_derive_prints_json_with_the_contract_keys():
    out = run_derive("gru", r"\frac{\partial h_t}{\partial h_{t-1}}", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"model", "quantity", "latex", "shape"}
    assert data["model"] == "gru" and data["shape"] == ["n", "n"] and r"\operatorname{diag}" in data["latex"]


def test_derive_check_agrees_with_the_forward_map():
    out = run_derive("lstm", r"\frac{\partial c_t}{\partial c_{t-1}}", "--check")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "% equivalent" in out.stdout


def test_derive_an_unknown_symbol_is_an_error_with_the_known_ones():
    out = run_derive("gru", r"\frac{\partial q_t}{\partial h_{t-1}}")
    assert out.returncode == 2
    assert "unknown symbol 'q_t'" in out.stderr and "z_t" in out.stderr


def test_check_and_derive_never_import_the_oracle(tmp_path):
    """The oracle is the course's Python: verify and build run it, check and derive never do."""
    marker = tmp_path / "imported"
    (tmp_path / "o.py").write_text(f"open({str(marker)!r}, 'w').close()\nORACLES = {{}}\n")
    write(tmp_path, HEAD + "[definitions]\n\"u\" = '\\tanh(A x)'\n[references]\n"
          "\"toy.J\" = { quantity = '\\frac{\\partial u}{\\partial x}' }\n[oracle]\nmodule = \"o.py\"\n")
    env = {**os.environ, "SYMDL_MODELS": str(tmp_path)}
    assert run_derive("toy", r"\frac{\partial u}{\partial x}", "--check", env=env, cwd=tmp_path).returncode == 0
    out = subprocess.run([SYMDL, "check", "--against", "toy.J", r"\operatorname{diag}(1 - \tanh^2(A x)) A"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert not marker.exists()
    out = subprocess.run([SYMDL, "verify", "toy.J"], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=300)
    assert marker.exists(), out.stdout + out.stderr
    assert "has no ORACLES['toy.J']" in out.stdout
