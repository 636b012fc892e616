"""From a :class:`~symdl.document.derivation.Derivation` to ``build/<slug>.tex`` and ``build/<slug>.pdf``.

Order of work for one document: run every check (steps, figures, the references the document shows), draw
the figures, render the .tex, compile the PDF in a private folder, and only then rename the results into
place.  A refuted check or a TeX error fails the build and leaves the last good PDF untouched.

:func:`build_all` builds many documents at once on ``jobs`` cores: forked workers share out every check,
figure and TeX run of every document (see its docstring); the outputs are the same bytes as
:func:`build` writes for each document alone.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..document.derivation import Derivation, Figure, Prose, ReferenceBlock, Step, Table, TeX, Text, prose
from ..core.printing import display
from ..model.registry import ref
from ..document.render import BuildError, compile_pdf, environment, latexmk_available, overfull_lines
from ..files import copy_atomic, write_atomic
from ..verify.spec import METHODS, Check, Result, not_made, run_check, run_in_worker

EXIT_OK, EXIT_REFUTED, EXIT_ERROR = 0, 1, 2


@dataclass
class Ledger:
    """The results of one document's checks, in document order."""

    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    def by_name(self) -> dict[str, Result]:
        return {r.name: r for r in self.results}

    @property
    def refuted(self) -> list[Result]:
        return [r for r in self.results if r.status == "refuted"]


def entries(doc: Derivation) -> list[tuple[str, str, tuple]]:
    """``(ledger name, kind, checks)`` of every reference, step and figure of ``doc``, in the ledger's order."""
    out = [(name, "reference", tuple(ref(name).checks)) for name in doc.reference_names()]
    for section in doc.sections:
        for b in section.blocks:
            if isinstance(b, Step):
                out.append((f"{doc.slug}: {b.name}", "step", b.checks))
            elif isinstance(b, Figure):
                out.append((f"{doc.slug}: figure {b.name}", "figure", b.checks))
    return out


def verify_document(doc: Derivation) -> Ledger:
    """Run the checks of every reference, step and figure of ``doc``."""
    t0 = time.perf_counter()
    ledger = Ledger([Result(name, tuple(run_check(s) for s in specs), kind) for name, kind, specs in entries(doc)])
    ledger.seconds = time.perf_counter() - t0
    return ledger


def _status(result: Result | None) -> dict:
    if result is None:
        return {"status": "unverified", "checks": [], "marks": []}
    return {"status": result.status,
            "checks": [{"method": c.method, "made": c.made, "passed": c.passed, "mark": c.mark,
                        "detail": c.detail} for c in result.checks],
            "marks": _marks(result)}


def _marks(result: Result) -> list[dict]:
    """One mark a method, in the order symbolic, numeric, oracle: how many checks, and the worst outcome."""
    out = []
    for method in METHODS:
        checks = [c for c in result.checks if c.method == method]
        if not checks:
            continue
        if any(c.made and not c.passed for c in checks):
            state = "failed"
        elif any(not c.made for c in checks):
            state = "not made"
        else:
            state = "passed"
        out.append({"method": method, "count": len(checks), "state": state})
    return out


def _cell(value) -> dict:
    if isinstance(value, TeX):
        return {"math": True, "value": value}
    return {"math": False, "value": str(value)}


def _parts(text: str) -> list[dict]:
    """Plain text with ``$...$`` mathematics, as template parts (text escaped, math checked)."""
    return [{"math": isinstance(p, TeX), "value": p if isinstance(p, TeX) else p.text} for p in prose(text).parts]


