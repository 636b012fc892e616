r"""The operations between terms: ``+``, ``-``, ``\odot``, ``\cdot``, ``/`` and juxtaposition.

Juxtaposition is the subtle one: in ``\sigma(W h_{t-1}) \odot \tanh c_t`` a function takes the
bracket after it, or else everything after it; a big operator takes everything after it; a name
spanning several pieces (``\nabla f_i(w_t)`` for ``g_t``) is looked up first; everything else
multiplies, left to right, through the shape rules.
"""

from __future__ import annotations

import re

import sympy as sp

from .errors import ReadError, Source
from .names import Head, canon
from .pieces import (IDENTITY, NABLA, PARTIAL, BigOp, Conditional, Derivative, Gradient, Group, Item, Name, Ones,
                     as_scaled_identity, identity_scale, span, unsized)
from .shapes import shape_of

#: Most pieces a compound alias spans (``\nabla \ell_i(\theta_k)`` has 3); looking further made a
#: juxtaposition of n pieces cost n^2 lookups of ever longer text (1,000 pieces: 20 s).
MAX_ALIAS_PIECES = 8

#: Most big operators and gradients side by side, each acting on all that follows: 10x the most in a test form.
MAX_OPERATORS = 40

#: ``\nabla_\theta`` (the variable under the nabla) before a name the reference gives the gradient
#: (``\nabla_\theta \ell_i(\theta_k)`` is ``\nabla \ell_i(\theta_k)``).
_NABLA_SCRIPT = re.compile(r"^\s*\\nabla\s*_\s*(\{(?:[^{}]|\{[^{}]*\})*\}|\\[A-Za-z]+|[A-Za-z])\s*")

#: The names of a Gibbs distribution before ``(y \mid x)``: ``P_\beta`` is ``P`` at the temperature named.
DISTRIBUTIONS = ("P", "P_w", "P_\\beta", "p", "p_w", "p_\\beta")


def _ends_in_bigop(node) -> bool:
    """Whether ``node`` ends with a big operator that has nothing to act on yet (``\\frac{1}{N} \\sum_i``)."""
    last = node.children[-1] if node.data == "juxt" else node
    return getattr(last, "data", None) == "postfix" and getattr(last.children[0], "data", None) == "bigop"


