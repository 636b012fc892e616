r"""What a hand form and its reference range over, found by one look at their SymPy trees.

A finite interpretation (:mod:`symdl.grade.finite`) must give every such thing a value before it can
evaluate either side, and give both sides the same ones: a grid to each variable of an integral or a
minimum, a count of samples to each index of a sum, members to each set summed over, a random
function to each abstract function, and the cosine to ``s`` where it compares vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from ..reader.names import canon


def grid_letter(name: str) -> str:
    """The letter a variable's grid is keyed by: ``y'`` and ``y`` share ``y``."""
    return canon(name).replace("'", "")


@dataclass(frozen=True)
class Ranges:
    """What some expressions range over (canonical names, as :func:`symdl.reader.names.canon` spells them)."""

    loops: dict  # a sum's variable (i, j) or a set's (I') -> the symbol counting it (N, D_N)
    grids: frozenset  # the letters of the integral and minimum variables
    functions: dict  # abstract function name -> how many arguments its random instance takes
    similar: frozenset  # the inputs s compares, when s is the cosine similarity of vectors
    sets: frozenset  # the sets summed over (B, D_N)


def ranges(exprs) -> Ranges:
    """What ``exprs`` range over, together: both sides of a comparison get the same interpretation."""
    functions = _functions(exprs)
    similar = _similarity_arguments(exprs)
    if similar:
        del functions["s"]  # not random: the contract's cosine
    return Ranges(_loop_variables(exprs), frozenset(grid_letter(v.name) for v in _grid_variables(exprs)),
                  functions, frozenset(similar), frozenset(_summed_sets(exprs)))


def _nodes(exprs):
    for e in exprs:
        yield from sp.preorder_traversal(e)


def _grid_variables(exprs) -> set:
    out = set()
    for node in _nodes(exprs):
        if isinstance(node, sp.Integral):
            out.update(lim[0] for lim in node.limits)
        elif type(node).__name__ in ("MinOver", "ArgminOver", "MaxOver"):
            out.add(node.args[1])
    return out


def _loop_variables(exprs) -> dict:
    """Sum variables (``i``, ``j``) and set variables (``I'``) with the symbol counting them."""
    out = {}
    for node in _nodes(exprs):
        if isinstance(node, sp.Sum):
            for var, _, high in node.limits:
                out[canon(var.name)] = high
        elif type(node).__name__ == "SumOverSet":
            out[canon(node.args[1].name)] = node.args[2]
    return out


def _functions(exprs) -> dict:
    out = {}
    for e in exprs:
        for f in sorted(e.atoms(AppliedUndef), key=str):
            out[f.func.__name__] = len(f.args) + (1 if f.func.__name__.endswith("_w") else 0)
    return out


def _summed_sets(exprs) -> set:
    """The sets a sum runs over (``D_N``, optim.sgd's batch ``B``)."""
    sets = set()
    for node in _nodes(exprs):
        if type(node).__name__ == "SumOverSet":
            sets.add(canon(str(node.args[2])))
        elif type(node).__name__ == "batch_gradient_sum":
            sets.add(canon(str(node.args[0])))
    return sets


def _similarity_arguments(exprs) -> set:
    r"""Canonical names of the inputs ``s`` compares, when ``s`` is the contract's cosine similarity of
    vectors (contrastive.pirl_h); empty when ``s`` is absent or ``h`` stands for it abstractly."""
    calls = [f for e in exprs for f in e.atoms(AppliedUndef)]
    if not any(f.func.__name__ == "s" and len(f.args) == 2 for f in calls) or \
            any(f.func.__name__ == "h" for f in calls):
        return set()
    return {canon(x.name) for f in calls if f.func.__name__ == "s" for a in f.args for x in a.free_symbols}


def loop_labels(exprs, at) -> dict:
    """What each summation runs over, for a counterexample: ``N`` samples, ``|D_N|`` negatives, ``|B|``
    (a sum over the entries of a vector of size ``d`` adds nothing: ``d`` is a size already)."""
    out = {}
    for node in _nodes(exprs):
        if isinstance(node, sp.Sum):
            for _, _, high in node.limits:
                if isinstance(high, sp.Symbol) and high not in at:
                    out[str(high)] = None
        elif type(node).__name__ in ("SumOverSet", "batch_gradient_sum"):
            over = node.args[2] if type(node).__name__ == "SumOverSet" else node.args[0]
            out[f"|{over}|"] = None
    return out
