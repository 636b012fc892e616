"""One document from its ledger to files in place: its figures, its .tex, its PDF, and what to print about it.

The work is done in a private folder (:func:`draw`, :func:`typeset`) and only then renamed into place, all of a
document's outputs together (:func:`install`).  A refuted check or a TeX error leaves the last good .tex and PDF
untouched, with ``<slug>.failed.tex`` beside them to show what failed.  These are the steps a build's worker makes
for a document (:mod:`symdl.run.tasks`) and :func:`symdl.run.build.build` makes in one process.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..document.context import Ledger, render_tex
from ..document.derivation import Derivation, Figure
from ..document.render import TEX_PACKAGES, BuildError, compile_pdf, latexmk_available, overfull_lines
from ..files import copy_atomic, write_atomic

EXIT_OK, EXIT_REFUTED, EXIT_ERROR = 0, 1, 2


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


def compile_hint() -> str:
    return (f"latexmk was not found, so only the .tex was written; install TeX with:\n"
            f"  apt-get install {TEX_PACKAGES}")


def failure(module: str, exc: BaseException) -> str:
    """The line ``symdl build`` prints for a document that raised ``exc`` before it was in place."""
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
