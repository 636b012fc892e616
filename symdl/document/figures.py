"""Figures for worked solutions: matplotlib on the file-only Agg backend, saved reproducibly.

matplotlib loads when a figure is drawn, not when symdl is imported.
"""


def pyplot():
    """matplotlib's pyplot on the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path) -> None:
    """Lay out, write without a creation date (two builds give the same bytes), and close."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, metadata={"CreationDate": None})
    plt.close(fig)
