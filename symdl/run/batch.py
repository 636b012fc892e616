r"""Grading many hand forms and derivations: the engine under ``symdl check --batch FILE.jsonl [--jobs N]``.

Each line of the batch is ``{"id": ..., "latex": ...}`` with ``against`` (a reference) and ``model``
optional (:mod:`symdl.run.lines`); a line with ``against`` and one formula is a single check, any
other a whole derivation.  The answer is one JSON verdict per line (the single check's keys, or the
derivation's, plus the line's ``id`` and its number ``line``), in input order as soon as every line
before it has its answer.

The batch is a stream: lines are read as the workers need them, and answers are written as soon as
they are in order, so that at most :data:`WINDOW` lines are held at once, whatever the batch's
length.  Every line is checked in a worker process (``jobs`` of them, forked as needed, each the
leader of its own process group so that its proof child goes with it):

- a single form still running after ``timeout`` + :data:`SLACK` seconds, or a derivation after
  ``total_timeout`` + :data:`SLACK`, is ``unknown`` and its worker is killed and replaced;
  it is not graded again (it would only run out of time again);
- a line whose worker dies (killed, out of memory, a crash) is graded once more, on a freshly
  forked worker; if that one dies too, the line is ``error`` with ``"lost": true``, and the
  command's exit status says that a line has no verdict;
- a line that cannot be read is ``error`` naming the line and why.  No line stops the others.

:func:`bounded_check` is the same machinery for one form: a check that answers within
``timeout + SLACK`` seconds whatever the input.
"""

from __future__ import annotations

import gc
import os
import resource
from collections import deque
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any, Iterable, Iterator, NamedTuple

from .lines import Task
from .pool import STOP, Pool

#: Seconds a line may run beyond its symbolic attempt's (or its derivation's) limit: reading, the
#: numeric witness.
SLACK = 4.0
#: Seconds for a whole derivation (``--total-timeout``).
TOTAL_TIMEOUT = 60.0
#: How many lines may be read ahead of the first line not yet answered: what bounds a batch's memory
#: (a slow line holds at most this many answers back).
WINDOW = 256


@dataclass(frozen=True)
class Derivation:
    """A whole derivation, as a worker is sent it (:func:`symdl.check_derivation`'s arguments)."""

    latex: str
    model: str | None = None
    against: str | None = None


class Answered(NamedTuple):
    """An item answered already (a line that cannot be read): it keeps its place in the order."""

    verdict: Any


@dataclass(frozen=True)
class Lost:
    """A line with no verdict: the worker grading it died, and so did the fresh one that graded it again."""

    job: Any
    message: str
    verdict: str = "error"

    def to_json(self) -> dict:
        return {**_answer(self.job, "error", self.message).to_json(), "lost": True}


# -- workers ---------------------------------------------------------------------------------------


def _serve(conn, timeout: float, total_timeout: float, memory: int | None) -> None:
    """A worker of :class:`~symdl.run.pool.Pool`: check each line it is sent and answer with its verdict."""
    if memory:  # room for ``memory`` more bytes than the forked image already maps
        limit = _mapped() + memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while (job := conn.recv()) is not STOP:
        conn.send(_check(job, timeout, total_timeout))


def _check(job, timeout: float, total_timeout: float):
    from ..grade.check import check

    try:
        if isinstance(job, Derivation):
            from ..grade.derivation import check_derivation

            return check_derivation(job.latex, job.model, job.against, timeout=timeout, total_timeout=total_timeout)
        against, latex = job
        return check(latex, against=against, timeout=timeout)
    except Exception as exc:  # one broken line answers for itself and the worker goes on
        return _answer(job, "error", f"the check failed: {type(exc).__name__}: {exc}")


def _answer(job, verdict: str, message: str):
    """A verdict the coordinator gives ``job`` itself, in the shape of the job's kind."""
    if isinstance(job, Derivation):
        from ..grade.answer import DerivationVerdict

        return DerivationVerdict(verdict, message, job.model)
    from ..grade.check import Verdict

    return Verdict(verdict, None, message, job[0])


