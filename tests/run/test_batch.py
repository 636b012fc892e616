r"""Batch grading: ``symdl check --batch FILE.jsonl [--jobs N]`` and :mod:`symdl.run.batch`.

One JSON verdict per line, in input order, each with the line's id; a line
that is not JSON or lacks a key is an error naming the line, a line slower
than its wall-clock limit is ``unknown`` and its worker is killed, and neither
stops the others.  Exit status: 0 once every line has its verdict, 2 when the
batch cannot be read.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symdl.run.batch import bounded_check, check_all, grade
from symdl.run.lines import Task, parse_line, read_tasks

SYMDL = str(Path(sys.executable).parent / "symdl")

#: (reference, hand form, verdict a person would give)
LINES = [
    ("optim.heavy_ball", r"w_t - \gamma g_t + \beta (w_t - w_{t-1})", "equivalent"),
    ("optim.heavy_ball", r"w_t - \gamma g_t", "not_equivalent"),
    ("rnn.state_jacobian", r"\operatorname{diag}(\sigma'(a_t)) W_1", "equivalent"),
    ("rnn.state_jacobian", r"W_1^\top \operatorname{diag}(\sigma'(a_t))", "not_equivalent"),
    ("lstm.cell_jacobian_direct", r"\operatorname{diag}(f_t)", "equivalent"),
    ("lstm.cell_jacobian_direct", r"\operatorname{diag}(i_t)", "not_equivalent"),
    ("lstm.cell_update", r"f_t \odot c_{t-1} + i_t \odot g_t", "equivalent"),
    ("optim.adam", r"w_t + \input{/etc/passwd}", "error"),
    ("optim.adam", r"w_t - \gamma \frac{m_{t+1}}{\sqrt{v_{t+1}} + \epsilon}", "not_equivalent"),
    ("nope.nothing", r"x", "error"),
]


def _jsonl(rows) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _run(args, stdin: str = "", timeout: float = 120):
    return subprocess.run([SYMDL, "check", *args], input=stdin, capture_output=True, text=True, timeout=timeout)


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


# -- the command ------------------------------------------------------------------------------------------------


def test_verdicts_come_in_input_order_with_ids_and_bad_lines_do_not_stop_the_rest(tmp_path):
    rows = [{"id": f"s{i}", "against": a, "latex": t} for i, (a, t, _) in enumerate(LINES)]
    text = _jsonl(rows[:3]) + "this is not json\n" + _jsonl(rows[3:5]) + '{"id": "no-latex", "against": "optim.gd"}\n' \
        + "\n" + '[1, 2]\n' + '{"id": 7, "against": "optim.gd", "latex": 3}\n' + _jsonl(rows[5:])
    path = tmp_path / "answers.jsonl"
    path.write_text(text)
    proc = _run(["--batch", str(path), "--jobs", "2", "--timeout", "2"])
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["s0", "s1", "s2", None, "s3", "s4", "no-latex", None, 7] + \
        [f"s{i}" for i in range(5, len(LINES))]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 5, 6, 7, 9, 10] + list(range(11, 11 + len(LINES) - 5))
    graded = [o for o in out if isinstance(o["id"], str) and o["id"].startswith("s")]
    assert [o["verdict"] for o in graded] == [want for _, _, want in LINES]
    bad = {o["line"]: o for o in out if o["line"] in (4, 7, 9, 10)}
    assert bad[4]["verdict"] == "error" and "line 4 is not JSON" in bad[4]["message"]
    assert "line 7 lacks the key latex" in bad[7]["message"]
    assert "line 9 is a JSON list" in bad[9]["message"]
    assert "line 10: latex must be a string" in bad[10]["message"]
    assert "unknown reference 'nope.nothing'" in graded[-1]["message"]
    assert "root:" not in proc.stdout
    assert "graded" in proc.stderr and "with 2 jobs" in proc.stderr


def test_jobs_one_and_two_give_the_same_verdicts():
    text = _jsonl({"id": i, "against": a, "latex": t} for i, (a, t, _) in enumerate(LINES))
    one, two = (_run(["--batch", "-", "--jobs", j, "--timeout", "2"], text) for j in ("1", "2"))
    def verdicts(proc):  # the proof's own message may differ with the load: compare what was decided
        return [(o["id"], o["verdict"]) for o in map(json.loads, proc.stdout.splitlines())]

    assert verdicts(one) == verdicts(two) == [(i, want) for i, (_, _, want) in enumerate(LINES)]


def test_exit_statuses():
    assert _run(["--batch", "/nonexistent/answers.jsonl"]).returncode == 2
    missing = _run(["--batch", "/nonexistent/answers.jsonl"])
    assert "cannot read the batch" in missing.stderr and "Traceback" not in missing.stderr
    assert _run(["--batch", "-", "--jobs", "0"], "").returncode == 2
    assert _run(["--batch", "-", "--timeout", "0"], "").returncode == 2
    empty = _run(["--batch", "-"], "")
    assert empty.returncode == 0 and empty.stdout == ""
    only_bad = _run(["--batch", "-"], "{\n")
    assert only_bad.returncode == 0 and json.loads(only_bad.stdout)["verdict"] == "error"
    assert _run([], "x").returncode == 2  # neither --against nor --batch


# -- the engine ---------------------------------------------------------------------------------------------------


def test_parse_line_says_which_line_and_why():
    assert parse_line(3, '{"id": 1, "against": "a", "latex": "x"}') == Task(3, 1, "a", "x")
    assert parse_line(5, "{oops").problem.startswith("line 5 is not JSON")
    assert parse_line(6, '{"other": 1}').problem == "line 6 lacks the keys id, latex"
    assert parse_line(6, '{"id": 1}').problem == "line 6 lacks the key latex"
    assert parse_line(7, '"text"').problem.startswith("line 7 is a JSON str")
    assert [t.line for t in read_tasks(["\n", '{"id": 1, "against": "a", "latex": "x"}\n', "  \n", "x\n"])] == [2, 4]
    assert parse_line(2, '{"id": 1, "latex": "x", "model": 3}').problem == "line 2: model must be a string, got int"


def _fake_check(real):
    """``check`` that sleeps on SLOW (with a child of its own, as a proof would have), dies on DIE,
    raises on RAISE, and otherwise checks for real."""

    def fake(latex, against, timeout=10.0, **kw):
        if latex.startswith("SLOW"):
            child = subprocess.Popen(["sleep", "120"])
            Path(latex.split(":", 1)[1]).write_text(f"{os.getpid()} {child.pid}")
            time.sleep(120)
        if latex == "DIE":
            os._exit(7)
        if latex == "RAISE":
            raise RuntimeError("boom")
        return real(latex, against=against, timeout=timeout, **kw)

    return fake


def test_a_slow_line_times_out_and_its_processes_are_killed_while_the_others_finish(monkeypatch, tmp_path):
    check_module = importlib.import_module("symdl.grade.check")  # the module; symdl.check is also the function
    monkeypatch.setattr(check_module, "check", _fake_check(check_module.check))
    pids = tmp_path / "pids"
    items = [("optim.heavy_ball", f"SLOW:{pids}")] + [(a, t) for a, t, _ in LINES[:4]]
    answers = list(check_all(items, jobs=2, timeout=1.0, line_timeout=3.0))
    assert [i for i, _ in answers] == list(range(len(items)))
    slow = answers[0][1]
    assert slow.verdict == "unknown" and "no verdict within 3 s" in slow.message
    assert [v.verdict for _, v in answers[1:]] == [want for _, _, want in LINES[:4]]
    worker, child = map(int, pids.read_text().split())
    assert not _alive(worker) and not _alive(child)


def test_a_line_that_kills_its_worker_or_raises_is_answered_and_the_rest_go_on(monkeypatch):
    check_module = importlib.import_module("symdl.grade.check")  # the module; symdl.check is also the function
    monkeypatch.setattr(check_module, "check", _fake_check(check_module.check))
    items = [("optim.heavy_ball", "DIE"), LINES[0][:2], ("optim.heavy_ball", "RAISE"), LINES[1][:2]]
    verdicts = [v for _, v in check_all(items, jobs=1, timeout=1.0)]
    assert verdicts[0].verdict == "error" and "died (exit code 7)" in verdicts[0].message
    assert verdicts[2].verdict == "error" and "RuntimeError: boom" in verdicts[2].message
    assert [verdicts[1].verdict, verdicts[3].verdict] == ["equivalent", "not_equivalent"]


def test_grade_keeps_order_when_an_early_line_is_the_slowest(monkeypatch, tmp_path):
    check_module = importlib.import_module("symdl.grade.check")  # the module; symdl.check is also the function
    monkeypatch.setattr(check_module, "check", _fake_check(check_module.check))
    rows = [{"id": "slow", "against": "optim.heavy_ball", "latex": f"SLOW:{tmp_path / 'p'}"}] + \
        [{"id": i, "against": a, "latex": t} for i, (a, t, _) in enumerate(LINES[:3])]
    tasks = read_tasks([json.dumps(r) for r in rows])
    out = list(grade(tasks, jobs=2, timeout=1.0, line_timeout=2.0))
    assert [o["id"] for o in out] == ["slow", 0, 1, 2]
    assert out[0]["verdict"] == "unknown" and [o["verdict"] for o in out[1:]] == [w for _, _, w in LINES[:3]]


def test_bounded_check_answers_a_single_form(monkeypatch, tmp_path):
    verdict = bounded_check(LINES[0][1], LINES[0][0], timeout=2.0)
    assert verdict.verdict == "equivalent"
    verdict = bounded_check(r"\frac{", "optim.adam", timeout=2.0)
    assert verdict.verdict == "error" and verdict.position == 6
    check_module = importlib.import_module("symdl.grade.check")  # what `symdl check` runs: stopped at its limit
    monkeypatch.setattr(check_module, "check", _fake_check(check_module.check))
    verdict = bounded_check(f"SLOW:{tmp_path / 'p'}", "optim.adam", timeout=0.5, line_timeout=1.5)
    assert verdict.verdict == "unknown" and "no verdict within 1.5 s" in verdict.message


@pytest.mark.parametrize("jobs", [1, 3])
def test_more_jobs_than_lines_and_one_job_both_answer_every_line(jobs):
    items = [(a, t) for a, t, _ in LINES[:2]]
    assert [v.verdict for _, v in check_all(items, jobs=jobs, timeout=1.0)] == ["equivalent", "not_equivalent"]


def test_freezing_the_heap_at_exit_leaves_a_programs_own_registration_alone():
    import subprocess
    import sys

    code = ("import atexit, gc\n"
            "atexit.register(gc.freeze)\n"  # the program's own
            "from symdl.run.heap import freeze_heap_at_exit\n"
            "before = atexit._ncallbacks()\n"
            "freeze_heap_at_exit(); freeze_heap_at_exit()\n"
            "print(before, atexit._ncallbacks())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    before, after = map(int, out.split())
    assert before >= 1 and after == before + 1  # the program's own stays; symdl's is added once


def test_symdl_grade_is_check_batch(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_text(_jsonl({"id": i, "against": a, "latex": t} for i, (a, t, _) in enumerate(LINES[:3])))
    graded = subprocess.run([SYMDL, "grade", str(path), "--jobs", "2", "--timeout", "5"], capture_output=True,
                            text=True, timeout=300)
    checked = _run(["--batch", str(path), "--jobs", "2", "--timeout", "5"])
    assert graded.returncode == checked.returncode == 0 and graded.stdout == checked.stdout
    assert [json.loads(line)["verdict"] for line in graded.stdout.splitlines()] == [w for _, _, w in LINES[:3]]
