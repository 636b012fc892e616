r"""Reference results: a name, a SymPy expression, its symbols, and how to evaluate it.

A :class:`Reference` is what REFERENCES.md promises a user: ``.expr`` (SymPy,
written with the defined names such as ``f_t``), ``.definitions`` (what those
names stand for), ``.latex()``, and ``.evaluate(values, backend=...)`` with
``values`` keyed by the symbols exactly as REFERENCES.md writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import sympy as sp
from sympy.core.function import UndefinedFunction

from ..numeric import compile as backends
from ..core.calculus import substitute_definitions
from ..core.elementwise import prime
from ..core.printing import latex as course_latex
from .domains import DOMAINS


@dataclass(frozen=True)
class Input:
    """One input of a reference: its symbol, domain and meaning."""

    symbol: sp.Basic
    domain: str = "real"
    meaning: str = ""

    @property
    def name(self) -> str:
        return self.symbol.name

    @property
    def shape(self) -> tuple:
        return tuple(self.symbol.shape) if isinstance(self.symbol, sp.MatrixSymbol) else ()


class EvaluationError(ValueError):
    """Bad values for ``evaluate``: the message names the symbol and what was expected."""


@dataclass(frozen=True, eq=False)
class Reference:
    """A reference result of REFERENCES.md."""

    name: str
    description: str
    lhs: str
    expr: Any
    inputs: tuple[Input, ...]
    definitions: Mapping = field(default_factory=dict)
    functions: Mapping[str, UndefinedFunction] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    oracle: str = ""
    #: The CheckSpecs, or a factory ``checks(ref)`` that builds them for the reference it is given.
    checks: tuple | Callable[["Reference"], Sequence] = ()
    evaluator: Callable | None = None
    variants: Callable | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        # A check evaluates the reference it checks, so a factory is called with this reference, once, while
        # it is built: after that the dataclass is frozen and ``checks`` is a tuple like any other field.
        if callable(self.checks):
            object.__setattr__(self, "checks", tuple(self.checks(self)))

    # -- reading -------------------------------------------------------------------------
    @property
    def section(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def symbols(self) -> dict[str, sp.Basic]:
        """The input symbols by name, as REFERENCES.md writes them."""
        return {i.name: i.symbol for i in self.inputs}

    def expanded(self):
        """``expr`` with every defined name replaced by its definition (computed once)."""
        cached = self.__dict__.get("_expanded")
        if cached is None:
            cached = substitute_definitions(self.expr, self.definitions)
            object.__setattr__(self, "_expanded", cached)
        return cached

    def latex(self, *, equation: bool = True) -> str:
        """The result in the course's notation, as ``LHS = RHS`` unless ``equation=False``."""
        rhs = course_latex(self.expr)
        return f"{self.lhs} = {rhs}" if equation and self.lhs else rhs

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + self.latex() + "$"

    def __repr__(self) -> str:
        return f"<Reference {self.name}: {self.description}>"

    def at(self, **params) -> "Reference":
        """The reference for other parameters (``ref("rnn.jacobian_product").at(gap=5)``)."""
        if self.variants is None:
            raise TypeError(f"{self.name} takes no parameters")
        return self.variants(**params)

    # -- evaluating ----------------------------------------------------------------------
    def evaluate(self, values: Mapping[str, Any], backend: str = "numpy"):
        """The reference's value at ``values`` on ``backend`` (``"numpy"`` or ``"torch"``).

        ``values`` is keyed by the symbols as REFERENCES.md writes them
        (``r"W_{fh}"``, ``r"c_{t-1}"``); vectors may be 1-D arrays, and a vector
        result comes back 1-D.  Abstract functions (``\\sigma`` in rnn) are
        callables of the backend; their derivatives are taken by that backend
        (autograd for torch, the complex step for numpy) unless given as ``\\sigma'``.
        """
        ops = backends.ops(backend)
        if not isinstance(values, Mapping):
            raise EvaluationError(f"{self.name}: values must be a mapping from symbol names to arrays, "
                                  f"got {type(values).__name__}; expected keys: "
                                  + ", ".join(repr(i.name) for i in self.inputs))
        values = self._resolve_aliases(values)
        if self.evaluator is not None:
            return self.evaluator(self, values, backend)
        return evaluate_expression(self.expanded(), self.inputs, self.functions, values, ops, backend, self.name)

    def _resolve_aliases(self, values: Mapping[str, Any]) -> dict:
        out = {}
        for key, value in values.items():
            canonical = self.aliases.get(key, key)
            if canonical in out:
                raise EvaluationError(f"{self.name}: {key!r} and another key both give {canonical!r}")
            out[canonical] = value
        return out


def check_keys(name: str, inputs: Sequence[Input], functions: Mapping, values: Mapping, optional=()) -> None:
    """Every input and function given, nothing unknown; the message lists what is expected."""
    expected = [i.name for i in inputs] + list(functions)
    primes = {f + "'" for f in functions}
    missing = [k for k in expected if k not in values]
    unknown = [k for k in values if k not in expected and k not in primes and k not in optional]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(repr(k) for k in missing))
        if unknown:
            parts.append("unknown " + ", ".join(repr(k) for k in unknown))
        raise EvaluationError(f"{name}: {'; '.join(parts)}. Expected keys: {', '.join(repr(k) for k in expected)}")


