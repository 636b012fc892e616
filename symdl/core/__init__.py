"""The calculus of the course's notation: elementwise functions, Jacobian rules, normal forms, printing.

No input or output, no processes: everything here is pure SymPy.
"""
