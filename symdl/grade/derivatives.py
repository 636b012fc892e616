r"""Derivatives a person writes inside a derivation, derived from the model, never looked up.

``\frac{\partial X}{\partial Y}`` in a line of a derivation is the Jacobian of X with respect to
Y in numerator layout (REFERENCES.md, "Derivatives"): with respect to a model input it is total
(every definition expanded, the other inputs held fixed); with respect to a defined name
(``\frac{\partial c_t}{\partial f_t}``) that name is free; ``\left. ... \right|_{Z}`` holds Z
fixed.  The Jacobian engine (:func:`symdl.core.calculus.jacobian`) derives it; for scalars,
``sympy.diff`` of the expanded expression.

The reader reads no vector derivative inside an expression, so each one found here is replaced
in the text by a placeholder name of the same length (``{symdlD_{0}}`` padded with spaces: the
columns of everything after it do not move) whose value is the derived matrix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from ..core.calculus import NotDifferentiable, jacobian, substitute_definitions
from ..reader.source import group_end, tokens

PLACEHOLDER = "symdlD"


@dataclass(frozen=True)
class Found:
    """One ``\\frac{\\partial X}{\\partial Y}`` in a text: its span, X, Y and what is held fixed."""

    start: int
    end: int
    of: str
    by: str
    held: str | None = None


_FRAC = ("\\frac", "\\dfrac", "\\tfrac")
_PARTIAL = re.compile(r"\s*\\partial(?![A-Za-z])")


def find(text: str) -> list[Found]:
    """Every derivative ``\\frac{\\partial X}{\\partial Y}`` (``X`` not empty), outermost first."""
    out: list[Found] = []
    for tok in tokens(text):
        if tok.text not in _FRAC or any(f.start <= tok.start < f.end for f in out):
            continue
        num_at = _skip_space(text, tok.end)
        num_end = group_end(text, num_at)
        den_at = _skip_space(text, num_end) if num_end else None
        den_end = group_end(text, den_at) if den_at is not None else None
        if den_end is None:
            continue
        num, den = text[num_at + 1:num_end - 1], text[den_at + 1:den_end - 1]
        pn, pd = _PARTIAL.match(num), _PARTIAL.match(den)
        if not pn or not pd or not num[pn.end():].strip():
            continue
        out.append(_held(text, Found(tok.start, den_end, num[pn.end():].strip(), den[pd.end():].strip())))
    return out


def _skip_space(text: str, at: int) -> int:
    return at + len(text[at:]) - len(text[at:].lstrip())


_LEFT = re.compile(r"\\left\s*\.\s*$")
_RIGHT = re.compile(r"\s*\\right\s*\|\s*_\s*")


def _held(text: str, found: Found) -> Found:
    r"""``\left. \frac{...}{...} \right|_{Z}``: the span widened, Z kept."""
    left = _LEFT.search(text[:found.start])
    right = _RIGHT.match(text, found.end)
    if not left or not right:
        return found
    at = right.end()
    end = group_end(text, at)
    held = text[at + 1:end - 1] if end else (text[at:at + 1] or None)
    end = end or at + 1
    return Found(left.start(), end, found.of, found.by, held)


def derive(of, by, definitions: dict, held=()) -> sp.Basic:
    """The derivative of ``of`` by the symbol ``by``: ``by``'s own definition and those of the
    ``held`` symbols are dropped (they are free), the rest expanded as the engine needs."""
    defs = {k: v for k, v in definitions.items() if k != by and k not in held}
    if isinstance(by, sp.MatrixSymbol):
        if not getattr(of, "is_Matrix", False) or of.shape[1] != 1 or by.shape[1] != 1:
            raise NotDifferentiable("only a vector by a vector (a Jacobian) or a scalar by a scalar is derived here")
        return jacobian(of, by, defs)
    if isinstance(by, sp.Symbol) and not getattr(of, "is_Matrix", False):
        return diff_implicit(substitute_definitions(of, defs), by)
    raise NotDifferentiable("a scalar by a vector or a matrix (a gradient) is not derived inside a line yet")


def diff_implicit(expr, by: sp.Symbol):
    r"""``d expr / d by`` where an abstract function named for ``by`` (``F_w`` for ``w``) depends on it.

    The course writes ``F_w(x_i, y)`` with ``w`` implicit, and the model and the numeric witness read
    it as a function of ``w`` too; ``sp.diff`` alone sees no ``w`` in it and calls the derivative 0,
    a false ``not_equivalent`` for a correct gradient.  So ``w`` is made an argument for ``sp.diff``
    and taken out again, ``\frac{\partial F_w(a, b)}{\partial w}`` kept unevaluated as the model
    writes it.  When ``by`` is also among a function's own arguments (SymPy would answer with
    ``Subs``), the derivative is left unevaluated whole: the witness takes it by complex step."""
    implicit = {e for e in expr.atoms(AppliedUndef) if depends_implicitly(e, by)}
    if not implicit:
        return sp.diff(expr, by)
    if any(by in e.free_symbols for e in implicit):
        return sp.Derivative(expr, by)
    explicit = {e: sp.Function(f"{PLACEHOLDER}{k}")(*e.args, by) for k, e in enumerate(implicit)}
    back = {f.func: e for e, f in explicit.items()}
    out = sp.diff(expr.xreplace(explicit), by)
    out = out.replace(lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, AppliedUndef)
                      and e.expr.func in back and e.variables == (by,),
                      lambda e: sp.Derivative(back[e.expr.func], by))
    return out.replace(lambda e: isinstance(e, AppliedUndef) and e.func in back, lambda e: back[e.func])


def depends_implicitly(applied, by: sp.Symbol) -> bool:
    """Whether the abstract function of ``applied`` is named for ``by``: ``F_w`` (or ``F_{w}``) for ``w``,
    the convention the numeric witness reads (:mod:`symdl.grade.finite`)."""
    name = applied.func.__name__
    return name.endswith(f"_{by.name}") or name.endswith(f"_{{{by.name}}}")


def placeholder(k: int, width: int) -> str:
    """The name standing for derivative ``k`` in the text, padded to ``width`` characters."""
    name = f"{{{PLACEHOLDER}_{{{k}}}}}"
    return name + " " * max(0, width - len(name))


def placeholder_key(k: int) -> str:
    return f"{PLACEHOLDER}_{{{k}}}"
