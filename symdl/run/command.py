"""The ``--batch`` subcommand: read, grade and write a batch as a stream, and say how it went.

Exit status (README, "Batch grading"):

- 0: every line has its verdict, whatever the verdicts are (read them from the output);
- 2: the batch or an option is wrong (a file that cannot be opened, ``--jobs 0``, ``--resume``
  without ``--output``, a scheduler that cannot be reached);
- 4: every line was answered, but some line has no verdict (``"lost": true``): the process
  grading it died twice, or its Dask task failed;
- 130 on Ctrl-C and 143 on SIGTERM (128 + the signal), with the same message: the output is an exact
  prefix of whole lines, and ``--output`` with ``--resume`` takes it up from there.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from functools import partial
from typing import Callable, Iterator

from .lines import read_tasks
from .output import Output
from .pool import coordinating

#: The exit status when some line has no verdict.
EXIT_LOST = 4


def run_batch(path: str, *, jobs: int = 1, timeout: float = 10.0, total_timeout: float | None = None,
              output: str | None = None, resume: bool = False, grader: Callable | None = None,
              out=None, err=None) -> int:
    """Grade the batch at ``path`` (``-``: standard input) into ``output`` or standard output, a count to
    standard error.  ``grader(tasks)`` yields the answers (default: :func:`symdl.run.batch.grade` with
    ``jobs`` workers); the exit status is the module's."""
    from .batch import TOTAL_TIMEOUT, WINDOW, grade

    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    total_timeout = TOTAL_TIMEOUT if total_timeout is None else total_timeout
    problem = _options(jobs, timeout, total_timeout, output, resume)
    if problem:
        print(f"symdl check: {problem}", file=err)
        return 2
    try:
        stream = getattr(sys.stdin, "buffer", sys.stdin) if path == "-" else open(path, "rb")
    except OSError as exc:
        print(f"symdl check: cannot read the batch {path}: {exc.strerror or exc}", file=err)
        return 2
    if grader is None:
        lookahead = WINDOW if _regular(stream) else 1  # a pipe: answer its first line before the next arrives
        grader = partial(grade, jobs=jobs, timeout=timeout, total_timeout=total_timeout, warm=lookahead)
    start = time.monotonic()
    sink = Output(output, out)
    counts: dict[str, int] = {}
    finished = False
    with stream, coordinating(interrupt=True):
        try:
            tasks = sink.open(read_tasks(stream), resume)
        except OSError as exc:
            print(f"symdl check: cannot write --output {output}: {exc.strerror or exc}", file=err)
            return 2
        try:
            lost = _write(grader(tasks), sink, counts)
            finished = True
        except BrokenPipeError:  # the reader stopped (| head): stop grading, quietly
            sys.stdout = open(os.devnull, "w")
            return 0
        finally:
            sink.close(finished)
    _summary(err, counts, sink, time.monotonic() - start, jobs)
    return EXIT_LOST if lost else 0


def _regular(stream) -> bool:
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def _options(jobs: int, timeout: float, total_timeout: float, output: str | None, resume: bool) -> str:
    if jobs < 1:
        return f"--jobs must be at least 1, got {jobs}"
    if not timeout > 0:
        return f"--timeout must be > 0, got {timeout}"
    if not total_timeout > 0:
        return f"--total-timeout must be > 0, got {total_timeout}"
    if resume and not output:
        return "--resume takes up an --output FILE: give --output"
    return ""


def _write(answers: Iterator[dict], sink: Output, counts: dict[str, int]) -> bool:
    """Write every answer as it comes; whether some line has no verdict."""
    lost = False
    for answer in answers:
        sink.write(answer)
        counts[answer["verdict"]] = counts.get(answer["verdict"], 0) + 1
        lost = lost or bool(answer.get("lost"))
    return lost


def _summary(err, counts: dict[str, int], sink: Output, seconds: float, jobs: int) -> None:
    graded = sum(counts.values())
    summary = ", ".join(f"{counts[v]} {v}" for v in ("equivalent", "not_equivalent", "unknown", "error") if v in counts)
    kept = f" ({sink.kept} kept from an earlier run)" if sink.kept else ""
    print(f"symdl check: {graded} lines graded in {seconds:.2f} s with {jobs} job{'s' if jobs > 1 else ''}{kept}"
          + (f": {summary}" if summary else ""), file=err)
