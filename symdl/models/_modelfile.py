r"""A model file (TOML) read into a :class:`~symdl.model.model.Model`.

The file is data: TOML read by :mod:`tomllib`, and LaTeX read by the checker's grammar into
SymPy, node by node.  Nothing in it is executed; the one piece of Python a model may name is its
``[oracle]`` module, a file of the course's own that only ``symdl verify`` and ``symdl build``
import, when they run that oracle's check.

Every error names the file and the key, and the column within a LaTeX value where there is one
(TOML itself gives no positions of keys).  The form is in ``docs/notation.md``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import sympy as sp

from ..core.printing import is_safe_name
from ..core.symbols import scalar
from ..model.model import Model
from ..model.reference import DOMAINS, Input, Reference
from ..reader import ReadError, read
from ..reader.names import canon, table_for
from ._oracle import file_oracle
from ._references import reference

SECTIONS = ("model", "sizes", "inputs", "functions", "definitions", "aliases", "references", "oracle")
_SIZE = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")


class ModelFileError(ValueError):
    """A model file that cannot be read: the file, the key, the column in a LaTeX value, and why."""

    def __init__(self, path, key: str, message: str, column: int | None = None):
        where = f"{path}: [{key}]" if key else f"{path}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")
        self.path, self.key, self.column = str(path), key, column


def load(path: str | Path) -> Model:
    """The model of the file at ``path``; a :class:`ModelFileError` names what is wrong and where."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(path, "", f"cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelFileError(path, "", f"is not TOML: {exc}") from None
    return _Loader(path, data).model()


