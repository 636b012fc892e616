"""The parts of the question-1 worked solution (derivations/q1_recurrent.py): numerics, checks, the figure."""