def _mapped() -> int:
    """Bytes of address space this process maps now (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


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


def check_all(items: Iterable, *, jobs: int = 1, timeout: float = 10.0, line_timeout: float | None = None,
              total_timeout: float = TOTAL_TIMEOUT, memory: int | None = None,
              warm: int = WINDOW) -> Iterator[tuple[int, Any]]:
    """``(index, verdict)`` for each item, in order, checked by ``jobs`` workers.  An item is
    ``(against, latex)`` (a single check, stopped at ``line_timeout``, by default ``timeout`` +
    :data:`SLACK`), a :class:`Derivation` (stopped at ``total_timeout`` + :data:`SLACK`) or
    :class:`Answered`.  Items are read lazily; the references the first ``warm`` items name are
    prepared here, once for all workers (worth it for many lines; a batch read from a pipe waits
    for no more than its first line)."""
    from ..verify.bounded import MEMORY_LIMIT

    items = iter(items)
    head = list(islice(items, max(1, warm)))
    if not head:
        return
    if warm:
        _warm(item[0] for item in head if isinstance(item, tuple) and not isinstance(item, Answered))
    limits = (timeout + SLACK if line_timeout is None else line_timeout, total_timeout + SLACK)
    with Pool(_serve, timeout, total_timeout, MEMORY_LIMIT if memory is None else memory) as pool:
        yield from _Stream(pool, chain(head, items), max(1, jobs), limits).answers()


class _Stream:
    """Items handed to the pool's workers a line a worker at a time, read as needed, answered in order."""

    def __init__(self, pool: Pool, items: Iterator, jobs: int, limits: tuple[float, float]):
        self.pool, self.items, self.jobs, self.limits = pool, items, jobs, limits
        self.queue: deque = deque()  # (index, job) waiting for a worker
        self.done: dict[int, Any] = {}
        self.deaths: dict[int, list] = {}  # index -> exit codes of the workers that died grading it
        self.read = self.emitted = 0
        self.exhausted = False

    def answers(self) -> Iterator[tuple[int, Any]]:
        while True:
            while self.emitted in self.done:  # before reading on: a pipe's next line may wait for this answer
                yield self.emitted, self.done.pop(self.emitted)
                self.emitted += 1
            self._feed()
            if self.emitted in self.done:
                continue
            if self.exhausted and self.emitted == self.read and not self.queue:
                return
            if any(w.task is not None for w in self.pool.workers):
                for ev in self.pool.wait():
                    self._event(ev)

    def _feed(self) -> None:
        """Give a line to each worker that can take one (forking up to ``jobs``), reading a line only
        then: with ``jobs`` workers, the batch is read at most ``jobs`` lines ahead of the answers
        already written, and never past :data:`WINDOW`."""
        while True:
            idle = next((w for w in self.pool.workers if w.task is None), None)
            if idle is None and len(self.pool.workers) >= self.jobs:
                return
            if not self.queue:
                if self.exhausted or self.read - self.emitted >= WINDOW:
                    return
                item = next(self.items, None)
                if item is None:
                    self.exhausted = True
                    return
                self.read += 1
                if isinstance(item, Answered):
                    self.done[self.read - 1] = item.verdict
                    continue
                self.queue.append((self.read - 1, item))
            self._give(idle or self.pool.spawn(), self.queue.popleft())

    def _give(self, worker, task: tuple) -> None:
        worker.assign(task, self.limits[isinstance(task[1], Derivation)])
        if not self.pool.send(worker, task[1]):  # gone before it took the line: its death is the line's
            self.pool.kill(worker)
            self._died(task, None)

    def _event(self, ev) -> None:
        if ev.kind == "message":
            self.done[ev.task[0]] = ev.message
            ev.worker.release()
        elif ev.task is not None and ev.kind == "expired":
            index, job = ev.task
            limit = self.limits[isinstance(job, Derivation)]
            self.done[index] = _answer(job, "unknown", f"no verdict within {limit:g} s of wall-clock time (the "
                                       "line was stopped; " + _LIMITS[isinstance(job, Derivation)] + ")")
        elif ev.task is not None:
            self._died(ev.task, ev.code)

    def _died(self, task: tuple, code) -> None:
        index, job = task
        codes = self.deaths.setdefault(index, []) + [code]
        if len(codes) < 2:  # once more, on a worker forked for it
            self.deaths[index] = codes
            self._give(self.pool.spawn(), task)
            return
        del self.deaths[index]
        self.done[index] = Lost(job, "the process checking this line died (exit code {}), and so did the fresh "
                                     "one that checked it again (exit code {}): the line has no verdict".format(*codes))


_LIMITS = ("its symbolic attempt had --timeout, reading and the numeric witness the rest",
           "a derivation has --total-timeout, reading the rest")


def bounded_check(latex: str, against: str, *, timeout: float = 10.0, line_timeout: float | None = None):
    """:func:`symdl.check` in a worker process, answered within ``timeout + SLACK`` seconds."""
    answers = check_all([(against, latex)], jobs=1, timeout=timeout, line_timeout=line_timeout, warm=0)
    try:
        return next(answers)[1]
    finally:
        answers.close()


def job(task: Task):
    """What a worker is sent for ``task``: a single check, a derivation, or the line's own problem."""
    if task.problem:
        from ..grade.check import Verdict

        return Answered(Verdict("error", None, task.problem, task.against))
    return Derivation(task.latex, task.model, task.against or None) if task.derivation else (task.against, task.latex)


def answer(task: Task, verdict) -> dict:
    """The JSON-ready answer of ``task``'s line: its id and number, the verdict, and notes on what was read."""
    out = {"id": task.id, "line": task.line, **(verdict if isinstance(verdict, dict) else verdict.to_json())}
    if task.notes:
        out["notes"] = list(task.notes)
    return out


def grade(tasks: Iterable[Task], *, jobs: int = 1, timeout: float = 10.0, line_timeout: float | None = None,
          total_timeout: float = TOTAL_TIMEOUT, warm: int = WINDOW) -> Iterator[dict]:
    """One JSON-ready verdict per task, in order, each with the line's ``id`` and number; ``tasks`` are
    read as the workers need them (and the first ``warm`` to prepare their references)."""
    taken: deque = deque()

    def items():
        for task in tasks:
            taken.append(task)
            yield job(task)

    for _, verdict in check_all(items(), jobs=jobs, timeout=timeout, line_timeout=line_timeout,
                                total_timeout=total_timeout, warm=warm):
        yield answer(taken.popleft(), verdict)
