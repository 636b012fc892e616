"""The seed's answers to question 3 (energy-based models), claim by claim, each graded by its findings."""

from __future__ import annotations

from functools import partial

from symdl.grade.rubric import Claim

from _audit.findings import agrees, computed, differs
from _audit.q3_checks import (_h_is_a_score, _marginal_last, _marginal_middle, _nce_not_maximised,
                              _nll_gradient_first, _no_deterministic_free_energy)
from _audit.q3_latent import (_kl_of_a_point, _no_kl_collapses, _no_kl_scale_free, _piecewise_linear,
                              _vae_terms)

_AB = (
    Claim("3.infer", 3, "(a)", "inference by the lowest energy",
          r"\hat y = \operatorname{argmin}_y F(x, y)",
          seed=r"\hat{\mathbf{y}} = \operatorname{argmin}_{y} F(\mathbf{x}, \mathbf{y})",
          repairs=r"'argmin' read as \operatorname{argmin}",
          findings=(agrees(r"\hat{\mathbf{y}} = \operatorname{argmin}_{y} F(\mathbf{x}, \mathbf{y})", "ebm.inference"),)),
    Claim("3.gibbs", 3, "(b)", "the Gibbs-Boltzmann distribution",
          r"P(y \mid x) = \frac{\exp(-\beta F(x,y))}{\int_{y'} \exp(-\beta F(x,y'))\, dy'}",
          seed=r"\mathbb{P}(\boldsymbol{y} \mid \boldsymbol{x}) = \frac{\exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}))}"
               r"{\int_{\mathcal{U}} \exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}))}",
          repairs=r"the integral over $\mathcal{U}$ without a differential read as over $y$, with $dy$: the set, the "
                  r"differential and a dummy variable distinct from the free $y$ are missing",
          findings=(agrees(r"P(y \mid x) = \frac{\exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}))}{\int_{y} \exp(-\beta "
                           r"F(\boldsymbol{x}, \boldsymbol{y}))\, dy}", "ebm.gibbs", kind="loose",
                           what="its form read with a dummy $y$ and $dy$"),)),
)

_C = (
    Claim("3.joint", 3, "(c)", "the joint Gibbs distribution with a latent variable",
          r"P(y, z \mid x) = \frac{\exp(-\beta E(x,y,z))}{\int_{y'}\int_{z'} \exp(-\beta E(x,y',z'))\, dz'\, dy'}",
          seed=r"\mathbb{P}(\boldsymbol{y}, \boldsymbol{z} \mid \boldsymbol{x}) = \frac{\exp(-\beta F(\boldsymbol{x}, "
               r"\boldsymbol{y}, \boldsymbol{z}))}{\int_{\boldsymbol{y}} \exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}, "
               r"\boldsymbol{z}))}",
          repairs=r"the energy with a latent read as $E$ (the seed's $F(x, y, z)$); a dummy $y'$ and $dy'$ added",
          findings=(differs(r"\frac{\exp(-\beta E(x,y,z))}{\int_{y'} \exp(-\beta E(x,y',z))\, dy'}",
                            "ebm.joint_gibbs"),)),
    Claim("3.marginal", 3, "(c)", "the marginal distribution over the latent variable",
          r"P(y \mid x) = \frac{\int_{z} \exp(-\beta E(x,y,z))\, dz}{\int_{y'}\int_{z} \exp(-\beta E(x,y',z))\, dz\, "
          r"dy'}",
          seed=r"\mathbb{P}(\boldsymbol{y} \mid \boldsymbol{x}) = \frac{\int_{\boldsymbol{y}} \exp(-\beta E(\boldsymbol{x}, "
               r"\boldsymbol{y}, \boldsymbol{z}))}{\int_{\boldsymbol{y}} \int_{\boldsymbol{z}} \exp(-\beta E(\boldsymbol{x}, "
               r"\boldsymbol{y}, \boldsymbol{z}))}",
          findings=(computed("fails", "numeric", "the seed's marginal is not a distribution over $y$", _marginal_middle),)),
    Claim("3.freegibbs", 3, "(c)", "the marginal as a Gibbs distribution of the free energy",
          r"P(y \mid x) = \frac{\exp(-\beta F_\beta(x,y))}{\int_{y'} \exp(-\beta F_\beta(x,y'))\, dy'}",
          seed=r"\mathbb{P}(\boldsymbol{y} \mid \boldsymbol{x}) = \frac{\exp(-\beta F_{\beta}(\boldsymbol{x}, \boldsymbol{y}))}"
               r"{\int_{\boldsymbol{y}} \exp(-\beta F_{\beta}(\boldsymbol{x}, \boldsymbol{y}))}",
          findings=(computed("holds", "numeric", "the Gibbs form of the free energy is the marginal", _marginal_last),)),
    Claim("3.free", 3, "(c)", "the free energy",
          r"F_\beta(x,y) = -\frac{1}{\beta}\log \int_z \exp(-\beta E(x,y,z))\, dz",
          seed=r"F_{\beta}(\boldsymbol{x}, y) = -\frac{1}{\beta} \log \int_{\boldsymbol{z}} \exp(-\beta E(\boldsymbol{x}, "
               r"\boldsymbol{y}, \boldsymbol{z}))",
          repairs=r"$dz$ added",
          findings=(agrees(r"F_{\beta}(\boldsymbol{x}, y) = -\frac{1}{\beta} \log \int_{\boldsymbol{z}} \exp(-\beta "
                           r"E(\boldsymbol{x}, \boldsymbol{y}, \boldsymbol{z}))\, dz", "ebm.free_energy"),)),
)

