r"""``symdl derive``: what the engine derives for an expression a person writes in a model's symbols.

``derive("gru", r"\frac{\partial h_t}{\partial h_{t-1}}")`` reads both names in the model, expands every
definition down to the variable (a defined variable is taken as free), differentiates with the engine
(numerator layout) and prints the result in the course's notation.  The quantity is written as a model
file's is (:mod:`symdl.model.quantity`): names held fixed after ``\right|_{...}``, a block of several, or
``\nabla_{z} \ell``, the gradient as a column.  ``check=True`` holds the result against differences of the
forward definitions at random points of two sizes (:mod:`symdl.verify.differences`: the complex step where
they are analytic, central differences otherwise, ``unknown`` where the map is not differentiable).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..core.calculus import NotDifferentiable, gradient, jacobian
from ..core.printing import latex
from ..model.model import Model
from ..model.quantity import Part, parse
from ..model.reference import Input, Reference
from ..models import INSTANCES
from ..reader import ReadError, read
from ..reader.names import table_for
from ..verify.differences import derivative_check
from ..verify.spec import run_check

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


def _symbol(model: Model, part: Part, what: str, text: str):
    """The input or defined symbol written ``part`` (any spelling the reader accepts)."""
    found = table_for(_scope(model, model.definitions)).get(part.text)
    if not isinstance(found, (sp.Symbol, sp.MatrixSymbol)):
        known = ", ".join([i.name for i in model.inputs] + [getattr(s, "name", str(s)) for s in model.definitions])
        raise ReadError(f"the {what} {part.text!r} is not an input or a definition of {model.name}; "
                        f"it knows {known}", part.column - 1, text, "a symbol of the model")
    return found


def _output(model: Model, part: Part, held: dict, text: str):
    """A name of the model, or an expression in its symbols (``\\frac{\\partial (W x)}{\\partial x}``)."""
    try:
        return _symbol(model, part, "quantity", text)
    except ReadError:
        pass
    try:
        return read(part.text, _scope(model, held)).expr
    except ReadError as exc:  # the position in the whole quantity, not in its numerator
        at = None if exc.position is None else exc.position + part.column - 1
        raise ReadError(exc.message, at, text, exc.expected) from None


def derive(model: Model, text: str, *, check: bool = False, points=None) -> Derived:
    """The engine's result for ``text``: a derivative (see the module) or an expression.  ``points`` (values
    dictionaries) are where ``check`` compares, instead of random points."""
    q = parse(text)
    if q.kind == "value":
        expr = read(text, _scope(model, model.definitions)).expr
        return Derived(model.name, text.strip(), expr, latex(expr), _shape(expr))
    wrts = [_symbol(model, p, "variable", text) for p in q.wrts]
    fixed = [_symbol(model, p, "name held fixed", text) for p in q.fixed]
    for w, p in zip(wrts, q.wrts):
        if not getattr(w, "is_Matrix", False):
            raise ReadError(f"the variable {p.text!r} is a scalar; derive with respect to a vector",
                            p.column - 1, text, "a vector of the model")
    held = {s: e for s, e in model.definitions.items() if s not in {*wrts, *fixed}}
    outs = [_output(model, p, held, text) for p in q.outs]
    try:
        J = gradient(outs[0], wrts[0], held) if q.kind == "gradient" else _blocks(outs, wrts, held)
    except NotDifferentiable as exc:
        raise ReadError(f"cannot derive {text.strip()}: {exc}", q.outs[0].column - 1, text, "") from None
    result = Derived(model.name, text.strip(), J, latex(J), _shape(J))
    if not check:
        return result
    known = {i.symbol for i in model.inputs}
    inputs = (*model.inputs, *[Input(s, meaning="free") for s in dict.fromkeys([*wrts, *fixed]) if s not in known])
    derived = sp.Transpose(J) if q.kind == "gradient" else J
    forward = outs[0] if len(outs) == 1 else sp.BlockMatrix([[o] for o in outs])
    return Derived(**{**result.__dict__, "check": _check(model, derived, forward, wrts, held, inputs, points)})


def _blocks(outs: list, wrts: list, held: dict):
    blocks = [[jacobian(o, w, held) for w in wrts] for o in outs]
    return blocks[0][0] if len(blocks) == 1 and len(blocks[0]) == 1 else sp.BlockMatrix(blocks)


def _shape(expr) -> tuple:
    return tuple(str(d) for d in expr.shape) if getattr(expr, "is_Matrix", False) else ()


def _check(model: Model, derived, forward, wrts: list, held: dict, inputs, points) -> dict:
    used = {d for i in inputs for d in getattr(i.symbol, "shape", ()) if isinstance(d, sp.Symbol)}
    dims = tuple(d for d in [sp.Symbol(k, integer=True, positive=True) for k in model.sizes] if d in used) or tuple(
        sorted(used, key=str))
    instances = (("", {}),) if not model.functions else tuple(
        (label, {name: f for name in model.functions}) for label, f in INSTANCES)
    spec = derivative_check(derived, forward, held, inputs, model.functions, tuple(w.name for w in wrts), dims,
                            instances, sizes=CHECK_SIZES, points=points)
    c = run_check(spec)
    verdict = "unknown" if not c.made else ("equivalent" if c.passed else "not_equivalent")
    return {"verdict": verdict, "method": "numeric", "max_error": c.max_error, "message": c.detail}
