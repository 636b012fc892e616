r"""The ways in: ``symdl check`` on a derivation (``-``, ``--file``, ``--json``, exit status),
``symdl.check_derivation`` in a notebook, ``symdl.testing.assert_derivation`` in a test.

The truth of each link is written here from the model's definitions (REFERENCES.md) and checked
in torch where it is not plain: the rnn state's pre-activation ``a_t = W_1 h_{t-1} + W_2 x_t``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import symdl
from symdl.testing import assert_derivation

SYMDL = str(Path(sys.executable).with_name("symdl"))
EXIT = {"equivalent": 0, "not_equivalent": 1, "error": 2, "unknown": 3}

RNN = "Prose first.\nh_t = \\sigma(W_1 h_{t-1} + W_2 x_t)\n  = \\sigma(a_t) % by definition of a_t\n"
RNN_WRONG = "h_t = \\sigma(W_1 h_{t-1} + W_2 x_t)\n  = \\sigma(a_t + W_2 x_t)\n"
STEP_KEYS = ["index", "line", "column", "lhs", "rhs", "kind", "verdict", "method", "message", "reason", "lengths",
             "notes", "counterexample", "diagnosis"]


def _run(args, stdin=""):
    return subprocess.run([SYMDL, "check", *args], input=stdin, capture_output=True, text=True, timeout=240)


def test_the_truth_of_the_rnn_links_in_torch():
    g = torch.Generator().manual_seed(3)
    W1, W2 = torch.randn(3, 3, generator=g, dtype=torch.float64), torch.randn(3, 2, generator=g, dtype=torch.float64)
    h, x = torch.randn(3, generator=g, dtype=torch.float64), torch.randn(2, generator=g, dtype=torch.float64)
    a = W1 @ h + W2 @ x
    assert torch.allclose(torch.tanh(W1 @ h + W2 @ x), torch.tanh(a))  # RNN: both links hold
    assert not torch.allclose(torch.tanh(a), torch.tanh(a + W2 @ x))  # RNN_WRONG: the second does not


def test_standard_input_without_against_infers_the_model_and_answers_json():
    proc = _run(["--json", "-"], RNN)
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["verdict"] == "equivalent" and data["model"] == "rnn"
    assert list(data)[:8] == ["verdict", "first_wrong", "model", "method", "message", "final", "steps", "skipped"]
    assert [list(s) for s in data["steps"]] == [STEP_KEYS, STEP_KEYS]
    assert [(s["index"], s["line"], s["kind"], s["verdict"]) for s in data["steps"]] == [
        (0, 2, "link", "equivalent"), (1, 3, "link", "equivalent")]
    assert data["steps"][1]["reason"] == "by definition of a_t"
    assert data["skipped"] == [{"line": 1, "text": "Prose first."}]
    assert data["first_wrong"] is None and data["final"] is None


def test_a_file_with_a_wrong_step_exits_1_and_names_it(tmp_path):
    path = tmp_path / "rnn.tex"
    path.write_text(RNN_WRONG)
    proc = _run(["--file", str(path)])
    assert proc.returncode == 1
    first = proc.stdout.splitlines()[0]
    assert first.startswith("not_equivalent (rnn): step 1 (line 2)")
    assert "step 1 (line 2) is the first wrong step" in proc.stdout and "counterexample at" in proc.stdout
    assert _run(["--file", str(tmp_path / "missing.tex")]).returncode == 2


def test_a_single_form_keeps_its_keys_and_gains_steps_and_a_diagnosis():
    proc = _run(["--json", "--against", "rnn.state_jacobian", r"W_1^\top \operatorname{diag}(\sigma'(a_t))"])
    data = json.loads(proc.stdout)
    assert proc.returncode == 1 and data["verdict"] == "not_equivalent" and data["method"] == "numeric"
    assert {"message", "reference", "counterexample", "steps"} <= set(data)
    (step,) = data["steps"]
    assert step["diagnosis"] == {"kind": "transpose",
                                 "detail": "the transpose of the reference: you wrote the denominator layout"}
    human = _run(["--against", "rnn.state_jacobian", r"W_1^\top \operatorname{diag}(\sigma'(a_t))"]).stdout
    assert human.startswith("not_equivalent (numeric): differs from rnn.state_jacobian")
    assert "diagnosis: transpose" in human


def test_no_model_is_an_error_naming_the_candidates():
    proc = _run(["--json", "-"], "\\zeta = \\xi + \\chi\n")
    data = json.loads(proc.stdout)
    assert proc.returncode == 2 and data["verdict"] == "error" and "lstm" in data["message"]
    one = _run(["-"], "\\operatorname{diag}(f_t)\n")
    assert one.returncode == 2 and "--against" in one.stdout


def test_an_unreadable_file_names_its_line():
    proc = _run(["--json", "--model", "lstm", "-"], "c_t = f_t\n\\newcommand{\\x}{y}\n")
    data = json.loads(proc.stdout)
    assert proc.returncode == 2 and data["line"] == 2 and data["column"] == 1 and "\\newcommand" in data["message"]


def test_check_derivation_in_a_notebook():
    answer = symdl.check_derivation(RNN)
    assert bool(answer) and answer.verdict == "equivalent"
    page = answer._repr_html_()
    assert "<table>" in page and "\\sigma(a_t)" in page and "equivalent" in page


def test_assert_derivation_passes_and_fails_with_the_decisive_line_first():
    assert_derivation(RNN)
    with pytest.raises(AssertionError) as err:
        assert_derivation(RNN_WRONG)
    lines = str(err.value).splitlines()
    assert lines[0] == r"not equivalent: step 1 (line 2): \sigma(W_1 h_{t-1} + W_2 x_t) = \sigma(a_t + W_2 x_t)"
    assert lines[2].startswith("counterexample at")
    with pytest.raises(AssertionError) as err:
        assert_derivation("c_t = f_t \\odot \\frac{", against="lstm.cell_update")
    assert str(err.value).startswith("could not be read: step 0 (line 1")
    assert assert_derivation.__code__.co_varnames[:3] == ("text", "against", "model")


def test_assert_derivation_hides_its_own_frame():
    import inspect

    source = inspect.getsource(assert_derivation)
    assert "__tracebackhide__ = True" in source


def test_a_moment_line_against_adam_is_read_not_refused():
    proc = _run(["--json", "--against", "optim.adam", r"m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t"])
    data = json.loads(proc.stdout)
    assert proc.returncode == 0 and data["steps"][0]["verdict"] == "equivalent"
    assert data["final"]["verdict"] is None and "m_{t+1}" in data["final"]["message"]


def test_a_quantity_two_references_give_needs_against():
    answer = symdl.check_derivation(r"w_{t+1} = w_t - \gamma g_t", model="optim")
    assert answer.verdict == "error"
    assert "optim.heavy_ball, optim.rmsprop, optim.adam" in answer.steps[0].message


def test_time_limits_leave_links_unknown_and_go_on():
    slow = symdl.check_derivation(RNN, timeout=1e-4)
    assert [s.verdict for s in slow.steps] == ["unknown", "unknown"] and slow.verdict == "unknown"
    assert "timed out after" in slow.steps[0].message
    late = symdl.check_derivation(RNN, total_timeout=1e-9)
    assert [s.verdict for s in late.steps] == ["unknown", "unknown"]
    assert "time limit of 1e-09 s was reached" in late.steps[1].message
