"""A build's work as its workers see it: every worker loads every document and lists the same tasks.

A task is one check (a check that several documents show is one task), one figure, or one document's rendering
and TeX run, whose dependencies are its checks and figures.  The coordinator (:mod:`symdl.run.schedule`) hands
a worker a task by its index, with the outcomes of its dependencies; the worker makes it and answers.

The protocol, over each worker's pipe.  From the worker: ``("note", label, seconds, cpu)`` (how long a load
took), ``("enter", key, tasks)`` (the tasks of batch ``key``: ``"build"``, or ``"load N"`` for checks a
derivation asks for while it is built), ``("result", key, i, value, cpu, warm)``.  To the worker:
``("run", i, outcomes)``, ``("warm", module)`` (nothing to do now: import what later work needs),
``("done", outcomes)`` (the batch is complete), and :data:`~symdl.run.pool.STOP`.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..document.context import Ledger, entries
from ..document.derivation import Derivation
from ..document.sources import DocumentError, load
from ..model.registry import ref
from ..verify.spec import Check, Result, run_check, run_in_worker
from .pool import STOP
from .typeset import Typeset, draw, failure, figure_files, typeset

#: Modules that take long to import and that only some tasks need.
HEAVY = ("torch", "matplotlib")


@dataclass(frozen=True)
class Job:
    """One document to build: its source, its cache key and its private folder."""

    src: object  # a symdl.document.sources.DocumentSource
    key: str
    work: Path


@dataclass(frozen=True)
class Plan:
    jobs: tuple
    templates: Path | None = None
    pdf: bool = True
    timeout: float = 180.0
    refs: tuple = ()  # references verified on their own (symdl verify NAME)
    verify_only: bool = False  # the ledgers only: no figures, no TeX


@dataclass(frozen=True)
class Task:
    """One piece of work of a batch as the coordinator sees it; every worker lists the same tasks."""

    kind: str  # "check", "figure", or "document" (render, compile: its dependencies are made)
    doc: int  # the document's index in the plan; -1 for a check a derivation needs while it is built
    label: str  # the check's description, the figure's name, the document's module
    method: str = ""
    timeout: float | None = None  # a symbolic proof's wall-clock limit, kept by the coordinator
    deps: tuple = ()


@dataclass(frozen=True)
class Failed:
    """A document that failed before its checks could be listed: what ``build`` and ``verify`` print."""

    build: str
    verify: str


class _Stop(BaseException):
    """The coordinator is done with this worker (a BaseException: no derivation's ``except Exception`` keeps it)."""


def serve(conn, plan: Plan) -> None:
    """A worker of the build's :class:`~symdl.run.pool.Pool`."""
    # One thread a worker: the workers are one a core already, and on a busy machine every small matrix product
    # with a second OpenMP thread waits a scheduler tick for it (jacrev of an unrolled LSTM cell: 2.4 ms with one
    # thread, 190 ms with two while another process holds the other core).
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    try:
        DocumentWorker(conn, plan).main()
    except _Stop:
        pass


def _cpu() -> float:
    """CPU seconds of this process and of the children it waited for (proof children, latexmk)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


class _Listing:
    """The tasks of a build in the order every worker lists them, with what each one makes (its payload)."""

    def __init__(self, memo: dict):
        self.memo = memo  # checks made while the documents were loaded: no task
        self.tasks: list[Task] = []
        self.payload: list = []
        self.owner: dict[int, int] = {}  # id(spec) -> the task that makes it

    def add(self, task: Task, what) -> int:
        self.tasks.append(task)
        self.payload.append(what)
        return len(self.tasks) - 1

    def checks(self, d: int, listed: list) -> list[int]:
        """The tasks of the checks of ledger entries ``listed``, each check listed once whoever shows it."""
        deps = []
        for _, _, specs in listed:
            for spec in specs:
                if id(spec) in self.memo:
                    continue
                if id(spec) not in self.owner:
                    self.owner[id(spec)] = self.add(Task("check", d, spec.description, spec.method, spec.timeout), spec)
                deps.append(self.owner[id(spec)])
        return deps

    def document(self, d: int, label: str, deps: list[int]) -> None:
        self.add(Task("document", d, label, deps=tuple(dict.fromkeys(deps))), None)


class DocumentWorker:
    """A forked worker: loads every document of the plan, then makes the tasks the coordinator hands it."""

    def __init__(self, conn, plan: Plan):
        self.conn, self.plan = conn, plan
        self.memo: dict[int, Check] = {}  # id(spec) -> Check, for checks made while the documents were loaded
        self.keep: list = []  # those specs, so that no other object can take their ids
        self.loads = 0
        self.busy = False
        self.docs: list = []
        self.entries: dict[int, list] = {}
        self.files: dict[int, dict] = {}

    def main(self) -> None:
        for job in self.plan.jobs:
            t0, cpu = time.monotonic(), _cpu()
            try:
                self.docs.append(load(job.src, runner=self.run_many))
            except DocumentError as exc:
                self.docs.append(Failed(f"symdl: error: {exc}", str(exc)))
            self.conn.send(("note", f"load {job.src.module}", time.monotonic() - t0, _cpu() - cpu))
        t0, cpu = time.monotonic(), _cpu()
        self.listing = self.list_tasks()
        self.conn.send(("note", "list tasks", time.monotonic() - t0, _cpu() - cpu))
        self.batch("build", self.listing.tasks, self.run_task)

    def batch(self, key: str, tasks: list, run):
        """Make the tasks of ``key`` the coordinator hands out until it says the batch is complete."""
        self.conn.send(("enter", key, tasks))
        while (msg := self.conn.recv()) is not STOP:
            if msg[0] == "done":
                return msg[1]
            if msg[0] == "warm":  # nothing to do for now: import what later work will need
                if msg[1] == "matplotlib":
                    from ..document.figures import pyplot

                    pyplot()
                continue
            _, i, extra = msg
            self.busy = True
            cpu = _cpu()
            try:
                value = run(i, extra)
            finally:
                self.busy = False
            self.conn.send(("result", key, i, value, _cpu() - cpu, [m for m in HEAVY if m in sys.modules]))
        raise _Stop

    def run_many(self, specs) -> list[Check]:
        """The runner a derivation is given while it is built (:func:`symdl.verify.spec.run_many`): every worker
        asks for the same checks in the same order, the coordinator shares them out and sends every worker every
        outcome."""
        specs = list(specs)
        if self.busy:  # kept by a derivation and called inside a task: made here, not a batch inside a batch
            return [run_check(s) for s in specs]
        self.loads += 1
        todo = list({id(s): s for s in specs if id(s) not in self.memo}.values())
        if todo:
            tasks = [Task("check", -1, s.description, s.method, s.timeout) for s in todo]
            results = self.batch(f"load {self.loads}", tasks, lambda i, _: run_in_worker(todo[i]))
            for s, c in zip(todo, results):
                self.memo[id(s)] = c
                self.keep.append(s)
        return [self.memo[id(s)] for s in specs]

    def list_tasks(self) -> _Listing:
        """Each check once, each figure, then each document (its checks and figures are its dependencies); first
        the references verified on their own, if any."""
        listing = _Listing(self.memo)
        if self.plan.refs:
            self.entries[-1] = [(name, "reference", tuple(ref(name).checks)) for name in self.plan.refs]
            listing.document(-1, "references", listing.checks(-1, self.entries[-1]))
        for d, doc in enumerate(self.docs):
            deps = self.list_document(listing, d, doc) if isinstance(doc, Derivation) else []
            listing.document(d, self.plan.jobs[d].src.module, deps)
        return listing

    def list_document(self, listing: _Listing, d: int, doc: Derivation) -> list[int]:
        """List the checks and figures of document ``d``; its dependencies (none if it cannot be listed)."""
        try:
            self.entries[d] = entries(doc)
            self.files[d] = {} if self.plan.verify_only else figure_files(doc)
        except Exception as exc:
            module = self.plan.jobs[d].src.module
            self.docs[d] = Failed(failure(module, exc), f"{module}: {type(exc).__name__}: {exc}")
            return []
        deps = listing.checks(d, self.entries[d])
        for fig in ([] if self.plan.verify_only else doc.figures()):
            deps.append(listing.add(Task("figure", d, fig.name), fig))
        return deps

    def run_task(self, i: int, extra: dict):
        task, what = self.listing.tasks[i], self.listing.payload[i]
        if task.kind == "check":
            return run_in_worker(what)
        if task.kind == "figure":
            job = self.plan.jobs[task.doc]
            try:
                return draw(what, job.work, self.files[task.doc][what.name]), ""
            except Exception as exc:
                return 0.0, failure(job.src.module, exc)
        return self.typeset(task.doc, extra)

    def ledger(self, d: int, extra: dict) -> Ledger:
        def made(spec) -> Check:
            return self.memo[id(spec)] if id(spec) in self.memo else extra[self.listing.owner[id(spec)]]

        ledger = Ledger([Result(name, tuple(made(s) for s in specs), kind) for name, kind, specs in self.entries[d]])
        ledger.seconds = sum(made(s).seconds for s in {id(s): s for *_, specs in self.entries[d] for s in specs}.values())
        return ledger

    def typeset(self, d: int, extra: dict):
        if self.plan.verify_only:  # the ledger's results, or why there are none
            doc = self.docs[d] if d >= 0 else None
            return doc.verify if isinstance(doc, Failed) else self.ledger(d, extra).results
        doc, job = self.docs[d], self.plan.jobs[d]
        if not isinstance(doc, Derivation):
            return Typeset(failure=doc.build)
        drawn = [extra[i] for i in extra if self.listing.tasks[i].kind == "figure"]
        for _, why in drawn:
            if why:
                return Typeset(failure=why)
        ledger = self.ledger(d, extra)
        try:
            t = typeset(doc, ledger, self.files[d], job.work, pdf=self.plan.pdf, templates=self.plan.templates,
                        timeout=self.plan.timeout)
        except Exception as exc:
            return Typeset(failure=failure(job.src.module, exc))
        t.figure_seconds = sum(seconds for seconds, _ in drawn)
        return t
