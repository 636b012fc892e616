r"""The oracle of rnn.toml: torch.nn.RNNCell (tanh), explicit torch steps (sigmoid, softplus) and jacrev.

The torch code is :mod:`symdl.verify.oracles.recurrent`, which imports nothing of symdl.  The model's
activation is abstract; ``values[r"\sigma"]`` names the one a check instantiates ("tanh", "sigmoid",
"softplus").
"""

from symdl.verify.oracles import recurrent


def _with_activation(oracle):
    def call(values):
        return oracle({**values, "_function": values.get(r"\sigma", "tanh")})

    return call


ORACLES = {"rnn.state": _with_activation(recurrent.rnn_state),
           "rnn.state_jacobian": _with_activation(recurrent.rnn_state_jacobian)}
