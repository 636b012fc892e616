r"""Scripts after an atom: subscripts, powers, transposes and primes.

What a script means depends on what it follows: on a name a subscript or a prime is part of the
name (``c_{t-1}``, ``y'``); on a norm the subscript picks the norm (``\lVert v \rVert_1``); on a big
operator it holds the limits (``\sum_{i=1}^{N}``); on a function a prime is its derivative and a
power applies to its value (``\tanh^2(u)``); on a value ``^\top`` (or ``^T``) transposes, and any
other superscript is a power.  Scripts after a bracket wait, since the bracket may be a function's
argument (:class:`~symdl.reader.pieces.Group`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp
from lark import Token, Tree

from .errors import Source
from .names import Head, canon
from .pieces import NABLA, BigOp, Gradient, Group, Item, Name, Norm, Ones, span
from .shapes import shape_of

#: Inner scripts that are no exponent (limits, lists, a lone prime or transpose).
_NOT_EXPONENTS = ("sub_eq", "sub_in", "sub_to", "sub_list", "prime_only", "top_only")


@dataclass(frozen=True)
class Script:
    """One suffix node: ``kind`` is ``sub``, ``sup`` or ``prime``; ``tree`` the script (none for a prime)."""

    kind: str
    tree: object
    prime: bool  # a prime, written ' or ^{\prime}
    start: int
    end: int


class Scripts(Source):
    """Postfix scripts (uses the builder's ``build``, ``value``, ``as_value``, ``resolve`` and the shape rules)."""

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
        """``item`` with the script ``suf`` applied, according to what ``item`` is so far."""
        script = self._script(suf)
        obj = item.obj
        if isinstance(obj, Name) and (script.kind == "sub" or script.prime):
            return Item(Name(item.start, script.end, obj.letters), item.start, script.end)
        if obj is NABLA and script.kind == "sub":  # \nabla_w: the gradient by w, waiting for what it acts on
            return Item(Gradient(script.tree, item.start), item.start, script.end)
        if isinstance(obj, Name) and script.kind == "sup" and self._is_sample_index(script.tree):
            return Item(Name(item.start, script.end, obj.letters), item.start, script.end)  # x^{(i)}: x_i
        if isinstance(obj, Norm):
            if script.kind == "sub":
                return Item(self._norm_index(obj, script), item.start, script.end)
            item = Item(self.norm_value(obj, item.start), item.start, item.end)
        if isinstance(item.obj, BigOp):
            return Item(self._limit(item.obj, script), item.start, script.end)
        if isinstance(item.obj, Name):
            item = Item(self._scripted_name(item, script), item.start, item.end)
            if isinstance(item.obj, list):  # a run of letters: the script is on the last one
                *first, last = item.obj
                tail = self.suffix(Item(last, item.start, item.end), suf)
                return Item([*first, tail.obj], item.start, script.end)
        if isinstance(item.obj, Head):
            return Item(self._function_script(item.obj, script), item.start, script.end)
        return Item(self._value_script(item, script), item.start, script.end)

    def _script(self, suf) -> Script:
        s_start, s_end = span(suf)
        tree = suf.children[0] if suf.data != "prime" else None
        prime = suf.data == "prime" or (suf.data == "sup" and self._is_prime(tree))
        return Script(suf.data, tree, prime, s_start, s_end)

    def _norm_index(self, norm: Norm, script: Script) -> Norm:
        which = canon(self.src(*span(script.tree))).lstrip("L")
        if which not in ("1", "2"):
            raise self.error(f"a norm's subscript is 1 or 2, got {self.src(*span(script.tree))}", script.start)
        return Norm(norm.v, int(which))

    def _limit(self, op: BigOp, script: Script) -> BigOp:
        if script.kind == "sub":
            op.lower = script.tree
        elif script.kind == "sup":
            op.upper = script.tree
        else:
            raise self.error(f"a prime on \\{op.kind}", script.start)
        return op

    def _scripted_name(self, item: Item, script: Script):
        """What a name under a superscript stands for: ``e`` is Euler's number unless the reference names it."""
        if script.kind == "sup" and canon(self.src(item.start, item.end)) == "e" and self.table.get("e") is None:
            return sp.E
        return self.resolve(item)

    def _function_script(self, head: Head, script: Script) -> Head:
        if script.prime:
            d = head.derivative()
            if d is None:
                raise self.error(f"no derivative is known for {head.name}", script.start)
            return d
        if script.kind == "sup":
            return head.with_power(self.script_value(script.tree))
        raise self.error(f"a subscript on the function {head.name}", script.start)

    def _value_script(self, item: Item, script: Script):
        if script.prime:
            raise self.error("a prime on a value; write the derivative as a function, such as \\sigma'(u)",
                             script.start)
        if script.kind == "sub":
            raise self.error("a subscript on an expression that is not a name; an entry such as (W_1)_{ij} is the "
                             "index form, which is not read: write the whole vector or matrix", script.start)
        if isinstance(item.obj, Ones):
            if not self._is_transpose(script.tree, sp.OneMatrix(1, 1)):
                raise self.error("\\mathbf{1} (the vector of ones) takes only a transpose, \\mathbf{1}^\\top",
                                 script.start)
            return Ones(item.obj.c, not item.obj.row)
        value = self.as_value(item)
        if self._is_transpose(script.tree, value):
            if self.table.is_vector(value):  # v_I^\top: kept, so that v_I^\top v_{I^t} is their dot product
                return self.table.construct("Transposed", value)
            return sp.Transpose(value) if shape_of(value) else value
        exponent = self.script_value(script.tree)
        if value == sp.E:
            return self.apply_function(sp.exp, exponent, item.start)
        return self.power(value, exponent, script.start)

    def _is_sample_index(self, script) -> bool:
        r"""``^{(i)}``: the sample index as a superscript, read as the subscript ``_i`` (:func:`canon`)."""
        return script.data == "script_group" and re.fullmatch(r"\{\s*\(\s*[A-Za-z]\s*\)\s*\}",
                                                             self.src(*span(script))) is not None

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
        """The value of a superscript (an exponent) or a sum's upper limit."""
        if script.data == "script_char":
            tok = script.children[0]
            return self.as_value(self._token_item(tok))
        if script.data == "script_greek":
            tok = script.children[0]
            return self.as_value(Item(Name(tok.start_pos, tok.end_pos, False), tok.start_pos, tok.end_pos))
        if script.data == "script_group":
            inner = script.children[0]
            if isinstance(inner, Tree) and inner.data in _NOT_EXPONENTS:
                raise self.error("expected an exponent here", span(inner)[0], "an exponent")
            return self.value(inner)
        raise self.error("expected an exponent here", span(script)[0], "an exponent")

    def _token_item(self, tok: Token) -> Item:
        s, e = tok.start_pos, tok.end_pos
        if str(tok).isdigit():
            return Item(sp.Integer(int(str(tok))), s, e)
        return Item(Name(s, e, False), s, e)
