r"""From a parse tree to SymPy objects in one reference's symbols.

Every SymPy object is built directly (``MatMul``, ``HadamardProduct``,
``ElementwiseApplyFunction`` ...): the text a person wrote is never handed to
``eval``, ``sympify`` or ``parse_expr``.  Shapes are checked as the
expression is built, so a matrix plus a vector is an error at the ``+``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp
from lark import Token, Tree
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix

from ..core.calculus import add as ordered_add
from ..core.calculus import hadamard as ordered_hadamard
from .names import Head, NameTable, builtin, canon


class ReadError(ValueError):
    """Text that could not be read: where (a character offset), why, and what was expected."""

    def __init__(self, message: str, position: int | None = None, text: str = "", expected: str = ""):
        super().__init__(message)
        self.message, self.position, self.text, self.expected = message, position, text, expected

    def caret(self) -> str:
        """The input with a caret under the offending character (the line it is on)."""
        if self.position is None or not self.text:
            return ""
        start = self.text.rfind("\n", 0, self.position) + 1
        end = self.text.find("\n", self.position)
        line = self.text[start:end if end >= 0 else len(self.text)]
        return f"{line}\n{' ' * (self.position - start)}^"

    def __str__(self) -> str:
        where = f"at character {self.position}: " if self.position is not None else ""
        return where + self.message


# -- intermediate objects: what a piece is before it is a value --------------------------------


@dataclass
class Name:
    """A name not yet looked up (``c``, then ``c_{t-1}`` once its subscript is read)."""

    start: int
    end: int
    letters: bool  # a bare run of letters, which may be a product of one-letter names


@dataclass
class Group:
    """A bracketed value or list ``(a, b)``: a function's argument, or a plain value.

    Scripts after the closing bracket (``^\\top``, ``^2``) wait in ``suffixes``: after a function's
    argument they apply to the function's value (``\\operatorname{diag}(f_t)^\\top`` is the transpose
    of the diagonal matrix), otherwise to the bracket's value."""

    items: list
    suffixes: tuple = ()


@dataclass
class BigOp:
    kind: str
    lower: object = None
    upper: object = None
    var: object = None  # the bound variable, once read


@dataclass
class Derivative:
    r"""``\frac{\partial a}{\partial b}``: a key for the left side of an equation, and, for
    scalars, ``sp.Derivative`` on the right."""

    text: str
    items: list = None
    value: object = None


@dataclass
class Conditional:
    """``(y \\mid x)``: the argument of a distribution."""

    of: object
    given: object
    start: int


@dataclass
class Norm:
    r"""``\lVert v \rVert`` before its subscript (1 or 2) is known."""

    v: object
    p: int = 2


class _Marker:
    def __init__(self, kind):
        self.kind = kind


PARTIAL, NABLA, IDENTITY = _Marker("partial"), _Marker("nabla"), _Marker("identity")


@dataclass(frozen=True)
class ScaledIdentity:
    """``c I`` (``10^{-12} I``, ``0.001 I``) before a matrix beside it gives its size."""

    c: object


def _identity_scale(obj):
    """The scalar ``c`` of ``c I`` (1 for ``I``), or ``None`` for anything else."""
    if obj is IDENTITY:
        return sp.Integer(1)
    return obj.c if isinstance(obj, ScaledIdentity) else None


@dataclass
class Item:
    """A built piece and where it is in the text."""

    obj: object
    start: int
    end: int


def shape_of(e):
    return tuple(e.shape) if getattr(e, "is_Matrix", False) else None


def show_shape(s) -> str:
    return "a scalar" if s is None else "(" + ", ".join(str(d) for d in s) + ")"


def _span(node) -> tuple[int, int]:
    if isinstance(node, Token):
        return node.start_pos, node.end_pos
    return node.meta.start_pos, node.meta.end_pos


