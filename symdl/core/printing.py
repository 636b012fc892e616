r"""Printing SymPy in the course's notation, and only names that are safe in TeX.

``latex(expr)`` writes ``\operatorname{diag}(v)``, ``u \odot v``, ``\sigma'(a_t)``
and ``\tanh(c_{t-1})`` where SymPy would write ``DiagMatrix``, ``\circ`` and
``(d \mapsto \tanh(d))_\circ``.  Symbol names go through :func:`safe_name`
first: ``latex(Symbol(r"\input{/etc/passwd}"))`` would emit that name raw, so
a name that is not a plain subscripted identifier is printed as escaped text.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter

from .elementwise import print_head
from .vector import VectorFunction

#: TeX commands a symbol name may contain: Greek letters and accents, nothing that reads or writes.
SAFE_COMMANDS = frozenset(
    """alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi
    pi rho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi
    Omega tilde hat bar mathbf boldsymbol mathcal mathrm nabla ell partial prime top""".split()
)
_NAME = re.compile(r"^[A-Za-z0-9_{}()+\-,' \\^|]*$")
_COMMAND = re.compile(r"\\([A-Za-z]+)")

_TEXT_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "%": r"\%", "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
}


def escape_text(value) -> str:
    """Escape any value for LaTeX text mode: every special character made literal.

    Control characters are dropped; TeX would otherwise read them as its own.
    """
    s = str(value)
    out = []
    for ch in s:
        if ch in _TEXT_ESCAPES:
            out.append(_TEXT_ESCAPES[ch])
        elif ord(ch) < 32 and ch not in "\n\t":
            continue
        else:
            out.append(ch)
    return "".join(out)


def is_safe_name(name: str) -> bool:
    """Whether a symbol name is a plain identifier with only whitelisted TeX commands."""
    if not _NAME.match(name) or name.count("{") != name.count("}") or "^^" in name:
        return False
    return all(cmd in SAFE_COMMANDS for cmd in _COMMAND.findall(name))


def safe_name(name: str) -> str:
    """The name itself when it is safe, else the name as escaped upright text."""
    return name if is_safe_name(name) else r"\texttt{%s}" % escape_text(name)


class CoursePrinter(LatexPrinter):
    """SymPy's LaTeX printer, speaking the notation of REFERENCES.md."""

    printmethod = "_latex"

    def __init__(self, settings=None):
        super().__init__(settings)
        self._bound: dict = {}

    def _print_Symbol(self, expr, style="plain"):
        return safe_name(expr.name)

    _print_Dummy = None  # set below: a bound dummy prints as the argument it stands for

    def _print_MatrixSymbol(self, expr):
        return safe_name(expr.name)

    def _print_DiagMatrix(self, expr):
        return r"\operatorname{diag}\left(%s\right)" % self._print(expr.args[0])

    def _print_HadamardProduct(self, expr):
        return r" \odot ".join(self.parenthesize(a, 60) for a in expr.args)

    def _print_ElementwiseApplyFunction(self, expr):
        lam = expr.function
        if not isinstance(lam, sp.Lambda):
            return r"%s\left(%s\right)" % (self._print(lam), self._print(expr.expr))
        d = lam.variables[0]
        # maps built by calculus.elementwise share one variable, so tanh(W sigma(x)) binds it twice, nested:
        # the inner binding is undone by restoring the outer one, not by deleting it
        outer = self._bound.get(d)
        self._bound[d] = expr.expr
        try:
            return self._print(lam.expr)
        finally:
            if outer is None:
                del self._bound[d]
            else:
                self._bound[d] = outer

    def _print_MatAdd(self, expr):
        return self._join_terms(expr.args)

    def _print_MatMul(self, expr):
        coeff, mats = expr.as_coeff_mmul()
        # a vector of ones among other factors (c 1, 1 1^T) is written bold, as a course writes it; a scalar
        # broadcast to 1 x 1 (c times the 1 x 1 matrix of ones, beside y^T z) is the scalar
        factors = [a for a in mats.args if not (isinstance(a, sp.OneMatrix) and a.shape == (1, 1))]
        if not factors and coeff != 1:
            return self._print(coeff)
        parts = [r"\mathbf{1}" if isinstance(a, sp.OneMatrix) and a.cols == 1 else self.parenthesize(a, 50)
                 for a in factors or mats.args]
        body = " ".join(parts)
        if coeff == -1:
            return "-" + body
        if coeff != 1:
            return self._print(coeff) + " " + body
        return body

    def _print_OneMatrix(self, expr):
        return "1" if expr.cols == 1 else r"\mathbf{1}"

    def _print_Identity(self, expr):
        return "I"

    def _print_ZeroMatrix(self, expr):
        return "0"

    def _print_Add(self, expr, order=None):
        r"""Terms in the order a person writes an update: ``w_t - \gamma g_t``, not ``-\gamma g_t + w_t``.

        An unevaluated ``Add`` keeps the order it was built in; otherwise, when
        some terms are negative, the positive ones come first, a bare symbol first of all.
        """
        built = list(expr.args)
        if built != list(sp.Add(*built).args):  # built unevaluated, in an order of its author's
            return self._join_terms(built)
        terms = list(expr.as_ordered_terms()) if expr.is_commutative else built
        negative = [t for t in terms if t.could_extract_minus_sign()]
        if negative and len(negative) < len(terms):
            positive = [t for t in terms if not t.could_extract_minus_sign()]
            positive.sort(key=lambda t: not (t.is_Symbol or isinstance(t, sp.Indexed)))
            terms = positive + negative
        return self._join_terms(terms)

    def _join_terms(self, terms) -> str:
        return join_terms(self, terms)

    def _print_tanh(self, expr, exp=None):
        return print_head(self, expr, exp)  # SymPy's tanh, printed as symdl prints its own functions

    def _print_Integral(self, expr):
        r"""Over the whole line, the course writes the variable under the sign: ``\int_{y} ... \, dy``."""
        if all(len(lim) == 3 and lim[1] == -sp.oo and lim[2] == sp.oo for lim in expr.limits):
            signs = "".join(r"\int_{%s}" % self._print(lim[0]) for lim in reversed(expr.limits))
            ds = "".join(r"\, d%s" % self._print(lim[0]) for lim in expr.limits)
            return r"%s %s%s" % (signs, self.parenthesize(expr.function, 50, strict=True), ds)
        return super()._print_Integral(expr)

    def _print_Transpose(self, expr):
        arg = expr.arg
        if isinstance(arg, sp.OneMatrix) and arg.cols == 1:  # the ones vector, a row
            return r"\mathbf{1}^\top"
        if isinstance(arg, (sp.MatrixSymbol, VectorFunction)):  # W^T, softmax(u)^T: no brackets of their own
            return r"%s^\top" % self._print(arg)
        return r"%s^\top" % self.parenthesize(arg, 1000)

    def _print_Function(self, expr, exp=None):
        name = expr.func.__name__
        if isinstance(expr.func, sp.core.function.UndefinedFunction):
            head = safe_name(_greek(name))
            args = ", ".join(self._print(a) for a in expr.args)
            if exp is not None:
                head = "%s^{%s}" % (head, exp)
            return r"%s\left(%s\right)" % (head, args)
        return super()._print_Function(expr, exp)


