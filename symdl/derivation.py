"""Worked solutions as data (moved to :mod:`symdl.document.derivation`; this path stays for the README's users)."""

from .document.derivation import (Derivation, Figure, Prose, ReferenceBlock, Section, Step, Table, TeX, Text,
                                  UnsafeTeX, math, prose, sections, tex)

__all__ = ["Derivation", "Figure", "Prose", "ReferenceBlock", "Section", "Step", "Table", "TeX", "Text",
           "UnsafeTeX", "math", "prose", "sections", "tex"]
