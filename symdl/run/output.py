"""Where a batch's verdicts go: standard output, or ``--output FILE`` written line by line and renamed
into place when the batch is done, so that ``--resume`` can take up an interrupted batch.

``FILE`` is never half written: the verdicts go to ``FILE.partial``, each line whole in one write,
and ``FILE.partial`` becomes ``FILE`` (a rename) once every line has its verdict.  A batch stopped on
the way (Ctrl-C, SIGTERM, SIGKILL, a power cut) leaves ``FILE.partial``; ``--resume`` keeps its clean
prefix -- whole lines, in order, each the answer of the input line it names (its ``line`` and ``id``),
none of them lost -- cuts whatever follows, and grades the rest of the input.  With no
``FILE.partial`` it keeps what ``FILE`` holds, on the same terms.
"""

from __future__ import annotations

import json
import os
from itertools import chain
from pathlib import Path
from typing import Iterator


class Output:
    """One batch's verdicts on their way to ``path`` (``None``: standard output)."""

    def __init__(self, path: str | None, stdout):
        self.path = Path(path) if path else None
        self.stdout = stdout
        self.fd: int | None = None
        self.kept = 0

    @property
    def partial(self) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name + ".partial")

    def open(self, tasks: Iterator, resume: bool) -> Iterator:
        """Get ready to write; with ``resume``, keep the clean prefix already written and return the
        tasks still to grade (the others are consumed here)."""
        if self.path is None:
            return tasks
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume and not self.partial.exists() and self.path.exists():
            os.replace(self.path, self.partial)
        self.fd = os.open(self.partial, os.O_RDWR | os.O_CREAT | (0 if resume else os.O_TRUNC), 0o666)
        if not resume:
            return tasks
        end, tasks = self._prefix(tasks)
        os.ftruncate(self.fd, end)
        os.lseek(self.fd, end, os.SEEK_SET)
        return tasks

    def _prefix(self, tasks: Iterator) -> tuple[int, Iterator]:
        """The byte offset where the clean prefix of ``FILE.partial`` ends, and the tasks after it."""
        end = 0
        with open(self.partial, "rb") as f:
            for raw in f:
                task = next(tasks, None)
                if task is None:
                    break
                if not _answers(raw, task):
                    return end, chain([task], tasks)
                end += len(raw)
                self.kept += 1
        return end, tasks

    def write(self, answer: dict) -> None:
        text = json.dumps(answer, allow_nan=False) + "\n"
        if self.fd is None:
            print(text, end="", file=self.stdout, flush=True)
            return
        data = text.encode("utf-8")
        while data:
            data = data[os.write(self.fd, data):]

    def close(self, finished: bool) -> None:
        """Close the file; once every line has its verdict, put it in place."""
        if self.fd is None:
            return
        try:
            if finished:
                os.fsync(self.fd)
        finally:
            os.close(self.fd)
            self.fd = None
        if finished:
            os.replace(self.partial, self.path)


def _answers(raw: bytes, task) -> bool:
    """Whether ``raw`` is a whole line of output answering ``task``, with a verdict."""
    if not raw.endswith(b"\n"):
        return False
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    return (isinstance(obj, dict) and obj.get("line") == task.line and obj.get("id") == task.id
            and "verdict" in obj and not obj.get("lost"))