class _Loader:
    """One file's sections, read in the order each needs the ones before it."""

    def __init__(self, path: Path, data: dict):
        self.path, self.data = path, data
        unknown = [k for k in data if k not in SECTIONS]
        if unknown:
            self.fail(unknown[0], f"unknown section; a model file has {', '.join(SECTIONS)}")
        self.name = self._model_name()
        self.sizes = {k: sp.Symbol(k, integer=True, positive=True) for k in self.section("sizes", str)}
        self.inputs = tuple(self._input(k, v) for k, v in self.section("inputs", dict).items())
        self.functions = {k: self._function(k) for k in self.section("functions", dict)}
        self.definitions: dict = {}
        self.aliases: dict = {}
        self.meanings: dict = {}  # of definitions, by name: a reference that frees one shows it as an input

    def fail(self, key: str, message: str, column: int | None = None):
        raise ModelFileError(self.path, key, message, column)

    def section(self, name: str, kind: type) -> dict:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            self.fail(name, "must be a table")
        for key, item in value.items():
            if not isinstance(item, kind):
                what = {str: "a string", dict: "an inline table"}
                wanted = " or ".join(what[k] for k in (kind if isinstance(kind, tuple) else (kind,)))
                self.fail(f"{name}.{key}", f"must be {wanted}, got {type(item).__name__}")
        return value

    def _model_name(self) -> str:
        head = self.data.get("model")
        if not isinstance(head, dict) or not isinstance(head.get("name"), str):
            self.fail("model", 'needs name = "..." (the prefix of every reference name)')
        name = head["name"]
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            self.fail("model.name", f"{name!r} is not a model name (lower-case letters, digits and _)")
        return name

    def escaped(self, key: str, text: str, anywhere: bool = True) -> None:
        """LaTeX that TOML's double quotes turned into control characters (``"\\frac"`` holds a form feed).
        In a name every control character is one; in LaTeX a tab or a line break may be layout, but not a
        backspace, a form feed, or a tab before a letter (``"\\tanh"``)."""
        bad = [c for c in text if ord(c) < 32] if anywhere else re.findall(r"[\b\f]|\t(?=[A-Za-z])", text)
        if bad:
            self.fail(key, f"{text!r} holds a control character: in TOML's double quotes \\t is a tab, \\b a "
                           "backspace and \\f a form feed; write LaTeX in single quotes ('\\tilde{h}_t')")

    def _symbol_name(self, key: str, name: str) -> None:
        self.escaped(key, name)
        if not is_safe_name(name):
            self.fail(key, f"{name!r} is not a symbol name this notation reads (letters, digits, _, ^, braces "
                           "and the whitelisted commands such as \\tilde, \\hat, \\beta)")

    def _input(self, name: str, spec: dict) -> Input:
        key = f"inputs.{name}"
        self._symbol_name(key, name)
        shape = spec.get("shape", [])
        if not isinstance(shape, list) or len(shape) > 2:
            self.fail(key, "shape must be a list of at most two sizes: [] (a scalar), [\"n\"], [\"n\", \"m\"]")
        dims = []
        for s in shape:
            if isinstance(s, int) and s >= 1:
                dims.append(s)
            elif isinstance(s, str) and s in self.sizes:
                dims.append(self.sizes[s])
            else:
                self.fail(key, f"size {s!r} is not declared in [sizes] (declared: {', '.join(self.sizes) or 'none'})")
        domain = spec.get("domain", "real")
        if domain not in DOMAINS:
            self.fail(key, f"unknown domain {domain!r}; known: {', '.join(DOMAINS)}")
        if not dims:
            symbol = scalar(name)
        else:
            symbol = sp.MatrixSymbol(name, dims[0], dims[1] if len(dims) == 2 else 1)
        return Input(symbol, domain=domain, meaning=str(spec.get("meaning", "")))

    def _function(self, name: str):
        self._symbol_name(f"functions.{name}", name)
        plain = re.sub(r"[\\{}]", "", name)
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", plain):
            self.fail(f"functions.{name}", "a function is one name such as \\sigma, \\phi or f")
        return sp.Function(plain)

    # -- definitions and aliases -----------------------------------------------------------------------

    def scope(self, definitions: dict) -> Reference:
        """A reference that knows the inputs, the functions and the names defined so far (for the reader)."""
        return Reference(self.name, "", "", sp.S.Zero, self.inputs, dict(definitions), self.functions,
                         dict(self.aliases))

    def read_latex(self, key: str, text, definitions: dict, later: tuple = ()):
        if not isinstance(text, str):
            self.fail(key, f"must be LaTeX in a string, got {type(text).__name__}")
        self.escaped(key, text, anywhere=False)
        scope = self.scope(definitions)
        table = table_for(scope)
        for size, symbol in self.sizes.items():  # \frac{1}{n}, \sqrt{d}: a size is a number of the notation
            table.add(size, symbol, show=False)
        try:
            return read(text, scope, table).expr
        except ReadError as exc:
            column = None if exc.position is None else exc.position + 1
            used_later = [n for n in later if re.search(r"unknown symbol '" + re.escape(n) + "'", exc.message)
                          or ("unknown symbol '" in exc.message and canon(exc.message.split("'")[1]) == canon(n))]
            if used_later:
                self.fail(key, f"uses {used_later[0]}, which is defined after it (or is itself); definitions are "
                               "read in order, each from the ones above it", column)
            self.fail(key, exc.message, column)

    def define(self) -> None:
        names = list(self.section("definitions", (str, dict)))
        known = {canon(i.name) for i in self.inputs}
        for k, name in enumerate(names):
            key = f"definitions.{name}"
            self._symbol_name(key, name)
            if canon(name) in known:
                self.fail(key, f"{name} is defined twice (as an input or an earlier definition)")
            text = self._definition_text(key, self.data["definitions"][name], canon(name))
            expr = self.read_latex(key, text, self.definitions, tuple(names[k:]))
            self.definitions[_named(name, expr)] = expr
            known.add(canon(name))
        for alias, target in self.section("aliases", str).items():
            self._symbol_name(f"aliases.{alias}", alias)
            if canon(target) not in known:
                self.fail(f"aliases.{alias}", f"{target!r} is not an input or a definition of the model")
            self.aliases[alias] = target

    def _definition_text(self, key: str, value, name: str):
        """A definition is its LaTeX, or ``{ latex = '...', meaning = "..." }``."""
        if isinstance(value, str):
            return value
        unknown = [k for k in value if k not in ("latex", "meaning")]
        if unknown or not isinstance(value.get("latex"), str):
            self.fail(key, f"a definition is '...' (its LaTeX) or {{ latex = '...', meaning = \"...\" }}"
                           + (f"; unknown key {unknown[0]!r}" if unknown else ""))
        self.meanings[name] = str(value.get("meaning", ""))
        return value["latex"]

    # -- references ------------------------------------------------------------------------------------

    def model(self) -> Model:
        self.define()
        oracles = self._oracle()
        refs = tuple(reference(self, name, spec, oracles) for name, spec in self.section("references", dict).items())
        head = self.data["model"]
        return Model(self.name, str(head.get("description", "")), dict(self.section("sizes", str)), self.inputs,
                     self.functions, dict(self.definitions), dict(self.aliases), refs, str(self.path))

    def _oracle(self):
        spec = self.data.get("oracle")
        if spec is None:
            return None
        if not isinstance(spec, dict) or not isinstance(spec.get("module"), str):
            self.fail("oracle", 'needs module = "file.py" (a Python file beside the model file)')
        target = (self.path.parent / spec["module"]).resolve()
        if target.suffix != ".py" or not target.is_file():
            self.fail("oracle.module", f"{spec['module']!r} is not a Python file beside {self.path.name}")
        return file_oracle(target)

    def lookup(self, key: str, text: str, column: int | None = None):
        table = table_for(self.scope(self.definitions))
        found = table.get(text.strip())
        if not isinstance(found, (sp.Symbol, sp.MatrixSymbol)):
            self.fail(key, f"{text.strip()!r} is not an input or a definition of the model", column)
        return found


def _named(name: str, expr):
    """The symbol a definition gives its value: a vector, a matrix or a scalar of the value's shape."""
    if getattr(expr, "is_Matrix", False):
        return sp.MatrixSymbol(name, *expr.shape)
    return scalar(name)
