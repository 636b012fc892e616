r"""The operators that bind a variable or act on what follows them: sums, integrals, minima, derivatives.

``\sum``, ``\int``, ``\min``, ``\argmin``, ``\max`` read their bound variable from the script below
them (or ``\, dy`` at the end of an integrand) and keep it in scope for the expression they act on,
so that ``y`` inside ``\int_y ... dy`` is the bound variable, the reference's own symbol when it
uses that name.  The constructs are built from the reference's own classes (``SumOverSet``,
``MinOver``), so that a hand form and the reference are made of the same objects.
``\frac{\partial a}{\partial b}`` is a key for an equation's left side and, for scalars, a
``sp.Derivative``; ``P(y \mid x)`` is the Gibbs distribution of the reference's energy.
"""

from __future__ import annotations

import re

import sympy as sp
from lark import Tree

from .errors import ReadError, Source
from .names import Head, canon
from .pieces import NABLA, PARTIAL, BigOp, Conditional, Derivative, Item, span
from .shapes import kind, shape_of, show_shape

#: The big operators whose subscript may be the bound variable alone (\sum_y, \min_w).
_BARE_VARIABLE = ("int", "sum", "min", "max", "argmin", "argmax", "prod", "E")

#: A distribution named without its arguments under an expectation (``y \sim P``).
_BARE_LAWS = ("P", "P_w", "P_\\beta", "p", "p_w")

#: The reference's construct for each extremum.
_EXTREMA = {"min": "MinOver", "max": "MaxOver", "argmin": "ArgminOver", "argmax": "ArgmaxOver"}


#: The operators whose variable ranges over a domain (a grid, in the finite interpretation).
_OVER_A_DOMAIN = ("int", "E", "min", "max", "argmin", "argmax")


def _over_domain(name: str) -> str:
    r"""The variable an integral or a minimum over ``y_i`` ranges over: ``y''``, a value of ``y`` like any other.
    A bound ``y_i`` is a dummy (``\int_{y_i} ... dy_i`` is ``\int_y ... dy``); named ``y_i`` it would be given a
    domain of its own, apart from y's, and a correct form a false counterexample."""
    found = re.fullmatch(r"\s*([A-Za-z])\s*_\s*\{?\s*[A-Za-z0-9]\s*\}?\s*", name)
    return found.group(1) + "''" if found else name


def _undecorated(name: str) -> str:
    r"""A bound variable's name without bold (``\boldsymbol{y}`` is ``y``), as the names table keys it."""
    return re.sub(r"\\(boldsymbol|mathbf|bm|pmb)\s*\{([^{}]*)\}|\\(boldsymbol|mathbf|bm|pmb)\s*", r"\2", name)


