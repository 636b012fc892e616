"""Finding and loading the worked solutions in ``derivations/``.

Each ``derivations/<module>.py`` defines ``derivation()``; its docstring's
first line is the description ``symdl list`` shows.  A module that fails to
import or to build is reported with where it failed, and the others go on.

A derivation that makes checks while it is built (the seed audit grades its
answers by their outcomes) declares a parameter ``runner`` and makes them with
``symdl.verify.spec.run_many(specs, runner)``: the loader passes the runner it
is given, so that a build's workers share those checks out instead of each
making them all.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from ..model.registry import UnknownNameError
from ..verify.spec import Runner
from .derivation import Derivation


@dataclass(frozen=True)
class DocumentSource:
    module: str
    path: Path
    description: str

    @property
    def slug_guess(self) -> str:
        return self.module.replace("_", "-")


class DocumentError(RuntimeError):
    """A derivation module that raised: which one, and where."""


def derivations_dir(explicit: str | os.PathLike | None = None) -> Path:
    """``--derivations``, else ``$SYMDL_DERIVATIONS``, else ``./derivations``."""
    path = Path(explicit or os.environ.get("SYMDL_DERIVATIONS") or "derivations")
    if not path.is_dir():
        raise FileNotFoundError(
            f"no derivations folder at {path.resolve()}; run symdl from the project folder "
            f"or pass --derivations DIR")
    return path


def sources(folder: Path) -> list[DocumentSource]:
    out = []
    for p in sorted(folder.glob("*.py")):
        if p.name.startswith("_"):
            continue
        try:
            doc = ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) or ""
        except SyntaxError as exc:
            doc = f"(cannot be read: line {exc.lineno}: {exc.msg})"
        out.append(DocumentSource(p.stem, p, doc.strip().splitlines()[0] if doc.strip() else ""))
    return out


def find(folder: Path, name: str) -> DocumentSource:
    """A derivation by module name (``q1_recurrent``) or output name (``q1-recurrent``)."""
    srcs = sources(folder)
    for s in srcs:
        if name in (s.module, s.slug_guess):
            return s
    raise UnknownNameError("derivation", name, [s.module for s in srcs])


def load(src: DocumentSource, runner: Runner | None = None) -> Derivation:
    """Import the module and call its ``derivation()`` (with ``runner`` if it takes one); failures name the
    module and line."""
    modname = f"symdl_derivations.{src.module}"
    try:
        spec = importlib.util.spec_from_file_location(modname, src.path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        if str(src.path.parent) not in sys.path:
            sys.path.insert(0, str(src.path.parent))
        spec.loader.exec_module(module)
        doc = _call(module.derivation, runner)
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if Path(f.filename).resolve() == src.path.resolve()]
        where = f"{src.path}:{frames[-1].lineno}" if frames else str(src.path)
        raise DocumentError(f"{where}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(doc, Derivation):
        raise DocumentError(f"{src.path}: derivation() returned {type(doc).__name__}, not a Derivation")
    return doc


def _call(derivation, runner: Runner | None) -> Derivation:
    if runner is not None and "runner" in inspect.signature(derivation).parameters:
        return derivation(runner=runner)
    return derivation()
