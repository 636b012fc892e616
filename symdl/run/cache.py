"""Incremental builds: a document is rebuilt only when one of its inputs changed.

The key of a document is a SHA-256 over its own module, the other modules of
its derivations folder and its subfolders (it may import them), symdl's source and templates,
the project's templates, and symdl's version.  A build that succeeded records
the key and the hashes of its outputs in ``<out>/.symdl-cache/<module>.json``;
the next build skips the document when the key matches and the outputs are
still the files it wrote.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..version import __version__
from ..files import write_atomic

PACKAGE = Path(__file__).resolve().parent


def _digest_files(h, files) -> None:
    for f in sorted(files):
        h.update(str(f.name).encode())
        h.update(f.read_bytes())


def cache_key(module_path: Path, templates: Path | None) -> str:
    h = hashlib.sha256(f"symdl {__version__}".encode())
    h.update(module_path.read_bytes())
    _digest_files(h, [p for p in module_path.parent.rglob("*.py") if "__pycache__" not in p.parts])
    _digest_files(h, PACKAGE.rglob("*.py"))
    _digest_files(h, (PACKAGE / "templates").glob("*"))
    if templates is not None and templates.is_dir():
        _digest_files(h, [p for p in templates.rglob("*") if p.is_file()])
    return h.hexdigest()


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def record_path(outdir: Path, module: str) -> Path:
    return outdir / ".symdl-cache" / f"{module}.json"


def up_to_date(outdir: Path, module: str, key: str) -> dict | None:
    """The recorded build when nothing changed since, else ``None``."""
    path = record_path(outdir, module)
    try:
        rec = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if rec.get("key") != key:
        return None
    for rel, sha in rec.get("outputs", {}).items():
        if _sha(outdir / rel) != sha:
            return None
    return rec


def record(outdir: Path, module: str, key: str, outputs: list[Path], summary: str) -> None:
    rec = {"key": key, "summary": summary,
           "outputs": {str(p.relative_to(outdir)): _sha(p) for p in outputs}}
    write_atomic(record_path(outdir, module), json.dumps(rec, indent=1, sort_keys=True))
