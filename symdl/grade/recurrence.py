r"""A recurrence unrolled from its first value: links such as ``m_{t+1} = (1-\beta_1)\sum_{k=0}^{t}\beta_1^{t-k} g_k``.

A model like optim.adam is one pass of a loop: ``m_t`` and ``g_t`` in, ``m_{t+1}`` out.  A person who
unrolls it writes the new moment as a sum over every gradient so far, given the first value
(``m_0 = 0``): the claim holds at every ``t``, and involves a family ``g_k`` the model does not have.
So such a link is checked at ``t = 0, 1, 2, 3`` (REFERENCES.md, "Families and ranges"): at each, the
model is unrolled from step 0 (:func:`unrolled`: a state ``X`` with ``X_t`` among the inputs and
``X_{t+1}`` defined is carried forward, every other input indexed by ``t`` becomes one input per step
``g_0, g_1, ...``, the step count ``t`` a number, a premise such as ``m_0 = 0`` its first value), and
the text is written at that ``t`` (:func:`at_step`: ``t`` a number, every sum or product with integer
bounds written out, its letter substituted in the body, subscripts as numbers).  Text processing and
substitution only; the person's text is never evaluated.
"""

from __future__ import annotations

import re
from dataclasses import replace

import sympy as sp

from ..model.reference import Input
from ..reader.names import canon
from ..reader.ranges import has_family
from ..reader.source import depths, group_end, tokens

#: The values of ``t`` a link over a recurrence is checked at.
STEPS = (0, 1, 2, 3)
#: The index letter of the model's loop.
INDEX = "t"

_OP = re.compile(r"\\(sum|prod)(?![A-Za-z])(?:\s*\\limits)?")
_SCRIPT = re.compile(r"\s*([_^])\s*(\{(?:[^{}]|\{[^{}]*\})*\}|\\[A-Za-z]+|[A-Za-z0-9])")
_TEXT_GROUPS = ("\\text", "\\operatorname", "\\mathrm", "\\mbox", "\\textrm")
_BOUND_T = re.compile(r"\\(?:sum|prod)\s*_\s*\{[^{}]*\}\s*\^\s*(?:\{[^{}]*(?<![A-Za-z\\])t(?![A-Za-z])[^{}]*\}|t)")


def over_steps(text: str) -> bool:
    """Whether ``text`` ranges over the loop: a family ``g_k``, or a sum or product up to ``t``."""
    return has_family(text) or bool(_BOUND_T.search(text))


# -- the text at one step ------------------------------------------------------------------------------


def at_step(text: str, step: int) -> str:
    """``text`` with ``t = step``, each sum or product over integer bounds written out (a product's later
    factors on the left) and each subscript that is integer arithmetic written as its number."""
    text = substitute(text, INDEX, step)
    pos = 0
    while (found := _next_op(text, pos)) is not None:
        start, body, end, kind, var, low, high = found
        pieces = [substitute(text[body:end], var, k) for k in range(low, high + 1)]
        if kind == "sum":
            written = "(" + " + ".join(f"({p})" for p in pieces) + ")" if pieces else "0"
        else:
            written = " ".join("{" + p + "}" for p in reversed(pieces)) if pieces else "1"
        text = text[:start] + " " + written + " " + text[end:]
        pos = start
    return re.sub(r"_\s*\{([^{}]*)\}", _numbered, text)


def substitute(text: str, letter: str, value: int) -> str:
    """Every ``letter`` that stands alone (not in a command, a word or ``\\text{...}``) as ``value``:
    ``{value}`` right after ``_`` or ``^``, ``(value)`` elsewhere, so that ``2t`` stays a product."""
    out, skip_to, prev = [], 0, ""
    toks = tokens(text)
    for k, tok in enumerate(toks):
        if tok.start < skip_to:
            continue
        if tok.text in _TEXT_GROUPS:
            after = re.match(r"\s*\*?\s*", text[tok.end:]).end() + tok.end
            end = group_end(text, after)
            if end is not None:
                out.append(text[tok.start:end])
                skip_to, prev = end, "}"
                continue
        nxt = toks[k + 1].text if k + 1 < len(toks) else ""
        alone = tok.text == letter and not prev.isalpha() and not nxt.isalpha()
        out.append((f"{{{value}}}" if prev in ("_", "^") else f"({value})") if alone else tok.text)
        if not tok.text.isspace():
            prev = tok.text
    return "".join(out)


def integer(text: str) -> int | None:
    """``text`` as an integer when it is integers, ``+``, ``-`` and parentheses (``(3)+1``), else ``None``."""
    toks = re.findall(r"\d+|[+\-()]|\S", text)
    total, stack, sign, last = 0, [1], 1, ""
    for tok in toks:
        if tok.isdigit() and last != ")" and not last.isdigit():
            total += stack[-1] * sign * int(tok)
            sign = 1
        elif tok in ("+", "-"):
            sign = -sign if tok == "-" else sign
        elif tok == "(" and not last.isdigit() and last != ")":
            stack.append(stack[-1] * sign)
            sign = 1
        elif tok == ")" and len(stack) > 1:
            stack.pop()
        else:
            return None
        last = tok
    return total if toks and len(stack) == 1 else None


