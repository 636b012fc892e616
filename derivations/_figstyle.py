"""Figures at print size: matplotlib settings under which a figure's text is at least 8 pt on the page.

A figure is drawn at the width it is printed (``inches(width)``: the share of the text width that
the document gives it), so that matplotlib's point sizes are the page's point sizes. Legends sit
inside the axes; mathtext gives real minus signs.
"""

from __future__ import annotations

#: The text width of an A4 page with 2.2 cm margins, in inches (the documents' geometry).
TEXT_WIDTH = (210 - 2 * 22) / 25.4

#: matplotlib settings for print: nothing below 8 pt, real minus signs, a light frame around a legend.
PRINT = {
    "font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8,
    "legend.fontsize": 8, "legend.framealpha": 0.85, "legend.borderaxespad": 0.4, "axes.unicode_minus": True,
    "figure.titlesize": 9, "lines.linewidth": 1.3,
}


def inches(width: float) -> float:
    """The width in inches of a figure printed at ``width`` times the text width."""
    return width * TEXT_WIDTH


def minus(x: float, fmt: str = "g") -> str:
    """A number for a label in mathtext, so that its minus sign is a real one: ``$-2$``."""
    return f"${x:{fmt}}$"
