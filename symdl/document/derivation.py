r"""A worked solution as data: sections of prose, verified steps, figures and tables.

A :class:`Derivation` is built by a module in ``derivations/`` (its function
``derivation()``); the renderer turns it into LaTeX and the verifier runs the
checks of every :class:`Step`.  Nothing here knows about Jinja or TeX runs.

Text and mathematics are kept apart so that nothing a person wrote can reach
TeX as a command:

- plain text (titles, reasons, captions, table cells) is escaped when rendered;
- :func:`tex` marks LaTeX written by a derivation's author as mathematics, after
  checking that every command in it is on :data:`MATH_COMMANDS`;
- :func:`prose` reads ``$...$`` segments of a paragraph as :func:`tex` and the
  rest as plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ..core.printing import SAFE_COMMANDS, latex
from ..verify.spec import CheckSpec

MATH_COMMANDS = SAFE_COMMANDS | frozenset(
    """frac dfrac tfrac partial odot cdot cdots ldots dots times le leq ge geq ne neq approx sim to mapsto in notin
    left right big Big bigg Bigg sum prod int lim min max argmin argmax log exp tanh sqrt operatorname text
    mathbb quad qquad infty propto lVert rVert Vert vert mid langle rangle boxed underbrace overbrace
    begin end aligned cases pmatrix bmatrix matrix substack limits displaystyle forall exists equiv
    Rightarrow Leftarrow iff implies circ star ast nabla top intercal hat tilde bar dot ddot prime quad
    leftarrow rightarrow uparrow downarrow emph textbf mathit mathsf E P subseteq subset cup cap setminus
    lfloor rfloor lceil rceil pm mp not neg land lor ll gg cos sin varepsilon sup inf det tr eqref""".split()
)
_COMMAND = re.compile(r"\\([A-Za-z]+|.)")
_LABEL = re.compile(r"[a-z][a-z0-9-]*")
_ENVIRONMENTS = frozenset({"aligned", "cases", "pmatrix", "bmatrix", "matrix"})


#: What a step stated without proof may be (``Step.given``); "" for a step that is checked.
GIVEN = frozenset({"", "premise", "definition", "modelling choice"})


class UnsafeTeX(ValueError):
    """Author LaTeX with a command that is not on the whitelist."""


class TeX(str):
    """LaTeX that may be emitted as is: produced by symdl's printer or checked by :func:`tex`."""


def tex(source: str) -> TeX:
    """Mark ``source`` as mathematics after checking every command in it.

    Commands that read, write or define (``\\input``, ``\\write18``, ``\\def``,
    ``\\catcode``, ...) are refused, as is any command not on the whitelist.
    """
    if isinstance(source, TeX):
        return source
    bare = re.sub(r"\\.", "", source)  # escaped characters (\%, \#, \{) are harmless
    for bad, why in (("^^", "TeX's ^^ notation can spell any command"), ("%", "a comment hides the rest of the line"),
                     ("#", "a parameter character"), ("\x00", "a NUL character")):
        if bad in bare:
            raise UnsafeTeX(f"{why}: {bad!r} is not allowed in {source!r}")
    for cmd in _COMMAND.findall(source):
        if len(cmd) == 1:
            if cmd in ",;:!{}|_%&$# \\":
                continue
            raise UnsafeTeX(f"the character command \\{cmd} is not allowed in {source!r}")
        if cmd not in MATH_COMMANDS:
            raise UnsafeTeX(f"the command \\{cmd} is not allowed in mathematics: {source!r}")
    for env in re.findall(r"\\(?:begin|end)\{([^}]*)\}", source):
        if env not in _ENVIRONMENTS:
            raise UnsafeTeX(f"the environment {env!r} is not allowed: {source!r}")
    if source.count("{") != source.count("}"):
        raise UnsafeTeX(f"unbalanced braces in {source!r}")
    return TeX(source)


def math(expr, lhs: str | None = None) -> TeX:
    """A SymPy expression in the course's notation, optionally as ``lhs = expr``."""
    body = latex(expr)
    return TeX(f"{tex(lhs)} = {body}" if lhs else body)


