"""Question 2: the optimisers' algorithms in the layout of PyTorch's docstrings, and the blocks beside them."""

from __future__ import annotations

from symdl import ref
from symdl.document.derivation import Prose, Text, math as display, tex


RMSPROP_ALGO = tex(
    r"\begin{aligned} &\textbf{input}: \gamma \text{ (learning rate)}, \; \alpha \text{ (decay)}, \; \epsilon, \; w_0, \; f \\ "
    r"&\textbf{initialize}: v_0 \leftarrow 0 \\ "
    r"&\textbf{for } t = 0, 1, \ldots: \\ &\quad g_t \leftarrow \nabla f(w_t) \\ "
    r"&\quad v_{t+1} \leftarrow \alpha v_t + (1 - \alpha) g_t^2 \\ "
    r"&\quad w_{t+1} \leftarrow w_t - \gamma \, g_t / (\sqrt{v_{t+1}} + \epsilon) \\ "
    r"&\textbf{return}: w_t \end{aligned}")
ADAM_ALGO = tex(
    r"\begin{aligned} &\textbf{input}: \gamma \text{ (learning rate)}, \; \beta_1, \beta_2 \text{ (betas)}, \; \epsilon, \; "
    r"w_0, \; f \\ "
    r"&\textbf{initialize}: m_0 \leftarrow 0, \; v_0 \leftarrow 0 \\ "
    r"&\textbf{for } t = 0, 1, \ldots: \\ &\quad g_t \leftarrow \nabla f(w_t) \\ "
    r"&\quad m_{t+1} \leftarrow \beta_1 m_t + (1 - \beta_1) g_t, \quad v_{t+1} \leftarrow \beta_2 v_t + "
    r"(1 - \beta_2) g_t^2 \\ "
    r"&\quad \hat m_{t+1} \leftarrow m_{t+1} / (1 - \beta_1^{t+1}), \quad \hat v_{t+1} \leftarrow "
    r"v_{t+1} / (1 - \beta_2^{t+1}) \\ "
    r"&\quad w_{t+1} \leftarrow w_t - \gamma \, \hat m_{t+1} / (\sqrt{\hat v_{t+1}} + \epsilon) \\ "
    r"&\textbf{return}: w_t \end{aligned}")
SGD_ALGO = tex(
    r"\begin{aligned} &\textbf{input}: \gamma_t \text{ (learning rate)}, \; \mu \text{ (momentum)}, \; \tau "
    r"\text{ (dampening)}, \; \theta_0, \; f \\ "
    r"&\textbf{for } t = 1, 2, \ldots: \\ &\quad g_t \leftarrow \nabla f(\theta_{t-1}) \\ "
    r"&\quad b_t \leftarrow g_t \text{ if } t = 1 \text{ else } \mu b_{t-1} + (1 - \tau) g_t \\ "
    r"&\quad \theta_t \leftarrow \theta_{t-1} - \gamma_t b_t \\ "
    r"&\textbf{return}: \theta_t \end{aligned}")
NONMONO_ALGO = tex(
    r"\begin{aligned} &\textbf{input}: \gamma_1 \text{ (learning rate)}, \; \mathrm{NONMONO}, \; \mathrm{LR\_DECAY} \\ "
    r"&\textbf{for } e = 1, 2, \ldots: \\ &\quad \text{train one epoch at } \gamma_e, \text{ then } "
    r"L_e \leftarrow \text{validation loss} \\ "
    r"&\quad \gamma_{e+1} \leftarrow \gamma_e / \mathrm{LR\_DECAY} \text{ if } e > \mathrm{NONMONO} \text{ and } "
    r"L_e > \min(L_1, \ldots, L_{e - \mathrm{NONMONO}}) \text{ else } \gamma_e \\ "
    r"&\textbf{return}: \gamma_{e+1} \end{aligned}")


def _where(name) -> Prose:
    """The reference's defined names, each as ``name = definition``."""
    parts = [Text("where ")]
    for k, (sym, definition) in enumerate(ref(name).definitions.items()):
        parts += [Text(", ")] if k else []
        parts.append(display(definition, sym.name))
    return Prose(tuple(parts + [Text(".")]))


def _oracle_checks(name):
    return tuple(c for c in ref(name).checks if c.method == "oracle")
