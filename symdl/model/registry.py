"""The registry of models and their references, found once and built on first use.

Where models come from, in this order:

- the built-in models: the modules of :mod:`symdl.models` (each defines ``references()`` or ``model()``)
  and the model files shipped beside them; a file named like a module (``rnn.toml`` beside ``rnn.py``)
  is that module's to read, with what the file cannot say added in Python;
- the folders of ``$SYMDL_MODELS`` (separated by :data:`os.pathsep`), of ``--models DIR`` and of
  :func:`register`, and a ``models/`` folder beside ``derivations/`` in the working directory: every
  ``*.toml`` model file in them, and nothing else;
- the entry-point group ``symdl.models``: a module with ``references()`` or ``model()``, or a package of
  model files;
- :func:`register` of a :class:`~symdl.model.model.Model`, a module, a model file, a Python model module
  (``gru2.py``: the model ``gru2``) or a folder; ``--models FILE`` names one file the same way.

A Python file in a folder is never imported by finding it: a folder found without being named (the
``models/`` beside ``derivations/`` of the directory a command runs in, a folder of ``$SYMDL_MODELS``)
must not run code on ``symdl check``, and such a folder holds the oracles of its model files, which run
only for ``verify`` and ``build``.  A course's Python model runs because the course names it: by its
path (:func:`register`, ``--models FILE.py``) or as an installed plug-in (the entry point).

The registry sits in a layer below the models it lists, so it finds them by name, as plug-ins are found:
model files are read by :data:`LOADER`, named here and imported only when a file is built.  Deriving a
model takes SymPy work, so nothing is built until one of its references is asked for, and then only that
model.  A model that fails to load is kept as an error for ``symdl list``; the others still work.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import tomllib
from dataclasses import dataclass, field, replace
from difflib import get_close_matches
from pathlib import Path
from types import ModuleType
from typing import Callable

from .model import Model
from .reference import Reference

#: The built-in models, found by name (see the module's docstring).
BUILTIN = "symdl.models"
#: What reads a model file into a Model: ``module:function``, imported when the first file is built.
LOADER = "symdl.models:load_file"
#: The seed's order; models not listed here follow alphabetically.
ORDER = ("rnn", "lstm", "optim", "ebm", "contrastive", "latent")
ENTRY_POINTS = "symdl.models"


class UnknownNameError(LookupError):
    """A name that is not known; the message lists the known ones."""

    def __init__(self, kind: str, name: str, known):
        known = list(known)
        close = get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        super().__init__(f"unknown {kind} {name!r}.{hint} Known: {', '.join(known)}")
        self.name, self.known = name, known

    def __str__(self):
        return self.args[0]


class ModelError(LookupError):
    """A model that cannot be used: it failed to load, or two sources give the same name."""


@dataclass
class Source:
    """Where one model comes from, and how to build it."""

    name: str
    origin: str  # a file's path or a module's name
    build: Callable[[], Model]
    error: str = ""


@dataclass
class _State:
    sources: dict[str, Source] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (origin, message) of what failed to load
    built: dict[str, Model] = field(default_factory=dict)
    folders: list[Path] = field(default_factory=list)
    found: bool = False


_STATE = _State()


# -- finding ------------------------------------------------------------------------------------------


def _of_module(module, name: str, origin: str) -> Model:
    """The model a Python module gives: its ``model()``, or the model its ``references()`` imply."""
    make = getattr(module, "model", None)
    if callable(make):
        return make()
    if not callable(getattr(module, "references", None)):
        raise ModelError(f"{origin}: a model module defines model() or references()")
    return Model.of_references(name, tuple(module.references()), (module.__doc__ or "").strip().split("\n")[0],
                               origin)


def _module_model(module_name: str, name: str) -> Callable[[], Model]:
    def build() -> Model:
        return _of_module(importlib.import_module(module_name), name, module_name)

    return build


def _python_file_model(path: Path) -> Callable[[], Model]:
    """A course's Python model module, named explicitly by its path; imported when its model is first used."""
    def build() -> Model:
        spec = importlib.util.spec_from_file_location(f"symdl_course_model_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return _of_module(module, path.stem, str(path))

    return build


def _file_model(path: Path, shown: str = "") -> Callable[[], Model]:
    """Builds the model of ``path``; a file shipped in the package is shown as ``symdl/models/NAME.toml``,
    the same on every machine (docs/reference.md lists it)."""
    def build() -> Model:
        module, _, function = LOADER.partition(":")
        built = getattr(importlib.import_module(module), function)(path)
        return replace(built, source=f"{shown}/{path.name}") if shown else built

    return build


def _add(name: str, origin: str, build: Callable[[], Model]) -> None:
    known = _STATE.sources.get(name)
    if known is None:
        _STATE.sources[name] = Source(name, origin, build)
    elif not _same_origin(known.origin, origin):
        known.error = known.error or f"two models are named {name!r}: {known.origin} and {origin}"
        _STATE.errors.append((origin, known.error))


def _same_origin(a: str, b: str) -> bool:
    """Whether two origins are one: the same file reached by two paths (``--models models`` and the
    ``models/`` found beside ``derivations/``) is one model, not two of one name."""
    return a == b or (os.path.isfile(a) and os.path.isfile(b) and os.path.samefile(a, b))


def _add_file(path: Path, shown: str = "") -> None:
    try:
        head = tomllib.loads(path.read_text(encoding="utf-8")).get("model", {})
        name = head.get("name") if isinstance(head, dict) else None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        _STATE.errors.append((str(path), f"{path}: is not a TOML model file: {exc}"))
        return
    if not isinstance(name, str):
        _STATE.errors.append((str(path), f'{path}: [model]: needs name = "..." (the prefix of every reference name)'))
        return
    _add(name, str(path), _file_model(path, shown))


def _add_folder(folder: Path, shown: str = "", skip=frozenset()) -> None:
    """Every model file in ``folder``, but those whose stem is in ``skip`` (a module of that name reads them)."""
    for path in sorted(folder.glob("*.toml")):
        if path.stem not in skip:
            _add_file(path, shown)


def _builtins() -> None:
    spec = importlib.util.find_spec(BUILTIN)
    folders = list(spec.submodule_search_locations)
    found = [m.name for m in pkgutil.iter_modules(folders) if not m.name.startswith("_")]
    for mod in [m for m in ORDER if m in found] + sorted(m for m in found if m not in ORDER):
        _add(mod, f"{BUILTIN}.{mod}", _module_model(f"{BUILTIN}.{mod}", mod))
    for folder in folders:  # rnn.toml is read by rnn.py, which adds what the file cannot say
        _add_folder(Path(folder), shown=BUILTIN.replace(".", "/"), skip=set(found))


def _entry_points() -> None:
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINTS):
        try:
            target = ep.load()
        except Exception as exc:  # an installed plug-in that fails to import is reported, not fatal
            _STATE.errors.append((ep.value, f"entry point {ep.name} ({ep.value}): {type(exc).__name__}: {exc}"))
            continue
        if hasattr(target, "references"):
            _add(ep.name, ep.value, _module_model(target.__name__, ep.name))
        for folder in getattr(target, "__path__", ()):
            _add_folder(Path(folder))