def _numbered(m) -> str:
    value = integer(m.group(1))
    return m.group(0) if value is None else f"_{{{value}}}"


def _next_op(text: str, at: int):
    """``(start, body start, body end, kind, letter, low, high)`` of the first sum or product from ``at``
    whose bounds are integers, or ``None``."""
    for m in _OP.finditer(text, at):
        scripts, pos = {}, m.end()
        for _ in range(2):
            s = _SCRIPT.match(text, pos)
            if not s:
                break
            scripts[s.group(1)], pos = s.group(2), s.end()
        low = re.fullmatch(r"\{?\s*([A-Za-z])\s*=(.*?)\}?", scripts.get("_", ""), re.DOTALL)
        high = integer(scripts.get("^", "").strip("{}"))
        if low and high is not None and integer(low.group(2)) is not None:
            return m.start(), pos, _body_end(text, pos), m.group(1), low.group(1), integer(low.group(2)), high
    return None


def _body_end(text: str, start: int) -> int:
    """A sum's body runs to the ``+``, ``-`` or relation at its own level, or to the bracket closing it."""
    level = None
    for tok, depth in depths(text, brackets=True):
        if tok.start < start:
            continue
        level = depth if level is None else level
        if depth < level or (depth == level and tok.text in ("+", "-", "=", "&")):
            return tok.start
    return len(text)


# -- the model at one step -------------------------------------------------------------------------------


def _renamed(symbol, step: int):
    """``m_{t+1}`` at ``t = step``: the same kind of symbol, its name written at that step."""
    name = at_step(symbol.name, step)
    if isinstance(symbol, sp.MatrixSymbol):
        return sp.MatrixSymbol(name, *symbol.shape)
    return sp.Symbol(name, **symbol.assumptions0)


def _base(name: str, index: str) -> str | None:
    """``m`` for ``m_{t+1}`` with ``index`` ``t+1`` (canonical names); ``None`` when not indexed so."""
    m = re.fullmatch(r"(.+)_" + re.escape(index), canon(name))
    return m.group(1) if m else None


def unrollable(ref) -> bool:
    """Whether ``ref`` is one pass of a loop: an input ``X_t`` whose ``X_{t+1}`` it defines or computes."""
    nxt = {_base(s.name, "t+1") for s in [*ref.definitions, _quantity(ref)] if s is not None}
    return any(_base(i.name, INDEX) in nxt for i in ref.inputs) and not any(
        _base(i.name, "t-1") for i in ref.inputs)


def _quantity(ref):
    """The reference's quantity as a symbol (``w_{t+1}``), or ``None``."""
    if not ref.lhs or getattr(ref.expr, "is_Matrix", False) or not re.fullmatch(r"[^=\\]*_\{t\+1\}", ref.lhs):
        return None
    return sp.Symbol(ref.lhs, real=True)


def unrolled(ref, last: int, given: dict):
    """``ref`` unrolled from step 0 to ``t = last``: the first value of each state an input (or its premise
    in ``given``: canonical name -> SymPy value), one input per step for every other input indexed by
    ``t``, and every quantity at every step a definition."""
    quantity = _quantity(ref)
    defs = {**ref.definitions, **({quantity: ref.expr} if quantity is not None else {})}
    states = {_base(s.name, "t+1"): s for s in defs}
    count = [i for i in ref.inputs if i.name == INDEX]
    inputs, current = [i for i in ref.inputs if _base(i.name, INDEX) is None and i not in count], {}
    for i in ref.inputs:
        base = _base(i.name, INDEX)
        if base in states:
            first = _renamed(i.symbol, 0)
            current[i.symbol] = given.get(canon(first.name), first)
            if canon(first.name) not in given:
                inputs.append(replace(i, symbol=first))
    out = {}
    for step in range(last + 1):
        subs = {c.symbol: sp.Integer(step) for c in count} | current
        for i in ref.inputs:
            if _base(i.name, INDEX) is not None and _base(i.name, INDEX) not in states:
                subs[i.symbol] = _renamed(i.symbol, step)
                inputs.append(Input(subs[i.symbol], i.domain, i.meaning))
        for symbol, value in defs.items():
            new = _renamed(symbol, step)
            out[new] = value.xreplace(subs)
            subs[symbol] = new
        current = {i.symbol: subs[states[_base(i.name, INDEX)]] for i in ref.inputs
                   if _base(i.name, INDEX) in states}
    top = _renamed(quantity, last) if quantity is not None else ref.expr
    return replace(ref, expr=top, inputs=tuple(inputs), definitions=out, lhs=at_step(ref.lhs, last),
                   evaluator=None, variants=None, params={}, checks=())
