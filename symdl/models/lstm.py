r"""The LSTM cell of seed question 1, read from the model file ``lstm.toml`` beside this module.

:math:`c_t = f_t \odot c_{t-1} + i_t \odot \tilde c_t`, :math:`h_t = o_t \odot \tanh(c_t)`: the file holds the
whole model (inputs, definitions and the five references).  This module names the file's symbols and
definitions for the worked solution of question 1, which derives step by step from them
(``lstm.gate["f"]``, ``lstm.GATE_DEFS``, ``lstm.DEFS``, ``lstm.INPUTS``); each is read from the model.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from ..model.model import Model
from . import load_file

FILE = Path(__file__).with_name("lstm.toml")
#: The words the worked solution uses for each gate.
GATE_MEANING = {"f": "forget gate", "i": "input gate", "g": "candidate cell", "o": "output gate"}
_GATES = {"f": "f_t", "i": "i_t", "g": r"\tilde{c}_t", "o": "o_t"}
_SYMBOLS = {"c_prev": "c_{t-1}", "o_prev": "o_{t-1}", "h_prev": "h_{t-1}", "x": "x_t", "c_t": "c_t", "h_t": "h_t"}


@lru_cache(maxsize=1)
def model() -> Model:
    return replace(load_file(FILE), source="symdl/models/lstm.toml")


def __getattr__(name: str):
    """The model's symbols and definitions by the names the worked solution uses, read from the file."""
    found = model()
    if name in _SYMBOLS:
        return found.symbol(_SYMBOLS[name])
    gates = {g: found.symbol(s) for g, s in _GATES.items()}
    table = {"gate": gates, "GATE_DEFS": {s: found.definitions[s] for s in gates.values()},
             "DEFS": dict(found.definitions), "INPUTS": found.inputs}
    if name in table:
        return table[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
