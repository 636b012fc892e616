"""The parts of derivations/q2_optimisation.py, the question-2 worked solution (a private package: symdl loads
only derivations/*.py whose name does not start with ``_`` as documents).
"""
