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
from dataclasses import replace
from pathlib import Path

import sympy as sp

from ..core.calculus import NotDifferentiable, gradient, jacobian
from ..core.printing import is_safe_name
from ..core.symbols import scalar
from ..model.model import Model
from ..model.reference import DOMAINS, Input, Reference
from ..reader import ReadError, read
from ..reader.names import canon, table_for
from ..verify.builders import complex_step_check, explicit_proof, oracle_check
from ..verify.spec import CheckSpec
from . import INSTANCES
from ._oracle import file_oracle

SECTIONS = ("model", "sizes", "inputs", "functions", "definitions", "aliases", "references", "oracle")
_SIZE = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")
_DERIVATIVE = re.compile(r"\s*\\frac\s*\{\s*\\partial\s*(?P<num>.+?)\s*\}\s*\{\s*\\partial\s*(?P<den>.+?)\s*\}\s*\Z",
                         re.S)
#: ``\nabla_{z} \ell``: the gradient of a scalar, as a column (``\frac{\partial \ell}{\partial z}`` is the row).
_GRADIENT = re.compile(r"\s*\\nabla\s*_\s*(\{\s*(?P<den>.+?)\s*\}|(?P<letter>[A-Za-z]))\s*(?P<num>.+?)\s*\Z", re.S)


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

    def fail(self, key: str, message: str, column: int | None = None):
        raise ModelFileError(self.path, key, message, column)

    def section(self, name: str, kind: type) -> dict:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            self.fail(name, "must be a table")
        for key, item in value.items():
            if not isinstance(item, kind):
                self.fail(f"{name}.{key}",
                          f"must be {'a string' if kind is str else 'an inline table'}, got {type(item).__name__}")
        return value

    def _model_name(self) -> str:
        head = self.data.get("model")
        if not isinstance(head, dict) or not isinstance(head.get("name"), str):
            self.fail("model", 'needs name = "..." (the prefix of every reference name)')
        name = head["name"]
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            self.fail("model.name", f"{name!r} is not a model name (lower-case letters, digits and _)")
        return name

    def _symbol_name(self, key: str, name: str) -> None:
        if any(ord(c) < 32 for c in name):
            self.fail(key, f"{name!r} holds a control character: in TOML's double quotes \\t is a tab and \\b a "
                           "backspace; write LaTeX in single quotes ('\\tilde{h}_t')")
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
        names = list(self.section("definitions", str))
        known = {canon(i.name) for i in self.inputs}
        for k, name in enumerate(names):
            key = f"definitions.{name}"
            self._symbol_name(key, name)
            if canon(name) in known:
                self.fail(key, f"{name} is defined twice (as an input or an earlier definition)")
            expr = self.read_latex(key, self.data["definitions"][name], self.definitions, tuple(names[k:]))
            self.definitions[_named(name, expr)] = expr
            known.add(canon(name))
        for alias, target in self.section("aliases", str).items():
            self._symbol_name(f"aliases.{alias}", alias)
            if canon(target) not in known:
                self.fail(f"aliases.{alias}", f"{target!r} is not an input or a definition of the model")
            self.aliases[alias] = target

    # -- references ------------------------------------------------------------------------------------

    def model(self) -> Model:
        self.define()
        oracles = self._oracle()
        refs = tuple(self._reference(name, spec, oracles) for name, spec in self.section("references", dict).items())
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

    def lookup(self, key: str, text: str):
        table = table_for(self.scope(self.definitions))
        found = table.get(text.strip())
        if not isinstance(found, (sp.Symbol, sp.MatrixSymbol)):
            self.fail(key, f"{text.strip()!r} is not an input or a definition of the model")
        return found

    def _reference(self, name: str, spec: dict, oracles) -> Reference:
        key = f"references.{name}"
        if not name.startswith(self.name + "."):
            self.fail(key, f"a reference's name starts with the model's name: {self.name}.{name.split('.')[-1]}")
        quantity = spec.get("quantity")
        if not isinstance(quantity, str):
            self.fail(key, "needs quantity = '...' (a defined name, \\frac{\\partial X}{\\partial Y} or \\nabla_{Y} X)")
        inputs = self._free_inputs(key, spec)
        definitions = {s: e for s, e in self.definitions.items() if s not in {i.symbol for i in inputs}}
        match = _DERIVATIVE.match(quantity) or _GRADIENT.match(quantity)
        meaning = str(spec.get("meaning", ""))
        if match is None:
            out = self.lookup(key, quantity)
            expr = definitions.get(out, out)
            return Reference(name, meaning, quantity.strip(), expr, inputs, definitions, self.functions,
                             dict(self.aliases), oracle=_oracle_text(oracles, name),
                             checks=lambda r: _oracle_checks(r, oracles, self.sizes))
        out, wrt = self.lookup(key, match["num"]), self.lookup(key, match["den"] or match["letter"])
        fixed = [self.lookup(key, f) for f in spec.get("fixed", [])]
        held = {s: e for s, e in definitions.items() if s not in fixed}
        column = match.re is _GRADIENT
        J = self._derived(key, out, wrt, held, column)
        free = (*inputs, *[Input(f, meaning="held fixed") for f in fixed if f not in {i.symbol for i in inputs}])
        return Reference(name, meaning, quantity.strip(), J, inputs, definitions, self.functions, dict(self.aliases),
                         oracle=_oracle_text(oracles, name),
                         checks=lambda r: _jacobian_checks(r, out, wrt, held, free, self.sizes, oracles, column))

    def _derived(self, key: str, out, wrt, held: dict, column: bool):
        """The engine's Jacobian of ``out`` by ``wrt``, or the gradient (a column) for ``\\nabla``."""
        try:
            return gradient(out, wrt, held) if column else jacobian(out, wrt, held)
        except NotDifferentiable as exc:
            self.fail(key, str(exc))

    def _free_inputs(self, key: str, spec: dict) -> tuple[Input, ...]:
        names = spec.get("inputs")
        if names is None:
            return self._domains(key, spec, self.inputs)
        if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
            self.fail(key, "inputs must be a list of names")
        by_name = {canon(i.name): i for i in self.inputs}
        out = []
        for x in names:
            found = by_name.get(canon(x))
            if found is None:
                found = Input(self.lookup(key, x), meaning="held free")
            out.append(found)
        return self._domains(key, spec, tuple(out))

    def _domains(self, key: str, spec: dict, inputs: tuple) -> tuple[Input, ...]:
        """``domains = { y = "onehot" }``: this reference's checks draw ``y`` from another domain."""
        given = spec.get("domains", {})
        if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
            self.fail(key, 'domains must be an inline table of input names and domains: { y = "onehot" }')
        names = {canon(i.name) for i in inputs}
        for x, domain in given.items():
            if canon(x) not in names:
                self.fail(key, f"domains: {x!r} is not an input of this reference")
            if domain not in DOMAINS:
                self.fail(key, f"domains: unknown domain {domain!r}; known: {', '.join(DOMAINS)}")
        by_canon = {canon(x): d for x, d in given.items()}
        return tuple(replace(i, domain=by_canon[canon(i.name)]) if canon(i.name) in by_canon else i for i in inputs)


