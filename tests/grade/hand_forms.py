r"""Hand forms written the way students, textbooks and papers write them, each with its truth in torch.

Every form is written twice (micrograd style): once in LaTeX, as a person hands it in, and once as a
torch float64 function of a random point, written here from the contract's definitions
(REFERENCES.md), never through symdl.  A form's truth is whether its torch value equals the
reference's torch value at every point and every instance of the abstract functions tried here.
``refused`` marks the notations symdl still refuses: the words its message must hold.  ``note``: words
the answer must hold (how an ambiguous juxtaposition was read).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from hand_truths import (
    adam,
    diag,
    ebm_points,
    free_energy,
    gd,
    gibbs,
    gradient_by_parts,
    heavy_ball,
    inference,
    joint,
    kmeans,
    latent_points,
    lstm_cell_jacobian,
    lstm_four_terms,
    lstm_points,
    nll_gradient,
    nll_loss,
    optim_points,
    pirl_h,
    pirl_points,
    rmsprop,
    rnn_jacobian,
    rnn_points,
    rnn_state,
    sgd_momentum_torch,
    sparse,
    vae_kl,
)


@dataclass(frozen=True)
class Form:
    against: str
    latex: str
    torch: Callable  # the form's value at a point of its topic (a dict of torch tensors and callables)
    refused: str | None = None
    note: str | None = None


#: Each reference: its topic's random points and its value there, in torch.
REFERENCES = {
    "rnn.state": (rnn_points, rnn_state), "rnn.state_jacobian": (rnn_points, rnn_jacobian),
    "lstm.cell_update": (lstm_points, lambda p: p["c"]), "lstm.hidden": (lstm_points, lambda p: p["h"]),
    "lstm.cell_jacobian": (lstm_points, lstm_cell_jacobian),
    "lstm.cell_jacobian_direct": (lstm_points, lambda p: diag(p["f"])),
    "optim.heavy_ball": (optim_points, heavy_ball), "optim.adam": (optim_points, adam),
    "optim.rmsprop": (optim_points, rmsprop), "optim.sgd_momentum_torch": (optim_points, sgd_momentum_torch),
    "optim.gd": (optim_points, gd),
    "ebm.gibbs": (ebm_points, gibbs), "ebm.nll_loss": (ebm_points, nll_loss),
    "ebm.nll_gradient": (ebm_points, nll_gradient), "ebm.free_energy": (ebm_points, free_energy),
    "ebm.inference": (ebm_points, inference), "ebm.joint_gibbs": (ebm_points, joint),
    "latent.kmeans_energy": (latent_points, kmeans), "latent.sparse_coding_energy": (latent_points, sparse),
    "latent.vae_kl": (latent_points, vae_kl), "contrastive.pirl_h": (pirl_points, pirl_h),
}

_A = r"W_1 h_{t-1} + W_2 x_t"
_ADAM_M = r"(\beta_1 m_t + (1-\beta_1) g_t)"
_ADAM_V = r"(\beta_2 v_t + (1-\beta_2) g_t^2)"
_FOUR = (r"\operatorname{diag}(f_t) + \left(\operatorname{diag}(c_{t-1} \odot f_t \odot (1-f_t)) W_{fh} + "
         r"\operatorname{diag}(\tilde{c}_t \odot i_t \odot (1 - i_t)) W_{ih}%s\right) "
         r"\operatorname{diag}(o_{t-1} \odot (1 - \tanh^2(c_{t-1})))")
_GATE = r" + \operatorname{diag}(i_t \odot (1 - \tilde{c}_t^2)) W_{gh}"
_PIRL = r"\frac{\exp(%s/\tau)}{\exp(%s/\tau) + \sum_{I' \in D_N} \exp(s(v_{I^t}, v_{I'})/\tau)}"
_COS = r"\frac{v_I^\top v_{I^t}}{\lVert v_I \rVert \lVert v_{I^t} \rVert}"
_NLL = r"\frac{1}{N}\sum_{i=1}^N \left[F_w(x_i,y_i) %s \frac{1}{\beta}\log\int_y \exp(-\beta F_w(x_i,y))\,dy\right]"
_GRAD = r"\frac{1}{N}\sum_i \left[%s - %s\right]"


def _ds(p):
    return p["ds"](p["a"])


FORMS = [
    # rnn
    Form("rnn.state", r"\sigma(W_1 h_{t-1} + W_2 x_t)", rnn_state),
    Form("rnn.state", r"h_t = \sigma(\mathbf{W}_2 \mathbf{x}_t + \mathbf{W}_1 \mathbf{h}_{t-1})", rnn_state),
    # a_t, the contract's name for the pre-activation, is a definition of rnn.toml
    Form("rnn.state", r"\sigma(a_t)", lambda p: p["s"](p["a"])),
    Form("rnn.state", r"\sigma(W_1 h_{t-1}) + \sigma(W_2 x_t)",
         lambda p: p["s"](p["W1"] @ p["h"]) + p["s"](p["W2"] @ p["x"])),
    Form("rnn.state_jacobian", rf"\operatorname{{diag}}(\sigma'({_A})) W_1", lambda p: diag(_ds(p)) @ p["W1"]),
    Form("rnn.state_jacobian", r"\frac{\partial h_t}{\partial h_{t-1}} = \text{diag}(\sigma'(\mathbf{a}_t))\mathbf{W}_1",
         lambda p: diag(_ds(p)) @ p["W1"]),
    Form("rnn.state_jacobian", r"\mathrm{diag}\left(\sigma'(a_t)\right) \cdot W_1", lambda p: diag(_ds(p)) @ p["W1"]),
    Form("rnn.state_jacobian", r"W_1^\top \operatorname{diag}(\sigma'(a_t))", lambda p: p["W1"].T @ diag(_ds(p))),
    Form("rnn.state_jacobian", r"W_1 \operatorname{diag}(\sigma'(a_t))", lambda p: p["W1"] @ diag(_ds(p))),
    Form("rnn.state_jacobian", r"\operatorname{diag}(1 - \tanh^2(a_t)) W_1",
         lambda p: diag(1 - torch.tanh(p["a"]) ** 2) @ p["W1"]),
    Form("rnn.state_jacobian", r"\operatorname{diag}(\sigma(a_t)(1-\sigma(a_t))) W_1",
         lambda p: diag(p["s"](p["a"]) * (1 - p["s"](p["a"]))) @ p["W1"],
         note=r"read \sigma(a_t) (1-\sigma(a_t)) as \sigma(a_t) \odot (1-\sigma(a_t))"),
    Form("rnn.state_jacobian", r"\frac{\partial h_{t,i}}{\partial h_{t-1,j}} = \sigma'(a_{t,i}) (W_1)_{ij}",
         lambda p: diag(_ds(p)) @ p["W1"], refused="is the index form"),
    # lstm
    Form("lstm.cell_update", r"f_t \odot c_{t-1} + i_t \odot \tilde{c}_t", lambda p: p["f"] * p["c0"] + p["i"] * p["g"]),
    Form("lstm.cell_update", r"c_t = f_t \circ c_{t-1} + i_t \circ g_t", lambda p: p["f"] * p["c0"] + p["i"] * p["g"]),
    Form("lstm.cell_update", r"\boldsymbol{f}_t \odot \boldsymbol{c}_{t-1} + \boldsymbol{i}_t \odot \tilde{\boldsymbol{c}}_t",
         lambda p: p["f"] * p["c0"] + p["i"] * p["g"]),
    Form("lstm.cell_update", r"\sigma(W_{fh} h_{t-1} + W_{fx} x_t + b_f) \odot c_{t-1} + i_t \odot "
         r"\tanh(W_{gh} h_{t-1} + W_{gx} x_t + b_g)", lambda p: p["f"] * p["c0"] + p["i"] * p["g"]),
    Form("lstm.cell_update", r"f_t c_{t-1} + i_t g_t", lambda p: p["f"] * p["c0"] + p["i"] * p["g"],
         note=r"read f_t c_{t-1} as f_t \odot c_{t-1}"),
    Form("lstm.cell_update", r"f_t \odot c_{t-1} + o_t \odot \tilde{c}_t", lambda p: p["f"] * p["c0"] + p["o"] * p["g"]),
    Form("lstm.cell_update", r"f_t \odot c_{t-1} + i_t \odot \tanh(c_{t-1})",
         lambda p: p["f"] * p["c0"] + p["i"] * torch.tanh(p["c0"])),
    Form("lstm.hidden", r"o_t \odot \tanh(c_t)", lambda p: p["h"]),
    Form("lstm.hidden", r"\mathbf{h}_t = \mathbf{o}_t \odot \tanh(\mathbf{f}_t \odot \mathbf{c}_{t-1} + \mathbf{i}_t \odot \mathbf{g}_t)",
         lambda p: p["o"] * torch.tanh(p["f"] * p["c0"] + p["i"] * p["g"])),
    Form("lstm.hidden", r"\tanh(o_t \odot c_t)", lambda p: torch.tanh(p["o"] * p["c"])),
    Form("lstm.hidden", r"o_t \odot \sigma(c_t)", lambda p: p["o"] * torch.sigmoid(p["c"])),
    Form("lstm.cell_jacobian_direct", r"\operatorname{diag}(f_t)", lambda p: diag(p["f"])),
    Form("lstm.cell_jacobian_direct", r"\text{diag}(\mathbf{f}_t) I", lambda p: diag(p["f"])),
    Form("lstm.cell_jacobian_direct", r"\operatorname{diag}(i_t)", lambda p: diag(p["i"])),
    Form("lstm.cell_jacobian_direct", r"f_t", lambda p: p["f"]),
    Form("lstm.cell_jacobian", _FOUR % _GATE, lstm_four_terms),
    Form("lstm.cell_jacobian", r"\frac{\partial \mathbf{c}_t}{\partial \mathbf{c}_{t-1}} = " + _FOUR % _GATE,
         lstm_four_terms),
    Form("lstm.cell_jacobian", _FOUR % "", lambda p: lstm_four_terms(p, drop_gate=True)),
    Form("lstm.cell_jacobian", _FOUR % r" + \operatorname{diag}(i_t \odot \tilde{c}_t \odot (1 - \tilde{c}_t)) W_{gh}",
         lambda p: lstm_four_terms(p, sigma_for_tanh=True)),
    Form("lstm.cell_jacobian", r"\operatorname{diag}(f_t)", lambda p: diag(p["f"])),
    # optim
    Form("optim.heavy_ball", r"w_t - \gamma g_t + \beta(w_t - w_{t-1})", heavy_ball),
    Form("optim.heavy_ball", r"w_{t+1} = w_t - \eta \nabla f(w_t) + \beta (w_t - w_{t-1})", heavy_ball),
    Form("optim.heavy_ball", r"(1+\beta) w_t - \beta w_{t-1} - \gamma g_t", heavy_ball),
    Form("optim.heavy_ball", r"w_t - \gamma \nabla_w f(w_t) + \beta(w_t - w_{t-1})", heavy_ball),
    Form("optim.heavy_ball", r"w_t - \gamma g_t + \beta(w_{t-1} - w_t)",
         lambda p: p["w"] - p["gamma"] * p["g"] + p["beta"] * (p["w0"] - p["w"])),
    Form("optim.heavy_ball", r"w_t + \gamma g_t + \beta(w_t - w_{t-1})",
         lambda p: p["w"] + p["gamma"] * p["g"] + p["beta"] * (p["w"] - p["w0"])),
    Form("optim.adam", r"w_t - \gamma \frac{\hat m_{t+1}}{\sqrt{\hat v_{t+1}} + \epsilon}", adam),
    Form("optim.adam", rf"w_t - \gamma \frac{{{_ADAM_M}/(1-\beta_1^{{t+1}})}}{{\sqrt{{{_ADAM_V}/(1-\beta_2^{{t+1}})}} + \epsilon}}",
         adam),
    Form("optim.adam", r"w_t - \gamma \frac{(\beta m_t + (1-\beta) g_t)/(1-\beta^{t+1})}{\sqrt{(\alpha v_t + "
         r"(1-\alpha) g_t^2)/(1-\alpha^{t+1})}+\epsilon}", adam),
    Form("optim.adam", rf"w_t - \gamma \frac{{{_ADAM_M}}}{{\sqrt{{{_ADAM_V}}} + \epsilon}}",
         lambda p: p["w"] - p["gamma"] * (p["beta1"] * p["m"] + (1 - p["beta1"]) * p["g"]) / (
             torch.sqrt(p["beta2"] * p["v"] + (1 - p["beta2"]) * p["g"] ** 2) + p["eps"])),
    Form("optim.adam", rf"w_t - \gamma \frac{{{_ADAM_M}/(1-\beta_1^{{t}})}}{{\sqrt{{{_ADAM_V}/(1-\beta_2^{{t}})}} + \epsilon}}",
         lambda p: p["w"] - p["gamma"] * ((p["beta1"] * p["m"] + (1 - p["beta1"]) * p["g"]) / (1 - p["beta1"] ** p["t"])) / (
             torch.sqrt((p["beta2"] * p["v"] + (1 - p["beta2"]) * p["g"] ** 2) / (1 - p["beta2"] ** p["t"])) + p["eps"])),
    Form("optim.rmsprop", r"w_t - \gamma \frac{g_t}{\sqrt{\alpha v_t + (1-\alpha) g_t^2} + \epsilon}", rmsprop),
    Form("optim.rmsprop", r"w_{t+1} = w_t - \frac{\eta\, g_t}{\sqrt{v_{t+1}} + \epsilon}", rmsprop),
    Form("optim.rmsprop", r"w_t - \gamma \frac{g_t}{\sqrt{\alpha v_t + (1-\alpha) g_t^2 + \epsilon}}",
         lambda p: p["w"] - p["gamma"] * p["g"] / torch.sqrt(p["alpha"] * p["v"] + (1 - p["alpha"]) * p["g"] ** 2 + p["eps"])),
    Form("optim.rmsprop", r"w_t - \gamma \frac{g_t}{\alpha v_t + (1-\alpha) g_t^2 + \epsilon}",
         lambda p: p["w"] - p["gamma"] * p["g"] / (p["alpha"] * p["v"] + (1 - p["alpha"]) * p["g"] ** 2 + p["eps"])),
    Form("optim.sgd_momentum_torch", r"\theta_t = \begin{cases} \theta_{t-1} - \gamma g_t & t = 1 \\ \theta_{t-1} - "
         r"\gamma(\mu b_{t-1} + (1-\tau) g_t) & \text{otherwise} \end{cases}", sgd_momentum_torch),
    Form("optim.sgd_momentum_torch", r"\begin{cases} \theta_{t-1} - \gamma g_t, & \text{if } t = 1 \\ \theta_{t-1} - "
         r"\gamma(\mu b_{t-1} + (1-\tau) g_t), & t \geq 2 \end{cases}", sgd_momentum_torch),
    Form("optim.sgd_momentum_torch", r"\theta_{t-1} - \gamma(\mu b_{t-1} + (1-\tau) g_t)",
         lambda p: p["theta0"] - p["gamma"] * (p["mu"] * p["b0"] + (1 - p["tau"]) * p["g"])),
    Form("optim.sgd_momentum_torch", r"\begin{cases} \theta_{t-1} - \gamma g_t & t = 1 \\ \theta_{t-1} - "
         r"\gamma(\mu b_{t-1} + \tau g_t) & t > 1 \end{cases}",
         lambda p: p["theta0"] - p["gamma"] * (p["g"] if int(p["t"]) == 1 else p["mu"] * p["b0"] + p["tau"] * p["g"])),
    Form("optim.gd", r"\theta_k - \gamma \frac{1}{N}\sum_{i=1}^{N} \nabla \ell_i(\theta_k)", gd),
    Form("optim.gd", r"\theta_{k+1} = \theta_k - \frac{\gamma}{N}\sum_{i=1}^N \nabla_\theta \ell_i(\theta_k)", gd),
    Form("optim.gd", r"\theta_k - \gamma \sum_{i=1}^{N} \nabla \ell_i(\theta_k)",
         lambda p: p["theta0"] - p["gamma"] * p["grads"].sum(0)),
    Form("optim.gd", r"\theta_k - \gamma \nabla_\theta J", gd, refused=r"\nabla_\theta acts on a quantity"),
    # ebm
    Form("ebm.gibbs", r"\frac{\exp(-\beta F(x,y))}{\int_{y'} \exp(-\beta F(x,y'))\,dy'}", gibbs),
    Form("ebm.gibbs", r"P(y \mid x) = \frac{e^{-\beta F(x,y)}}{\sum_{y'} e^{-\beta F(x,y')}}", gibbs),
    Form("ebm.gibbs", r"\frac{\exp(-\beta F(x,y))}{\int_{\boldsymbol{y}} \exp(-\beta F(x,\boldsymbol{y}))}", gibbs),
    Form("ebm.gibbs", r"P_\beta(y \mid x)", gibbs),
    Form("ebm.gibbs", r"\frac{\exp(\beta F(x,y))}{\int_{y'} \exp(\beta F(x,y'))\,dy'}",
         lambda p: torch.exp(p["beta"] * p["F"](p["x"], p["y"])) / torch.exp(p["beta"] * p["F"](p["x"], p["grid"])).sum()),
    Form("ebm.gibbs", r"\frac{\exp(-\beta F(x,y))}{\int_{y'} \exp(-F(x,y'))\,dy'}",
         lambda p: torch.exp(-p["beta"] * p["F"](p["x"], p["y"])) / torch.exp(-p["F"](p["x"], p["grid"])).sum()),
    Form("ebm.gibbs", r"\exp(-\beta F(x,y))", lambda p: torch.exp(-p["beta"] * p["F"](p["x"], p["y"]))),
    Form("ebm.nll_loss", _NLL % "+", nll_loss),
    Form("ebm.nll_loss", r"\frac{1}{N}\sum_i \left(-\frac{1}{\beta}\log P_w(y_i \mid x_i)\right)", nll_loss),
    Form("ebm.nll_loss", r"-\frac{1}{N\beta}\sum_i \log P_w(y_i \mid x_i)", nll_loss),
    Form("ebm.nll_loss", r"\frac{1}{N}\sum_i -\frac{1}{\beta}\log P_w(y_i \mid x_i)", nll_loss),
    Form("ebm.nll_loss", r"\frac{1}{N}\sum_{i=1}^N \left[F_w(x^{(i)},y^{(i)}) + \frac{1}{\beta}\log\int_y "
         r"e^{-\beta F_w(x^{(i)},y)}\right]", nll_loss),
    Form("ebm.nll_loss", r"-\frac{1}{N}\sum_i \log P_w(y_i \mid x_i)", lambda p: nll_loss(p) * p["beta"]),
    Form("ebm.nll_loss", r"\frac{1}{N}\sum_{i=1}^N \left[F_w(x_i,y_i) + \frac{1}{\beta}\log\int_{y_i} "
         r"\exp(-\beta F_w(x_i,y_i))\,dy_i\right]", nll_loss),
    Form("ebm.nll_loss", r"\frac{1}{N}\sum_{i=1}^N \left[F_w(x_i,y_i) + \frac{1}{\beta}\log\int_{y_i} "
         r"\exp(-F_w(x_i,y_i))\,dy_i\right]", lambda p: torch.stack(
             [p["F"](x, y, p["w"]) + torch.logsumexp(-p["F"](x, p["grid"], p["w"]), 0) / p["beta"]
              for x, y in zip(p["xs"], p["ys"])]).mean()),
    Form("ebm.nll_loss", _NLL % "-", lambda p: torch.stack(
        [p["F"](x, y, p["w"]) - torch.logsumexp(-p["beta"] * p["F"](x, p["grid"], p["w"]), 0) / p["beta"]
         for x, y in zip(p["xs"], p["ys"])]).mean()),
    Form("ebm.nll_gradient", _GRAD % (r"\frac{\partial F_w(x_i,y_i)}{\partial w}",
                                      r"\mathbb{E}_{y \sim P_w(y \mid x_i)}\left[\frac{\partial F_w(x_i,y)}{\partial w}\right]"),
         gradient_by_parts),
    Form("ebm.nll_gradient", _GRAD % (r"\nabla_w F_w(x_i,y_i)", r"\int_y P_w(y \mid x_i) \nabla_w F_w(x_i,y)\, dy"),
         gradient_by_parts),
    Form("ebm.nll_gradient", _GRAD % (r"\nabla_{\mathbf{w}} F_w(x_i,y_i)", r"\mathbb{E}_{y \sim P}[\nabla_w F_w(x_i,y)]"),
         gradient_by_parts),
    Form("ebm.nll_gradient", _GRAD % (r"\nabla_w F_w(x_i,y_i)",
                                      r"\mathbb{E}_{y_i \sim P_w(y_i \mid x_i)}[\nabla_w F_w(x_i,y_i)]"),
         gradient_by_parts),
    Form("ebm.nll_gradient", r"\frac{1}{N}\sum_i \left[\nabla_w F_w(x_i,y_i) + \mathbb{E}_{y \sim P_w(y \mid x_i)}"
         r"[\nabla_w F_w(x_i,y)]\right]", lambda p: gradient_by_parts(p, sign=1.0)),
    Form("ebm.free_energy", r"-\frac{1}{\beta}\log \int_z \exp(-\beta E(x,y,z))\,dz", free_energy),
    Form("ebm.free_energy", r"F_\beta(x,y) = -\frac{1}{\beta}\log \sum_z e^{-\beta E(x,y,z)}", free_energy),
    Form("ebm.free_energy", r"\frac{1}{\beta}\log \int_z \exp(-\beta E(x,y,z))\,dz", lambda p: -free_energy(p)),
    Form("ebm.free_energy", r"-\log \int_z \exp(-\beta E(x,y,z))\,dz", lambda p: free_energy(p) * p["beta"]),
    Form("ebm.free_energy", r"\min_z E(x,y,z)", lambda p: p["E"](p["x"], p["y"], p["zgrid"]).min()),
    Form("ebm.inference", r"\operatorname{arg\,min}_y F(x,y)", inference),
    Form("ebm.inference", r"\hat y = \operatorname*{argmin}_y F(x,y)", inference),
    Form("ebm.inference", r"\arg\min_y F(x,y)", inference),
    Form("ebm.inference", r"\operatorname{argmax}_y F(x,y)", lambda p: p["grid"][torch.argmax(p["F"](p["x"], p["grid"]))]),
    Form("ebm.inference", r"\min_y F(x,y)", lambda p: p["F"](p["x"], p["grid"]).min()),
    Form("ebm.joint_gibbs", r"P(y, z \mid x)", joint),
    Form("ebm.joint_gibbs", r"\frac{\exp(-\beta E(x,y,z))}{\int_{y'}\int_{z'} \exp(-\beta E(x,y',z'))\,dy'\,dz'}", joint),
    Form("ebm.joint_gibbs", r"\frac{\exp(-\beta E(x,y,z))}{\int_{y'} \exp(-\beta E(x,y',z))\,dy'}",
         lambda p: joint(p, over_z=False)),
    # latent
    Form("latent.kmeans_energy", r"\lVert y - W z \rVert^2", kmeans),
    Form("latent.kmeans_energy", r"\|y - Wz\|^2", kmeans),
    Form("latent.kmeans_energy", r"\Vert \mathbf{y} - \mathbf{W}\mathbf{z} \Vert_2^2", kmeans),
    Form("latent.kmeans_energy", r"(y - W z)^\top (y - W z)", kmeans),
    Form("latent.kmeans_energy", r"\lVert y - W z \rVert", lambda p: kmeans(p).sqrt()),
    Form("latent.kmeans_energy", r"\lVert y + W z \rVert^2", lambda p: ((p["y"] + p["W"] @ p["z"]) ** 2).sum()),
    Form("latent.sparse_coding_energy", r"\lVert y - W z\rVert^2 + \lambda \lVert z \rVert_1", sparse),
    Form("latent.sparse_coding_energy", r"\|y - Wz\|_2^2 + \lambda \sum_j |z_j|", sparse),
    Form("latent.sparse_coding_energy", r"\lVert y - W z\rVert^2 + \lambda \lVert z \rVert^2",
         lambda p: ((p["y"] - p["W"] @ p["zs"]) ** 2).sum() + p["lam"] * (p["zs"] ** 2).sum()),
    Form("latent.sparse_coding_energy", r"\lVert y - W z\rVert^2 + \lambda \sum_j z_j",
         lambda p: ((p["y"] - p["W"] @ p["zs"]) ** 2).sum() + p["lam"] * p["zs"].sum()),
    Form("latent.vae_kl", r"\frac{1}{2}\sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2)", vae_kl),
    Form("latent.vae_kl", r"\frac12 \sum_{j=1}^{d}(\sigma_j^2 + \mu_j^2 - 1 - 2\log\sigma_j)", vae_kl),
    Form("latent.vae_kl", r"\frac{1}{2}\mathbf{1}^\top(\sigma^2 + \mu^2 - 1 - \log \sigma^2)", vae_kl),
    Form("latent.vae_kl", r"-\frac12\sum_j(1 + \log\sigma_j^2 - \mu_j^2 - \sigma_j^2)", vae_kl),
    Form("latent.vae_kl", r"\frac{1}{2}\sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j)",
         lambda p: 0.5 * (p["sigma"] ** 2 + p["mu"] ** 2 - 1 - torch.log(p["sigma"])).sum()),
    Form("latent.vae_kl", r"\sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2)", lambda p: 2 * vae_kl(p)),
    # contrastive
    Form("contrastive.pirl_h", _PIRL % (r"s(v_I, v_{I^t})", r"s(v_I, v_{I^t})"), pirl_h),
    Form("contrastive.pirl_h", _PIRL % (_COS, _COS), pirl_h),
    Form("contrastive.pirl_h", r"\frac{1}{1 + \sum_{I' \in D_N} \exp((s(v_{I^t}, v_{I'}) - s(v_I, v_{I^t}))/\tau)}", pirl_h),
    Form("contrastive.pirl_h", r"\frac{\exp(s(v_I, v_{I^t})/\tau)}{\sum_{I' \in D_N} \exp(s(v_{I^t}, v_{I'})/\tau)}",
         lambda p: pirl_h(p, positive=False)),
    Form("contrastive.pirl_h", r"\frac{\exp(s(v_I, v_{I^t}))}{\exp(s(v_I, v_{I^t})) + \sum_{I' \in D_N} "
         r"\exp(s(v_{I^t}, v_{I'}))}", lambda p: pirl_h(p, tau=False)),
]


def truth(form: Form, seed: int = 0) -> bool:
    """Whether the form equals its reference at every point of its topic, in torch float64."""
    points, reference = REFERENCES[form.against]
    g = torch.Generator().manual_seed(seed)
    for p in points(g):
        got, want = torch.as_tensor(form.torch(p)).detach(), torch.as_tensor(reference(p)).detach()
        if got.numel() != want.numel() or got.shape != want.shape and got.squeeze().shape != want.squeeze().shape:
            return False
        if not torch.allclose(got.reshape(want.shape), want, rtol=1e-9, atol=1e-12):
            return False
    return True