_DETERMINISTIC = (
    Claim("3.determin", 3, "(c)", "the deterministic free energy, which (c) asks for beside the probabilistic one: "
          "not given",
          r"F_\infty(x, y) = \min_z E(x, y, z) = \lim_{\beta \to \infty} F_\beta(x, y)",
          findings=(computed("fails", "numeric", "the seed's answer to (c) against the zero-temperature limit of "
                                                 "its free energy (ebm.zero_temperature, ebm.free_energy)",
                             partial(_no_deterministic_free_energy, tuple(c.seed for c in _C))),)),
)

_DE = (
    Claim("3.nll", 3, "(d)", "the negative log-likelihood loss",
          r"\mathcal{L}(w) = \frac{1}{N}\sum_{i=1}^{N} \Big[F_w(x_i,y_i) + \frac{1}{\beta}\log\int_y \exp(-\beta "
          r"F_w(x_i,y))\, dy\Big]",
          seed=r"\mathcal{L}(\boldsymbol{w}) = \frac{1}{N} \sum_{i}^{N} \Big[F_{\boldsymbol{w}}(\boldsymbol{x}^{(i)}, "
               r"\boldsymbol{y}^{(i)}) + \frac{1}{\beta} \log \int_{y} \exp(-\beta F_{\boldsymbol{w}}(\boldsymbol{x}^{(i)}, "
               r"y)) \Big]",
          repairs=r"$x^{(i)}, y^{(i)}$ written $x_i, y_i$; $dy$ added",
          findings=(agrees(r"\mathcal{L}(w) = \frac{1}{N} \sum_{i=1}^{N} \left[F_{\boldsymbol{w}}(x_i, y_i) + \frac{1}"
                           r"{\beta} \log \int_{y} \exp(-\beta F_{\boldsymbol{w}}(x_i, y))\, dy \right]", "ebm.nll_loss"),)),
    Claim("3.grad1", 3, "(d)", "the gradient of the loss",
          r"\frac{\partial \mathcal{L}}{\partial w} = \frac{1}{N}\sum_{i=1}^{N} \Big[\frac{\partial F_w(x_i,y_i)}"
          r"{\partial w} - \int_y P_w(y \mid x_i) \frac{\partial F_w(x_i,y)}{\partial w}\, dy\Big]",
          seed=r"\frac{\partial \mathcal{L}(\boldsymbol{w})}{\partial \boldsymbol{w}} = \frac{\partial F_{\boldsymbol{w}}"
               r"(\boldsymbol{x}^{(i)}, \boldsymbol{y}^i)}{\partial \boldsymbol{w}} - \int_{\boldsymbol{y}} \frac{\partial "
               r"F_{\boldsymbol{w}}(\boldsymbol{x}^{(i)}, \boldsymbol{y})}{\partial \boldsymbol{w}} \mathbb{P}"
               r"(\boldsymbol{y}^{(i)} \mid \boldsymbol{x}^{(i)})",
          repairs=r"$x^{(i)}, y^{(i)}$ written $x_i, y_i$; $P$ written out as the Gibbs distribution of $F_w$",
          findings=(computed("loose", "numeric", r"wrong as written, right with $P(y \mid x_i)$ and the mean over $i$",
                             _nll_gradient_first),)),
    Claim("3.grad2", 3, "(d)", "the gradient, second line",
          r"\frac{\partial \mathcal{L}}{\partial w} = \frac{1}{N}\sum_{i=1}^{N} \Big[\frac{\partial F_w(x_i,y_i)}"
          r"{\partial w} - \int_y P_w(y \mid x_i) \frac{\partial F_w(x_i,y)}{\partial w}\, dy\Big]",
          seed=r"\frac{\partial \mathcal{L}(\boldsymbol{w})}{\partial \boldsymbol{w}} = F_{\boldsymbol{w}}"
               r"(\boldsymbol{x}^{(i)}, \boldsymbol{y}^{(i)}) + F_{\beta, \boldsymbol{w}}(\boldsymbol{x}^{(i)}, y)",
          repairs=r"$F_{\beta, w}(x_i, y)$ read as the free energy of $F_w$ over $y$, $\frac{1}{N} \sum_i$ added",
          findings=(differs(r"\frac{1}{N}\sum_{i=1}^{N} \left[F_w(x_i,y_i) - \frac{1}{\beta}\log\int_y \exp(-\beta "
                            r"F_w(x_i,y))\, dy\right]", "ebm.nll_gradient"),)),
    Claim("3.h", 3, "(e)", "PIRL's score h of the positive pair against the negatives",
          r"h(v_I, v_{I^t}) = \frac{\exp(s(v_I, v_{I^t})/\tau)}{\exp(s(v_I, v_{I^t})/\tau) + \sum_{I' \in D_N} "
          r"\exp(s(v_{I^t}, v_{I'})/\tau)}",
          seed=r"h(\boldsymbol{v_I}, \boldsymbol{v_{I^t}}) = \frac{\exp(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}"
               r"{\tau})}{\exp(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}{\tau}) + \sum_{I' \in D_N} "
               r"\exp(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I'}})}{\tau})}",
          findings=(computed("loose", "numeric", "the seed's h as a softmax-contrastive score, and against "
                                                 "PIRL's (contrastive.pirl_h)", _h_is_a_score),
                    differs(r"h(\boldsymbol{v_I}, \boldsymbol{v_{I^t}}) = \frac{\exp{(\frac{s(\boldsymbol{v_I}, "
                            r"\boldsymbol{v_{I^t}})}{\tau})}}{\exp{(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}"
                            r"{\tau})} + \sum_{I' \in D_N} \exp{(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I'}})}{\tau})}}",
                            "contrastive.pirl_h", kind="loose"))),
    Claim("3.nce", 3, "(e)", "the NCE loss",
          r"L_{\mathrm{NCE}}(I, I^t) = -\log h(f(v_I), g(v_{I^t})) - \sum_{I' \in D_N} \log(1 - h(g(v_{I^t}), f(v_{I'})))",
          seed=r"L_{NCE}(\boldsymbol{I}, \boldsymbol{I^t}) = -\log[h(f(\boldsymbol{v_I}), g(\boldsymbol{v_{I^t}}))] - "
               r"\sum_{I' \in D_N} \log[1 - h(g(\boldsymbol{v_{I^t}}), f(\boldsymbol{v_{I'}}))]",
          repairs=r"an unbalanced \left[ closed",
          findings=(agrees(r"L_{NCE}(\boldsymbol{I}, \boldsymbol{I^t}) = -\log\left[h(f(\boldsymbol{v_I}), "
                           r"g(\boldsymbol{v_{I^t}}))\right] - \sum_{\boldsymbol{I'} \in D_N} \log\left[1 - "
                           r"h(g(\boldsymbol{v_{I^t}}), f(\boldsymbol{v_{I'}}))\right]", "contrastive.nce_loss"),)),
    Claim("3.maximise", 3, "(e)", "NCE's objective function tries to maximise the cost function",
          r"L_{\mathrm{NCE}} \text{ is minimised}",
          findings=(computed("fails", "symbolic", "what maximising the NCE loss would do: the signs of its gradient "
                                                  "(symdl.models.contrastive)", _nce_not_maximised),)),
)

