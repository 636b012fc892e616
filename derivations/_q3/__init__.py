"""The parts of the question-3 worked solution (derivations/q3_energy.py): its figures and its checks."""