def context(doc: Derivation, ledger: Ledger, figure_files: dict[str, str]) -> dict:
    """The template's view of a document: plain dicts, with TeX marked as TeX."""
    results = ledger.by_name()
    sections = []
    for s in doc.sections:
        blocks = []
        for b in s.blocks:
            if isinstance(b, Prose):
                blocks.append({"kind": "prose", "parts": [
                    {"math": isinstance(p, TeX), "value": p if isinstance(p, TeX) else p.text} for p in b.parts]})
            elif isinstance(b, Step):
                blocks.append({"kind": "step", "claim": b.claim, "reason": _parts(b.reason), "boxed": b.boxed,
                               "relation": b.relation, **_status(results.get(f"{doc.slug}: {b.name}"))})
            elif isinstance(b, ReferenceBlock):
                r = ref(b.name)
                claim, where = display(r.lhs, r.expr)
                blocks.append({"kind": "reference", "name": r.name, "description": _parts(r.description),
                               "claim": TeX(claim), "blocks": [TeX(w) for w in where],
                               **_status(results.get(r.name))})
            elif isinstance(b, Figure):
                blocks.append({"kind": "figure", "file": TeX(figure_files[b.name]), "caption": _parts(b.caption),
                               "width": b.width, **_status(results.get(f"{doc.slug}: figure {b.name}"))})
            elif isinstance(b, Table):
                widths = b.widths or tuple(round(0.9 / len(b.header), 3) for _ in b.header)
                colspec = " ".join(r">{\raggedright\arraybackslash}p{%s\textwidth}" % w for w in widths)
                blocks.append({"kind": "table", "header": list(b.header), "caption": b.caption,
                               "colspec": TeX(colspec), "rows": [[_cell(c) for c in row] for row in b.rows]})
            elif isinstance(b, Text):
                blocks.append({"kind": "prose", "parts": [{"math": False, "value": b.text}]})
            else:
                raise TypeError(f"{doc.slug}: cannot render a {type(b).__name__} block")
        sections.append({"title": s.title, "blocks": blocks})
    ledger_rows = [{"name": r.name, **_status(r)} for r in ledger.results]
    return {"doc": {"title": doc.title, "question": _parts(doc.question), "description": doc.description,
                    "sections": sections, "ledger": ledger_rows}}


def render_tex(doc: Derivation, ledger: Ledger, figure_files: dict[str, str], templates: Path | None) -> str:
    env = environment(templates)
    return env.get_template(doc.template).render(**context(doc, ledger, figure_files))



# -- one document ----------------------------------------------------------------------------------------


@dataclass
class BuildReport:
    slug: str
    tex: Path | None = None
    pdf: Path | None = None
    ledger: Ledger | None = None
    verify_seconds: float = 0.0
    figure_seconds: float = 0.0
    tex_seconds: float = 0.0
    overfull: list = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def figure_files(doc: Derivation) -> dict[str, str]:
    """Each figure's file, relative to the output folder: ``figures/<slug>-<name>.pdf``."""
    out = {}
    for fig in doc.figures():
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", fig.name + doc.slug.replace("-", "")):
            raise ValueError(f"{doc.slug}: figure name {fig.name!r} must be lower-case letters, digits and -")
        out[fig.name] = f"figures/{doc.slug}-{fig.name}.pdf"
    return out


def draw(fig: Figure, work: Path, rel: str) -> float:
    """Make one figure in the private folder ``work``; returns the seconds it took."""
    t0 = time.perf_counter()
    (work / "figures").mkdir(exist_ok=True)
    fig.make(work / rel)
    return time.perf_counter() - t0


@dataclass
class Typeset:
    """A document rendered (and compiled) in its private folder, not yet in place; or why it failed."""

    slug: str = ""
    source: str = ""
    figure_files: dict = field(default_factory=dict)
    statuses: list = field(default_factory=list)  # the ledger's statuses, in order
    refuted: list = field(default_factory=list)  # names of refuted results
    tex_error: str = ""
    pdf: bool = False  # a PDF was made
    overfull: list = field(default_factory=list)
    verify_seconds: float = 0.0
    figure_seconds: float = 0.0
    tex_seconds: float = 0.0
    failure: str = ""  # the document failed before it could be rendered: the message to print


