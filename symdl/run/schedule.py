"""The build's coordinator: which task goes to which worker, and when.

Every worker lists the same tasks (:mod:`symdl.run.tasks`) and enters a batch of them; the coordinator hands
each task to one worker once its dependencies are made, and sends the outcomes along.  A symbolic proof runs
under its wall-clock limit: at the limit the pool (:mod:`symdl.run.pool`) kills its worker, the proof is
recorded not made, and a fresh worker is forked.  A worker that dies while making a task is replaced the same
way, and its task recorded as failed; neither is ever handed out again.

With ``SYMDL_BUILD_TRACE=FILE`` the coordinator appends to FILE one JSON line a task (batch, kind, document,
label, worker, start and end in seconds since it began, CPU seconds) and one a document a worker loaded.
"""

from __future__ import annotations

import json
import os
import time
from typing import Callable

from ..document.render import BuildError
from ..verify.spec import not_made
from .pool import Pool, Worker
from .tasks import Plan, Task, serve
from .typeset import Typeset

#: The task of a worker from its start until it has loaded the documents and entered a batch.
LOADING = "loading"


class _Batch:
    def __init__(self, key: str, tasks: list):
        self.key, self.tasks = key, tasks
        self.results: dict = {}
        self.given: set = set()
        # a document's TeX run first once it can start (it is the end of a chain), then the rest in order
        self.order = ([i for i, t in enumerate(tasks) if t.kind == "document"]
                      + [i for i, t in enumerate(tasks) if t.kind != "document"])

    @property
    def complete(self) -> bool:
        return len(self.results) == len(self.tasks)

    def next(self, warm: set, claimed: set) -> int | None:
        """The task to hand a worker that has imported ``warm``, while other workers have imported ``claimed``.

        A worker takes first the work its imports suit (:func:`_likes`); then work that needs no heavy import,
        or one nobody has yet; then work that may import what another worker has; and a task that needs what
        another worker has (:func:`_need`) only when nothing else is left for it.  So torch is imported by as
        few workers as can be (0.9 s each), and matplotlib likewise (0.4 s).
        """
        best = [None, None, None]
        for i in self.order:
            if i in self.given or not all(d in self.results for d in self.tasks[i].deps):
                continue
            need, likes = _need(self.tasks[i]), _likes(self.tasks[i])
            if likes is not None and likes in warm:
                return i
            tier = 2 if need is not None and need in claimed else 1 if likes is not None and likes in claimed else 0
            if best[tier] is None:
                best[tier] = i
        return next((i for i in best if i is not None), None)


def _need(task: Task) -> str | None:
    """The heavy module a task imports: matplotlib for a figure, torch for an oracle (PyTorch by definition)."""
    if task.kind == "figure":
        return "matplotlib"
    if task.kind == "check" and task.method == "oracle":
        return "torch"
    return None


def _likes(task: Task) -> str | None:
    """The heavy module a task may import: torch for a numeric check (some evaluate both backends)."""
    return "torch" if task.kind == "check" and task.method == "numeric" else _need(task)


class _Seat:
    """What the coordinator knows of one worker beyond the pool's view."""

    def __init__(self):
        self.batch: str | None = None  # the batch it is in
        self.leaving = False  # told that its last batch is complete
        self.warm: set = set()  # heavy modules it has imported or been given work that imports: _Batch.next


