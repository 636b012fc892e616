r"""From a parse tree to SymPy objects in one reference's symbols.

Every SymPy object is built directly (``MatMul``, ``HadamardProduct``,
``ElementwiseApplyFunction`` ...): the text a person wrote is never handed to
``eval``, ``sympify`` or ``parse_expr``.  Shapes are checked as the
expression is built, so a matrix plus a vector is an error at the ``+``.
"""

from __future__ import annotations

import re

import sympy as sp
from lark import Token, Tree

from .names import Head, NameTable, builtin, canon
from .operators import Operators
from .pieces import (IDENTITY, NABLA, PARTIAL, BigOp, Conditional, Derivative, Group, Item, Marker, Name, Norm,
                     ScaledIdentity, identity_scale, span)
from .shapes import MAX_DIGITS, ShapeRules, kind, shape_of, show_shape


class Builder(Operators, ShapeRules):
    """Builds the SymPy expression of a tree against a :class:`NameTable`."""

    def __init__(self, text: str, table: NameTable):
        self.text, self.table = text, table
        self.scope: dict = {}  # bound variables of the sums, integrals and minima being read

    # -- names ---------------------------------------------------------------------------
    def resolve(self, item: Item):
        """The value or function a name stands for; a run of letters may be a product."""
        obj = item.obj
        if isinstance(obj, list):
            return obj
        if not isinstance(obj, Name):
            return obj
        text = self.src(item.start, item.end)
        key = canon(text)
        found = self.scope.get(key)
        if found is None:
            found = self.table.get(text)
        if found is None:
            found = builtin(key, self.table)
        if found is None:
            found = self.table.own.get(key)
        if found is not None:
            return found
        if key == "e":
            return sp.E
        if key == "I":
            return IDENTITY
        if obj.letters and len(key.split("_")[0].rstrip("'")) > 1:
            return self._split(item)
        raise self.error(f"unknown symbol '{text.strip()}' in {self.table.reference}; "
                         f"it knows {self.table.known()}", item.start, "a symbol of the reference")

    def _split(self, item: Item):
        """``Wh_{t-1}`` read as ``W h_{t-1}``: every letter a name, scripts on the last."""
        text = self.src(item.start, item.end)
        head = len(text) - len(text.lstrip())
        letters = 0
        while item.start + head + letters < item.end and self.text[item.start + head + letters].isalpha():
            letters += 1
        out = []
        for k in range(letters):
            s = item.start + head + k
            e = item.end if k == letters - 1 else s + 1
            out.append(self.resolve(Item(Name(s, e, False), s, e)))
        return out

    # -- dispatch -----------------------------------------------------------------------
    def build(self, node) -> Item:
        start, end = span(node)
        method = getattr(self, "b_" + node.data)
        obj = method(node, start, end)
        if obj is sp.nan or obj is sp.zoo:  # where it first appears: \infty - \infty, 0 \cdot \infty
            raise self.error(f"'{self.src(start, end).strip()[:40]}' is undefined", start, "a defined value")
        return Item(obj, start, end)

    def value(self, node):
        """A finished value: names resolved, nothing left waiting for an argument."""
        item = self.build(node)
        return self.as_value(item)

    def as_value(self, item: Item):
        obj = self.resolve(item)
        if isinstance(obj, Norm):
            return self.norm_value(obj)
        if isinstance(obj, list):
            return self.product([Item(o, item.start, item.end) for o in obj])
        if isinstance(obj, Conditional):
            raise self.error("a conditional (y | x) is only read as the argument of P or P_w", item.start)
        if isinstance(obj, Group):
            if len(obj.items) != 1:
                raise self.error("a list (a, b, ...) is only the argument of a function", item.start)
            return self.finish(Item(obj.items[0], item.start, item.end), obj.suffixes)
        if isinstance(obj, Head):
            raise self.error(f"{obj.name} needs an argument", item.end, "an argument")
        if isinstance(obj, Derivative):
            if obj.value is not None:
                return obj.value
            raise self.error("a derivative \\frac{\\partial a}{\\partial b} of vectors may only be the left side "
                             "of an equation", item.start)
        if isinstance(obj, BigOp):
            raise self.error(f"\\{obj.kind} needs something to act on", item.end, "an expression")
        if identity_scale(obj) is not None:
            raise self.error("I (the identity) needs a matrix beside it to give its size", item.start)
        if isinstance(obj, Marker):
            raise self.error(f"\\{obj.kind} cannot stand here", item.start)
        return obj

    # -- sums and products --------------------------------------------------------------
    def operand(self, node):
        """A term of a sum: a value, or ``I`` whose size its neighbour gives."""
        item = self.build(node)
        obj = self.resolve(item)
        return obj if identity_scale(obj) is not None else self.as_value(Item(obj, item.start, item.end))

    def b_neg(self, node, start, end):
        v = self.operand(node.children[1])
        c = identity_scale(v)
        return ScaledIdentity(-c) if c is not None else self.scale(-1, v)

    def b_pos(self, node, start, end):
        return self.value(node.children[1])

    def b_add(self, node, start, end):
        return self.add(self.operand(node.children[0]), self.operand(node.children[2]), node.children[1])

    def b_sub(self, node, start, end):
        return self.add(self.operand(node.children[0]), self.operand(node.children[2]), node.children[1],
                        negate=True)

    def b_odot(self, node, start, end):
        return self.hadamard(self.value(node.children[0]), self.value(node.children[2]), node.children[1])

    def b_cdot(self, node, start, end):
        a, op, b = node.children
        return self.mul(Item(self.value(a), *span(a)), Item(self.value(b), *span(b)))

    def b_div(self, node, start, end):
        return self.divide(self.value(node.children[0]), self.value(node.children[2]), node.children[1].start_pos)

    def b_juxt(self, node, start, end):
        saved = dict(self.scope)
        try:
            items = []
            for c in node.children:
                items.append(self.build(c))
                if isinstance(items[-1].obj, BigOp):
                    self.bind(items[-1].obj, node.children[len(items):])
            if items[0].obj is PARTIAL:
                if len(items) == 1:
                    return Derivative("", [])
                return Derivative(canon(self.src(items[1].start, items[-1].end)), items[1:])
            if len(items) == 1:
                return items[0].obj
            return self.product(items)
        finally:
            self.scope = saved

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
            if isinstance(it.obj, Name) and i + 1 < len(items) and isinstance(items[i + 1].obj, Conditional) \
                    and canon(self.src(it.start, it.end)).replace("\\mathbb", "") in ("P", "P_w"):
                values.append(Item(self.distribution(it, items[i + 1].obj), it.start, items[i + 1].end))
                i += 2
                continue
            obj = self.resolve(it)
            if isinstance(obj, list):
                items = items[:i] + [Item(o, it.start, it.end) for o in obj] + items[i + 1:]
                continue
            if isinstance(obj, Head):
                if i + 1 < len(items) and isinstance(items[i + 1].obj, Group):
                    arg = items[i + 1]
                    out = Item(self.apply(obj, Group(arg.obj.items), it.start), it.start, arg.end)
                    values.append(Item(self.finish(out, arg.obj.suffixes), it.start, arg.end))
                    i += 2
                    continue
                if i + 1 == len(items):
                    raise self.error(f"{obj.name} needs an argument", it.end, "an argument")
                rest = Item(self.product(items[i + 1:]), items[i + 1].start, items[-1].end)
                values.append(Item(self.apply(obj, Group([rest.obj]), it.start), it.start, rest.end))
                break
            if isinstance(obj, BigOp):
                if i + 1 == len(items):
                    raise self.error(f"\\{obj.kind} needs something to act on", it.end, "an expression")
                rest = items[i + 1:]
                values.append(Item(self.bigop(obj, rest, it), it.start, items[-1].end))
                break
            if obj is PARTIAL or obj is NABLA:
                raise self.error(f"\\{obj.kind} is only read in \\frac{{\\partial a}}{{\\partial b}} or as a name "
                                 f"the reference knows ({self.table.known()})", it.start)
            values.append(Item(obj if identity_scale(obj) is not None else self.as_value(Item(obj, it.start, it.end)),
                               it.start, it.end))
            i += 1
        out = values[0]
        for v in values[1:]:
            out = Item(self.mul(out, v), out.start, v.end)
        if out.obj is IDENTITY:
            raise self.error("I (the identity) needs a matrix beside it to give its size", out.start)
        return out.obj  # may be c I, whose size a term beside it gives (read by operand)

    def _compound_aliases(self, items: list[Item]) -> list[Item]:
        r"""Names spanning several pieces, such as ``\nabla f_i(w_t)`` for ``g_t``."""
        out, i = [], 0
        while i < len(items):
            for j in range(min(len(items) - 1, i + MAX_ALIAS_PIECES), i, -1):
                text = self.src(items[i].start, items[j].end)
                found = self.table.get(text)
                power = re.fullmatch(r"(.*?)\^\s*\{?\s*([0-9]+)\s*\}?\s*", text, re.S)
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
                for alias, target in self.table.aliases.items():
                    if canon(alias) == key:
                        return sp.Symbol(alias, **found.assumptions0)
        return found

    # -- postfix: names with scripts, powers, transposes, primes ----------------------------
    def b_postfix(self, node, start, end):
        atom, *suffixes = node.children
        item = self.build(atom)
        if isinstance(item.obj, Group) and not item.obj.suffixes:  # may be a function's argument: wait
            return Group(item.obj.items, tuple(suffixes))
        for suf in suffixes:
            item = self.suffix(item, suf)
        return item.obj

    def finish(self, item: Item, suffixes) -> object:
        """``item``'s value with the scripts that followed its closing bracket applied."""
        for suf in suffixes:
            item = self.suffix(item, suf)
        return self.as_value(item) if suffixes else item.obj

    def suffix(self, item: Item, suf) -> Item:
        s_start, s_end = span(suf)
        kind = suf.data
        script = suf.children[0] if kind != "prime" else None
        is_prime = kind == "prime" or (kind == "sup" and self._is_prime(script))
        obj = item.obj
        if isinstance(obj, Name) and (kind == "sub" or is_prime):
            return Item(Name(item.start, s_end, obj.letters), item.start, s_end)
        if isinstance(obj, Norm):
            if kind == "sub":
                which = canon(self.src(*span(script))).lstrip("L")
                if which not in ("1", "2"):
                    raise self.error(f"a norm's subscript is 1 or 2, got {self.src(*span(script))}", s_start)
                return Item(Norm(obj.v, int(which)), item.start, s_end)
            obj = self.norm_value(obj)
            item = Item(obj, item.start, item.end)
        if isinstance(obj, BigOp):
            if kind == "sub":
                obj.lower = script
            elif kind == "sup":
                obj.upper = script
            else:
                raise self.error(f"a prime on \\{obj.kind}", s_start)
            return Item(obj, item.start, s_end)
        if isinstance(obj, Name):
            resolved = self.resolve(item) if not (kind == "sup" and canon(self.src(item.start, item.end)) == "e"
                                                  and self.table.get("e") is None) else sp.E
            item = Item(resolved, item.start, item.end)
            obj = resolved
            if isinstance(obj, list):
                *first, last = obj
                tail = self.suffix(Item(last, item.start, item.end), suf)
                return Item([*first, tail.obj], item.start, s_end)
        if isinstance(obj, Head):
            if is_prime:
                d = obj.derivative()
                if d is None:
                    raise self.error(f"no derivative is known for {obj.name}", s_start)
                return Item(d, item.start, s_end)
            if kind == "sup":
                return Item(obj.with_power(self.script_value(script)), item.start, s_end)
            raise self.error(f"a subscript on the function {obj.name}", s_start)
        if is_prime:
            raise self.error("a prime on a value; write the derivative as a function, such as \\sigma'(u)",
                             s_start)
        if kind == "sub":
            raise self.error("a subscript on an expression that is not a name", s_start)
        value = self.as_value(item)
        if self._is_transpose(script, value):
            return Item(sp.Transpose(value) if shape_of(value) else value, item.start, s_end)
        exponent = self.script_value(script)
        if value == sp.E:
            return Item(self.apply_function(sp.exp, exponent, item.start), item.start, s_end)
        return Item(self.power(value, exponent, s_start), item.start, s_end)

    @staticmethod
    def _is_prime(script) -> bool:
        return script.data == "script_prime" or (
            script.data == "script_group" and isinstance(script.children[0], Tree)
            and script.children[0].data == "prime_only")

    def _is_transpose(self, script, value) -> bool:
        if script.data == "script_top":
            return True
        if script.data == "script_group" and isinstance(script.children[0], Tree) \
                and script.children[0].data == "top_only":
            return True
        if script.data == "script_char" and str(script.children[0]) == "T":
            return self.table.get("T") is None and shape_of(value) is not None
        return False

    def script_value(self, script):
        if script.data == "script_char":
            tok = script.children[0]
            return self.as_value(self._token_item(tok))
        if script.data == "script_greek":
            tok = script.children[0]
            return self.as_value(Item(Name(tok.start_pos, tok.end_pos, False), tok.start_pos, tok.end_pos))
        if script.data == "script_group":
            inner = script.children[0]
            if isinstance(inner, Tree) and inner.data in ("sub_eq", "sub_in", "sub_to", "sub_list", "prime_only",
                                                          "top_only"):
                raise self.error("expected an exponent here", span(inner)[0], "an exponent")
            return self.value(inner)
        raise self.error("expected an exponent here", span(script)[0], "an exponent")

    def _token_item(self, tok: Token) -> Item:
        s, e = tok.start_pos, tok.end_pos
        if str(tok).isdigit():
            return Item(sp.Integer(int(str(tok))), s, e)
        return Item(Name(s, e, False), s, e)

    # -- atoms ----------------------------------------------------------------------------
    def b_name(self, node, start, end):
        return Name(start, end, True)

    def b_greek(self, node, start, end):
        return Name(start, end, False)

    b_func = b_greek
    b_cal = b_greek

    def b_opname(self, node, start, end):
        word = canon(str(node.children[0]))
        if word in ("diag", "tanh", "sigmoid", "exp", "log"):
            return Name(start, end, False)
        if word in ("argmin", "argmax", "min", "max"):
            return BigOp(word)
        if word == "d":
            return Name(start, end, False)
        return Name(start, end, False)

    def b_number(self, node, start, end):
        text = str(node.children[0])
        if len(text) > MAX_DIGITS:
            raise self.error(f"a number of {len(text)} digits; at most {MAX_DIGITS} are read", start, "a shorter number")
        if "." in text:
            whole, frac = text.split(".")
            return sp.Rational(int(whole + frac), 10 ** len(frac))
        return sp.Integer(int(text))

    def b_bold(self, node, start, end):
        inner = self.build(node.children[1])
        return Name(start, end, False) if isinstance(inner.obj, Name) else inner.obj

    def b_accent(self, node, start, end):
        inner = self.build(node.children[1])
        if not isinstance(inner.obj, Name):
            raise self.error(f"{node.children[0]} decorates a name; here it decorates an expression", start)
        return Name(start, end, False)

    def b_group(self, node, start, end):
        inner = self.build(node.children[0])
        if isinstance(inner.obj, Name):
            return Name(start, end, inner.obj.letters)
        return inner.obj

    def b_paren(self, node, start, end):
        return Group([self.value(node.children[0])])

    b_bracket = b_paren

    def b_tuple(self, node, start, end):
        return Group([self.value(c) for c in node.children])

    def b_concat(self, node, start, end):
        raise self.error("a stacked vector [a, b] is not part of the notation; write each block's product "
                         "apart, such as W_{fh} h_{t-1} + W_{fx} x_t", start)

    def b_conditional(self, node, start, end):
        return Conditional(self.value(node.children[0]), self.value(node.children[2]), start)

    def b_infty(self, node, start, end):
        return sp.oo

    def b_sqrt(self, node, start, end):
        return self.apply_function(sp.sqrt, self.value(node.children[1]), start)

    def b_norm(self, node, start, end):
        v = self.value(node.children[1])
        if shape_of(v) is None:
            return sp.Abs(v)
        return Norm(v)

    def b_abs(self, node, start, end):
        own = self.table.own.get(canon(self.src(start, end)))
        if isinstance(own, sp.Symbol):  # the reference names |B| itself
            return own
        v = self.value(node.children[1])
        if isinstance(v, sp.Symbol) and isinstance(self.table.own.get(canon(f"|{v.name}|")), sp.Symbol):
            return self.table.own[canon(f"|{v.name}|")]  # |M_i| for |B|, M_i an alias of B
        if shape_of(v) is not None:
            raise self.error(f"|...| of a {show_shape(shape_of(v))} {kind(shape_of(v))}: write a norm \\lVert "
                             "... \\rVert", start)
        return sp.Abs(v)

    def b_matrix(self, node, start, end):
        rows = [[self.operand(c) for c in row.children] for row in node.children[1].children
                if isinstance(row, Tree)]
        return self.matrix(rows, start)


#: Most pieces a compound alias spans (``\nabla \ell_i(\theta_k)`` has 3); looking further made a
#: juxtaposition of n pieces cost n^2 lookups of ever longer text (1,000 pieces: 20 s).
MAX_ALIAS_PIECES = 8
