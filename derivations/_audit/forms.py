"""LaTeX forms of the LSTM's Jacobian and the Gibbs distribution shared by the seed audit's claims."""

from __future__ import annotations


U = {g: r"W_{%sh} h_{t-1} + W_{%sx} x_t + b_%s" % (g, g, g) for g in "figo"}
D = r"\operatorname{diag}(o_{t-1} \odot \tanh'(c_{t-1}))"
FOUR = (r"\operatorname{diag}(f_t) + \operatorname{diag}(c_{t-1} \odot \sigma'(%s)) W_{fh} %s"
        r" + \operatorname{diag}(\tilde{c}_t \odot \sigma'(%s)) W_{ih} %s"
        r" + \operatorname{diag}(i_t \odot \tanh'(%s)) W_{gh} %s") % (U["f"], D, U["i"], D, U["g"], D)
FOUR_DISPLAY = (r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(f_t) + \operatorname{diag}(c_{t-1} "
                r"\odot \sigma'(u_f)) W_{fh} D_{t-1} \\ & \quad + \operatorname{diag}(\tilde{c}_t \odot \sigma'(u_i)) "
                r"W_{ih} D_{t-1} + \operatorname{diag}(i_t \odot \tanh'(u_g)) W_{gh} D_{t-1}, \\ & \quad u_j = W_{jh} "
                r"h_{t-1} + W_{jx} x_t + b_j \ (j = f, i, g), \quad D_{t-1} = " + D)
GIBBS_I = r"\frac{\exp(-\beta F_w(x_i,y))}{\int_{y'} \exp(-\beta F_w(x_i,y'))\, dy'}"
