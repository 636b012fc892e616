r"""A batch read, graded and written as a stream: one bad line never sinks the others, and what is written
is strict JSON (``symdl.run.lines``, ``symdl.run.batch``, ``symdl.run.command``).

Each line's answer is held against what the line is, decided here by Python's own ``json`` and
by counting, never by the code under test."""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symdl.run import lines as lines_module
from symdl.run.lines import read_tasks

SYMDL = str(Path(sys.executable).parent / "symdl")
GOOD = {"id": "ok", "against": "optim.heavy_ball", "latex": r"w_t - \gamma g_t + \beta (w_t - w_{t-1})"}


def _strict(text: str):
    """``json.loads`` that refuses NaN and Infinity, as a JavaScript reader does."""
    def refuse(token):
        raise ValueError(f"not strict JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def _bad_lines() -> list[bytes]:
    """Lines that cannot be read, each for a reason of its own, and what the answer must say."""
    return [
        b"[" * 100_000,                                    # RecursionError at any depth
        b'{"id": 1, "latex": "x", "nested": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"id": ' + b"9" * 5000 + b', "latex": "x"}',  # more digits than Python converts
        b'{"id": "caf\xe9", "latex": "x"}',              # Latin-1, not UTF-8
        b"{oops",
    ]


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_lines_that_cannot_be_read_are_answered_each_and_the_rest_are_graded(tmp_path, locale):
    good = json.dumps(GOOD).encode()
    body = b"\n".join([good, *_bad_lines(), b"", good]) + b"\n"
    env = {**os.environ, "LC_ALL": locale, "PYTHONIOENCODING": "ascii:strict"}
    proc = subprocess.run([SYMDL, "check", "--batch", "-", "--timeout", "5"], input=body, capture_output=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    out = [_strict(line) for line in proc.stdout.decode().splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 5, 6, 8]  # line 7 is blank: skipped, numbers kept
    assert [o["verdict"] for o in out] == ["equivalent"] + ["error"] * 5 + ["equivalent"]
    messages = [o["message"] for o in out[1:6]]
    assert "line 2 is nested too deeply" in messages[0] and "line 3 is nested too deeply" in messages[1]
    assert "line 4 cannot be read" in messages[2] and "4300 digits" in messages[2]
    assert messages[3] == "line 5 is not UTF-8: byte 0xe9 at column 12 cannot be decoded"
    assert messages[4].startswith("line 6 is not JSON")


def test_numbers_strict_json_cannot_carry_are_written_as_strings_and_the_answer_says_so():
    rows = [b'{"id": NaN, "against": "optim.gd", "latex": "x"}', b'{"id": 1e999, "against": "optim.gd", "latex": "x"}',
            b'{"id": [-Infinity, 2.5], "against": "optim.gd", "latex": "x"}', b'\xef\xbb\xbf{"id": 3, "latex": "x"}']
    tasks = list(read_tasks(io.BytesIO(rows[3] + b"\n" + b"\n".join(rows[:3]) + b"\n")))
    assert [t.id for t in tasks] == [3, "NaN", "1e999", ["-Infinity", 2.5]]  # a byte-order mark is no problem
    assert tasks[0].notes == () and all(not t.problem for t in tasks)
    assert tasks[2].notes == ('1e999 is a number strict JSON cannot carry: it was read, and is written back, '
                              'as the string "1e999"',)


def test_a_line_past_the_longest_is_answered_without_being_held(monkeypatch):
    monkeypatch.setattr(lines_module, "MAX_LINE", 120)
    text = json.dumps(GOOD).replace("ok", "x" * 300) + "\n" + json.dumps(GOOD) + "\n"
    tasks = list(read_tasks(io.BytesIO(text.encode())))
    assert tasks[0].problem == "line 1 is longer than 120 bytes" and tasks[1].line == 2 and tasks[1].id == "ok"


def _readline(stream, seconds: float) -> bytes:
    """One line of ``stream`` within ``seconds``, else b"" (the process has not written it)."""
    deadline = time.monotonic() + seconds
    buf = b""
    while not buf.endswith(b"\n") and time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.5)
        if ready:
            chunk = os.read(stream.fileno(), 1)
            if not chunk:
                break
            buf += chunk
    return buf


def test_each_answer_is_written_before_the_next_line_is_even_sent():
    """With one job the batch is read one line ahead of the answers (with N jobs, N lines ahead)."""
    proc = subprocess.Popen([SYMDL, "check", "--batch", "-", "--jobs", "1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        for i in range(3):
            proc.stdin.write((json.dumps({**GOOD, "id": i}) + "\n").encode())
            proc.stdin.flush()
            answer = _readline(proc.stdout, 120)  # the batch is not over: the line is answered all the same
            assert _strict(answer)["id"] == i and _strict(answer)["verdict"] == "equivalent"
        proc.stdin.close()
        assert proc.wait(120) == 0 and proc.stdout.read() == b""
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