def _named(name: str, expr):
    """The symbol a definition gives its value: a vector, a matrix or a scalar of the value's shape."""
    if getattr(expr, "is_Matrix", False):
        return sp.MatrixSymbol(name, *expr.shape)
    return scalar(name)


def _dims(ref: Reference, sizes: dict) -> tuple:
    used = set()
    for inp in ref.inputs:
        used |= {d for d in getattr(inp.symbol, "shape", ()) if isinstance(d, sp.Symbol)}
    return tuple(s for s in sizes.values() if s in used)


def _instances(ref: Reference):
    if not ref.functions:
        return (("", {}),)
    return tuple((label, {name: f for name in ref.functions}) for label, f in INSTANCES)


def _oracle_text(oracles, name: str) -> str:
    return f"ORACLES[{name!r}] of {oracles.path.name}" if oracles is not None else ""


def _oracle_checks(ref: Reference, oracles, sizes) -> list:
    """The course's oracle, when the file names one; a reference it does not cover is "not made"."""
    if oracles is None:
        return []
    vector = getattr(ref.expr, "is_Matrix", False) and ref.expr.shape[1] == 1 and ref.expr.shape != (1, 1)
    spec = oracle_check(lambda v: ref.evaluate(v), oracles.function(ref.name, vector), ref.inputs,
                        _dims(ref, sizes), ref.oracle, _instances(ref))

    def run():
        why = oracles.missing(ref.name)
        return (None, why, None) if why else spec.run()

    return [CheckSpec("oracle", ref.oracle, run)]


def _jacobian_checks(ref: Reference, out, wrt, held: dict, free: tuple, sizes: dict, oracles, column=False) -> list:
    """A proof at sizes 1-3, the complex step of the forward definitions (names held fixed are free inputs
    there), and the course's oracle.  A gradient (a column) is checked as the row it transposes."""
    dims = _dims(ref, sizes)
    derived = sp.Transpose(ref.expr) if column else ref.expr
    return [
        explicit_proof(derived, out, wrt, held, dims, sizes=(1, 2, 3),
                       description="against SymPy's explicit Matrix.jacobian"),
        complex_step_check(derived, out, held, free, ref.functions, wrt.name, dims, _instances(ref),
                           description="complex-step derivative of the forward definitions"),
        *_oracle_checks(ref, oracles, sizes),
    ]
