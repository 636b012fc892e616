"""symdl: deep-learning math you can trust.

>>> import symdl
>>> r = symdl.ref("lstm.cell_jacobian")
>>> r.latex()            # the derived four-term Jacobian in the course's notation
>>> r.evaluate(values, backend="torch")
>>> symdl.check(r"\\operatorname{diag}(f_t)", against="lstm.cell_jacobian_direct").verdict
'equivalent'

References are derived on first use; the checker's grammar, torch, matplotlib
and jinja2 load only when used.
"""

__version__ = "0.1.0"

from .reference import EvaluationError, Reference  # noqa: E402
from .registry import UnknownNameError, ref, refs  # noqa: E402

__all__ = ["EvaluationError", "Reference", "UnknownNameError", "Verdict", "check", "ref", "refs", "__version__"]


def __getattr__(name):
    """``check`` and ``Verdict`` import the LaTeX reader (lark) on first use, not with ``import symdl``.

    They live in the private module ``symdl._check``, so that importing it never rebinds
    ``symdl.check`` (a submodule named ``check`` would shadow the function once imported).
    """
    if name in ("check", "Verdict"):
        from . import _check

        value = getattr(_check, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'symdl' has no attribute {name!r}")
