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

from .version import __version__

from .model.model import Model
from .model.reference import EvaluationError, Reference
from .model.registry import UnknownNameError, ref, refs, register

__all__ = ["EvaluationError", "Model", "Reference", "UnknownNameError", "Verdict", "check", "check_derivation", "ref",
           "refs", "register",
           "__version__"]


def __getattr__(name):
    """``check`` and ``Verdict`` import the LaTeX reader (lark) on first use, not with ``import symdl``.

    They live in ``symdl.grade.check``; binding them here on first use means no submodule ever rebinds
    ``symdl.check`` (a submodule named ``check`` would shadow the function once imported).
    """
    if name in ("check", "Verdict"):
        from .grade import check as _check

        value = getattr(_check, name)
        globals()[name] = value
        return value
    if name == "check_derivation":
        from .grade.derivation import check_derivation

        globals()[name] = check_derivation
        return check_derivation
    raise AttributeError(f"module 'symdl' has no attribute {name!r}")
