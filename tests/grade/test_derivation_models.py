r"""Derivations in a course's model file (issue 13, item 5 and "Which model, which names"): ``--model gru`` with
``--models DIR``, ``--model path/to/gru.toml``, and the model inferred among model files.

The GRU is ``models/gru.toml`` (torch.nn.GRUCell's gate order r, z, n).  The truth of each link comes from
``torch.nn.GRUCell`` itself: its output and its Jacobian by ``torch.func.jacrev``, against the hand forms
written in torch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from symdl.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
D = torch.float64


def derivation(factor: str) -> str:
    return rf"""The update gate, the new state, and its Jacobian by the product rule.
\begin{{align*}}
z_t &= \sigma(W_{{iz}} x_t + b_{{iz}} + W_{{hz}} h_{{t-1}} + b_{{hz}}) \\
h_t &= (1 - z_t) \odot n_t + z_t \odot h_{{t-1}} \\
\frac{{\partial h_t}}{{\partial h_{{t-1}}}} &= \operatorname{{diag}}(z_t) + \operatorname{{diag}}(1 - z_t)
  \frac{{\partial n_t}}{{\partial h_{{t-1}}}} + \operatorname{{diag}}({factor}) \frac{{\partial z_t}}{{\partial h_{{t-1}}}}
\end{{align*}}"""


def gru_truth(factor: str) -> list[str]:
    """The verdict each link deserves, from torch.nn.GRUCell: the hand gates rebuild its output (links 0 and
    1), and the product rule with ``diag(factor)`` is its Jacobian or not (link 2)."""
    torch.manual_seed(0)
    n, m = 3, 2
    cell = torch.nn.GRUCell(m, n).double()
    x, h = torch.randn(m, dtype=D), torch.randn(n, dtype=D)
    (W_ir, W_iz, W_in), (W_hr, W_hz, W_hn) = cell.weight_ih.split(n), cell.weight_hh.split(n)
    (b_ir, b_iz, b_in), (b_hr, b_hz, b_hn) = cell.bias_ih.split(n), cell.bias_hh.split(n)

    def z(h):
        return torch.sigmoid(W_iz @ x + b_iz + W_hz @ h + b_hz)

    def new(h):
        r = torch.sigmoid(W_ir @ x + b_ir + W_hr @ h + b_hr)
        return torch.tanh(W_in @ x + b_in + r * (W_hn @ h + b_hn))

    def state(h):
        return (1 - z(h)) * new(h) + z(h) * h

    with torch.no_grad():
        rebuilt = torch.allclose(state(h), cell(x[None], h[None])[0], rtol=1e-12)
    jac = torch.func.jacrev(lambda h: cell(x[None], h[None])[0])(h)
    other = {"h_{t-1} - n_t": h - new(h), "n_t - h_{t-1}": new(h) - h}[factor]
    hand = torch.diag(z(h)) + torch.diag(1 - z(h)) @ torch.func.jacrev(new)(h) \
        + torch.diag(other) @ torch.func.jacrev(z)(h)
    verdict = "equivalent" if torch.allclose(hand, jac, rtol=1e-10) else "not_equivalent"
    return ["equivalent" if rebuilt else "not_equivalent"] * 2 + [verdict]


def run_json(capsys, *args) -> tuple[int, dict]:
    status = main(["check", "--json", *args])
    return status, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("factor", ["h_{t-1} - n_t", "n_t - h_{t-1}"])
def test_a_gru_derivation_with_models_dir_and_model_name(tmp_path, capsys, factor):
    src = tmp_path / "gru.tex"
    src.write_text(derivation(factor))
    status, answer = run_json(capsys, "--models", str(MODELS), "--model", "gru", "--file", str(src))
    want = gru_truth(factor)
    assert [s["verdict"] for s in answer["steps"]] == want and answer["model"] == "gru"
    assert status == (0 if want[-1] == "equivalent" else 1)
    assert answer["first_wrong"] == (2 if want[-1] == "not_equivalent" else None)


def test_the_model_file_inferred_from_its_symbols(tmp_path, capsys):
    src = tmp_path / "gru.tex"
    src.write_text(derivation("h_{t-1} - n_t"))
    status, answer = run_json(capsys, "--models", str(MODELS), "--file", str(src))
    assert status == 0 and answer["model"] == "gru"


def cli(cwd: Path, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SYMDL_MODELS", None)
    return subprocess.run([sys.executable, "-m", "symdl.cli.main", "check", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, check=False)


def test_model_names_a_model_file_by_its_path_outside_the_project(tmp_path):
    src = tmp_path / "gru.tex"
    src.write_text(derivation("h_{t-1} - n_t"))
    proc = cli(tmp_path, "--model", str(MODELS / "gru.toml"), "--json", "--file", str(src))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["model"] == "gru"
    unknown = cli(tmp_path, "--model", "gru", "--file", str(src))  # not found without its path or --models
    assert unknown.returncode == 2 and "unknown model 'gru'" in unknown.stdout and "lstm" in unknown.stdout


def test_a_second_file_of_the_same_name_is_an_error_naming_both(tmp_path):
    other = tmp_path / "gru.toml"
    other.write_text((MODELS / "gru.toml").read_text())
    src = tmp_path / "gru.tex"
    src.write_text(derivation("h_{t-1} - n_t"))
    proc = cli(ROOT, "--model", str(other), "--file", str(src))  # the project's models/gru.toml is found too
    assert proc.returncode == 2
    assert "two models are named 'gru'" in proc.stdout and str(MODELS / "gru.toml") in proc.stdout \
        and str(other) in proc.stdout


def test_the_project_models_folder_named_again_is_one_model_not_two(tmp_path):
    """``--models models`` run in the project: the folder found beside derivations/ and the one named are the same
    files reached by two paths (relative and absolute); that is no clash."""
    src = tmp_path / "gru.tex"
    src.write_text(derivation("h_{t-1} - n_t"))
    proc = cli(ROOT, "--models", "models", "--model", "gru", "--json", "--file", str(src))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["model"] == "gru"


def test_a_sign_slip_inside_a_product_of_a_sum_is_diagnosed(tmp_path, capsys):
    r"""``diag(n_t - h_{t-1})`` written for ``diag(h_{t-1} - n_t)``: the term as written has the opposite sign.

    The claim is torch's: negating that one term of the hand form (torch values) gives GRUCell's jacrev."""
    assert gru_truth("n_t - h_{t-1}")[-1] == "not_equivalent" and gru_truth("h_{t-1} - n_t")[-1] == "equivalent"
    src = tmp_path / "gru.tex"
    src.write_text(derivation("n_t - h_{t-1}"))
    status, answer = run_json(capsys, "--models", str(MODELS), "--model", "gru", "--file", str(src))
    step = answer["steps"][answer["first_wrong"]]
    assert status == 1 and step["diagnosis"]["kind"] == "sign", step
    assert r"\operatorname{diag}\left(n_t - h_{t-1}\right)" in step["diagnosis"]["detail"]