def typeset(doc: Derivation, ledger: Ledger, files: dict[str, str], work: Path, *, pdf: bool,
            templates: Path | None, timeout: float) -> Typeset:
    """Render the .tex into ``work`` and, unless a check was refuted, compile it there."""
    out = Typeset(doc.slug, figure_files=files, statuses=[r.status for r in ledger.results],
                  refuted=[r.name for r in ledger.refuted], verify_seconds=ledger.seconds)
    out.source = render_tex(doc, ledger, files, templates)
    tex_path = work / f"{doc.slug}.tex"
    tex_path.write_text(out.source, encoding="utf-8")
    if out.refuted or not (pdf and latexmk_available()):
        return out
    t0 = time.perf_counter()
    try:
        compile_pdf(tex_path, work, timeout=timeout)
        log = work / f"{doc.slug}.log"
        out.overfull = overfull_lines(log.read_text(errors="replace")) if log.exists() else []
        out.pdf = True
    except BuildError as exc:
        out.tex_error = str(exc)
    finally:
        out.tex_seconds = time.perf_counter() - t0
    return out


def install(t: Typeset, work: Path, outdir: Path, *, pdf: bool) -> BuildReport:
    """Rename the results of :func:`typeset` into ``outdir``, all together, or keep the last good ones."""
    report = BuildReport(t.slug, verify_seconds=t.verify_seconds, figure_seconds=t.figure_seconds,
                         tex_seconds=t.tex_seconds, overfull=t.overfull)
    failed = outdir / f"{t.slug}.failed.tex"
    if t.refuted:
        write_atomic(failed, t.source)
        report.error = (f"refuted: {', '.join(t.refuted)}; the last good .tex and PDF were left in place "
                        f"({failed} shows the rest)")
        return report
    if t.tex_error:
        write_atomic(failed, t.source)
        report.error = (f"{t.tex_error.replace(f'{t.slug}.tex:', f'{failed}:')}\n"
                        f"the last good .tex and PDF, if any, were left in place")
        return report
    # everything succeeded: the outputs are renamed into place together
    for rel in t.figure_files.values():
        copy_atomic(work / rel, outdir / rel)
    write_atomic(outdir / f"{t.slug}.tex", t.source)
    report.tex = outdir / f"{t.slug}.tex"
    failed.unlink(missing_ok=True)
    if t.pdf:
        copy_atomic(work / f"{t.slug}.pdf", outdir / f"{t.slug}.pdf")
        report.pdf = outdir / f"{t.slug}.pdf"
    elif pdf:
        report.error = compile_hint()
    return report


def build(doc: Derivation, outdir: Path, *, pdf: bool = True, templates: Path | None = None,
          timeout: float = 180.0) -> BuildReport:
    """Verify, draw, render and compile one document into ``outdir``, in this process."""
    ledger = verify_document(doc)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{doc.slug}-", dir=outdir) as tmp:
        work = Path(tmp)
        files = figure_files(doc)
        seconds = sum(draw(fig, work, files[fig.name]) for fig in doc.figures())
        t = typeset(doc, ledger, files, work, pdf=pdf, templates=templates, timeout=timeout)
        t.figure_seconds = seconds
        report = install(t, work, outdir, pdf=pdf)
    report.ledger = ledger
    return report


def compile_hint() -> str:
    from ..document.render import TEX_PACKAGES

    return (f"latexmk was not found, so only the .tex was written; install TeX with:\n"
            f"  apt-get install {TEX_PACKAGES}")


def _failure(module: str, exc: BaseException) -> str:
    return (f"symdl: error: {module}: {type(exc).__name__}: {exc}; "
            f"the last good PDF was left in place")


def summary_of(t: Typeset) -> str:
    """``"1 unverified, 51 verified"``: how many results of the ledger have each status."""
    counts: dict = {}
    for status in t.statuses:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))


def report_lines(module: str, t: Typeset, report: BuildReport | None, seconds: float) -> tuple[int, list[str]]:
    """The exit status of one document and the lines ``symdl build`` prints for it."""
    if t.failure:
        return EXIT_ERROR, [t.failure]
    # the workers' seconds add up across cores, so they may exceed the wall-clock time since the start
    lines = [f"      checks: {summary_of(t)} (work: checks {t.verify_seconds:.1f} s, figures {t.figure_seconds:.1f} s, "
             f"TeX {t.tex_seconds:.1f} s, shared by the workers; done {seconds:.1f} s after the start)"]
    lines += [f"      wrote {p}" for p in (report.tex, report.pdf) if p is not None]
    if report.overfull:
        shown = "; ".join(report.overfull[:3]) + ("; ..." if len(report.overfull) > 3 else "")
        lines.append(f"      note: {len(report.overfull)} line(s) run into the margin of {t.slug}.tex: {shown}")
    if report.error:
        lines.append(f"symdl: error: {module}: {report.error}")
        return (EXIT_REFUTED if report.error.startswith("refuted") else EXIT_ERROR), lines
    return EXIT_OK, lines