class Arithmetic(Source):
    """Sums and products (uses the builder's ``build``, ``value``, ``as_value``, ``resolve``, the shape
    rules, ``bind``, ``bigop`` and ``distribution``)."""

    # -- + - \odot \cdot / ----------------------------------------------------------------------
    def operand(self, node):
        """A term of a sum: a value, or ``I`` whose size its neighbour gives."""
        item = self.build(node)
        obj = self.resolve(item)
        return obj if unsized(obj) else self.as_value(Item(obj, item.start, item.end))

    def b_neg(self, node, start, end):
        v = self.operand(node.children[1])
        if isinstance(v, Ones):
            return v.times(-1)
        return as_scaled_identity(v).times(-1) if identity_scale(v) is not None else self.scale(-1, v)

    def b_pos(self, node, start, end):
        return self.value(node.children[1])

    def b_add(self, node, start, end):
        return self.add(self.operand(node.children[0]), self.operand(node.children[2]), node.children[1])

    def b_sub(self, node, start, end):
        left = node.children[0]
        if _ends_in_bigop(left):  # \sum_i -\frac{1}{\beta} \log ...: the minus begins the sum's body
            return self.b_juxt(left, start, end, negated=node.children[2])
        return self.add(self.operand(node.children[0]), self.operand(node.children[2]), node.children[1],
                        negate=True)

    def b_odot(self, node, start, end):
        return self.hadamard(self.value(node.children[0]), self.value(node.children[2]), node.children[1])

    def b_cdot(self, node, start, end):
        a, _, b = node.children
        return self.mul(Item(self.value(a), *span(a)), Item(self.value(b), *span(b)), cdot=True)

    def b_div(self, node, start, end):
        return self.divide(self.value(node.children[0]), self.value(node.children[2]), node.children[1].start_pos)

    # -- juxtaposition --------------------------------------------------------------------------
    def b_juxt(self, node, start, end, negated=None):
        """Pieces side by side; ``negated``, a term after a big operator and a minus that is its body's."""
        saved = dict(self.scope)
        following = [negated] if negated is not None else []
        children = node.children if node.data == "juxt" else [node]
        try:
            items = []
            for c in children:
                items.append(self.build(c))
                if isinstance(items[-1].obj, BigOp):
                    self.bind(items[-1].obj, list(children[len(items):]) + following)
            if negated is not None:
                items.append(Item(self.scale(-1, self.value(negated)), *span(negated)))
            self._check_nesting(items)
            if items[0].obj is PARTIAL:
                if len(items) == 1:
                    return Derivative("", [])
                return Derivative(canon(self.src(items[1].start, items[-1].end)), items[1:])
            if len(items) == 1:
                return items[0].obj
            return self.product(items)
        finally:
            self.scope = saved

    def _check_nesting(self, items: list[Item]) -> None:
        r"""Operators side by side each take all that follows (``\sum_i \sum_j \int_y ...``): reading them nests
        once per operator, so past :data:`MAX_OPERATORS` the formula is refused before Python's stack runs out."""
        ops = [it for it in items if isinstance(it.obj, (BigOp, Gradient))]
        if len(ops) > MAX_OPERATORS:
            raise self.error(f"more than {MAX_OPERATORS} operators (\\sum, \\int, \\nabla ...) one inside another "
                             "are not read; split the formula", ops[MAX_OPERATORS].start, "fewer operators")

    def value_of(self, items: list[Item]):
        """The value of pieces read side by side (an operator's body, what follows ``\\partial``)."""
        return self.product(items) if len(items) > 1 else self.as_value(items[0])

    def product(self, items: list[Item]):
        """A juxtaposition: functions take the bracket after them (or everything after them),
        everything else multiplies, left to right."""
        items = self._compound_aliases(items)
        values: list[Item] = []
        i = 0
        while i < len(items):
            it = items[i]
            if self._is_distribution(it, items[i + 1:i + 2]):
                values.append(Item(self.distribution(it, items[i + 1].obj), it.start, items[i + 1].end))
                i += 2
                continue
            obj = self.resolve(it)
            if isinstance(obj, list):  # a run of letters, one name each
                items = items[:i] + [Item(o, it.start, it.end) for o in obj] + items[i + 1:]
                continue
            value, i = self._factor(obj, items, i)
            values.append(value)
        out = values[0]
        for v in values[1:]:
            out = Item(self.mul(out, v), out.start, v.end)
        if out.obj is IDENTITY:
            raise self.error("I (the identity) needs a matrix beside it to give its size", out.start)
        return out.obj  # may be c I, whose size a term beside it gives (read by operand)

    def _is_distribution(self, it: Item, following: list[Item]) -> bool:
        r"""``P`` or ``P_w`` before ``(y \mid x)``."""
        return isinstance(it.obj, Name) and bool(following) and isinstance(following[0].obj, Conditional) \
            and canon(self.src(it.start, it.end)).replace("\\mathbb", "") in DISTRIBUTIONS

    def _factor(self, obj, items: list[Item], i: int) -> tuple[Item, int]:
        """The factor ``items[i]`` (which stands for ``obj``) and the index after what it takes: a function
        takes the bracket after it or else all that follows, as a big operator does."""
        it, rest = items[i], items[i + 1:]
        if isinstance(obj, Head):
            if rest and isinstance(rest[0].obj, Group):
                arg = rest[0]
                out = Item(self.apply(obj, Group(arg.obj.items), it.start), it.start, arg.end)
                return Item(self.finish(out, arg.obj.suffixes), it.start, arg.end), i + 2
            if not rest:
                raise self.error(f"{obj.name} needs an argument", it.end, "an argument")
            arg = Item(self.product(rest), rest[0].start, rest[-1].end)
            return Item(self.apply(obj, Group([arg.obj]), it.start), it.start, arg.end), len(items)
        if isinstance(obj, BigOp):
            if not rest:
                raise self.error(f"\\{obj.kind} needs something to act on", it.end, "an expression")
            return Item(self.bigop(obj, rest, it), it.start, items[-1].end), len(items)
        if isinstance(obj, Gradient):
            return self._gradient(obj, items, i)
        if obj is PARTIAL or obj is NABLA:
            raise self.error(f"\\{obj.kind} is only read in \\frac{{\\partial a}}{{\\partial b}} or as a name "
                             f"the reference knows ({self.table.known()})", it.start)
        value = obj if unsized(obj) else self.as_value(Item(obj, it.start, it.end))
        return Item(value, it.start, it.end), i + 1

    def _gradient(self, grad: Gradient, items: list[Item], i: int) -> tuple[Item, int]:
        r"""``\nabla_w X``: the derivative of the scalar X by the scalar w, as ``\frac{\partial X}{\partial w}``
        reads.  It acts on a function and its bracket (``\nabla_w F_w(x_i, y)``), else on all that follows."""
        it, rest = items[i], items[i + 1:]
        written = self.src(it.start, it.end).strip()
        if not rest:
            raise self.error(f"{written} needs something to act on", it.end, "an expression")
        try:
            var = self.script_value(grad.script)
            take = 2 if len(rest) >= 2 and isinstance(self.resolve(rest[0]), Head) and \
                isinstance(rest[1].obj, Group) else len(rest)
            body = self.value_of(rest[:take])
        except ReadError as exc:
            raise self.error(f"{written} acts on a quantity of {self.table.reference}: {exc.message}; write the "
                             "gradient as the reference names it, such as g_t, \\nabla f(w_t) or \\nabla "
                             "\\ell_i(\\theta_k)", exc.position if exc.position is not None else it.start) from None
        if not isinstance(var, sp.Symbol) or shape_of(body) is not None:
            raise self.error(f"{written} is read for a scalar by a scalar variable; for vectors write the Jacobian "
                             "\\frac{\\partial a}{\\partial b}, or the name the reference gives the gradient "
                             f"({self.table.known()})", it.start)
        return Item(sp.Derivative(body, var), it.start, rest[take - 1].end), i + 1 + take

    # -- names spanning several pieces ----------------------------------------------------------
    def _compound_aliases(self, items: list[Item]) -> list[Item]:
        r"""Names spanning several pieces, such as ``\nabla f_i(w_t)`` for ``g_t``."""
        out, i = [], 0
        while i < len(items):
            for j in range(min(len(items) - 1, i + MAX_ALIAS_PIECES), i, -1):
                text = self.src(items[i].start, items[j].end)
                found = self.table.get(text)
                if found is None and text.lstrip().startswith("\\nabla"):
                    found = self.table.get(_NABLA_SCRIPT.sub(r"\\nabla ", text))
                power = re.fullmatch(r"(.*?)\^\s*\{?\s*([0-9]+)\s*\}?\s*", text, re.DOTALL)
                if found is None and power:  # \nabla f_i(w_t)^2: the power of the name
                    found = self.table.get(power.group(1))
                    if found is not None and not isinstance(found, Head):
                        found = self.power(found, sp.Integer(int(power.group(2))), items[j].start)
                if found is not None:
                    out.append(Item(self._as_written(found, text), items[i].start, items[j].end))
                    i = j + 1
                    break
            else:
                out.append(items[i])
                i += 1
        return out

    def _as_written(self, found, text: str):
        r"""An alias whose subscript is a variable bound here (``\nabla \ell_j(\theta_k)`` in a sum
        over ``j``) stays a name of its own, so that it reads sample ``j``, not the target's ``i``."""
        if not isinstance(found, sp.Symbol):
            return found
        key = canon(text)
        for var in self.scope:
            if re.search(r"_" + re.escape(var) + r"(?![A-Za-z0-9])", key) and \
                    not re.search(r"_" + re.escape(var) + r"(?![A-Za-z0-9])", canon(found.name)):
                for alias in self.table.aliases:
                    if canon(alias) == key:
                        return sp.Symbol(alias, **found.assumptions0)
        return found