_F = (
    Claim("3.kmeans", 3, "(f)", "the K-means energy",
          r"E(y, z) = \lVert y - W z \rVert^2,\; F(y) = \min_z E(y, z)",
          seed=r"F(\boldsymbol{x}, \boldsymbol{y}) = ||\boldsymbol{y} - \boldsymbol{W}\boldsymbol{z}||^2",
          repairs=r"the lost minus of $\lVert y \; W z \rVert$ restored; it is the energy $E(y, z)$ of the "
                  r"latent-variable model, not $F(x, y)$: $F(y) = \min_z E(y, z)$",
          findings=(agrees(r"||\boldsymbol{y} - \boldsymbol{W}\boldsymbol{z}||^2", "latent.kmeans_energy", kind="loose",
                           what="its right-hand side, the energy $E(y, z)$ under the name $F(x, y)$"),)),
    Claim("3.sparse", 3, "(f)", "the sparse-coding energy",
          r"E(y, z) = \lVert y - W z \rVert^2 + \lambda \lVert z \rVert_1",
          seed=r"F(\boldsymbol{x}, \boldsymbol{y}) = ||y - Wz||^2 + \lambda ||z||_{L1}",
          repairs=r"the lost minus of $\lVert y \; W z \rVert$ restored; it is the energy $E(y, z)$, not $F(x, y)$; "
                  r"$F(y) = \min_z E(y, z)$",
          findings=(agrees(r"||y - Wz||^2 + \lambda ||z||_{L1}", "latent.sparse_coding_energy", kind="loose",
                           what="its right-hand side, the energy $E(y, z)$ under the name $F(x, y)$"),)),
    Claim("3.piecewise", 3, "(f)", "sparse coding approximates the data with a piecewise linear function",
          r"y \mapsto W z^*(y), \quad z^*(y) = \operatorname{argmin}_z \lVert y - W z \rVert^2 + \lambda \lVert z "
          r"\rVert_1 \text{ is piecewise linear}",
          findings=(computed("holds", "numeric", "the sparse code's reconstruction along a line, by soft "
                                                 "thresholding", _piecewise_linear),)),
    Claim("3.vae", 3, "(f)", "the VAE loss: the reconstruction error plus a multiple of a divergence of the code from "
          "a standard Gaussian",
          r"\mathbb{E}_{z \sim q(z \mid y)} \lVert y - \mathrm{Dec}(z) \rVert^2 + \beta\, "
          r"\mathrm{KL}\big(q(z \mid y) \,\Vert\, \mathcal{N}(0, I)\big)",
          seed=r"l(\boldsymbol{x}, \hat{\boldsymbol{x}}) = l_{\mathrm{reconstruction}} + \beta\, "
               r"l_{\mathrm{KL}}(\boldsymbol{z}, N(0, I_d))",
          repairs=r"$l_{\mathrm{reconstruction}}$ read as the squared error and $l_{\mathrm{KL}}(z, \mathcal{N}(0, "
                  r"I_d))$ as the divergence of the encoder's Gaussian from the prior; the seed writes neither out",
          findings=(computed("loose", "numeric", "a divergence of the code itself, as the spread shrinks "
                                                 "(latent.vae_kl)", _kl_of_a_point),
                    computed("loose", "oracle", "the seed's two terms against the VAE loss and PyTorch (latent.vae_loss)",
                             _vae_terms))),
    Claim("3.nokl", 3, "(f)", "without the divergence the VAE resembles an autoencoder, which leads to overfitting "
          "and loses its generative properties",
          r"\beta = 0: \ \sigma \to 0, \text{ and the codes' scale is free}",
          findings=(computed("holds", "numeric", "the expected reconstruction error against the spread, without the "
                                                 "divergence", _no_kl_collapses),
                    computed("loose", "numeric", "the loss with the codes rescaled, with and without the divergence "
                                                 "(latent.vae_kl)", _no_kl_scale_free))),
)

Q3: tuple[Claim, ...] = _AB + _C + _DETERMINISTIC + _DE + _F