# -- many documents at once: forked workers share out the work ------------------------------------------------


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


def build_all(srcs, outdir: Path, *, templates: Path | None, pdf: bool = True, timeout: float = 180.0,
              force: bool = False, jobs: int = 0, emit=None) -> int:
    """Build every document of ``srcs`` (``symdl.document.sources.DocumentSource``) into ``outdir`` on ``jobs`` cores.

    A document whose cache key and outputs are unchanged (:mod:`symdl.run.cache`) is skipped unless ``force``.
    The others are built by ``jobs`` forked workers (by default one a core, at most two a document) that each
    load every document and then make whatever the coordinator, this process, hands them next: one check (a
    check that several documents show is made once), one figure, or one document's rendering and TeX run once
    its checks and figures are made.  Checks a derivation needs while it is being built (the seed audit grades its answers by
    their outcomes) are shared out the same way, through :func:`symdl.verify.spec.run_many`.  A symbolic proof runs
    in its worker under the proof's memory limit; at the proof's time limit the coordinator kills the worker,
    records the proof as not made, and forks a replacement.  Outputs are installed here, each document's
    together, as it finishes; the lines for each document are printed in document order.  Returns the exit
    status: 0, 1 when a check was refuted, 2 on any other error.

    With ``SYMDL_BUILD_TRACE=FILE`` the coordinator appends to FILE one JSON line a task (batch, kind, document,
    label, worker, start and end in seconds since it began, CPU seconds) and one a document a worker loaded: the
    profile of a build.
    """
    from contextlib import ExitStack

    from .cache import cache_key, record, up_to_date

    emit = emit or (lambda lines: [print(line, flush=True) for line in lines])
    t0 = time.perf_counter()
    outdir.mkdir(parents=True, exist_ok=True)
    outcome: dict[int, tuple[int, list[str]]] = {}
    keys, todo = {}, []
    for i, src in enumerate(srcs):
        keys[i] = cache_key(src.path, templates)
        rec = None if force else up_to_date(outdir, src.module, keys[i])
        if rec is None:
            todo.append(i)
        else:
            outcome[i] = (EXIT_OK, [f"      up to date ({rec['summary']}); use --force to rebuild"])
    shown = {"next": 0, "header": -1, "status": EXIT_OK}

    def flush():
        while shown["next"] < len(srcs):
            i = shown["next"]
            if shown["header"] < i:
                print(f"[{i + 1}/{len(srcs)}] {srcs[i].module}: verifying, drawing, typesetting ...", flush=True)
                shown["header"] = i
            if i not in outcome:
                return
            code, lines = outcome[i]
            emit(lines)
            shown["status"] = max(shown["status"], code)
            shown["next"] += 1

    with ExitStack() as stack:
        plan = Plan(tuple(Job(srcs[i], keys[i], Path(stack.enter_context(tempfile.TemporaryDirectory(
            prefix=f".{srcs[i].slug_guess}-", dir=outdir)))) for i in todo), templates, pdf, timeout)

        def done(d: int, t: Typeset):
            i, job = todo[d], plan.jobs[d]
            if t.failure:
                outcome[i] = (EXIT_ERROR, [t.failure])
            else:
                try:
                    report = install(t, job.work, outdir, pdf=pdf)
                except Exception as exc:  # a document that cannot be put in place fails alone
                    outcome[i] = (EXIT_ERROR, [_failure(job.src.module, exc)])
                else:
                    outcome[i] = report_lines(job.src.module, t, report, time.perf_counter() - t0)
                    if not report.error and report.pdf is not None:
                        figures = sorted(outdir.glob(f"figures/{t.slug}-*.pdf"))
                        record(outdir, job.src.module, job.key, [report.tex, report.pdf, *figures], summary_of(t))
            flush()

        flush()
        # by default one worker a core, but no more than two a document: every worker loads every document
        size = max(1, jobs or min(os.cpu_count() or 1, 2 * len(todo)))
        if todo:
            with _coordinating():
                if size > 1:
                    _prepare()
                _Coordinator(plan, size, done).run()
        flush()
    return shown["status"]


