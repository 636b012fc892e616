"""The registry of references, built on first use from the modules in :mod:`symdl.models`.

Each model module defines ``references()``, returning its :class:`Reference`
objects.  Deriving them takes SymPy work, so nothing is built at import time.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from difflib import get_close_matches

from .reference import Reference

#: The built-in models are found by name, as plug-ins are: the registry sits in a layer below the models it
#: lists, and imports none of them until a reference of theirs is asked for.
BUILTIN = "symdl.models"

#: The seed's order; modules not listed here follow alphabetically.
ORDER = ("rnn", "lstm", "optim", "ebm", "contrastive", "latent")

_REFS: dict[str, Reference] | None = None


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


_MODULES: list[str] = []


def model_modules() -> list[str]:
    """The model modules, in the seed's order (found once)."""
    if not _MODULES:
        _MODULES.extend(_find_modules())
    return list(_MODULES)


def _find_modules() -> list[str]:
    spec = importlib.util.find_spec(BUILTIN)
    found = [m.name for m in pkgutil.iter_modules(spec.submodule_search_locations) if not m.name.startswith("_")]
    return [m for m in ORDER if m in found] + sorted(m for m in found if m not in ORDER)


_SECTIONS: dict[str, dict[str, Reference]] = {}


def section(mod: str) -> dict[str, Reference]:
    """The references of one model module, built once (``"lstm"`` builds only symdl.models.lstm)."""
    if mod not in _SECTIONS:
        module = importlib.import_module(f"{BUILTIN}.{mod}")
        _SECTIONS[mod] = {r.name: r for r in module.references()}
    return _SECTIONS[mod]


def _build() -> dict[str, Reference]:
    out: dict[str, Reference] = {}
    for mod in model_modules():
        out.update(section(mod))
    return out


def refs() -> list[Reference]:
    """Every reference, in the seed's order."""
    global _REFS
    if _REFS is None:
        _REFS = _build()
    return list(_REFS.values())


def ref(name: str) -> Reference:
    """The reference called ``name`` (``"lstm.cell_jacobian"``).

    Only the model module the name starts with is built (deriving every topic takes seconds);
    an unknown name builds them all, to list the known ones.
    """
    mod = name.split(".", 1)[0] if isinstance(name, str) else ""
    if _REFS is None and mod in model_modules():
        found = section(mod).get(name)
        if found is not None:
            return found
    table = {r.name: r for r in refs()}
    if name not in table:
        raise UnknownNameError("reference", name, table)
    return table[name]