def _shape_of(x) -> tuple:
    return tuple(getattr(x, "shape", ()))


def bind(name: str, inputs: Sequence[Input], values: Mapping, ops) -> tuple[list, dict]:
    """Arrays for the inputs (vectors as columns) and the sizes they imply, checked.

    When inputs disagree about a size, the message names the input that is the odd one out.
    """
    arrays, claims = [], {}
    for inp in inputs:
        x = _as_array(name, inp, values[inp.name], ops)
        want = inp.shape
        if not want:  # a scalar input reads elementwise: a number or an array of any shape
            _check_domain(name, inp, x)
            arrays.append(x)
            continue
        got = _shape_of(x)
        if len(want) == 2 and want[1] == 1 and len(got) == 1:
            x = x.reshape(-1, 1)
            got = _shape_of(x)
        if len(got) != len(want):
            raise EvaluationError(f"{name}: {inp.name!r} has shape {got}, expected {_show(want)}")
        for w, g in zip(want, got):
            if isinstance(w, sp.Symbol):
                claims.setdefault(w, []).append((inp.name, g, got))
            elif int(w) != g:
                raise EvaluationError(f"{name}: {inp.name!r} has shape {got}, expected {_show(want)}")
        _check_domain(name, inp, x)
        arrays.append(x)
    dims = {}
    for sym, said in claims.items():
        sizes = [g for _, g, _ in said]
        common = max(set(sizes), key=sizes.count)
        odd = [(k, shape) for k, g, shape in said if g != common]
        if odd:
            k, shape = odd[0]
            raise EvaluationError(f"{name}: {k!r} has shape {shape}, but the other inputs give {sym} = {common}")
        dims[sym] = common
    return arrays, dims


def _as_array(name: str, inp: Input, value, ops):
    if type(value).__module__.startswith("torch") and ops.__name__.endswith("numpy"):
        raise EvaluationError(f"{name}: {inp.name!r} is a torch tensor; pass backend='torch', or numpy arrays")
    try:
        return ops.asarray(value)
    except (TypeError, ValueError) as exc:
        raise EvaluationError(f"{name}: {inp.name!r} is not an array of numbers: {exc}") from None


def _show(shape) -> str:
    if not shape:
        return "a scalar"
    if len(shape) == 2 and shape[1] == 1:
        return f"({shape[0]},) or ({shape[0]}, 1)"
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _check_domain(name: str, inp: Input, x) -> None:
    dom = DOMAINS[inp.domain]
    if dom.name == "real":
        return
    if dom.whole:  # a probability vector, a one-hot vector, an spd matrix: the whole array at once
        whole = np.real(np.asarray(x.tolist() if hasattr(x, "tolist") else x))
        if not dom.contains(whole):
            shown = whole.reshape(-1) if whole.ndim == 2 and whole.shape[1] == 1 else whole
            shown = " ".join(np.array2string(shown, precision=4, separator=", ").split())
            raise EvaluationError(f"{name}: invalid {inp.name} value {shown} (must be {dom.text})")
        return
    flat = x.reshape(-1).tolist() if hasattr(x, "reshape") else [x]
    for k, v in enumerate(flat):
        if not dom.contains(float(v)):
            where = f" at index {k}" if len(flat) > 1 else ""
            raise EvaluationError(f"{name}: invalid {inp.name} value{where}: {v} (must be {dom.text})")


def function_arguments(functions: Mapping[str, UndefinedFunction], values: Mapping, ops) -> tuple[list, list]:
    """The abstract functions and their derivatives, as callables, with their SymPy heads."""
    heads, fns = [], []
    for key, f in functions.items():
        g = values[key]
        if not callable(g):
            raise EvaluationError(f"{key!r} must be a callable of the backend, got {type(g).__name__}")
        gp = values.get(key + "'") or ops.derivative(g)
        heads += [f, prime(f)]
        fns += [g, gp]
    return heads, fns


def evaluate_expression(expr, inputs: Sequence[Input], functions: Mapping, values: Mapping, ops, backend: str,
                        name: str):
    """Compile (cached) and run ``expr`` at ``values``."""
    check_keys(name, inputs, functions, values)
    arrays, dims = bind(name, inputs, values, ops)
    heads, fns = function_arguments(functions, values, ops)
    dim_syms = sorted(dims, key=str)
    fn = backends.compile_expr(expr, [i.symbol for i in inputs], heads, dim_syms, backend)
    like = arrays[0] if arrays else 0.0
    out = fn(like, *[dims[d] for d in dim_syms], *arrays, *fns)
    if getattr(expr, "is_Matrix", False) and expr.shape == (1, 1):  # a scalar written as a product, y^T z
        out = out.reshape(())
    elif getattr(expr, "is_Matrix", False) and expr.shape[1] == 1:
        out = out.reshape(-1)
    return out


def derived(ref: Reference, **changes) -> Reference:
    return replace(ref, **changes)