def verify_all(names, srcs, *, jobs: int = 0) -> tuple[list[Result], list[str]]:
    """The ledger of the references ``names`` and of every document of ``srcs``, made by ``jobs`` workers as
    :func:`build_all` makes a build's checks: ``(results, errors)``, the results in order (the references, then
    each document's results not listed before it), the errors of documents that could not be loaded."""
    plan = Plan(tuple(Job(src, "", Path()) for src in srcs), refs=tuple(names), verify_only=True)
    got: dict = {}
    size = max(1, jobs or min(os.cpu_count() or 1, 2 * (len(srcs) + bool(names))))
    if srcs or names:
        with _coordinating():
            if size > 1:
                _prepare()
            _Coordinator(plan, size, lambda d, value: got.__setitem__(d, value)).run()
    results, errors = [], []
    if isinstance(got.get(-1), str):  # the references' ledger could not be made (its worker died)
        errors.append(got[-1])
    else:
        results += got.get(-1, [])
    for d in range(len(srcs)):
        if isinstance(got[d], str):
            errors.append(got[d])
            continue
        known = {r.name for r in results}
        results += [r for r in got[d] if r.name not in known]
    return results, errors


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


@contextmanager
def _coordinating():
    """While the coordinator runs: SIGTERM (a scheduler's time limit) unwinds like Ctrl-C, so the workers are
    killed and the private folders removed on the way out; and at exit the heap is frozen first, so that Python's
    last garbage collection does not walk every object SymPy and the references made (about 0.1-0.2 s) only to
    free memory the process gives back whole."""
    import threading

    from .heap import freeze_heap_at_exit

    freeze_heap_at_exit()
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main else None
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)


def _prepare() -> None:
    """Derive the references here, once, before the workers are forked: every worker needs them (a document's
    ledger lists its references' checks) and would otherwise derive them itself (about 1 s each)."""
    from ..model.registry import refs

    try:
        refs()
    except Exception:  # a model that cannot be derived is reported by each document that needs it
        pass


def _cpu() -> float:
    """CPU seconds of this process and of the children it waited for (proof children, latexmk)."""
    import resource

    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _worker_main(conn, plan: Plan, others) -> None:
    try:
        os.setpgrp()  # the coordinator kills the worker with every process it started
    except OSError:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an interrupt is the coordinator's to handle
    # not the coordinator's handler (SystemExit), which call_limited would report as a proof's failure while
    # the worker went on: a worker told to terminate does
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for c in others:
        c.close()
    # One thread a worker: the workers are one a core already, and on a busy machine every small matrix product
    # with a second OpenMP thread waits a scheduler tick for it (jacrev of an unrolled LSTM cell: 2.4 ms with one
    # thread, 190 ms with two while another process holds the other core).
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    try:
        _Worker(conn, plan).main()
    except (EOFError, BrokenPipeError, ConnectionResetError):  # the coordinator is gone: so is the build
        pass


@dataclass(frozen=True)
class _Failed:
    """A document that failed before its checks could be listed: what ``build`` and ``verify`` print."""

    build: str
    verify: str


