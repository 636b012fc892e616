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

from typing import Any, Callable, Iterable, Iterator

from .batch import Task

#: Lines per Dask task unless told otherwise.
CHUNK = 50


def grade_chunk(items: list[tuple[str, str]], jobs: int = 1, timeout: float = 10.0,
                line_timeout: float | None = None) -> list[dict]:
    """``Verdict.to_json()`` of each ``(against, latex)``, in order: what one task runs, on a worker.

    ``jobs`` worker processes check the lines (each line in a process stopped at ``line_timeout``,
    by default ``timeout`` + :data:`symdl.run.batch.SLACK` seconds), as ``symdl check --batch`` does.
    """
    import multiprocessing as mp

    from .batch import check_all

    if mp.current_process().daemon:
        raise RuntimeError("symdl checks each line in a child process, and this Dask worker is a daemonic process, "
                           "which may not start one: start the workers with the Dask setting "
                           "distributed.worker.daemon = False (DASK_DISTRIBUTED__WORKER__DAEMON=False)")
    return [v.to_json() for _, v in check_all(list(items), jobs=jobs, timeout=timeout, line_timeout=line_timeout)]


def _failed(task: Task, first: int, last: int, exc: BaseException) -> dict:
    from ..grade.check import Verdict

    why = f"{type(exc).__name__}: {exc}".rstrip(": ")
    verdict = Verdict("error", None, f"the Dask task grading lines {first}-{last} failed, so this line has no "
                                     f"verdict: {why}", task.against)
    return {"id": task.id, "line": task.line, **verdict.to_json()}


def grade_dask(tasks: Iterable[Task], client, *, chunk: int = CHUNK, jobs: int = 1, timeout: float = 10.0,
               line_timeout: float | None = None, fn: Callable[..., list[dict]] = grade_chunk,
               **submit: Any) -> Iterator[dict]:
    """One JSON-ready verdict per task, in input order, as :func:`symdl.run.batch.grade` gives them,
    with the lines graded in chunks of ``chunk`` on the Dask cluster of ``client``
    (a ``distributed.Client``).

    Each chunk is one task, ``fn(items, jobs, timeout, line_timeout)`` (:func:`grade_chunk`, or a
    wrapper of it); ``submit`` goes to ``client.submit`` (``retries=``, ``resources=``, ...).
    Verdicts are yielded as soon as every line before them has one; closing the generator
    cancels the chunks not yet done.
    """
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {chunk}")
    tasks = list(tasks)
    good = [t for t in tasks if not t.problem]
    chunks = [good[i:i + chunk] for i in range(0, len(good), chunk)]
    futures = _submit(client, chunks, fn, jobs, timeout, line_timeout, submit)
    answers: Iterator[dict] = iter(())
    pending = iter(zip(chunks, futures))
    try:
        from ..grade.check import Verdict

        for task in tasks:
            if task.problem:
                yield {"id": task.id, "line": task.line, **Verdict("error", None, task.problem, task.against).to_json()}
                continue
            answer = next(answers, None)
            if answer is None:  # the next chunk: wait for its task
                answers = _chunk_answers(*next(pending))
                answer = next(answers)
            yield answer
    finally:
        unfinished = [f for f in futures if not f.done()]
        if unfinished:
            client.cancel(unfinished)


def _submit(client, chunks: list, fn, jobs: int, timeout: float, line_timeout: float | None, submit: dict) -> list:
    """One Dask task a chunk; a submission that fails part way cancels the chunks already sent."""
    futures: list = []
    try:
        for part in chunks:
            futures.append(client.submit(fn, [(t.against, t.latex) for t in part], jobs, timeout, line_timeout,
                                         pure=False, **submit))
    except BaseException:
        if futures:
            client.cancel(futures)
        raise
    return futures


def _chunk_answers(part: list[Task], future) -> Iterator[dict]:
    """The verdicts of one chunk's lines, once its task is done; each line ``error`` if the task failed."""
    try:
        verdicts = future.result()
        if len(verdicts) != len(part):
            raise ValueError(f"{len(verdicts)} verdicts for {len(part)} lines")
        return iter([{"id": t.id, "line": t.line, **v} for t, v in zip(part, verdicts)])
    except Exception as exc:  # the chunk answers for itself; the others go on
        return iter([_failed(t, part[0].line, part[-1].line, exc) for t in part])
