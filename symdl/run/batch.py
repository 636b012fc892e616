r"""Grading many hand forms: ``symdl check --batch FILE.jsonl [--jobs N]``.

Each line of the batch is ``{"id": ..., "against": NAME, "latex": ...}``.  The
answer is one JSON verdict per line (:meth:`symdl.grade.check.Verdict.to_json` plus
the line's ``id`` and its number ``line``), streamed in input order as soon as
every line before it has its answer.

Every line is checked in a worker process (``jobs`` of them, forked once, each
the leader of its own process group so that its proof child goes with it).  A
line that takes longer than its wall-clock limit gets ``unknown`` and its
worker is killed and replaced; a line that is not JSON, or lacks a key, gets
``error`` naming the line and the reason.  No line stops the others.

:func:`bounded_check` is the same machinery for one form: a check that
answers within ``timeout + SLACK`` seconds whatever the input.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import sys
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from .pool import STOP, Pool, coordinating

#: Seconds a line may run beyond the symbolic attempt's limit (reading, the numeric witness).
SLACK = 4.0
KEYS = ("id", "against", "latex")


@dataclass(frozen=True)
class Task:
    """One line of a batch: what to check, or why it cannot be checked."""

    line: int
    id: Any = None
    against: str = ""
    latex: str = ""
    problem: str = ""


def parse_line(number: int, text: str) -> Task:
    """Line ``number`` (1-based) of a batch as a :class:`Task`; a bad line carries its problem."""
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return Task(number, problem=f"line {number} is not JSON ({exc})")
    if not isinstance(obj, dict):
        return Task(number, problem=f"line {number} is a JSON {type(obj).__name__}, not an object with "
                                    f"the keys {', '.join(KEYS)}")
    missing = [k for k in KEYS if k not in obj]
    if missing:
        return Task(number, obj.get("id"), problem=f"line {number} lacks the key{'s' if len(missing) > 1 else ''} "
                                                  f"{', '.join(missing)}")
    wrong = [k for k in ("against", "latex") if not isinstance(obj[k], str)]
    if wrong:
        return Task(number, obj["id"], problem=f"line {number}: {', '.join(wrong)} must be a string, got "
                                              + ", ".join(type(obj[k]).__name__ for k in wrong))
    return Task(number, obj["id"], obj["against"], obj["latex"])


def read_tasks(stream) -> list[Task]:
    """Every non-blank line of ``stream``; lines keep their numbers in the file."""
    return [parse_line(n, text) for n, text in enumerate(stream, start=1) if text.strip()]


# -- workers ---------------------------------------------------------------------------------------


def _serve(conn, timeout: float, memory: int | None) -> None:
    """A worker of :class:`~symdl.run.pool.Pool`: check each line it is sent and answer with its Verdict."""
    if memory:  # room for ``memory`` more bytes than the forked image already maps
        limit = _mapped() + memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from ..grade.check import Verdict, check

    while (task := conn.recv()) is not STOP:
        against, latex = task
        try:
            verdict = check(latex, against=against, timeout=timeout)
        except Exception as exc:  # one broken line answers for itself and the worker goes on
            verdict = Verdict("error", None, f"the check failed: {type(exc).__name__}: {exc}", against)
        conn.send(verdict)


def _mapped() -> int:
    """Bytes of address space this process maps now (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _unknown(against: str, limit: float):
    from ..grade.check import Verdict

    return Verdict("unknown", None, f"no verdict within {limit:g} s of wall-clock time (the line was stopped; "
                                    "its symbolic attempt had --timeout, reading and the numeric witness the rest)",
                   against)


def _died(against: str, code):
    from ..grade.check import Verdict

    return Verdict("error", None, f"the process checking this line died (exit code {code})", against)


def _warm(names: Iterable[str]) -> None:
    """Do here, once, what every forked worker would otherwise do for itself: load the parser,
    build each named reference's model (only the model modules the batch names) and its compiled
    numeric code (by checking it against itself), and import the proof's module, which each proof
    child (forked from its worker, one per line) would otherwise import again (about 8% of a batch's
    grading time).  Workers are forked after this, so that they start with all of it.  The garbage
    collector waits meanwhile: SymPy makes many objects and few cycles (4% less time here)."""
    from ..core import normal  # noqa: F401  (imported for the proof children)
    from ..grade.check import find_reference, numeric_witness
    from ..reader.grammar import parser

    collecting = gc.isenabled()
    gc.disable()
    try:
        parser()
        for name in dict.fromkeys(names):
            try:
                ref = find_reference(name)
                numeric_witness(ref.expr, ref)
            except Exception:  # an unknown name is answered per line, by the worker
                pass
    finally:
        if collecting:
            gc.enable()


def check_all(items: list[tuple[str, str]], *, jobs: int = 1, timeout: float = 10.0,
              line_timeout: float | None = None, memory: int | None = None,
              warm: bool = True) -> Iterator[tuple[int, Any]]:
    """``(index, Verdict)`` for each ``(against, latex)`` of ``items``, in order, checked by ``jobs``
    workers; a check still running after ``line_timeout`` seconds is stopped and answered ``unknown``.
    ``warm`` prepares the references here first, once for all workers (worth it for many lines)."""
    from ..verify.bounded import MEMORY_LIMIT

    if not items:
        return
    if warm:
        _warm(a for a, _ in items)
    with Pool(_serve, timeout, MEMORY_LIMIT if memory is None else memory) as pool:
        for _ in range(max(1, min(jobs, len(items)))):
            pool.spawn()
        yield from _answers(pool, items, timeout + SLACK if line_timeout is None else line_timeout)


def _answers(pool: Pool, items: list[tuple[str, str]], limit: float) -> Iterator[tuple[int, Any]]:
    """Hand the lines to the pool's workers, a line a worker at a time, and yield the verdicts in order."""
    queue = deque(enumerate(items))
    done: dict[int, Any] = {}
    emitted = 0
    while emitted < len(items):
        for w in list(pool.workers):
            if w.task is None and queue:
                _give(pool, w, *queue.popleft(), limit)
        while emitted in done:
            yield emitted, done.pop(emitted)
            emitted += 1
        if not any(w.task is not None for w in pool.workers):
            continue
        for ev in pool.wait():
            if ev.kind == "message":
                done[ev.task] = ev.message
                ev.worker.release()
                continue
            if ev.task is not None:  # the line's worker died, or was killed at the line's limit
                against = items[ev.task][0]
                done[ev.task] = _died(against, ev.code) if ev.kind == "died" else _unknown(against, limit)
            if queue:
                pool.spawn()


def _give(pool: Pool, w, index: int, item: tuple[str, str], limit: float) -> None:
    w.assign(index, limit)
    if not pool.send(w, item):  # the worker is gone: replace it and try once more
        pool.kill(w)
        w = pool.spawn()
        w.assign(index, limit)
        pool.send(w, item)  # failing again, its death is this line's answer


def bounded_check(latex: str, against: str, *, timeout: float = 10.0, line_timeout: float | None = None):
    """:func:`symdl.check` in a worker process, answered within ``timeout + SLACK`` seconds."""
    answers = check_all([(against, latex)], jobs=1, timeout=timeout, line_timeout=line_timeout, warm=False)
    try:
        return next(answers)[1]
    finally:
        answers.close()


def grade(tasks: list[Task], *, jobs: int = 1, timeout: float = 10.0,
          line_timeout: float | None = None) -> Iterator[dict]:
    """One JSON-ready verdict per task, in order, each with the line's ``id`` and number."""
    from ..grade.check import Verdict

    good = [t for t in tasks if not t.problem]
    verdicts = check_all([(t.against, t.latex) for t in good], jobs=jobs, timeout=timeout,
                         line_timeout=line_timeout)
    for task in tasks:
        if task.problem:
            verdict = Verdict("error", None, task.problem, task.against)
        else:
            verdict = next(verdicts)[1]
        yield {"id": task.id, "line": task.line, **verdict.to_json()}


def run_batch(path: str, *, jobs: int = 1, timeout: float = 10.0, out=None, err=None) -> int:
    """The ``--batch`` subcommand: verdicts to ``out`` as JSON lines, a count to ``err``.

    Exit status 0 when every line got its verdict (whatever the verdicts), 2 when the batch
    could not be read or the options are wrong.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if jobs < 1:
        print(f"symdl check: --jobs must be at least 1, got {jobs}", file=err)
        return 2
    if not timeout > 0:
        print(f"symdl check: --timeout must be > 0, got {timeout}", file=err)
        return 2
    try:
        if path == "-":
            tasks = read_tasks(sys.stdin)
        else:
            with open(path, encoding="utf-8", errors="replace") as f:
                tasks = read_tasks(f)
    except OSError as exc:
        print(f"symdl check: cannot read the batch {path}: {exc.strerror or exc}", file=err)
        return 2
    counts: dict[str, int] = {}
    start = time.monotonic()
    with coordinating():
        try:
            for answer in grade(tasks, jobs=jobs, timeout=timeout):
                counts[answer["verdict"]] = counts.get(answer["verdict"], 0) + 1
                print(json.dumps(answer), file=out, flush=True)
        except BrokenPipeError:  # the reader stopped (| head): stop grading, quietly
            sys.stdout = open(os.devnull, "w")
            return 0
    summary = ", ".join(f"{counts[v]} {v}" for v in ("equivalent", "not_equivalent", "unknown", "error") if v in counts)
    print(f"symdl check: {len(tasks)} lines graded in {time.monotonic() - start:.2f} s with {jobs} "
          f"job{'s' if jobs > 1 else ''}" + (f": {summary}" if summary else ""), file=err)
    return 0
