"""Worked solutions: derivations as data, the template context, rendering and figures."""
