"""From a :class:`~symdl.document.derivation.Derivation` to ``build/<slug>.tex`` and ``build/<slug>.pdf``.

Order of work for one document: run every check (steps, figures, the references the document shows), draw
the figures, render the .tex, compile the PDF in a private folder, and only then rename the results into
place (:mod:`symdl.run.typeset`).  A refuted check or a TeX error fails the build and leaves the last good PDF
untouched.

:func:`build_all` builds many documents at once on ``jobs`` cores: forked workers share out every check,
figure and TeX run of every document (see its docstring); the outputs are the same bytes as
:func:`build` writes for each document alone.
"""

from __future__ import annotations

import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from ..document.context import Ledger, entries
from ..document.derivation import Derivation
from ..model.registry import refs
from ..verify.spec import Result, run_check
from .cache import cache_key, record, up_to_date
from .pool import coordinating
from .schedule import Coordinator
from .tasks import Job, Plan
from .typeset import (EXIT_ERROR, EXIT_OK, BuildReport, Typeset, draw, failure, figure_files, install,
                      report_lines, summary_of, typeset)


def verify_document(doc: Derivation) -> Ledger:
    """Run the checks of every reference, step and figure of ``doc``, in this process."""
    t0 = time.perf_counter()
    ledger = Ledger([Result(name, tuple(run_check(s) for s in specs), kind) for name, kind, specs in entries(doc)])
    ledger.seconds = time.perf_counter() - t0
    return ledger


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


# -- many documents at once: forked workers share out the work ------------------------------------------------


def build_all(srcs, outdir: Path, *, templates: Path | None, pdf: bool = True, timeout: float = 180.0,
              force: bool = False, jobs: int = 0, emit=None) -> int:
    """Build every document of ``srcs`` (``symdl.document.sources.DocumentSource``) into ``outdir`` on ``jobs`` cores.

    A document whose cache key and outputs are unchanged (:mod:`symdl.run.cache`) is skipped unless ``force``.
    The others are built by ``jobs`` forked workers (by default one a core, at most two a document) that each
    load every document and then make whatever the coordinator, this process, hands them next: one check (a
    check that several documents show is made once), one figure, or one document's rendering and TeX run once
    its checks and figures are made.  Checks a derivation needs while it is being built (the seed audit grades its
    answers by their outcomes) are shared out the same way: the loader gives the derivation the workers' runner
    (:func:`symdl.document.sources.load`).  A symbolic proof runs in its worker under the proof's memory limit; at
    the proof's time limit the coordinator kills the worker, records the proof as not made, and forks a
    replacement.  Outputs are installed here, each document's together, as it finishes; the lines for each
    document are printed in document order.  Returns the exit status: 0, 1 when a check was refuted, 2 on any
    other error.

    With ``SYMDL_BUILD_TRACE=FILE`` the coordinator writes the profile of the build (:mod:`symdl.run.schedule`).
    """
    t0 = time.perf_counter()
    outdir.mkdir(parents=True, exist_ok=True)
    progress = _Progress(srcs, emit or _print)
    keys = {i: cache_key(src.path, templates) for i, src in enumerate(srcs)}
    todo = []
    for i, src in enumerate(srcs):
        rec = None if force else up_to_date(outdir, src.module, keys[i])
        if rec is None:
            todo.append(i)
        else:
            progress.outcome[i] = (EXIT_OK, [f"      up to date ({rec['summary']}); use --force to rebuild"])
    with ExitStack() as stack:
        plan = Plan(tuple(Job(srcs[i], keys[i], Path(stack.enter_context(tempfile.TemporaryDirectory(
            prefix=f".{srcs[i].slug_guess}-", dir=outdir)))) for i in todo), templates, pdf, timeout)

        def done(d: int, t: Typeset) -> None:
            progress.outcome[todo[d]] = _finish(plan.jobs[d], t, outdir, pdf=pdf, seconds=time.perf_counter() - t0)
            progress.flush()

        progress.flush()
        if todo:
            _coordinate(plan, jobs or min(os.cpu_count() or 1, 2 * len(todo)), done)
        progress.flush()
    return progress.status


def _print(lines: list[str]) -> None:
    for line in lines:
        print(line, flush=True)


class _Progress:
    """The lines of a build in document order: a document's header once every document before it is printed,
    then its lines once it is done, whatever order the documents finish in."""

    def __init__(self, srcs, emit):
        self.srcs, self.emit = srcs, emit
        self.outcome: dict[int, tuple[int, list[str]]] = {}  # a document's exit status and lines
        self.next, self.header, self.status = 0, -1, EXIT_OK

    def flush(self) -> None:
        while self.next < len(self.srcs):
            i = self.next
            if self.header < i:
                print(f"[{i + 1}/{len(self.srcs)}] {self.srcs[i].module}: verifying, drawing, typesetting ...",
                      flush=True)
                self.header = i
            if i not in self.outcome:
                return
            code, lines = self.outcome[i]
            self.emit(lines)
            self.status = max(self.status, code)
            self.next += 1


def _finish(job: Job, t: Typeset, outdir: Path, *, pdf: bool, seconds: float) -> tuple[int, list[str]]:
    """Put a typeset document in place and record it in the cache: its exit status and the lines to print."""
    if t.failure:
        return EXIT_ERROR, [t.failure]
    try:
        report = install(t, job.work, outdir, pdf=pdf)
    except Exception as exc:  # a document that cannot be put in place fails alone
        return EXIT_ERROR, [failure(job.src.module, exc)]
    out = report_lines(job.src.module, t, report, seconds)
    if not report.error and report.pdf is not None:
        figures = sorted(outdir.glob(f"figures/{t.slug}-*.pdf"))
        record(outdir, job.src.module, job.key, [report.tex, report.pdf, *figures], summary_of(t))
    return out


def _coordinate(plan: Plan, jobs: int, done) -> None:
    """Make the work of ``plan`` on ``jobs`` forked workers, ``done(d, value)`` as each document is made."""
    size = max(1, jobs)
    with coordinating():
        if size > 1:
            _prepare()
        Coordinator(plan, size, done).run()


def verify_all(names, srcs, *, jobs: int = 0) -> tuple[list[Result], list[str]]:
    """The ledger of the references ``names`` and of every document of ``srcs``, made by ``jobs`` workers as
    :func:`build_all` makes a build's checks: ``(results, errors)``, the results in order (the references, then
    each document's results not listed before it), the errors of documents that could not be loaded."""
    plan = Plan(tuple(Job(src, "", Path()) for src in srcs), refs=tuple(names), verify_only=True)
    got: dict = {}
    if srcs or names:
        _coordinate(plan, jobs or min(os.cpu_count() or 1, 2 * (len(srcs) + bool(names))), got.__setitem__)
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


def _prepare() -> None:
    """Derive the references here, once, before the workers are forked: every worker needs them (a document's
    ledger lists its references' checks) and would otherwise derive them itself (about 1 s each)."""
    try:
        refs()
    except Exception:  # a model that cannot be derived is reported by each document that needs it
        pass
