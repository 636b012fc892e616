r"""A model file's ``[references]``: each quantity derived by the engine, with the checks that hold it.

A named value (``quantity = 'h_t'``) has nothing to check but the course's oracle.  A derivative
(``\frac{\partial X}{\partial Y}``, with names held fixed, a block of several, or ``\nabla_{Y} X``) is
derived from the definitions and proved against SymPy's explicit ``Matrix.jacobian`` at sizes 1 to 3,
held against the complex-step derivative of the forward definitions, and against the oracle.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from ..core.calculus import NotDifferentiable, gradient, jacobian
from ..model.quantity import parse
from ..model.reference import DOMAINS, Input, Reference
from ..reader.names import canon
from ..verify.builders import complex_step_check, explicit_proof, oracle_check
from ..verify.spec import CheckSpec
from . import INSTANCES

#: The keys a reference may have (docs/notation.md says what each does).
KEYS = ("quantity", "meaning", "inputs", "fixed", "domains", "oracle", "expand")
PROOF = "against SymPy's explicit Matrix.jacobian"


def reference(loader, name: str, spec: dict, oracles) -> Reference:
    """The reference ``name`` of the file ``loader`` reads; errors name the key and the column."""
    key = f"references.{name}"
    if not name.startswith(loader.name + "."):
        loader.fail(key, f"a reference's name starts with the model's name: {loader.name}.{name.split('.')[-1]}")
    unknown = [k for k in spec if k not in KEYS]
    if unknown:
        loader.fail(key, f"unknown key {unknown[0]!r}; a reference has {', '.join(KEYS)}")
    quantity = spec.get("quantity")
    if not isinstance(quantity, str):
        loader.fail(key, "needs quantity = '...' (a defined name, \\frac{\\partial X}{\\partial Y} or \\nabla_{Y} X)")
    loader.escaped(f"{key}.quantity", quantity, anywhere=False)
    q = parse(quantity)
    inputs = _free_inputs(loader, key, spec)
    definitions = {s: e for s, e in loader.definitions.items() if s not in {i.symbol for i in inputs}}
    oracle = spec.get("oracle", _oracle_text(oracles, name))
    if not isinstance(oracle, str):
        loader.fail(key, "oracle must be a string: what the course's oracle computes")
    common = dict(functions=loader.functions, aliases=dict(loader.aliases), oracle=oracle)
    meaning = str(spec.get("meaning", ""))

    def look(part):
        return loader.lookup(f"{key}.quantity", part.text, part.column)

    if q.kind == "value":
        out = look(q.outs[0])
        expr = _expanded(loader, key, spec, definitions.get(out, out), definitions)
        return Reference(name, meaning, quantity.strip(), expr, inputs, definitions, **common,
                         checks=lambda r: _oracle_checks(r, oracles, loader.sizes))
    if "expand" in spec:
        loader.fail(f"{key}.expand", "only a named value is shown expanded; a derivative is shown as derived")
    fixed = [loader.lookup(f"{key}.fixed", f) for f in _names(loader, key, spec, "fixed")] + [look(p) for p in q.fixed]
    held = {s: e for s, e in definitions.items() if s not in fixed}
    outs, wrts = [look(p) for p in q.outs], [look(p) for p in q.wrts]
    J = _derived(loader, key, q.kind, outs, wrts, held)
    known = {i.symbol for i in inputs}
    free = (*inputs, *[Input(f, meaning="held fixed") for f in fixed if f not in known])
    return Reference(name, meaning, quantity.strip(), J, inputs, definitions, **common,
                     checks=lambda r: _jacobian_checks(r, outs, wrts, held, free, loader.sizes, oracles, q.kind))


def _names(loader, key: str, spec: dict, what: str) -> list[str]:
    names = spec.get(what, [])
    if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
        loader.fail(f"{key}.{what}", f"{what} must be a list of names")
    return names


def _expanded(loader, key: str, spec: dict, expr, definitions: dict):
    """``expand = ['a_t']``: the value shown with these names written out by their definitions."""
    names = _names(loader, key, spec, "expand")
    mapping = {}
    for x in names:
        symbol = loader.lookup(f"{key}.expand", x)
        if symbol not in definitions:
            loader.fail(f"{key}.expand", f"{x!r} is not a definition of the model (an input has nothing to expand)")
        mapping[symbol] = definitions[symbol]
    return expr.xreplace(mapping) if mapping else expr


def _derived(loader, key: str, kind: str, outs: list, wrts: list, held: dict):
    """The engine's Jacobian (a block matrix for several outputs or variables), or the gradient as a column."""
    try:
        if kind == "gradient":
            return gradient(outs[0], wrts[0], held)
        blocks = [[jacobian(o, w, held) for w in wrts] for o in outs]
    except NotDifferentiable as exc:
        loader.fail(key, str(exc))
    return blocks[0][0] if len(blocks) == 1 and len(blocks[0]) == 1 else sp.BlockMatrix(blocks)