def _user_folders() -> list[Path]:
    folders = [Path(p) for p in os.environ.get("SYMDL_MODELS", "").split(os.pathsep) if p]
    beside = Path.cwd() / "models"
    if (Path.cwd() / "derivations").is_dir() and beside.is_dir():
        folders.append(beside)
    return folders + _STATE.folders


def _find() -> None:
    if _STATE.found:
        return
    _STATE.found = True
    _builtins()
    for folder in _user_folders():
        _add_folder(folder)
    _entry_points()


# -- building ----------------------------------------------------------------------------------------


def model(name: str) -> Model:
    """The model called ``name``, built on first use; a :class:`ModelError` says why one cannot be used."""
    _find()
    if name in _STATE.built:
        return _STATE.built[name]
    source = _STATE.sources.get(name)
    if source is None:
        raise UnknownNameError("model", name, _STATE.sources)
    if source.error:
        raise ModelError(source.error)
    built = source.build()
    _STATE.built[name] = built
    return built


def models() -> list[Model]:
    """Every model that loads, in the seed's order; those that fail are in :func:`errors`."""
    _find()
    out = []
    for name, source in list(_STATE.sources.items()):
        if source.error:
            continue
        try:
            out.append(model(name))
        except Exception as exc:  # a broken model file leaves the others working; symdl list shows it
            source.error = str(exc)
            _STATE.errors.append((source.origin, str(exc)))
    return out


