"""The layout stays true: every import in symdl/ goes down the layers, never into another package's private parts.

The layers, from the bottom (CONTRIBUTING.md, "Layout"): a module may import its own folder and the folders
below it, transitively; imports inside functions count.  The package's public façade (``symdl/__init__.py``
and the old paths the README names) sits above every layer and nothing inside a layer imports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "symdl"
LAYERS = ("files", "version", "core", "numeric", "model", "reader", "verify", "models", "grade", "document",
          "run", "cli")
FACADE = {"symdl", "symdl.batch", "symdl.distributed", "symdl.derivation", "symdl.testing"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path):
    """Every symdl module ``path`` imports, as (line, absolute module, names taken from it)."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "symdl":
                    yield node.lineno, alias.name, ()
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "symdl":
                yield node.lineno, target, tuple(a.name for a in node.names)


def layer_of(module: str) -> str | None:
    """The layer a module belongs to (its first folder or file under symdl/), None for the façade."""
    parts = module.split(".")
    if module in FACADE or len(parts) < 2:
        return None
    return parts[1]


def test_every_module_is_in_a_layer():
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        assert name in FACADE or layer_of(name) in LAYERS, f"{name} is in no layer of {LAYERS}"


def violations():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = module_name(path)
        mine = layer_of(here)
        if mine is None:
            continue
        for line, target, names in imports(path):
            where = f"{path.relative_to(PACKAGE.parent)}:{line}"
            # a submodule taken by name (from ..numeric import compile) counts as that module
            targets = [f"{target}.{n}" if (PACKAGE.parent / f"{target}.{n}".replace(".", "/")).with_suffix(".py").exists()
                       or (PACKAGE.parent / f"{target}.{n}".replace(".", "/")).is_dir() else target for n in names] or [target]
            for t in targets:
                theirs = layer_of(t)
                if theirs is None:
                    found.append(f"{where}: {here} imports the public façade {t}")
                elif LAYERS.index(theirs) > LAYERS.index(mine):
                    found.append(f"{where}: {here} ({mine}) imports {t} ({theirs}), a layer above")
                own_package = here.rpartition(".")[0] if path.name != "__init__.py" else here
                private = [p for p in t.split(".")[1:] if p.startswith("_") and p != "__init__"]
                if private and not t.startswith(own_package + ".") and t != own_package:
                    found.append(f"{where}: {here} imports {t}, private to another package")
            for n in names:
                if n.startswith("_") and not n.startswith("__") and layer_of(target) != mine:
                    found.append(f"{where}: {here} takes the private name {n} from {target}")
    return found


def test_imports_go_down_the_layers():
    assert violations() == []


@pytest.mark.parametrize("bad, why", [
    ("from ..run.build import build_all\n", "a layer above"),
    ("from ..grade.check import _hand_expression\n", "private name"),
    ("import symdl\n", "public façade"),
])
def test_the_walk_sees_a_violation(tmp_path, monkeypatch, bad, why):
    """The check itself could fail: an import planted in a core module is reported."""
    fake = tmp_path / "symdl"
    (fake / "core").mkdir(parents=True)
    (fake / "core" / "planted.py").write_text("def f():\n    " + bad)
    for layer in ("run", "grade"):
        (fake / layer).mkdir()
        (fake / layer / "__init__.py").write_text("")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", fake)
    assert any(why in v for v in violations())