def _free_inputs(loader, key: str, spec: dict) -> tuple[Input, ...]:
    if spec.get("inputs") is None:
        return _domains(loader, key, spec, loader.inputs)
    by_name = {canon(i.name): i for i in loader.inputs}
    out = []
    for x in _names(loader, key, spec, "inputs"):
        found = by_name.get(canon(x))
        if found is None:  # a defined name made free here (the LSTM's h_{t-1} in its state Jacobian)
            found = Input(loader.lookup(f"{key}.inputs", x), meaning=loader.meanings.get(canon(x)) or "held free")
        out.append(found)
    return _domains(loader, key, spec, tuple(out))


def _domains(loader, key: str, spec: dict, inputs: tuple) -> tuple[Input, ...]:
    """``domains = { y = "onehot" }``: this reference's checks draw ``y`` from another domain."""
    given = spec.get("domains", {})
    if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
        loader.fail(f"{key}.domains", 'domains must be an inline table of input names and domains: { y = "onehot" }')
    names = {canon(i.name) for i in inputs}
    for x, domain in given.items():
        if canon(x) not in names:
            loader.fail(f"{key}.domains", f"{x!r} is not an input of this reference")
        if domain not in DOMAINS:
            loader.fail(f"{key}.domains", f"unknown domain {domain!r}; known: {', '.join(DOMAINS)}")
    by_canon = {canon(x): d for x, d in given.items()}
    return tuple(replace(i, domain=by_canon[canon(i.name)]) if canon(i.name) in by_canon else i for i in inputs)


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
    spec = oracle_check(lambda v: ref.evaluate(v), oracles.function(ref.name, vector, tuple(ref.functions)),
                        ref.inputs, _dims(ref, sizes), ref.oracle, _instances(ref))

    def run():
        why = oracles.missing(ref.name)
        return (None, why, None) if why else spec.run()

    return [CheckSpec("oracle", ref.oracle, run)]


def _jacobian_checks(ref: Reference, outs: list, wrts: list, held: dict, free: tuple, sizes: dict, oracles,
                     kind: str) -> list:
    """A proof at sizes 1-3 (one a block), the complex step of the forward definitions (names held fixed are
    free inputs there), and the course's oracle.  A gradient (a column) is checked as the row it transposes."""
    dims = _dims(ref, sizes)
    derived = sp.Transpose(ref.expr) if kind == "gradient" else ref.expr
    if isinstance(derived, sp.BlockMatrix):
        proofs = [explicit_proof(derived.blocks[i, j], out, wrt, held, dims, sizes=(1, 2, 3),
                                 description=f"block ({i + 1}, {j + 1}) {PROOF}")
                  for i, out in enumerate(outs) for j, wrt in enumerate(wrts)]
        forward = sp.BlockMatrix([[o] for o in outs]) if len(outs) > 1 else outs[0]
    else:
        proofs = [explicit_proof(derived, outs[0], wrts[0], held, dims, sizes=(1, 2, 3), description=PROOF)]
        forward = outs[0]
    return [*proofs,
            complex_step_check(derived, forward, held, free, ref.functions, tuple(w.name for w in wrts), dims,
                               _instances(ref), description="complex-step derivative of the forward definitions"),
            *_oracle_checks(ref, oracles, sizes)]
