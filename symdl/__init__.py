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
    """``check`` and ``Verdict`` import the LaTeX reader (lark) on first use, not with ``import symdl``."""
    if name in ("check", "Verdict"):
        import importlib

        module = importlib.import_module("symdl.check")
        # importing the submodule symdl.check binds that name to the module; the public name is the function
        globals().update(check=module.check, Verdict=module.Verdict)
        return globals()[name]
    raise AttributeError(f"module 'symdl' has no attribute {name!r}")