class _Worker:
    """A forked worker: loads every document of the plan, then makes the tasks the coordinator hands it."""

    def __init__(self, conn, plan: Plan):
        self.conn, self.plan = conn, plan
        self.memo: dict[int, Check] = {}  # id(spec) -> Check, for checks made while the documents were loaded
        self.keep: list = []  # those specs, so that no other object can take their ids
        self.loads = 0
        self.busy = False

    def main(self) -> None:
        from ..verify import spec as verify
        from ..document.sources import DocumentError, load

        verify._runner = self.run_many
        self.docs: list = []
        for job in self.plan.jobs:
            t0, cpu = time.monotonic(), _cpu()
            try:
                self.docs.append(load(job.src))
            except DocumentError as exc:
                self.docs.append(_Failed(f"symdl: error: {exc}", str(exc)))
            self.conn.send(("note", f"load {job.src.module}", time.monotonic() - t0, _cpu() - cpu))
        t0, cpu = time.monotonic(), _cpu()
        self.tasks, self.payload = self.list_tasks()
        self.conn.send(("note", "list tasks", time.monotonic() - t0, _cpu() - cpu))
        self.batch("build", self.tasks, self.run_task)

    def batch(self, key: str, tasks: list, run):
        """Make the tasks of ``key`` the coordinator hands out until it says the batch is complete."""
        self.conn.send(("enter", key, tasks))
        while True:
            msg = self.conn.recv()
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
            self.conn.send(("result", key, i, value, _cpu() - cpu, [m for m in _HEAVY if m in sys.modules]))

    def run_many(self, specs: list) -> list[Check]:
        """:func:`symdl.verify.spec.run_many` while documents load: every worker asks for the same checks in the same
        order, the coordinator shares them out and sends every worker every outcome."""
        if self.busy:  # asked for inside a task: made here
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

    def list_tasks(self) -> tuple[list, list]:
        """Each check once, each figure, then each document (its checks and figures are its dependencies); first
        the references verified on their own, if any."""
        tasks, payload, self.owner, self.entries, self.files = [], [], {}, {}, {}

        def checks(d: int) -> list[int]:
            deps = []
            for _, _, specs in self.entries[d]:
                for spec in specs:
                    if id(spec) in self.memo:
                        continue
                    if id(spec) not in self.owner:
                        self.owner[id(spec)] = len(tasks)
                        tasks.append(Task("check", d, spec.description, spec.method, spec.timeout))
                        payload.append(spec)
                    deps.append(self.owner[id(spec)])
            return deps

        if self.plan.refs:
            self.entries[-1] = [(name, "reference", tuple(ref(name).checks)) for name in self.plan.refs]
            deps = checks(-1)
            tasks.append(Task("document", -1, "references", deps=tuple(dict.fromkeys(deps))))
            payload.append(None)
        for d, doc in enumerate(self.docs):
            deps = []
            if isinstance(doc, Derivation):
                try:
                    self.entries[d] = entries(doc)
                    self.files[d] = {} if self.plan.verify_only else figure_files(doc)
                except Exception as exc:
                    module = self.plan.jobs[d].src.module
                    self.docs[d] = _Failed(_failure(module, exc), f"{module}: {type(exc).__name__}: {exc}")
                else:
                    deps = checks(d)
                    for fig in ([] if self.plan.verify_only else doc.figures()):
                        deps.append(len(tasks))
                        tasks.append(Task("figure", d, fig.name))
                        payload.append(fig)
            tasks.append(Task("document", d, self.plan.jobs[d].src.module, deps=tuple(dict.fromkeys(deps))))
            payload.append(None)
        return tasks, payload

    def run_task(self, i: int, extra: dict):
        task, what = self.tasks[i], self.payload[i]
        if task.kind == "check":
            return run_in_worker(what)
        if task.kind == "figure":
            job = self.plan.jobs[task.doc]
            try:
                return draw(what, job.work, self.files[task.doc][what.name]), ""
            except Exception as exc:
                return 0.0, _failure(job.src.module, exc)
        return self.typeset(task.doc, extra)

    def ledger(self, d: int, extra: dict) -> Ledger:
        def made(spec) -> Check:
            return self.memo[id(spec)] if id(spec) in self.memo else extra[self.owner[id(spec)]]

        ledger = Ledger([Result(name, tuple(made(s) for s in specs), kind) for name, kind, specs in self.entries[d]])
        ledger.seconds = sum(made(s).seconds for s in {id(s): s for *_, specs in self.entries[d] for s in specs}.values())
        return ledger

    def typeset(self, d: int, extra: dict):
        if self.plan.verify_only:  # the ledger's results, or why there are none
            doc = self.docs[d] if d >= 0 else None
            return doc.verify if isinstance(doc, _Failed) else self.ledger(d, extra).results
        doc, job = self.docs[d], self.plan.jobs[d]
        if not isinstance(doc, Derivation):
            return Typeset(failure=doc.build)
        drawn = [extra[i] for i in extra if self.tasks[i].kind == "figure"]
        for _, failure in drawn:
            if failure:
                return Typeset(failure=failure)
        ledger = self.ledger(d, extra)
        try:
            t = typeset(doc, ledger, self.files[d], job.work, pdf=self.plan.pdf, templates=self.plan.templates,
                        timeout=self.plan.timeout)
        except Exception as exc:
            return Typeset(failure=_failure(job.src.module, exc))
        t.figure_seconds = sum(seconds for seconds, _ in drawn)
        return t


