"""From a :class:`~symdl.derivation.Derivation` to ``build/<slug>.tex`` and ``build/<slug>.pdf``.

Order of work: run every check (steps, figures, the references the document
shows), draw the figures, render the .tex, compile the PDF in a private
folder, and only then rename the results into place.  A refuted check or a TeX
error fails the build and leaves the last good PDF untouched.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .derivation import Derivation, Figure, Prose, ReferenceBlock, Step, Table, TeX, Text, prose
from .printing import display
from .registry import ref
from .render import (BuildError, compile_pdf, copy_atomic, environment, latexmk_available, overfull_lines,
                     write_atomic)
from .verify import METHODS, Result, run_checks


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


def verify_document(doc: Derivation) -> Ledger:
    """Run the checks of every reference, step and figure of ``doc``."""
    t0 = time.perf_counter()
    ledger = Ledger()
    for name in doc.reference_names():
        r = ref(name)
        ledger.results.append(run_checks(name, r.checks, kind="reference"))
    for section in doc.sections:
        for b in section.blocks:
            if isinstance(b, Step):
                ledger.results.append(run_checks(f"{doc.slug}: {b.name}", b.checks, kind="step"))
            elif isinstance(b, Figure):
                ledger.results.append(run_checks(f"{doc.slug}: figure {b.name}", b.checks, kind="figure"))
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


def build(doc: Derivation, outdir: Path, *, pdf: bool = True, templates: Path | None = None,
          timeout: float = 180.0) -> BuildReport:
    """Verify, draw, render and compile one document into ``outdir``."""
    report = BuildReport(doc.slug)
    ledger = verify_document(doc)
    report.ledger, report.verify_seconds = ledger, ledger.seconds
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{doc.slug}-", dir=outdir) as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        figure_files = {}
        for fig in doc.figures():
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", fig.name + doc.slug.replace("-", "")):
                raise ValueError(f"{doc.slug}: figure name {fig.name!r} must be lower-case letters, digits and -")
            rel = f"figures/{doc.slug}-{fig.name}.pdf"
            (work / "figures").mkdir(exist_ok=True)
            fig.make(work / rel)
            figure_files[fig.name] = rel
        report.figure_seconds = time.perf_counter() - t0
        source = render_tex(doc, ledger, figure_files, templates)
        tex_path = work / f"{doc.slug}.tex"
        tex_path.write_text(source, encoding="utf-8")
        failed = outdir / f"{doc.slug}.failed.tex"
        if ledger.refuted:
            names = ", ".join(r.name for r in ledger.refuted)
            write_atomic(failed, source)
            report.error = f"refuted: {names}; the last good .tex and PDF were left in place ({failed} shows the rest)"
            return report
        if pdf and latexmk_available():
            t0 = time.perf_counter()
            try:
                made = compile_pdf(tex_path, work, timeout=timeout)
                log = work / f"{doc.slug}.log"
                report.overfull = overfull_lines(log.read_text(errors="replace")) if log.exists() else []
            except BuildError as exc:
                write_atomic(failed, source)
                report.error = (f"{str(exc).replace(f'{doc.slug}.tex:', f'{failed}:')}\n"
                                f"the last good .tex and PDF, if any, were left in place")
                return report
            finally:
                report.tex_seconds = time.perf_counter() - t0
        # everything succeeded: the outputs are renamed into place together
        for rel in figure_files.values():
            copy_atomic(work / rel, outdir / rel)
        write_atomic(outdir / f"{doc.slug}.tex", source)
        report.tex = outdir / f"{doc.slug}.tex"
        failed.unlink(missing_ok=True)
        if pdf and latexmk_available():
            copy_atomic(made, outdir / f"{doc.slug}.pdf")
            report.pdf = outdir / f"{doc.slug}.pdf"
        elif pdf:
            report.error = compile_hint()
    return report


def compile_hint() -> str:
    from .render import TEX_PACKAGES

    return (f"latexmk was not found, so only the .tex was written; install TeX with:\n"
            f"  apt-get install {TEX_PACKAGES}")


