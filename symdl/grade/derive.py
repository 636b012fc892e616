r"""``symdl derive``: what the engine derives for an expression a person writes in a model's symbols.

``derive("gru", r"\frac{\partial h_t}{\partial h_{t-1}}")`` reads both names in the model, expands every
definition down to the variable (a defined variable is taken as free), differentiates with the engine
(numerator layout) and prints the result in the course's notation.  ``check=True`` holds the result
against the complex-step derivative of the forward definitions at random points, at two sizes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp

from ..core.calculus import jacobian
from ..core.printing import latex
from ..model.model import Model
from ..model.reference import Input, Reference
from ..models import INSTANCES
from ..reader import ReadError, read
from ..verify.builders import complex_step_check
from ..verify.spec import run_check

_DERIVATIVE = re.compile(r"\s*\\frac\s*\{\s*\\partial\s*(?P<num>.+?)\s*\}\s*\{\s*\\partial\s*(?P<den>.+?)\s*\}\s*\Z",
                         re.S)
#: The sizes the numeric check draws at (two, as every numeric check of symdl).
CHECK_SIZES = ((2, 3), (5, 2))


@dataclass(frozen=True)
class Derived:
    """The result: the quantity as written, the derived expression, its LaTeX and shape, and the check."""

    model: str
    quantity: str
    expr: object
    latex: str
    shape: tuple
    check: dict | None = field(default=None)

    def to_json(self) -> dict:
        out = {"model": self.model, "quantity": self.quantity, "latex": self.latex, "shape": list(self.shape)}
        if self.check is not None:
            out["check"] = self.check
        return out


def _scope(model: Model, definitions: dict, inputs=None) -> Reference:
    return Reference(model.name, "", "", sp.S.Zero, tuple(inputs or model.inputs), dict(definitions),
                     dict(model.functions), dict(model.aliases))


def _symbol(model: Model, text: str, what: str):
    """The input or defined symbol written ``text`` (any spelling the reader accepts)."""
    from ..reader.names import table_for

    found = table_for(_scope(model, model.definitions)).get(text.strip())
    if not isinstance(found, (sp.Symbol, sp.MatrixSymbol)):
        known = ", ".join([i.name for i in model.inputs] + [getattr(s, "name", str(s)) for s in model.definitions])
        raise ReadError(f"the {what} {text.strip()!r} is not an input or a definition of {model.name}; "
                        f"it knows {known}", 0, text, "a symbol of the model")
    return found


def derive(model: Model, text: str, *, check: bool = False) -> Derived:
    """The engine's result for ``text``: ``\\frac{\\partial X}{\\partial Y}`` or an expression."""
    match = _DERIVATIVE.match(text)
    if match is None:
        expr = read(text, _scope(model, model.definitions)).expr
        return Derived(model.name, text.strip(), expr, latex(expr), _shape(expr))
    wrt = _symbol(model, match["den"], "variable")
    held = {s: e for s, e in model.definitions.items() if s != wrt}
    num = match["num"].strip()
    try:
        out = _symbol(model, num, "quantity")
    except ReadError:
        out = read(num.strip("()"), _scope(model, held)).expr
    if not getattr(wrt, "is_Matrix", False):
        raise ReadError(f"the variable {match['den'].strip()!r} is a scalar; derive with respect to a vector",
                        match.start("den"), text, "a vector of the model")
    J = jacobian(out, wrt, held)
    inputs = tuple(model.inputs) + (() if wrt in {i.symbol for i in model.inputs} else (Input(wrt),))
    result = Derived(model.name, text.strip(), J, latex(J), _shape(J))
    if not check:
        return result
    return Derived(**{**result.__dict__, "check": _check(model, J, out, wrt, held, inputs)})


def _shape(expr) -> tuple:
    return tuple(str(d) for d in expr.shape) if getattr(expr, "is_Matrix", False) else ()


def _check(model: Model, J, out, wrt, held: dict, inputs) -> dict:
    used = {d for i in inputs for d in getattr(i.symbol, "shape", ()) if isinstance(d, sp.Symbol)}
    dims = tuple(d for d in [sp.Symbol(k, integer=True, positive=True) for k in model.sizes] if d in used) or tuple(
        sorted(used, key=str))
    instances = (("", {}),) if not model.functions else tuple(
        (label, {name: f for name in model.functions}) for label, f in INSTANCES)
    spec = complex_step_check(J, out, held, inputs, model.functions, wrt.name, dims, instances,
                              description="complex-step derivative of the forward definitions")
    c = run_check(spec)
    verdict = "unknown" if not c.made else ("equivalent" if c.passed else "not_equivalent")
    return {"verdict": verdict, "method": "numeric", "max_error": c.max_error, "message": c.detail}
