r"""Faults in a batch: a dead worker costs one retry, not a verdict; a killed command leaves no process.

Each test kills real processes by their PIDs and holds the answers against a clean run of the same
lines: each line exactly once, in order.  Waits poll with generous limits; the only time asserted is
the issue's own (no process of the batch left 3 s after the kill)."""

from __future__ import annotations

import importlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from symdl.run.batch import check_all
from symdl.run.command import EXIT_LOST, run_batch

SYMDL = str(Path(sys.executable).parent / "symdl")
LINES = [("optim.heavy_ball", r"w_t - \gamma g_t + \beta (w_t - w_{t-1})"), ("optim.heavy_ball", r"w_t - \gamma g_t"),
         ("rnn.state_jacobian", r"\operatorname{diag}(\sigma'(a_t)) W_1"),
         ("lstm.cell_jacobian_direct", r"\operatorname{diag}(i_t)")]


def processes() -> dict[int, tuple[int, int]]:
    """Every live process: pid -> (parent pid, process group); zombies count as gone."""
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] not in ("Z", "X"):
                out[int(name)] = (int(fields[1]), int(fields[2]))  # fields: state, ppid, pgrp, session, ...
    return out


def descendants(root: int) -> set[int]:
    procs, found, grew = processes(), {root}, True
    while grew:
        more = {p for p, (parent, _) in procs.items() if parent in found} - found
        found |= more
        grew = bool(more)
    return found - {root}


def groups_of(pids: set[int]) -> set[int]:
    """The process groups of those of ``pids`` still alive (one look at /proc: a process may end meanwhile)."""
    now = processes()
    return {now[p][1] for p in pids if p in now}


def left_after(pids: set[int], groups: set[int], seconds: float) -> set[int]:
    """The processes of ``pids``, or of the process groups ``groups``, still alive ``seconds`` from now
    (or as soon as none is); never this process's own group."""
    groups = groups - {os.getpgrp()}
    deadline = time.monotonic() + seconds
    while True:
        alive = {p for p, (_, g) in processes().items() if p in pids or g in groups}
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def _fake(real, marker: Path):
    """``check`` whose worker dies on DIE_ONCE the first time only (a marker file says it died), dies on
    DIE always, and checks everything else for real."""
    def fake(latex, against, timeout=10.0, **kw):
        if latex == "DIE" or (latex == "DIE_ONCE" and not marker.exists()):
            marker.write_text("died")
            os._exit(9)
        return real(LINES[0][1] if latex == "DIE_ONCE" else latex, against=against, timeout=timeout, **kw)

    return fake


def test_a_dead_worker_costs_one_retry_and_a_second_death_leaves_the_line_lost(monkeypatch, tmp_path):
    check_module = importlib.import_module("symdl.grade.check")
    monkeypatch.setattr(check_module, "check", _fake(check_module.check, tmp_path / "died"))
    clean = [v.to_json() for _, v in check_all(LINES, jobs=2, timeout=5.0)]
    items = [LINES[0], ("optim.heavy_ball", "DIE_ONCE"), *LINES[1:], ("optim.heavy_ball", "DIE")]
    got = [v.to_json() for _, v in check_all(items, jobs=2, timeout=5.0)]
    assert got[0] == clean[0] and got[1] == clean[0] and got[2:5] == clean[1:]  # regraded: the clean verdict
    assert got[5]["verdict"] == "error" and got[5]["lost"] is True
    assert "died (exit code 9), and so did the fresh one" in got[5]["message"]
    batch = tmp_path / "b.jsonl"
    batch.write_text("".join(json.dumps({"id": i, "against": a, "latex": t}) + "\n" for i, (a, t) in enumerate(items)))
    out, err = io.StringIO(), io.StringIO()
    assert run_batch(str(batch), jobs=2, timeout=5.0, out=out, err=err) == EXIT_LOST == 4
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == list(range(len(items)))


def test_kill_9_on_the_command_mid_batch_leaves_no_process(tmp_path):
    batch = tmp_path / "b.jsonl"
    batch.write_text("".join(json.dumps({"id": i, "against": a, "latex": t}) + "\n"
                             for i, (a, t) in enumerate(LINES * 30)))
    out = (tmp_path / "out").open("w")
    proc = subprocess.Popen([SYMDL, "check", "--batch", str(batch), "--jobs", "2"], stdout=out,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (
                len(descendants(proc.pid)) >= 2 and (tmp_path / "out").read_text().count("\n") >= 2):
            time.sleep(0.05)
        batch_procs = descendants(proc.pid)
        assert len(batch_procs) >= 2, "the batch never started its workers"
        groups = groups_of(batch_procs)
        proc.kill()
        proc.wait(30)
        left = left_after(batch_procs, groups, 3.0)
        for p in left:
            os.kill(p, signal.SIGKILL)
        assert left == set()
    finally:
        proc.kill()
        proc.wait()
        out.close()


def test_sigterm_stops_like_ctrl_c_and_resume_grades_only_the_rest(tmp_path):
    rows = [{"id": i, "against": a, "latex": t} for i, (a, t) in enumerate(LINES * 5)]
    batch, output = tmp_path / "b.jsonl", tmp_path / "verdicts.jsonl"
    batch.write_text("".join(json.dumps(r) + "\n" for r in rows))
    clean = subprocess.run([SYMDL, "check", "--batch", str(batch)], capture_output=True, text=True, timeout=300)
    partial = output.with_name(output.name + ".partial")
    proc = subprocess.Popen([SYMDL, "check", "--batch", str(batch), "--output", str(output)],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (partial.exists() and partial.read_text().count("\n") >= 3):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM and "interrupted; no output was left half-written" in err
    kept = partial.read_text()
    assert kept.endswith("\n") and clean.stdout.startswith(kept) and not output.exists()
    with partial.open("a") as f:
        f.write('{"id": 99, "line": 9')  # half a line, as a power cut would leave it
    resumed = subprocess.run([SYMDL, "check", "--batch", str(batch), "--output", str(output), "--resume"],
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert output.read_text() == clean.stdout and not partial.exists()
    assert f"{len(rows) - kept.count(chr(10))} lines graded" in resumed.stderr


def test_a_derivation_past_its_total_limit_is_unknown_and_not_graded_again(monkeypatch, tmp_path):
    from symdl.run.batch import Derivation

    derivation_module = importlib.import_module("symdl.grade.derivation")
    starts = tmp_path / "starts"

    def slow(text, model=None, against=None, **kw):
        with starts.open("a") as f:
            f.write("start\n")
        time.sleep(120)

    monkeypatch.setattr(derivation_module, "check_derivation", slow)
    got = list(check_all([Derivation("m_{t+1} = m_t", "optim"), LINES[0]], jobs=1, timeout=5.0, total_timeout=0.5))
    assert got[0][1].verdict == "unknown" and "no verdict within 4.5 s" in got[0][1].message
    assert "--total-timeout" in got[0][1].message and got[0][1].to_json()["steps"] == []
    assert got[1][1].verdict == "equivalent" and starts.read_text() == "start\n"  # stopped once, not retried
