r"""The atoms of the notation: names, numbers, brackets, roots, norms, absolute values, matrices.

A name is not looked up here: it stays a :class:`~symdl.reader.pieces.Name` (a span of the text)
until its subscripts and primes are read, and ``\boldsymbol``, ``\tilde``, braces keep it one.
Numbers are exact (``0.001`` is ``1/1000``), never floats.
"""

from __future__ import annotations

import sympy as sp
from lark import Token, Tree

from .errors import Source
from .names import canon
from .pieces import BigOp, Conditional, Group, Name, Norm, Ones, span
from .shapes import MAX_DIGITS, kind, shape_of, show_shape


class Atoms(Source):
    """Tree nodes that stand alone (uses the builder's ``build``, ``value``, ``operand`` and the shape rules)."""

    # -- names: spans of the text, looked up once their scripts are read ---------------------
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
        return Name(start, end, False)  # diag, tanh, d, ...: a name like any other

    def b_bold(self, node, start, end):
        inner = self.build(node.children[1])
        if inner.obj is sp.S.One and self.src(inner.start, inner.end).strip(" {}") == "1":  # \mathbf{1}: ones
            return Ones()
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

    # -- numbers --------------------------------------------------------------------------------
    def b_number(self, node, start, end):
        text = str(node.children[0])
        if len(text) > MAX_DIGITS:
            raise self.error(f"a number of {len(text)} digits; at most {MAX_DIGITS} are read", start, "a shorter number")
        if "." in text:
            whole, frac = text.split(".")
            return sp.Rational(int(whole + frac), 10 ** len(frac))
        return sp.Integer(int(text))

    def b_frac_digits(self, node, start, end):
        r"""``\frac12``: TeX takes one digit for each argument."""
        num, den = (int(c) for c in str(node.children[0]) if c.isdigit())
        if den == 0:
            raise self.error("division by zero", start, "a denominator that is not 0")
        return sp.Rational(num, den)

    def b_infty(self, node, start, end):
        return sp.oo

    # -- brackets: a value, or a function's argument list ---------------------------------------
    def b_paren(self, node, start, end):
        return Group([self.value(node.children[0])])

    b_bracket = b_paren

    def b_tuple(self, node, start, end):
        return Group([self.value(c) for c in node.children])

    def b_concat(self, node, start, end):
        raise self.error("a stacked vector [a, b] is not part of the notation; write each block's product "
                         "apart, such as W_{fh} h_{t-1} + W_{fx} x_t", start)

    def b_conditional(self, node, start, end):
        *of, _, given = node.children
        return Conditional(tuple(self.value(c) for c in of), self.value(given), start)

    def b_cases(self, node, start, end):
        r"""``\begin{cases} a & t = 1 \\ b & \text{otherwise} \end{cases}``: a piecewise value, each branch
        with its condition (on scalars, such as the step t: the first momentum step of PyTorch's SGD)."""
        pairs = []
        for branch in node.children[1].children:
            if not isinstance(branch, Tree):
                continue
            value_node, cond_node = [c for c in branch.children if isinstance(c, Tree)]
            pairs.append((self.value(value_node), self._condition(cond_node)))
        if any(shape_of(v) is not None for v, _ in pairs):
            raise self.error("a cases environment is read for scalar values (write one per coordinate)", start)
        return sp.Piecewise(*pairs)

    def _condition(self, node):
        if node.data == "otherwise":
            return sp.true
        left, rel, right = [c for c in node.children if not (isinstance(c, Token) and c.type == "IFWORD")]
        a, b = self.value(left), self.value(right)
        if shape_of(a) is not None or shape_of(b) is not None:
            raise self.error("a condition of a cases environment compares scalars", span(node)[0])
        word = str(rel).strip().lstrip("\\")
        make = {"=": sp.Eq, "<": sp.Lt, ">": sp.Gt, "ge": sp.Ge, "geq": sp.Ge, "geqslant": sp.Ge, "le": sp.Le,
                "leq": sp.Le, "leqslant": sp.Le, "ne": sp.Ne, "neq": sp.Ne}.get(word)
        if make is None:
            raise self.error(f"the condition's relation {rel} is not read; write =, <, >, \\le or \\ge",
                             span(node)[0])
        return make(a, b)

    # -- roots, norms, absolute values, matrices ------------------------------------------------
    def b_sqrt(self, node, start, end):
        return self.apply_function(sp.sqrt, self.value(node.children[1]), start)

    def b_norm(self, node, start, end):
        v = self.value(node.children[1])
        if self.table.is_vector(v):
            return Norm(v)
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
        if self.table.is_vector(v):  # |v| of a feature vector is its length
            return self.vector_norm(v)
        if shape_of(v) is not None:
            raise self.error(f"|...| of a {show_shape(shape_of(v))} {kind(shape_of(v))}: write a norm \\lVert "
                             "... \\rVert", start)
        return sp.Abs(v)

    def b_matrix(self, node, start, end):
        rows = [[self.operand(c) for c in row.children] for row in node.children[1].children
                if isinstance(row, Tree)]
        return self.matrix(rows, start)
