"""A model file's oracle: the course's own Python file, imported only when its check runs.

``symdl check`` and ``symdl derive`` never make oracle checks, so they never import it; ``symdl
verify`` and ``symdl build`` do, once per process.  The module defines ``ORACLES``, a dictionary from
a reference's name to a function of the values dictionary (numpy arrays keyed as the model writes
them) returning the reference's value as a numpy array or a torch tensor.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(eq=False)
class FileOracle:
    path: Path
    _table: dict | None = field(default=None, repr=False)

    def table(self) -> dict:
        if self._table is None:
            spec = importlib.util.spec_from_file_location(f"symdl_oracle_{abs(hash(str(self.path)))}", self.path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            table = getattr(module, "ORACLES", None)
            if not isinstance(table, dict):
                raise TypeError(f"{self.path.name} defines no ORACLES dictionary")
            self._table = table
        return self._table

    def missing(self, name: str) -> str:
        """Why there is no oracle for ``name`` ("" when there is one)."""
        return "" if name in self.table() else f"{self.path.name} has no ORACLES[{name!r}]"

    def function(self, name: str, vector: bool = False, functions: tuple = ()):
        """The oracle of ``name`` as a function of the values; a vector comes back 1-D, as symdl gives it.

        An abstract function of the model (``\\sigma``) is given by the name of the activation the check
        instantiates (``values[r"\\sigma"] == "tanh"``): the oracle builds it in torch itself."""

        def call(values: dict):
            given = {k: v for k, v in values.items() if not k.startswith("_")}
            out = self.table()[name]({**given, **{f: values.get("_function") for f in functions}})
            out = np.asarray(out.detach().cpu().numpy() if hasattr(out, "detach") else out, dtype=np.float64)
            return out.reshape(-1) if vector else out

        return call


def file_oracle(path: Path) -> FileOracle:
    return FileOracle(Path(path))