def errors() -> list[tuple[str, str]]:
    """``(origin, message)`` of every model that could not be loaded (after :func:`models`)."""
    _find()
    return list(dict.fromkeys(_STATE.errors))


def model_names() -> list[str]:
    _find()
    return list(_STATE.sources)


def section(mod: str) -> dict[str, Reference]:
    """The references of one model, by name (``"lstm"`` builds only the lstm model)."""
    return {r.name: r for r in model(mod).references}


def refs() -> list[Reference]:
    """Every reference of every model that loads, in the seed's order."""
    return [r for m in models() for r in m.references]


def ref(name: str) -> Reference:
    """The reference called ``name`` (``"lstm.cell_jacobian"``).

    Only the model the name starts with is built (deriving every topic takes seconds); an unknown name
    builds them all, to list the known ones.
    """
    mod = name.split(".", 1)[0] if isinstance(name, str) else ""
    if mod in model_names():
        found = section(mod).get(name)
        if found is not None:
            return found
    table = {r.name: r for r in refs()}
    if name not in table:
        raise UnknownNameError("reference", name, table)
    return table[name]


def register(item) -> list[str]:
    """Add a :class:`Model`, a model file or a folder of model files; returns the names of the models added.

    A model registered under a name that another source already gives is an error naming both.
    """
    _find()
    before = set(_STATE.sources)
    if isinstance(item, Model):
        _add(item.name, item.source or f"symdl.register({item.name})", lambda: item)
        if _STATE.sources[item.name].error:
            raise ModelError(_STATE.sources[item.name].error)
    elif isinstance(item, ModuleType):
        name = item.__name__.rsplit(".", 1)[-1]
        _add(name, item.__name__, lambda: _of_module(item, name, item.__name__))
    else:
        path = Path(item)
        if path.is_dir():
            _STATE.folders.append(path)
            _add_folder(path)
        elif path.is_file():
            _add_path(path)
        else:
            raise FileNotFoundError(f"no model file or folder at {path}")
    return [n for n in _STATE.sources if n not in before]


def _add_path(path: Path) -> None:
    """One file named explicitly: a model file, or a Python model module (``gru2.py`` is the model gru2)."""
    if path.suffix == ".py":
        _add(path.stem, str(path), _python_file_model(path))
    else:
        _add_file(path)


def add_folders(folders) -> None:
    """What ``--models`` names: folders searched like ``$SYMDL_MODELS`` (model files only), or one file, a
    model file or a Python model module, named explicitly."""
    if folders:
        _find()
    for folder in folders:
        folder = Path(folder)
        if folder.is_file():
            _add_path(folder)
        elif not folder.is_dir():
            raise FileNotFoundError(f"--models {folder}: no such folder or file")
        elif folder not in _STATE.folders:
            _STATE.folders.append(folder)
            _add_folder(folder)


def model_modules() -> list[str]:
    """The built-in model modules, in the seed's order."""
    _find()
    return [s.name for s in _STATE.sources.values() if s.origin.startswith(BUILTIN + ".")]


def reset() -> None:
    """Forget every model found, built or registered: the next use finds them again (for tests, and for a
    long-lived session whose model files changed)."""
    global _STATE
    _STATE = _State()
