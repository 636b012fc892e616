r"""A person's own form held against a reference: read it, then decide it.

Reading and deciding are separate public steps (the shape of Math-Verify's ``parse`` and ``verify``), so
that a chain of links or a batch can read each form once and decide it when and where it likes::

    from symdl.grade import decide, read

    form = read(r"w_t - \gamma g_t + \beta (w_t - w_{t-1})", against="optim.heavy_ball")  # raises ReadError, ...
    verdict = decide(form, timeout=10)

``symdl.check`` (:func:`symdl.grade.check.check`) is the two together, every problem answered as a
:class:`Verdict`.  The function is not bound here: ``symdl.grade.check`` names its module, the path the
batch workers, the CLI and tests import.

The modules, from the answer down:

- :mod:`~symdl.grade.verdict`: the :class:`Verdict` and its JSON;
- :mod:`~symdl.grade.check`: ``check``, ``read``, ``decide``; which reference (and gap) a form is held against;
- :mod:`~symdl.grade.witness`: the numeric witness, over compiled code or a finite interpretation;
- :mod:`~symdl.grade.counterexample`: the one record of a compared point, and its text;
- :mod:`~symdl.grade.prove`: the bounded symbolic attempt;
- :mod:`~symdl.grade.finite`, :mod:`~symdl.grade.ranges`: integrals and sums evaluated on finite grids;
- :mod:`~symdl.grade.rubric`: grading answers by findings (the seed audit's vocabulary).
"""

from .check import HandForm, decide, read
from .verdict import VERDICTS, Verdict

__all__ = ["HandForm", "VERDICTS", "Verdict", "decide", "read"]
