"""symdl: deep-learning math you can trust.

>>> import symdl
>>> r = symdl.ref("lstm.cell_jacobian")
>>> r.latex()            # the derived four-term Jacobian in the course's notation
>>> r.evaluate(values, backend="torch")

References are derived on first use; torch, matplotlib and jinja2 load only when used.
"""

__version__ = "0.1.0"

from .reference import EvaluationError, Reference  # noqa: E402
from .registry import UnknownNameError, ref, refs  # noqa: E402

__all__ = ["EvaluationError", "Reference", "UnknownNameError", "ref", "refs", "__version__"]