class _Handle:
    """The coordinator's view of one worker."""

    def __init__(self, proc, conn):
        self.proc, self.conn = proc, conn
        self.batch: str | None = None  # the batch it is in
        self.task: int | None = None  # the task it is making
        self.started = 0.0
        self.deadline: float | None = None
        self.leaving = False  # told that its last batch is complete
        self.warm: set = set()  # heavy modules it has imported or been given work that imports: _Batch.next


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


#: Modules that take long to import and that only some tasks need.
_HEAVY = ("torch", "matplotlib")


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


class _Coordinator:
    #: Workers that may be forked in all before the build gives up, not counting the replacements of workers killed
    #: at a proof's time limit or dead while making a task: each task ends at most one worker (it is recorded, not
    #: given again), so those are bounded by the work, and a proof past its limit is an ordinary outcome.
    MAX_WORKERS = 64

    def __init__(self, plan: Plan, size: int, done):
        import multiprocessing as mp

        self.plan, self.size, self.done = plan, size, done
        self.ctx = mp.get_context("fork")
        self.handles: list[_Handle] = []
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
        from multiprocessing.connection import wait

        try:
            for _ in range(self.size):
                self.spawn()
            while not self.finished:
                deadlines = [h.deadline for h in self.handles if h.deadline is not None]
                timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                ready = set(wait([h.conn for h in self.handles] + [h.proc.sentinel for h in self.handles], timeout))
                for h in list(self.handles):
                    if h.conn in ready:
                        try:
                            msg = h.conn.recv()
                        except (EOFError, OSError):
                            self.lost(h)
                            continue
                        self.handle(h, msg)
                    elif h.proc.sentinel in ready and not h.conn.poll():
                        self.lost(h)
                now = time.monotonic()
                for h in list(self.handles):
                    if h.deadline is not None and now >= h.deadline:
                        self.expire(h)
                self.dispatch()
        finally:
            self.stop()

    def spawn(self, replaces_task: bool = False) -> None:
        if not replaces_task and self.forked >= self.MAX_WORKERS:
            raise BuildError(f"{self.forked} build workers were started and the build is not done; giving up")
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker_main, args=(child, self.plan, [h.conn for h in self.handles]),
                                name="symdl-build-worker")
        proc.start()
        child.close()
        self.forked += not replaces_task
        self.handles.append(_Handle(proc, parent))

    def handle(self, h: _Handle, msg) -> None:
        if msg[0] == "enter":
            _, key, tasks = msg
            b = self.batches.get(key)
            if b is None:
                b = self.batches[key] = _Batch(key, tasks)
            elif b.tasks != tasks:
                raise BuildError(f"the build's workers listed different work in {key!r}: a derivation module "
                                 "builds different checks each time it is loaded")
            h.batch = key
            if b.complete:
                self.release(h, b)
        elif msg[0] == "note":  # how long a worker took to load a document (SYMDL_BUILD_TRACE)
            if self.trace is not None:
                _, label, seconds, cpu = msg
                end = time.monotonic() - self.t0
                self.trace.write(json.dumps({"batch": "", "kind": "load", "doc": None, "label": label, "method": "",
                                             "worker": h.proc.pid, "start": end - seconds, "end": end,
                                             "cpu": cpu}) + "\n")
        elif msg[0] == "result":
            _, key, i, value, cpu, warm = msg
            h.task = h.deadline = None
            h.warm.update(warm)
            self.record(self.batches[key], i, value, h, cpu)

    def record(self, b: _Batch, i: int, value, h: _Handle | None, cpu: float | None = None) -> None:
        b.results[i] = value
        task = b.tasks[i]
        if self.trace is not None:
            now = time.monotonic() - self.t0
            self.trace.write(json.dumps({"batch": b.key, "kind": task.kind, "doc": task.doc, "label": task.label,
                                         "method": task.method, "worker": h.proc.pid if h else None,
                                         "start": (h.started - self.t0) if h else None, "end": now,
                                         "cpu": cpu, "tex": getattr(value, "tex_seconds", None),
                                         "warm": sorted(h.warm) if h else None}) + "\n")
        if b.key == "build" and task.kind == "document":
            self.done(task.doc, value)
        if b.complete:
            for other in self.handles:
                if other.batch == b.key and other.task is None:
                    self.release(other, b)

    def release(self, h: _Handle, b: _Batch) -> None:
        """Tell a worker that batch ``b`` is complete: every outcome of a loading batch, nothing for the build."""
        last = b.key == "build"
        self.send(h, ("done", None if last else [b.results[i] for i in range(len(b.tasks))]))
        h.batch = None
        h.leaving = last

    def dispatch(self) -> None:
        for h in list(self.handles):
            if h.batch is None or h.task is not None:
                continue
            b = self.batches[h.batch]
            claimed = {m for other in self.handles if other is not h for m in other.warm}
            i = b.next(h.warm, claimed)
            if i is None:
                if (b.key != "build" and not self.plan.verify_only and "matplotlib" not in h.warm | claimed
                        and "torch" not in h.warm):
                    # idle while another worker makes the last checks the documents wait for: import matplotlib
                    # now, for the figures to come, rather than in the first figure's time (and in a worker that
                    # has no torch, so that oracles and figures go to different workers)
                    h.warm.add("matplotlib")
                    self.send(h, ("warm", "matplotlib"))
                continue
            task = b.tasks[i]
            b.given.add(i)
            if _need(task) is not None:
                h.warm.add(_need(task))
            h.task, h.started = i, time.monotonic()
            h.deadline = h.started + task.timeout if task.timeout is not None else None
            self.send(h, ("run", i, {d: b.results[d] for d in task.deps}))

    def send(self, h: _Handle, msg) -> None:
        try:
            h.conn.send(msg)
        except (BrokenPipeError, OSError):
            self.lost(h)

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

    def expire(self, h: _Handle) -> None:
        """A proof past its time limit: its worker is killed and replaced."""
        b, i = self.batches[h.batch], h.task
        self.kill(h)
        self.handles.remove(h)
        task = b.tasks[i]
        self.record(b, i, self.failed(task, f"no answer within {task.timeout:g} s", time.monotonic() - h.started), None)
        if not self.finished:
            self.spawn(replaces_task=True)

    def lost(self, h: _Handle) -> None:
        """A worker that ended: after its last batch as told, or by dying."""
        if h not in self.handles:
            return
        self.handles.remove(h)
        h.proc.join(1)
        code = h.proc.exitcode
        self.kill(h)
        if h.leaving:
            return
        if h.task is None:
            self.idle_deaths += 1
            if self.idle_deaths > 2:
                raise BuildError(f"build workers keep dying while they load the documents (exit code {code})")
        else:
            b = self.batches[h.batch]
            self.record(b, h.task, self.failed(b.tasks[h.task], f"the worker process making it died (exit code {code})",
                                               time.monotonic() - h.started), None)
        if not self.finished:
            self.spawn(replaces_task=h.task is not None)

    @staticmethod
    def kill(h: _Handle) -> None:
        """End a worker and every process it started (its process group)."""
        try:
            os.killpg(h.proc.pid, signal.SIGKILL)
        except OSError:
            if h.proc.exitcode is None:
                h.proc.kill()
        h.proc.join(5)
        h.conn.close()

    def stop(self) -> None:
        for h in self.handles:
            if h.leaving:
                h.proc.join(2)
            self.kill(h)
        self.handles.clear()
        if self.trace is not None:
            self.trace.close()
