"""The oracle of lstm.toml: torch.nn.LSTMCell with the model's weights, differentiated by torch.func.jacrev.

The torch code is :mod:`symdl.verify.oracles.recurrent`, which imports nothing of symdl.
"""

from symdl.verify.oracles import recurrent

ORACLES = {
    "lstm.cell_update": lambda v: recurrent.lstm_step(v)[0],
    "lstm.hidden": lambda v: recurrent.lstm_step(v)[1],
    "lstm.cell_jacobian": recurrent.lstm_cell_jacobian,
    "lstm.cell_jacobian_direct": lambda v: recurrent.lstm_cell_jacobian(v, through_hidden=False),
    "lstm.state_jacobian": recurrent.lstm_state_jacobian,
}