@dataclass(frozen=True)
class Text:
    """Plain text; escaped when rendered."""

    text: str


@dataclass(frozen=True)
class Prose:
    """A paragraph: a sequence of :class:`Text` and :class:`TeX` (inline mathematics)."""

    parts: tuple


def prose(source: str) -> Prose:
    """A paragraph whose ``$...$`` segments are mathematics (checked by :func:`tex`).

    With an odd number of ``$`` there is no mathematics: the whole is plain text.
    """
    pieces = source.split("$")
    if len(pieces) % 2 == 0:
        return Prose((Text(source),))
    parts = tuple(tex(p) if i % 2 else Text(p) for i, p in enumerate(pieces) if p)
    return Prose(parts)


@dataclass(frozen=True)
class Step:
    """One step of a derivation.

    ``claim`` is the displayed mathematics; ``relation`` says how it follows
    from the step before (``"="``, ``"\\le"``, ``"def"`` for a definition,
    ``"given"`` for a premise, ``"=>"`` for an implication); ``reason`` is
    the rule, in words.  Every check in ``checks`` is run by ``symdl verify``.
    A step with nothing to check (a premise, a definition, a modelling choice) says which in ``given``, so
    that the ledger counts it apart from the checked steps instead of calling it unverified.  A step a later
    one uses has a ``label``: it is numbered, and text refers to it as ``$\\eqref{eq:LABEL}$``.
    """

    name: str
    claim: TeX
    reason: str
    checks: tuple[CheckSpec, ...] = ()
    relation: str = "="
    boxed: bool = False
    given: str = ""
    label: str = ""

    def __post_init__(self):
        object.__setattr__(self, "claim", tex(self.claim))
        object.__setattr__(self, "checks", tuple(self.checks))
        if self.given not in GIVEN:
            raise ValueError(f"step {self.name!r}: given={self.given!r} is none of {sorted(GIVEN - {''})}")
        if self.label and not _LABEL.fullmatch(self.label):
            raise ValueError(f"step {self.name!r}: the label {self.label!r} is not lower-case letters, digits and -")
        if self.given and self.checks:
            raise ValueError(f"step {self.name!r} is checked, so it is not given as a {self.given}")


@dataclass(frozen=True)
class Figure:
    """A figure made by ``make(path)``, which writes a PDF at ``path``; its checks are run too."""

    name: str
    caption: str
    make: Callable[[Path], None]
    checks: tuple[CheckSpec, ...] = ()
    width: str = "0.8"


@dataclass(frozen=True)
class Table:
    """A table; a cell is plain text (escaped) or :class:`TeX`."""

    header: tuple
    rows: tuple
    caption: str = ""
    widths: tuple = ()


@dataclass(frozen=True)
class ReferenceBlock:
    """A reference result displayed with its checks (its name in the registry)."""

    name: str


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple = ()


@dataclass(frozen=True)
class Derivation:
    """A worked solution: ``slug`` names the output (``build/<slug>.pdf``)."""

    slug: str
    title: str
    description: str
    sections: tuple[Section, ...]
    question: str = ""
    template: str = "question.tex.j2"
    references: tuple[str, ...] = field(default_factory=tuple)
    #: ``(name, checks)`` a document makes and lists in its ledger without displaying them: the seed audit's
    #: findings, whose forms the worked solutions already show.
    checks: tuple[tuple[str, tuple[CheckSpec, ...]], ...] = field(default_factory=tuple)

    def steps(self) -> list[Step]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Step)]

    def figures(self) -> list[Figure]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]

    def reference_names(self) -> list[str]:
        named = [b.name for s in self.sections for b in s.blocks if isinstance(b, ReferenceBlock)]
        return list(dict.fromkeys([*self.references, *named]))


def sections(*items: Section | Sequence[Section]) -> tuple[Section, ...]:
    out = []
    for it in items:
        out.extend(it if isinstance(it, (list, tuple)) else [it])
    return tuple(out)