class Coordinator:
    #: Workers that may be forked in all before the build gives up, not counting the replacements of workers killed
    #: at a proof's time limit or dead while making a task: each task ends at most one worker (it is recorded, not
    #: given again), so those are bounded by the work, and a proof past its limit is an ordinary outcome.
    MAX_WORKERS = 64

    def __init__(self, plan: Plan, size: int, done: Callable[[int, object], None]):
        self.plan, self.size, self.done = plan, size, done
        self.seats: dict[Worker, _Seat] = {}
        self.batches: dict[str, _Batch] = {}
        self.forked = 0
        self.idle_deaths = 0
        self.t0 = time.monotonic()
        trace = os.environ.get("SYMDL_BUILD_TRACE")
        self.trace = open(trace, "a") if trace else None

    @property
    def finished(self) -> bool:
        b = self.batches.get("build")
        return b is not None and b.complete

    def run(self) -> None:
        """Fork the workers and coordinate them until every document is done; the workers end with it."""
        try:
            with Pool(serve, self.plan, name="symdl-build-worker") as self.pool:
                for _ in range(self.size):
                    self.spawn()
                while not self.finished:
                    for ev in self.pool.wait():
                        self.on(ev)
                    self.dispatch()
        finally:
            if self.trace is not None:
                self.trace.close()

    def spawn(self, replaces_task: bool = False) -> None:
        if not replaces_task and self.forked >= self.MAX_WORKERS:
            raise BuildError(f"{self.forked} build workers were started and the build is not done; giving up")
        self.forked += not replaces_task
        w = self.pool.spawn()
        w.assign(LOADING)  # busy until it enters a batch: the pool kills it, not waits for it, if the build ends
        self.seats[w] = _Seat()

    def on(self, ev) -> None:
        """One event of the pool: a worker's message, its death, or its proof's time limit."""
        if ev.kind == "message":
            self.handle(ev.worker, ev.message)
        elif ev.kind == "expired":
            self.expired(ev)
        else:
            self.lost(ev)

    def handle(self, w: Worker, msg) -> None:
        seat = self.seats[w]
        if msg[0] == "enter":
            _, key, tasks = msg
            b = self.batches.setdefault(key, _Batch(key, tasks))
            if b.tasks != tasks:
                raise BuildError(f"the build's workers listed different work in {key!r}: a derivation module "
                                 "builds different checks each time it is loaded")
            seat.batch = key
            w.release()
            if b.complete:
                self.release(w, b)
        elif msg[0] == "note":  # how long a worker took to load a document (SYMDL_BUILD_TRACE)
            _, label, seconds, cpu = msg
            end = time.monotonic() - self.t0
            self.write_trace({"batch": "", "kind": "load", "doc": None, "label": label, "method": "",
                              "worker": w.pid, "start": end - seconds, "end": end, "cpu": cpu})
        elif msg[0] == "result":
            _, key, i, value, cpu, warm = msg
            w.release()
            seat.warm.update(warm)
            self.record(self.batches[key], i, value, w, cpu)

    def write_trace(self, line: dict) -> None:
        if self.trace is not None:
            self.trace.write(json.dumps(line) + "\n")

    def record(self, b: _Batch, i: int, value, w: Worker | None = None, cpu: float | None = None) -> None:
        b.results[i] = value
        task = b.tasks[i]
        self.write_trace({"batch": b.key, "kind": task.kind, "doc": task.doc, "label": task.label,
                          "method": task.method, "worker": w.pid if w else None,
                          "start": (w.started - self.t0) if w else None, "end": time.monotonic() - self.t0,
                          "cpu": cpu, "tex": getattr(value, "tex_seconds", None),
                          "warm": sorted(self.seats[w].warm) if w else None})
        if b.key == "build" and task.kind == "document":
            self.done(task.doc, value)
        if b.complete:
            for other, seat in self.seats.items():
                if seat.batch == b.key and other.task is None:
                    self.release(other, b)

    def release(self, w: Worker, b: _Batch) -> None:
        """Tell a worker that batch ``b`` is complete: every outcome of a loading batch, nothing for the build."""
        last = b.key == "build"
        self.pool.send(w, ("done", None if last else [b.results[i] for i in range(len(b.tasks))]))
        self.seats[w].batch = None
        self.seats[w].leaving = last
        if not last:  # back to loading the documents
            w.assign(LOADING)

    def dispatch(self) -> None:
        for w, seat in list(self.seats.items()):
            if seat.batch is None or w.task is not None:
                continue
            b = self.batches[seat.batch]
            claimed = {m for other, s in self.seats.items() if other is not w for m in s.warm}
            i = b.next(seat.warm, claimed)
            if i is None:
                if (b.key != "build" and not self.plan.verify_only and "matplotlib" not in seat.warm | claimed
                        and "torch" not in seat.warm):
                    # idle while another worker makes the last checks the documents wait for: import matplotlib
                    # now, for the figures to come, rather than in the first figure's time (and in a worker that
                    # has no torch, so that oracles and figures go to different workers)
                    seat.warm.add("matplotlib")
                    self.pool.send(w, ("warm", "matplotlib"))
                continue
            task = b.tasks[i]
            b.given.add(i)
            if _need(task) is not None:
                seat.warm.add(_need(task))
            w.assign((seat.batch, i), task.timeout)
            self.pool.send(w, ("run", i, {d: b.results[d] for d in task.deps}))

    def failed(self, task: Task, why: str, seconds: float):
        """What a task gives when its worker was killed at its time limit or died."""
        if task.kind == "check":
            return not_made(task.method, task.label, why, seconds)
        module = task.label if task.doc < 0 else self.plan.jobs[task.doc].src.module
        if self.plan.verify_only:
            return f"{module}: {why}"
        what = f"figure {task.label}" if task.kind == "figure" else "rendering and TeX"
        message = f"symdl: error: {module}: {what}: {why}; the last good PDF was left in place"
        return (seconds, message) if task.kind == "figure" else Typeset(failure=message)

    def expired(self, ev) -> None:
        """A proof past its time limit: its worker was killed, and is replaced."""
        del self.seats[ev.worker]
        key, i = ev.task
        task = self.batches[key].tasks[i]
        self.record(self.batches[key], i, self.failed(task, f"no answer within {task.timeout:g} s", ev.seconds))
        if not self.finished:
            self.spawn(replaces_task=True)

    def lost(self, ev) -> None:
        """A worker that ended: after its last batch as told, or by dying."""
        seat = self.seats.pop(ev.worker)
        if seat.leaving:
            return
        if ev.task in (None, LOADING):
            self.idle_deaths += 1
            if self.idle_deaths > 2:
                raise BuildError(f"build workers keep dying while they load the documents (exit code {ev.code})")
        else:
            key, i = ev.task
            why = f"the worker process making it died (exit code {ev.code})"
            self.record(self.batches[key], i, self.failed(self.batches[key].tasks[i], why, ev.seconds))
        if not self.finished:
            self.spawn(replaces_task=ev.task not in (None, LOADING))
