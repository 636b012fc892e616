r"""Rendering derivations to LaTeX with Jinja, and LaTeX to PDF with latexmk.

The Jinja environment uses LaTeX-friendly delimiters (``((* block *))``,
``((( value )))``, ``((= comment =))``), ``StrictUndefined``, and escapes every
interpolated value unless it is :class:`~symdl.document.derivation.TeX` (printed by
symdl or checked by :func:`~symdl.document.derivation.tex`): escaping is the default,
not a filter one must remember.

latexmk runs with ``-no-shell-escape`` and ``openin_any=p openout_any=p`` in a
private folder, under a wall-clock limit; every output is written to a
temporary file and renamed into place, so a failed build leaves the last good
PDF where it was.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .derivation import TeX
from ..core.printing import escape_text

#: Debian packages that provide what the documents need.
TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended texlive-fonts-recommended lmodern latexmk"
#: The exam's date: every build claims it, so that two builds of one commit are byte-identical.
SOURCE_DATE_EPOCH = "1585699200"
LATEXMK_TIMEOUT = 180.0


class BuildError(RuntimeError):
    """A document that could not be built; the message says where and why."""


def finalize(value):
    """Jinja's finalize hook: TeX passes, everything else is escaped text."""
    if isinstance(value, TeX):
        return value
    if value is None:
        return ""
    return escape_text(value)


def environment(project_templates: Path | None = None):
    """The Jinja environment: the project's ``templates/`` first, then symdl's defaults.

    A project template may ``((* extends "symdl/question.tex.j2" *))`` and
    override single blocks.
    """
    import jinja2

    loaders = []
    if project_templates is not None and project_templates.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(project_templates)))
    default = jinja2.PackageLoader("symdl", "templates")
    loaders += [jinja2.PrefixLoader({"symdl": default}), default]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        block_start_string="((*", block_end_string="*))",
        variable_start_string="(((", variable_end_string=")))",
        comment_start_string="((=", comment_end_string="=))",
        line_statement_prefix=None, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, autoescape=False, finalize=finalize,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["breakable"] = breakable
    env.filters["oneline"] = oneline
    return env


def oneline(value) -> TeX:
    """Escaped text on one line, for a TeX comment: a line break would end the comment and make the rest text."""
    return TeX(" ".join(escape_text(value).split()))


def breakable(value) -> TeX:
    """Escaped text that may break after ``.``, ``_``, ``:`` and ``/`` (long names in narrow columns)."""
    out = escape_text(value)
    for mark in (".", r"\_", ":", "/"):
        out = out.replace(mark, mark + r"\allowbreak{}")
    return TeX(out)


# -- the build lock ----------------------------------------------------------------------


@contextmanager
def build_lock(outdir: Path, wait: bool = True):
    """One build at a time in a folder: a second waits (or fails at once with ``wait=False``)."""
    import fcntl

    outdir.mkdir(parents=True, exist_ok=True)
    with open(outdir / ".symdl.lock", "w") as fh:
        flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
        try:
            fcntl.flock(fh, flags)
        except BlockingIOError:
            raise BuildError(f"another symdl build is running in {outdir}") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# -- TeX runs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TexError:
    file: str
    line: int
    message: str
    excerpt: str

    def __str__(self):
        return f"{self.file}:{self.line}: {self.message}\n{self.excerpt}"


_FILE_LINE = re.compile(r"^(?P<file>[^\s:][^:]*\.tex):(?P<line>\d+): (?P<msg>.*)$", re.M)


def parse_log(log: str, tex_source: str, name: str) -> list[TexError]:
    """``file:line: message`` errors of a ``-file-line-error`` log, each with an excerpt of the .tex."""
    lines = tex_source.splitlines()
    out = []
    for mt in _FILE_LINE.finditer(log):
        ln = int(mt.group("line"))
        lo, hi = max(ln - 3, 0), min(ln + 2, len(lines))
        excerpt = "\n".join(f"{'>' if i + 1 == ln else ' '} {i + 1:5d} | {lines[i]}" for i in range(lo, hi))
        out.append(TexError(f"{name}.tex", ln, mt.group("msg").strip(), excerpt))
    if not out:
        bang = re.search(r"^! (.*)$", log, re.M)
        if bang:
            out.append(TexError(f"{name}.tex", 0, bang.group(1), ""))
    return out


def tex_environment() -> dict:
    env = dict(os.environ)
    env.update({
        "openin_any": "p", "openout_any": "p", "shell_escape": "f",
        "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "FORCE_SOURCE_DATE": "1", "TZ": "UTC",
    })
    return env


def overfull_lines(log: str) -> list[str]:
    """Where TeX had to let a line run into the margin: ``"<file> lines 58--59 (43.8pt too wide)"``."""
    return [f"lines {m.group(2)} ({m.group(1)} too wide)"
            for m in re.finditer(r"Overfull \\hbox \(([\d.]+pt) too wide\) (?:in paragraph at lines|detected at line) "
                                 r"([\d-]+)", log)]


def latexmk_available() -> bool:
    return shutil.which("latexmk") is not None and shutil.which("pdflatex") is not None


def compile_pdf(tex_path: Path, workdir: Path, timeout: float = LATEXMK_TIMEOUT) -> Path:
    """Run latexmk on ``tex_path`` inside ``workdir``; returns the PDF made there.

    Raises :class:`BuildError` with ``file:line: message`` and a .tex excerpt.
    """
    if not latexmk_available():
        raise BuildError(f"latexmk or pdflatex was not found; install them with:\n"
                         f"  apt-get install {TEX_PACKAGES}")
    name = tex_path.stem
    cmd = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
           "-no-shell-escape", "-quiet", f"-jobname={name}", tex_path.name]
    try:
        proc = subprocess.run(cmd, cwd=workdir, env=tex_environment(), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BuildError(f"{name}.tex: TeX did not finish within {timeout:g} s") from None
    pdf = workdir / f"{name}.pdf"
    if proc.returncode != 0 or not pdf.exists():
        log_path = workdir / f"{name}.log"
        log = log_path.read_text(errors="replace") if log_path.exists() else proc.stdout + proc.stderr
        errors = parse_log(log, tex_path.read_text(), name)
        detail = "\n".join(str(e) for e in errors[:3]) or (proc.stdout + proc.stderr)[-2000:]
        raise BuildError(f"TeX failed on {name}.tex:\n{detail}")
    return pdf
