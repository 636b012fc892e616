r"""Batch grading over a Dask cluster: ``grade_dask(tasks, client, chunk=...)``.

A thin, optional adapter (``pip install 'symdl[dask]'``): the batch is cut into
chunks, each chunk is one Dask task that runs :func:`grade_chunk` (the local
grader, :func:`symdl.run.batch.check_all`, with its worker processes and per-line
wall-clock limits) on some machine of the cluster, and the verdicts come back
in input order, the same dictionaries :func:`symdl.run.batch.grade` yields for the
same lines on one machine.  One task per chunk, not per line, pays Python's and
SymPy's start and the building of the references once per chunk (and once per
Dask worker process for the references: they stay built between its tasks).

A line that cannot be read (:attr:`symdl.run.batch.Task.problem`) is answered here,
without the cluster.  A task that fails as a whole (its Dask worker died more
often than the scheduler allows, the cluster went away, the function raised)
answers each of its lines ``error``, naming the chunk and the failure, and the
other chunks go on.

Every Dask worker needs symdl installed, and must be allowed to start child
processes: Dask's ``distributed.worker.daemon`` setting must be ``False`` for
worker processes started by a nanny (``dask worker --no-nanny`` workers and
``Client(processes=False)`` need nothing).  Nothing here imports dask: the
client is passed in.
"""

from __future__ import annotations

import sys
from collections import deque
from typing import Any, Callable, Iterable, Iterator

from .batch import TOTAL_TIMEOUT, Lost, answer, job
from .lines import Task

#: Lines per Dask task unless told otherwise.
CHUNK = 50


def grade_chunk(items: list, jobs: int = 1, timeout: float = 10.0, line_timeout: float | None = None,
                total_timeout: float = TOTAL_TIMEOUT) -> list[dict]:
    """``to_json()`` of each item's verdict, in order: what one task runs, on a worker.  An item is
    ``(against, latex)`` or a :class:`symdl.run.batch.Derivation` (:func:`symdl.run.batch.job`).

    ``jobs`` worker processes check the lines (each line in a process stopped at its limit), as
    ``symdl check --batch`` does.
    """
    import multiprocessing as mp

    from .batch import check_all

    if mp.current_process().daemon:
        raise RuntimeError("symdl checks each line in a child process, and this Dask worker is a daemonic process, "
                           "which may not start one: start the workers with the Dask setting "
                           "distributed.worker.daemon = False (DASK_DISTRIBUTED__WORKER__DAEMON=False)")
    return [v.to_json() for _, v in check_all(list(items), jobs=jobs, timeout=timeout, line_timeout=line_timeout,
                                              total_timeout=total_timeout)]


def grade_dask(tasks: Iterable[Task], client, *, chunk: int = CHUNK, jobs: int = 1, timeout: float = 10.0,
               line_timeout: float | None = None, total_timeout: float = TOTAL_TIMEOUT,
               fn: Callable[..., list[dict]] = grade_chunk, ahead: int | None = None, **submit: Any) -> Iterator[dict]:
    """One JSON-ready verdict per task, in input order, as :func:`symdl.run.batch.grade` gives them,
    with the lines graded in chunks of ``chunk`` on the Dask cluster of ``client``
    (a ``distributed.Client``).

    The tasks are read as a stream: at most ``ahead`` chunks are on the cluster at once (by default
    two a Dask worker), and each chunk's future is let go as soon as its verdicts are yielded, so that
    a worker lost later costs nothing already delivered.  Each chunk is one task,
    ``fn(items, jobs, timeout, line_timeout, total_timeout)`` (:func:`grade_chunk`, or a wrapper of
    it); ``submit`` goes to ``client.submit`` (``retries=``, ``resources=``, ...).  Closing the
    generator cancels the chunks not yet done.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {chunk}")
    ahead = ahead or 2 * max(1, _workers(client))
    flight: deque = deque()  # (the chunk's tasks, its future or None when every line is answered here)
    try:
        for part in _chunks(tasks, chunk):
            items = [job(t) for t in part if not t.problem]
            future = client.submit(fn, items, jobs, timeout, line_timeout, total_timeout, pure=False,
                                   **submit) if items else None
            flight.append((part, future))
            while len(flight) > ahead:
                yield from _chunk_answers(*flight.popleft())
        while flight:
            yield from _chunk_answers(*flight.popleft())
    finally:
        unfinished = [f for _, f in flight if f is not None]
        if unfinished:
            client.cancel(unfinished)


def _workers(client) -> int:
    try:
        return len(client.scheduler_info()["workers"])
    except Exception:  # a stand-in, or a scheduler that does not say: two chunks ahead
        return 1


def _chunks(tasks: Iterable[Task], size: int) -> Iterator[list[Task]]:
    """Consecutive tasks, ``size`` lines to grade a chunk (lines that cannot be read ride along)."""
    part: list[Task] = []
    graded = 0
    for task in tasks:
        part.append(task)
        graded += not task.problem
        if graded == size:
            yield part
            part, graded = [], 0
    if part:
        yield part


def _chunk_answers(part: list[Task], future) -> list[dict]:
    """The answers of one chunk's lines, once its task is done; each line lost if the task failed."""
    good = [t for t in part if not t.problem]
    try:
        verdicts = future.result() if future is not None else []
        if len(verdicts) != len(good):
            raise ValueError(f"{len(verdicts)} verdicts for {len(good)} lines")
    except Exception as exc:  # the chunk answers for itself; the others go on
        why = f"{type(exc).__name__}: {exc}".rstrip(": ")
        verdicts = [Lost(job(t), f"the Dask task grading lines {good[0].line}-{good[-1].line} failed, so this "
                                 f"line has no verdict: {why}") for t in good]
    del future  # let go: a worker lost from now on owes nothing for these lines
    given = iter(verdicts)
    return [answer(t, job(t).verdict if t.problem else next(given)) for t in part]


def run_on_cluster(path: str, address: str, *, chunk: int | None = None, **options) -> int:
    """``symdl check --batch PATH --scheduler ADDRESS``: :func:`symdl.run.command.run_batch` with the lines
    graded on the dask.distributed cluster at ``address``."""
    from .command import run_batch

    try:
        from distributed import Client
    except ImportError:
        print("symdl check: --scheduler needs dask.distributed: pip install 'symdl[dask]'", file=sys.stderr)
        return 2
    if chunk is not None and chunk < 1:
        print(f"symdl check: --chunk must be at least 1, got {chunk}", file=sys.stderr)
        return 2
    try:
        client = Client(address, timeout=30)
    except (OSError, TimeoutError, ValueError) as exc:
        print(f"symdl check: cannot reach the Dask scheduler {address}: {exc}", file=sys.stderr)
        return 2
    keys = ("jobs", "timeout", "total_timeout")
    with client:
        return run_batch(path, **options, grader=lambda tasks: grade_dask(
            tasks, client, chunk=chunk or CHUNK, **{k: options[k] for k in keys if k in options}))