class Builder:
    """Builds the SymPy expression of a tree against a :class:`NameTable`."""

    def __init__(self, text: str, table: NameTable):
        self.text, self.table = text, table
        self.scope: dict = {}  # bound variables of the sums, integrals and minima being read

    # -- errors and names ---------------------------------------------------------------
    def error(self, message: str, pos: int, expected: str = "") -> ReadError:
        return ReadError(message, pos, self.text, expected)

    def src(self, start: int, end: int) -> str:
        return self.text[start:end]

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
        start, end = _span(node)
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
        if _identity_scale(obj) is not None:
            raise self.error("I (the identity) needs a matrix beside it to give its size", item.start)
        if isinstance(obj, _Marker):
            raise self.error(f"\\{obj.kind} cannot stand here", item.start)
        return obj

    # -- sums and products --------------------------------------------------------------
    def operand(self, node):
        """A term of a sum: a value, or ``I`` whose size its neighbour gives."""
        item = self.build(node)
        obj = self.resolve(item)
        return obj if _identity_scale(obj) is not None else self.as_value(Item(obj, item.start, item.end))

    def b_neg(self, node, start, end):
        v = self.operand(node.children[1])
        c = _identity_scale(v)
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
        return self.mul(Item(self.value(a), *_span(a)), Item(self.value(b), *_span(b)))

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
            values.append(Item(obj if _identity_scale(obj) is not None else self.as_value(Item(obj, it.start, it.end)),
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
        s_start, s_end = _span(suf)
        kind = suf.data
        script = suf.children[0] if kind != "prime" else None
        is_prime = kind == "prime" or (kind == "sup" and self._is_prime(script))
        obj = item.obj
        if isinstance(obj, Name) and (kind == "sub" or is_prime):
            return Item(Name(item.start, s_end, obj.letters), item.start, s_end)
        if isinstance(obj, Norm):
            if kind == "sub":
                which = canon(self.src(*_span(script))).lstrip("L")
                if which not in ("1", "2"):
                    raise self.error(f"a norm's subscript is 1 or 2, got {self.src(*_span(script))}", s_start)
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
                raise self.error("expected an exponent here", _span(inner)[0], "an exponent")
            return self.value(inner)
        raise self.error("expected an exponent here", _span(script)[0], "an exponent")

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
        if word in ("argmin", "argmax", "min", "max"):
            return BigOp(word)
        return Name(start, end, False)  # a function (diag, sigmoid...) is looked up by name, as any other

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

    def distribution(self, it: Item, cond: "Conditional"):
        r"""``P(y \mid x)`` or ``P_w(y \mid x_i)``: the Gibbs distribution of the reference's energy
        (REFERENCES.md defines ``P_w`` from ``F_w`` and ``P`` from ``F``)."""
        name = canon(self.src(it.start, it.end)).replace("\\mathbb", "")
        wanted = ["F_w", "F"] if name.endswith("_w") else ["F", "F_w"]
        energy = next((self.table.get(f) for f in wanted if isinstance(self.table.get(f), Head)), None)
        beta = self.table.get("\\beta")
        if energy is None or beta is None or shape_of(cond.given) is not None or shape_of(cond.of) is not None:
            raise self.error(f"{self.src(it.start, it.end).strip()}(. | .) is a Gibbs distribution; "
                             f"{self.table.reference} has no energy F or F_w and beta to build it from", it.start)
        var = cond.of
        dummy = self.table.variable(f"{var}'") if isinstance(var, sp.Symbol) else sp.Dummy("y")
        f = energy.func
        return sp.exp(-beta * f(cond.given, var)) / sp.Integral(sp.exp(-beta * f(cond.given, dummy)),
                                                                (dummy, -sp.oo, sp.oo))

    def b_partial(self, node, start, end):
        return PARTIAL

    def b_nabla(self, node, start, end):
        return NABLA

    def b_infty(self, node, start, end):
        return sp.oo

    def b_bigop(self, node, start, end):
        word = str(node.children[0]).lstrip("\\")
        return BigOp("E" if word.startswith("mathbb") else word)

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
            b = self.product(den.items) if len(den.items) > 1 else self.as_value(den.items[0])
        except ReadError:
            return None
        return b if isinstance(b, sp.Symbol) else None

    def _scalar_derivative(self, num: Derivative, den: Derivative):
        """``sp.Derivative(a, b)`` when ``a`` reads as a scalar and ``b`` as a symbol, else ``None``."""
        try:
            a = self.product(num.items) if len(num.items) > 1 else self.as_value(num.items[0])
            b = self.product(den.items) if len(den.items) > 1 else self.as_value(den.items[0])
        except ReadError:
            return None
        if shape_of(a) is None and isinstance(b, sp.Symbol):
            return sp.Derivative(a, b)
        return None

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
        if len({len(r) for r in rows}) != 1:
            raise self.error("the rows of the matrix have different lengths", start)
        for r in rows:  # I takes its size from the other blocks of its row
            size = next((v.rows for v in r if _identity_scale(v) is None and shape_of(v)), None)
            if size is None and any(_identity_scale(v) is not None for v in r):
                raise self.error("I (the identity) needs a matrix beside it to give its size", start)
            r[:] = [v if _identity_scale(v) is None else self._sized_identity(v, size) for v in r]
        if all(shape_of(v) is None for r in rows for v in r):
            return sp.ImmutableMatrix(rows)
        for r in rows:
            for v in r:
                if shape_of(v) is None:
                    raise self.error("a block matrix mixes scalars and matrices", start)
            if len({v.rows for v in r}) != 1:
                raise self.error("the blocks of a row have different numbers of rows: "
                                 + ", ".join(show_shape(shape_of(v)) for v in r), start)
        for j in range(len(rows[0])):
            if len({r[j].cols for r in rows}) != 1:
                raise self.error(f"the blocks of column {j + 1} have different numbers of columns", start)
        return sp.BlockMatrix(rows)

    # -- operations with shape checks -------------------------------------------------------
    def _fit_identity(self, a, b, pos):
        ca, cb = _identity_scale(a), _identity_scale(b)
        if ca is not None or cb is not None:
            other = b if ca is not None else a
            if _identity_scale(other) is not None or shape_of(other) is None:  # I + w_t, I I: no size
                raise self.error("I (the identity) needs a matrix beside it to give its size", pos)
        if ca is not None:
            a = self._sized_identity(a, b.rows)
        if cb is not None:
            b = self._sized_identity(b, a.rows)
        return a, b

    def _sized_identity(self, v, size):
        c = _identity_scale(v)
        return self.scale(c, sp.Identity(size)) if c != 1 else sp.Identity(size)

    def scale(self, c, v):
        return sp.MatMul(c, v) if shape_of(v) else c * v

    def broadcast(self, s, like, pos):
        shape = shape_of(like)
        if shape[1] != 1:
            raise self.error(f"a scalar plus a {show_shape(shape)} matrix: write I for the identity", pos)
        return self.scale(s, sp.OneMatrix(*shape)) if s != 1 else sp.OneMatrix(*shape)

    def add(self, a, b, op, negate=False):
        pos = op.start_pos
        a, b = self._fit_identity(a, b, pos)
        if _identity_scale(a) is not None:
            raise self.error("I (the identity) needs a matrix beside it to give its size", pos)
        if negate:
            b = self.scale(-1, b)
        sa, sb = shape_of(a), shape_of(b)
        if sa is None and sb is None:
            return a + b
        if sa is None:
            a = self.broadcast(a, b, pos)
        elif sb is None:
            b = self.broadcast(b, a, pos)
        elif sa != sb:
            raise self.error(f"cannot add a {show_shape(sa)} {kind(sa)} and a {show_shape(sb)} {kind(sb)}", pos,
                             "two terms of the same shape")
        return ordered_add(a, b)

    def hadamard(self, a, b, op):
        pos = op.start_pos
        sa, sb = shape_of(a), shape_of(b)
        if sa is None or sb is None:
            return self.scale(a, b) if sa is None else self.scale(b, a)
        if sa != sb:
            raise self.error(f"\\odot needs two operands of one shape, got {show_shape(sa)} and {show_shape(sb)}",
                             pos, "operands of the same shape")
        return ordered_hadamard(a, b)

    def mul(self, a: Item, b: Item):
        ca, cb = _identity_scale(a.obj), _identity_scale(b.obj)
        if (ca is None) != (cb is None):  # c I times a scalar is a multiple of I, its size still to come
            c, other = (ca, b.obj) if ca is not None else (cb, a.obj)
            if shape_of(other) is None:
                return ScaledIdentity(c * other)
        x, y = self._fit_identity(a.obj, b.obj, a.start)
        sx, sy = shape_of(x), shape_of(y)
        if sx is None or sy is None:
            if sx is None and sy is None:
                return x * y
            return self.scale(x, y) if sx is None else self.scale(y, x)
        if sx[1] != sy[0]:
            hint = "; for the elementwise product write \\odot" if sx == sy and sx[1] == 1 else ""
            raise self.error(f"cannot multiply '{self.src(a.start, a.end).strip()}' {show_shape(sx)} by "
                             f"'{self.src(b.start, b.end).strip()}' {show_shape(sy)}: the inner sizes differ{hint}",
                             b.start, "a factor whose rows match the columns before it")
        if not isinstance(x, sp.MatMul):
            return sp.MatMul(x, y)
        # one flat product, as SymPy's own MatMul would be, but without re-checking every factor's shape
        # (checked above): a nested MatMul is asked its shape recursively, and re-checking a flat one on
        # every factor made a product of n factors cost n^2 (2,800 factors: 12 s)
        return sp.Basic.__new__(sp.MatMul, *x.args, y)

    def divide(self, a, b, pos):
        sa, sb = shape_of(a), shape_of(b)
        if sb is None:
            if b.is_zero:
                raise self.error("division by zero", pos, "a denominator that is not 0")
            return self.scale(1 / b, a) if sa else a / b
        inv = sp.HadamardPower(b, -1)
        if sa is None:
            return self.scale(a, inv)
        if sa != sb:
            raise self.error(f"cannot divide a {show_shape(sa)} by a {show_shape(sb)} elementwise", pos)
        return ordered_hadamard(a, inv)

    def power(self, value, exponent, pos):
        if shape_of(exponent):
            raise self.error("an exponent must be a scalar", pos)
        s = shape_of(value)
        if s is None:
            if value.is_Rational and exponent.is_Rational and _digits(value, exponent) > MAX_DIGITS:
                raise self.error(f"this power of {str(value)[:20]} has more than {MAX_DIGITS} digits; it is not "
                                 "computed", pos, "a smaller power")
            out = sp.Pow(value, exponent)
            if out in (sp.zoo, sp.nan):
                raise self.error(f"{value}^{{{exponent}}} is undefined (division by zero)", pos, "a defined power")
            return out
        if s[1] != 1:
            raise self.error(f"a power of a {show_shape(s)} matrix is not read (only vectors, elementwise)", pos)
        return sp.HadamardPower(value, exponent)

    def apply(self, head: Head, group: Group, pos: int):
        if head.kind == "derivative":
            if len(group.items) != 1 or shape_of(group.items[0]) is not None:
                raise self.error(f"{head.name} takes one scalar expression", pos)
            return sp.Derivative(group.items[0], head.func)
        if head.kind == "diag":
            if len(group.items) != 1:
                raise self.error("diag takes one vector", pos)
            v = group.items[0]
            s = shape_of(v)
            if s is None or s[1] != 1:
                raise self.error(f"diag takes a column vector, got {show_shape(s)}", pos)
            out = DiagMatrix(v)
        elif len(group.items) == 1:
            out = self.apply_function(head.func, group.items[0], pos)
        else:
            if any(shape_of(v) for v in group.items):
                raise self.error(f"{head.name} of several arguments takes scalars", pos)
            try:
                out = head.func(*group.items)
            except TypeError:  # \exp(x, y): SymPy's exp takes one argument
                raise self.error(f"{head.name} does not take {len(group.items)} arguments", pos) from None
        if head.power is not None:
            out = self.power(out, head.power, pos)
        return out

    def apply_function(self, func, v, pos):
        if shape_of(v) is None:
            out = func(v)
            if out in (sp.zoo, sp.nan):
                shown = "0" if v.is_zero else (str(v) if len(str(v)) < 40 and not v.has(sp.Integral) else "this argument")
                raise self.error(f"{func.__name__}({shown}) is undefined", pos, "an argument inside the function's domain")
            return out
        if isinstance(v, sp.ZeroMatrix) and func(sp.Integer(0)) in (sp.zoo, sp.nan):  # \log(f_t - f_t)
            raise self.error(f"{func.__name__}(0) is undefined: its argument is 0 in every entry", pos,
                             "an argument inside the function's domain")
        d = sp.Dummy("d")
        return ElementwiseApplyFunction(sp.Lambda(d, func(d)), v)

    def norm_value(self, norm: "Norm"):
        if norm.p == 1:
            return self.table.construct("L1Norm", norm.v)
        return sp.sqrt(self.table.construct("SquaredNorm", norm.v))

    # -- sums, integrals, minima ------------------------------------------------------------
    def bind(self, op: BigOp, rest_nodes) -> None:
        """Read the bound variable of ``op`` and put it in scope for what follows it."""
        name = None
        script = op.lower
        if script is not None:
            inner = script.children[0] if script.data == "script_group" else script
            if isinstance(inner, Tree) and inner.data in ("sub_eq", "sub_in", "sub_to"):
                name = self.src(*_span(inner.children[0]))
            elif op.kind in ("int", "sum", "min", "max", "argmin", "argmax", "prod", "E"):
                name = self.src(*_span(inner))
        if op.kind == "int" and rest_nodes and (name is None or not self._is_variable(name)):
            last = self.src(*_span(rest_nodes[-1]))
            found = re.fullmatch(r"\s*d\s*(.+?)\s*", last)
            if found:
                name = found.group(1)
        if name is None or not self._is_variable(name):
            if op.kind == "int":
                raise self.error("which variable does \\int integrate over? write \\int_y ... \\, dy",
                                 _span(script)[0] if script is not None else 0, "a variable")
            if name is None:
                return
        op.var = self.table.variable(name)
        self.scope[canon(name)] = op.var

    @staticmethod
    def _is_variable(name: str) -> bool:
        return re.fullmatch(r"\s*[A-Za-z](\s*')*\s*|\s*\\[A-Za-z]+\s*", name) is not None \
            or re.fullmatch(r"\s*[A-Za-z]'?_\{?[A-Za-z0-9]\}?\s*", name) is not None

    def _strip_differential(self, op: BigOp, rest: list[Item]) -> list[Item]:
        """``... \\, dy`` or ``... \\mathrm{d}y`` at the end of an integrand is not a factor."""
        var = canon(op.var.name)
        last = canon(self.src(rest[-1].start, rest[-1].end))
        if last == "d" + var:
            return rest[:-1]
        if len(rest) >= 2 and last == var and canon(self.src(rest[-2].start, rest[-2].end)) == "d":
            return rest[:-2]
        return rest

    def bigop(self, op: BigOp, rest: list[Item], where: Item):
        if op.kind == "int" and op.var is not None:
            rest = self._strip_differential(op, rest)
            if not rest:
                raise self.error("\\int needs an integrand", where.end, "an expression")
        body = self.product(rest) if len(rest) > 1 else self.as_value(rest[0])
        if op.var is None:
            raise self.error(f"\\{op.kind} needs its variable below it, such as \\{op.kind}_y", where.end,
                             "a subscript")
        if shape_of(body) is not None and op.kind != "sum":
            raise self.error(f"\\{op.kind} of a {show_shape(shape_of(body))} {kind(shape_of(body))} is not read",
                             where.start)
        if op.kind == "int":
            return sp.Integral(body, (op.var, -sp.oo, sp.oo))
        if op.kind in ("min", "max", "argmin", "argmax"):
            name = {"min": "MinOver", "max": "MaxOver", "argmin": "ArgminOver", "argmax": "ArgmaxOver"}[op.kind]
            return self.table.construct(name, body, op.var)
        if op.kind == "sum":
            return self._sum(op, body, where)
        raise self.error(f"\\{op.kind} is not part of the notation the checker reads", where.start)

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
        if limits is None and canon(op.var.name).replace("'", "") in self.table.integrals:
            # REFERENCES.md: an integral over a variable also stands for a sum over a finite set,
            # so \sum_{y'} is the reference's \int_{y'} ... dy'
            return sp.Integral(body, (op.var, -sp.oo, sp.oo))
        if limits is None:
            raise self.error(f"\\sum_{op.var} needs its limits, such as \\sum_{{{op.var}=1}}^{{N}}", where.start,
                             "limits")
        return sp.Sum(body, (op.var, *limits))


#: Most pieces a compound alias spans (``\nabla \ell_i(\theta_k)`` has 3); looking further made a
#: juxtaposition of n pieces cost n^2 lookups of ever longer text (1,000 pieces: 20 s).
MAX_ALIAS_PIECES = 8

#: Longest number read, and largest exact power computed (a tower 10^{10^{10^{10}}} never ends).
MAX_DIGITS = 1000


def _digits(base, exponent) -> float:
    """About how many digits ``base ** exponent`` has (numerator or denominator)."""
    import math

    size, power = max(abs(base.p), abs(base.q)), abs(exponent)
    if size <= 1:
        return 0.0
    return float("inf") if power > 10**9 else float(power) * math.log10(size)


def kind(shape) -> str:
    if shape[1] == 1:
        return "vector"
    return "matrix"
