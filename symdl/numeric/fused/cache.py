"""The kernel cache: a printed kernel module imported from a folder only this user can write.

numba caches a function's machine code beside its module file, so a kernel
printed once is compiled once per machine, not once per process.  A module is
imported from the cache only when the file and its folder are this user's and
nobody else may write them; otherwise it is written to a fresh private folder
and compiled in this process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

from ...files import write_atomic


def load(source: str, folder: Path):
    """The ``kernel`` of the printed module ``source``, imported from ``folder`` (numba imported here)."""
    import numba

    key = hashlib.sha256(f"{numba.__version__}\n{sys.version}\n{source}".encode()).hexdigest()[:24]
    name = f"symdl_kernel_{key}"
    if name in sys.modules:
        return sys.modules[name].kernel
    path = folder / f"{name}.py"
    try:
        if not path.is_file() or path.read_text() != source:
            write_atomic(path, source)
        if not (_private(path.parent) and _private(path)):
            raise PermissionError(f"{path} could be written by another user")
    except OSError:  # no writable or private cache: a private folder, compiled afresh in this process
        path = Path(tempfile.mkdtemp(prefix="symdl-kernel-")) / f"{name}.py"
        path.write_text(source.replace("cache=True", "cache=False"))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module.kernel


def _private(path: Path) -> bool:
    """Owned by this user and writable by nobody else: only then is a cached module imported."""
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


_NUMBA: list = []


def numba_available() -> bool:
    """Whether numba imports (the ``fast`` extra); asked once per process."""
    if not _NUMBA:
        try:
            import numba  # noqa: F401
            _NUMBA.append(True)
        except ImportError:
            _NUMBA.append(False)
    return _NUMBA[0]