class Operators(Source):
    """Big operators and derivatives (uses the builder's ``build``, ``value``, ``as_value``, ``value_of``,
    ``script_value`` and the shape rules)."""

    def b_bigop(self, node, start, end):
        word = str(node.children[0]).lstrip("\\")
        if "arg" in word:  # \arg\min, \operatorname*{arg\,min}: the one argmin
            word = "arg" + re.findall(r"min|max", word)[-1]
        return BigOp("E" if word.startswith("mathbb") else word)

    # -- the bound variable ---------------------------------------------------------------
    def bind(self, op: BigOp, rest_nodes) -> None:
        """Read the bound variable of ``op`` and put it in scope for what follows it."""
        name = None
        script = op.lower
        if script is not None:
            inner = script.children[0] if script.data == "script_group" else script
            if isinstance(inner, Tree) and inner.data in ("sub_eq", "sub_in", "sub_to", "sub_sim"):
                name = self.src(*span(inner.children[0]))
            elif op.kind in _BARE_VARIABLE:
                name = self.src(*span(inner))
        if op.kind == "int" and rest_nodes and (name is None or not self._is_variable(name)):
            last = self.src(*span(rest_nodes[-1]))
            found = re.fullmatch(r"\s*d\s*(.+?)\s*", last)
            if found:
                name = found.group(1)
        if name is None or not self._is_variable(name):
            if op.kind == "int":
                raise self.error("which variable does \\int integrate over? write \\int_y ... \\, dy",
                                 span(script)[0] if script is not None else 0, "a variable")
            if name is None:
                return
        name = _undecorated(name)
        op.written = canon(name)
        op.var = self.table.variable(_over_domain(name) if op.kind in _OVER_A_DOMAIN else name)
        self.scope[op.written] = op.var

    @staticmethod
    def _is_variable(name: str) -> bool:
        name = _undecorated(name)
        return re.fullmatch(r"\s*[A-Za-z](\s*')*\s*|\s*\\[A-Za-z]+\s*", name) is not None \
            or re.fullmatch(r"\s*[A-Za-z]'?_\{?[A-Za-z0-9]\}?\s*", name) is not None

    def _strip_differential(self, op: BigOp, rest: list[Item]) -> list[Item]:
        """``... \\, dy`` or ``... \\mathrm{d}y`` at the end of an integrand is not a factor; in the trailing
        run of differentials of nested integrals (``\\int_{y'}\\int_{z'} ... dy' dz'``) each takes its own."""
        var = op.written or canon(op.var.name)
        k = len(rest)
        while k > 0:
            text = canon(self.src(rest[k - 1].start, rest[k - 1].end))
            if text == "d" + var:
                return rest[:k - 1] + rest[k:]
            if k >= 2 and text == var and canon(self.src(rest[k - 2].start, rest[k - 2].end)) == "d":
                return rest[:k - 2] + rest[k:]
            if not (text.startswith("d") and text[1:].replace("'", "").isalpha() and len(text) <= 4):
                return rest
            k -= 1
        return rest

    # -- the operator applied to its body --------------------------------------------------
    def bigop(self, op: BigOp, rest: list[Item], where: Item):
        if op.kind == "int" and op.var is not None:
            rest = self._strip_differential(op, rest)
            if not rest:
                raise self.error("\\int needs an integrand", where.end, "an expression")
        body = self.value_of(rest)
        if op.var is None:
            raise self.error(f"\\{op.kind} needs its variable below it, such as \\{op.kind}_y", where.end,
                             "a subscript")
        if shape_of(body) is not None and op.kind != "sum":
            raise self.error(f"\\{op.kind} of a {show_shape(shape_of(body))} {kind(shape_of(body))} is not read",
                             where.start)
        if op.kind == "int":
            return sp.Integral(body, (op.var, -sp.oo, sp.oo))
        if op.kind == "E":
            return sp.Integral(self._expectation_density(op, where) * body, (op.var, -sp.oo, sp.oo))
        if op.kind in _EXTREMA:
            return self.table.construct(_EXTREMA[op.kind], body, op.var)
        if op.kind == "sum":
            return self._sum(op, body, where)
        raise self.error(f"\\{op.kind} is not part of the notation the checker reads", where.start)

    def _expectation_density(self, op: BigOp, where: Item):
        r"""The density of ``\mathbb{E}_{y \sim P_w(y \mid x_i)}``: REFERENCES.md reads the expectation as
        the integral of ``P_w(y \mid x_i)`` times the body over y.  A bare ``P`` (``y \sim P``) is the Gibbs
        distribution of y given the one input named x (``x`` or ``x_i``)."""
        inner = op.lower.children[0] if op.lower is not None and op.lower.data == "script_group" else op.lower
        if not (isinstance(inner, Tree) and inner.data == "sub_sim"):
            raise self.error("an expectation is read with its distribution: write \\mathbb{E}_{y \\sim P_w(y "
                             "\\mid x_i)}[\\cdot] (or the integral \\int_y P_w(y \\mid x_i) \\cdot \\, dy)",
                             where.start, "y \\sim P(y \\mid x)")
        law = inner.children[2]
        start, end = span(law)
        if canon(self.src(start, end)).replace("\\mathbb", "") not in _BARE_LAWS:
            return self.value(law)
        given = [s for k, s in self.table.entries.items() if re.fullmatch(r"x(_[A-Za-z])?", k)
                 and isinstance(s, sp.Symbol)]
        if len(given) != 1:
            raise self.error(f"which x does {self.src(start, end).strip()} condition on? write it out, such as "
                             "P_w(y \\mid x_i)", start, "P(y \\mid x)")
        return self.distribution(Item(None, start, end), Conditional((op.var,), given[0], start))

    def _sum(self, op: BigOp, body, where: Item):
        inner = op.lower.children[0] if op.lower is not None and op.lower.data == "script_group" else op.lower
        if isinstance(inner, Tree) and inner.data == "sub_in":
            over = self.as_value(self.build(inner.children[2]))
            return self.table.construct("SumOverSet", body, op.var, over)
        if isinstance(inner, Tree) and inner.data == "sub_eq":
            low = self.value(inner.children[2])
            if op.upper is None:
                raise self.error("\\sum_{i=1} needs its upper limit, such as ^{N}", where.end, "an upper limit")
            return sp.Sum(body, (op.var, low, self.script_value(op.upper)))
        limits = self.table.limits_of(op.var)
        if limits is None and canon(op.var.name) in self.entry_sizes:  # \sum_j |z_j|: over the entries of z
            limits = (sp.Integer(1), self.entry_sizes[canon(op.var.name)])
        if limits is None and canon(op.var.name).replace("'", "") in self.table.integrals:
            # REFERENCES.md: an integral over a variable also stands for a sum over a finite set,
            # so \sum_{y'} is the reference's \int_{y'} ... dy'
            return sp.Integral(body, (op.var, -sp.oo, sp.oo))
        if limits is None:
            raise self.error(f"\\sum_{op.var} needs its limits, such as \\sum_{{{op.var}=1}}^{{N}}", where.start,
                             "limits")
        return sp.Sum(body, (op.var, *limits))

    # -- derivatives: \frac{\partial a}{\partial b} -----------------------------------------
    def b_partial(self, node, start, end):
        return PARTIAL

    def b_nabla(self, node, start, end):
        return NABLA

    def b_frac(self, node, start, end):
        num, den = (self.build(c) for c in node.children[1:])
        if isinstance(num.obj, Derivative) and isinstance(den.obj, Derivative) and not num.obj.items:
            var = self._scalar_variable(den.obj)
            if var is None:
                raise self.error("\\frac{\\partial}{\\partial w} needs a scalar variable below", start)
            return Head(f"d/d{var}", var, kind="derivative")
        if isinstance(num.obj, Derivative) and isinstance(den.obj, Derivative):
            return Derivative(f"d({num.obj.text})/d({den.obj.text})", value=self._scalar_derivative(num.obj, den.obj))
        if isinstance(num.obj, Derivative) or isinstance(den.obj, Derivative):
            raise self.error("a derivative needs \\partial above and below the fraction bar", start)
        return self.divide(self.as_value(num), self.as_value(den), start)

    def _scalar_variable(self, den: Derivative):
        if not den.items:
            return None
        try:
            b = self.value_of(den.items)
        except ReadError:
            return None
        return b if isinstance(b, sp.Symbol) else None

    def _scalar_derivative(self, num: Derivative, den: Derivative):
        """``sp.Derivative(a, b)`` when ``a`` reads as a scalar and ``b`` as a symbol, else ``None``."""
        try:
            a = self.value_of(num.items)
            b = self.value_of(den.items)
        except ReadError:
            return None
        if shape_of(a) is None and isinstance(b, sp.Symbol):
            return sp.Derivative(a, b)
        return None

    # -- P(y | x): the Gibbs distribution ----------------------------------------------------
    def distribution(self, it: Item, cond: Conditional):
        r"""``P(y \mid x)``, ``P_w(y \mid x_i)``, ``P_\beta(y \mid x)`` or ``P(y, z \mid x)``: the Gibbs
        distribution of the reference's energy (REFERENCES.md defines ``P_w`` from ``F_w``, ``P`` from ``F``,
        and the joint ``P(y, z \mid x)`` from ``E(x, y, z)``), its normaliser over the same domains."""
        name = canon(self.src(it.start, it.end)).replace("\\mathbb", "")
        if len(cond.of) > 1:
            wanted = ["E"]
        else:
            wanted = ["F_w", "F"] if name.endswith("_w") else ["F", "F_w"]
        energy = next((self.table.get(f) for f in wanted if isinstance(self.table.get(f), Head)), None)
        beta = self.table.get("\\beta")
        if energy is None or beta is None or shape_of(cond.given) is not None or \
                any(shape_of(v) is not None for v in cond.of):
            raise self.error(f"{self.src(it.start, it.end).strip()}(. | .) is a Gibbs distribution; "
                             f"{self.table.reference} has no energy {' or '.join(wanted)} and beta to build it from",
                             it.start)
        f = energy.func
        dummies = [self.normaliser_variable(v, it.start) for v in cond.of]
        total = sp.exp(-beta * f(cond.given, *dummies))
        for d in reversed(dummies):
            total = sp.Integral(total, (d, -sp.oo, sp.oo))
        return sp.exp(-beta * f(cond.given, *cond.of)) / total

    def normaliser_variable(self, var, pos: int):
        r"""The variable the normaliser of ``P(var \mid .)`` integrates over: ``y'`` for ``y`` and for a sample
        value ``y_i`` alike.  REFERENCES.md: the normaliser integrates over the domain of y, so ``y_i`` (one
        value of y) must not get a domain of its own: ``y_i'`` would be a variable with a grid of its own."""
        if not isinstance(var, sp.Symbol):
            raise self.error("P(. | .) is read with a variable before the bar, such as P_w(y \\mid x_i)", pos)
        letter = re.match(r"\\?[A-Za-z]+", canon(var.name).replace("\\mathbb", ""))
        base = letter.group(0) if letter else canon(var.name)
        return self.table.variable(f"{base}'")
