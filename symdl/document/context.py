"""The template's view of a document: its blocks and its ledger as plain dicts, with TeX marked as TeX.

A document's :class:`Ledger` holds the results of its checks in document order (the references it shows,
then each step and figure: :func:`entries`); :func:`context` joins each block to its result, and
:func:`render_tex` renders the whole through the document's Jinja template.  Nothing here runs a check or a
TeX run: whoever made the ledger (one process, or a build's workers) hands it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.printing import display
from ..model.registry import ref
from ..verify.spec import METHODS, Result
from .derivation import Derivation, Figure, Prose, ReferenceBlock, Step, Table, TeX, Text, UnsafeTeX, prose
from .render import environment


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
                out.append((f"{doc.slug}: {b.name}", "given" if b.given else "step", b.checks))
            elif isinstance(b, Figure):
                out.append((f"{doc.slug}: figure {b.name}", "figure", b.checks))
    out += [(f"{doc.slug}: {name}", "step", tuple(specs)) for name, specs in doc.checks]
    return out


def _status(result: Result | None) -> dict:
    if result is None:
        return {"status": "unverified", "checks": [], "marks": []}
    return {"status": result.status,
            "checks": [{"method": c.method, "made": c.made, "passed": c.passed, "mark": c.mark,
                        "detail": c.detail, "parts": _detail_parts(c.detail)} for c in result.checks],
            "marks": _marks(result)}


def _detail_parts(detail: str) -> list[dict]:
    """A check's detail as template parts: its ``$...$`` typeset as mathematics; a detail whose mathematics is
    not on the whitelist is printed as escaped text, never dropped."""
    try:
        return _parts(detail)
    except UnsafeTeX:
        return [{"math": False, "value": detail}]


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
    return _prose_parts(prose(text))


def _prose_parts(p: Prose) -> list[dict]:
    return [{"math": isinstance(part, TeX), "value": part if isinstance(part, TeX) else part.text}
            for part in p.parts]


def _block(doc: Derivation, b, results: dict, figure_files: dict[str, str]) -> dict:
    """One block of a section, with the status of its checks where it has any."""
    if isinstance(b, Prose):
        return {"kind": "prose", "parts": _prose_parts(b)}
    if isinstance(b, Step):
        return {"kind": "step", "claim": b.claim, "reason": _parts(b.reason), "boxed": b.boxed,
                "relation": b.relation, "given": b.given, "label": b.label, **_status(results.get(f"{doc.slug}: {b.name}"))}
    if isinstance(b, ReferenceBlock):
        r = ref(b.name)
        claim, where = display(r.lhs, r.expr)
        return {"kind": "reference", "name": r.name, "description": _parts(r.description), "claim": TeX(claim),
                "blocks": [TeX(w) for w in where], **_status(results.get(r.name))}
    if isinstance(b, Figure):
        return {"kind": "figure", "file": TeX(figure_files[b.name]), "caption": _parts(b.caption),
                "width": b.width, **_status(results.get(f"{doc.slug}: figure {b.name}"))}
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Text):
        return {"kind": "prose", "parts": [{"math": False, "value": b.text}]}
    raise TypeError(f"{doc.slug}: cannot render a {type(b).__name__} block")


def _table(b: Table) -> dict:
    widths = b.widths or tuple(round(0.9 / len(b.header), 3) for _ in b.header)
    colspec = " ".join(r">{\raggedright\arraybackslash}p{%s\textwidth}" % w for w in widths)
    return {"kind": "table", "header": list(b.header), "caption": b.caption, "colspec": TeX(colspec),
            "rows": [[_cell(c) for c in row] for row in b.rows]}


def _section_labels(doc: Derivation) -> dict[str, str]:
    """ledger name -> the number TeX gives the section that shows it: 1, 2, ... and, in a worked solution's
    appendix (from its first section titled "Audit"), A, B, ..."""
    out, number, letter = {}, 0, 0
    appendix = doc.template == "solution.tex.j2"
    for section in doc.sections:
        if appendix and (letter or section.title.startswith("Audit")):
            letter += 1
            label = chr(ord("A") + letter - 1)
        else:
            number += 1
            label = str(number)
        for b in section.blocks:
            if isinstance(b, ReferenceBlock):
                out.setdefault(b.name, label)
            elif isinstance(b, Step):
                out[f"{doc.slug}: {b.name}"] = label
            elif isinstance(b, Figure):
                out[f"{doc.slug}: figure {b.name}"] = label
    return out


def _tally(ledger: Ledger) -> dict:
    """How many items have each status, and how many checks each method made with each outcome."""
    items = {s: sum(r.status == s for r in ledger.results) for s in ("verified", "given", "refuted", "unverified")}
    checks = [c for r in ledger.results for c in r.checks]
    methods = {m: sum(c.method == m for c in checks) for m in METHODS}
    return {"count": len(ledger.results), **items, "checks": len(checks), "methods": methods,
            "failed": sum(c.made and not c.passed for c in checks), "not_made": sum(not c.made for c in checks)}


def _ledger(doc: Derivation, ledger: Ledger) -> list[dict]:
    """One row an item: where it is shown, its short name (the document's own prefix dropped) and its checks."""
    where = _section_labels(doc)
    prefix = f"{doc.slug}: "
    given = {f"{prefix}{s.name}": s.given for s in doc.steps()}
    return [{"name": r.name, "label": r.name.removeprefix(prefix), "where": where.get(r.name, ""),
             "given": given.get(r.name, ""), **_status(r)} for r in ledger.results]


def context(doc: Derivation, ledger: Ledger, figure_files: dict[str, str]) -> dict:
    """The template's view of a document: plain dicts, with TeX marked as TeX."""
    results = ledger.by_name()
    sections = [{"title": s.title, "blocks": [_block(doc, b, results, figure_files) for b in s.blocks]}
                for s in doc.sections]
    return {"doc": {"title": doc.title, "question": _parts(doc.question), "description": doc.description,
                    "sections": sections, "ledger": _ledger(doc, ledger), "tally": _tally(ledger)}}


def render_tex(doc: Derivation, ledger: Ledger, figure_files: dict[str, str], templates: Path | None) -> str:
    """The .tex of ``doc``: its template (the project's ``templates`` folder first) rendered with its context."""
    env = environment(templates)
    return env.get_template(doc.template).render(**context(doc, ledger, figure_files))