def join_terms(printer, terms) -> str:
    """Terms in the order given, joined by ``+`` and ``-`` with a space on each side."""
    out = []
    for i, term in enumerate(terms):
        s = printer._print(term)
        if i == 0:
            out.append(s)
        elif s.startswith("-"):
            out.append("- " + s[1:].lstrip())
        else:
            out.append("+ " + s)
    return " ".join(out)


def _print_dummy(self, expr, style="plain"):
    if expr in self._bound:
        return self._print(self._bound[expr])
    return safe_name(expr.name)


CoursePrinter._print_Dummy = _print_dummy

_GREEK = {"sigma": r"\sigma", "sigma'": r"\sigma'", "phi": r"\phi", "psi": r"\psi"}


def _greek(name: str) -> str:
    return _GREEK.get(name, name)


def latex(expr, **settings) -> str:
    """``expr`` in the course's LaTeX notation."""
    return CoursePrinter(settings).doprint(expr)


def display(lhs: str, expr, width: int = 95) -> tuple[str, list[str]]:
    """``lhs = expr`` for a displayed equation, and the ``where`` lines it needs.

    A long sum is split one term a line (``aligned``); a block matrix is shown
    with named blocks ``J_{ij}``, each defined on its own line.
    """
    if isinstance(expr, sp.BlockMatrix):
        rows, cols = expr.blocks.shape
        names = [[f"J_{{{i + 1}{j + 1}}}" for j in range(cols)] for i in range(rows)]
        body = r"\begin{bmatrix} " + r" \\ ".join(" & ".join(r) for r in names) + r" \end{bmatrix}"
        where, earlier = [], {}
        for i in range(rows):
            for j in range(cols):
                block = expr.blocks[i, j]
                # a block that contains an earlier one is written with that block's name
                shown = block.xreplace(earlier) if earlier else block
                where.append(split_sum(names[i][j], shown, width, align=True))
                if not isinstance(block, (sp.ZeroMatrix, sp.Identity, sp.MatrixSymbol)):
                    earlier[block] = sp.MatrixSymbol(names[i][j], *block.shape)
        return (f"{lhs} = {body}" if lhs else body), where
    return split_sum(lhs, expr, width), []


def split_sum(lhs: str, expr, width: int = 95, align: bool = False) -> str:
    body = latex(expr)
    terms = list(expr.args) if isinstance(expr, (sp.MatAdd, sp.Add)) else [expr]
    eq = " &= " if align else " = "
    if len(_visible(body)) <= width or len(terms) == 1:
        return f"{lhs}{eq}{body}" if lhs else body
    parts = [latex(t) for t in terms]
    head = f"{lhs} &= {parts[0]}" if lhs else f"&{parts[0]}"
    lines = [head] + [r"&\quad " + ("" if p.startswith("-") else "+ ") + p for p in parts[1:]]
    text = r" \\ ".join(lines)
    return text if align else r"\begin{aligned} " + text + r" \end{aligned}"


def _visible(s: str) -> str:
    """Roughly the characters a reader sees: commands and \\left/\\right dropped."""
    return re.sub(r"\\(left|right|operatorname|odot|frac)|[{}]", "", s)
