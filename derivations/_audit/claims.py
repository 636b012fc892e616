"""The student's answers, each a Claim graded by its findings."""

from __future__ import annotations

from symdl.grade.rubric import Claim

from _audit.findings import agrees, computed, differs
from _audit.forms import FOUR, FOUR_DISPLAY, U
from _audit.q1_checks import (_additive_still_vanishes, _bptt_is_one_path, _bptt_not_the_gradient,
                              _bptt_sum_is_the_gradient, _dominating_term, _forget_path_only_with_h_fixed,
                              _forget_product_decays)
from _audit.q2_checks import (_batch_noise, _batch_of_k, _beta_above_one, _beta_range, _bias_correction_fades,
                              _bias_correction_unlike_rmsprop, _cost, _dampening, _negative_beta_is_not_gd,
                              _noise_early, _nonmono_reading, _rms_is_not_std, _sgd_faster, _step_size_beta)
from _audit.q3_checks import _marginal_last, _marginal_middle, _nce_minimised, _nll_gradient_first

# -- the student's answers: graded -----------------------------------------------------------------

_SEED_JACOBIAN = (r"\frac{\partial \boldsymbol{c}_t}{\partial \boldsymbol{c}_{t-1}} = \sigma'(\boldsymbol{W}"
                  r"[\boldsymbol{h}_{t-1}, \boldsymbol{x}_t]) \boldsymbol{W} \boldsymbol{o}_{t-1} \odot "
                  r"\tanh'(\boldsymbol{c}_{t-1}) \boldsymbol{c}_{t-1} \\ & \quad + \boldsymbol{f}_t + \sigma'(\cdot) "
                  r"\boldsymbol{W} \boldsymbol{o}_{t-1} \odot \tanh'(\boldsymbol{c}_{t-1}) \tilde{\boldsymbol{c}}_t "
                  r"+ \sigma'(\cdot) \boldsymbol{W} \boldsymbol{o}_{t-1} \odot \tanh'(\boldsymbol{c}_{t-1}) "
                  r"\boldsymbol{i}_t")
#: The seed's Jacobian read per gate: each term with its gate's own W and pre-activation, products of vectors as
#: diag(.) factors.  Its one departure from the reference: sigma' where the candidate's tanh' belongs.
SEED_JACOBIAN_READ = FOUR.replace(r"\tanh'(%s)" % U["g"], r"\sigma'(%s)" % U["g"])

CLAIMS: tuple[Claim, ...] = (
    Claim("1.credited", 1, "answer",
          "the term f_t * c_(t-1), with the don't-forget gate, is credited with solving the vanishing gradient problem",
          r"\frac{\partial c_t}{\partial c_{t-1}}\Big|_{h_{t-1}\ \mathrm{fixed}} = \operatorname{diag}(f_t), \qquad "
          r"\Big\|\prod_{k=t+1}^{\tau} \operatorname{diag}(f_k)\Big\|_2 \le \big(\max_{k,i} f_{k,i}\big)^{\tau - t}",
          findings=(computed("loose", "numeric", "diag(f_t) is the additive path, not the whole Jacobian",
                             _forget_path_only_with_h_fixed),
                    computed("loose", "numeric", "the additive path alone still decays", _forget_product_decays))),
    Claim("1.bptt", 1, "answer",
          "back-propagation through time: the gradient is the chain along the cell state, through the product of "
          "dc_k/dc_(k-1)",
          r"\frac{\partial \mathcal{L}_t}{\partial W} = \sum_{k=1}^{t} \frac{\partial \mathcal{L}_t}{\partial s_t} "
          r"\Big[\prod_{j=k+1}^{t} \frac{\partial s_j}{\partial s_{j-1}}\Big] \frac{\partial^{+} s_k}{\partial W}, "
          r"\quad s_k = (c_k, h_k)",
          seed=r"\frac{\partial \mathcal{L}_t}{\partial \boldsymbol{W}} = \frac{\partial \mathcal{L}_t}{\partial "
               r"\boldsymbol{h}_t} \frac{\partial \boldsymbol{h}_t}{\partial \boldsymbol{c}_t} \Big[\prod_{t=2} "
               r"\frac{\partial \boldsymbol{c}_t}{\partial \boldsymbol{c}_{t-1}}\Big] \frac{\partial \boldsymbol{c}_1}"
               r"{\partial \boldsymbol{W}}",
          repairs=r"'rac', 'oldsymbol', 'ight' read as \frac, \boldsymbol, \right (lost \f, \b, \r); the product read "
                  "over k = 2..t; W taken as W_fh, the loss as |h_t|^2/2",
          findings=(computed("loose", "oracle", "the seed's chain is one path of the gradient", _bptt_is_one_path),
                    computed("loose", "oracle", "the seed's chain is not the whole gradient", _bptt_not_the_gradient),
                    computed("context", "oracle", "the correct form: the sum over time", _bptt_sum_is_the_gradient))),
    Claim("1.additive", 1, "answer",
          "since the terms of the bracket are additive, the gradients will not explode or vanish",
          r"\Big\|\prod_{k=1}^{30} \frac{\partial c_k}{\partial c_{k-1}}\Big\|_2 \ll 1 \text{ is possible: a sum of "
          r"terms can still vanish (or explode)}",
          findings=(computed("fails", "numeric", "a product of four-term cell Jacobians vanishes",
                             _additive_still_vanishes),)),
    Claim("1.jacobian", 1, "answer", "the cell-state Jacobian, four additive terms",
          FOUR_DISPLAY, seed=_SEED_JACOBIAN,
          repairs=r"'anh', 'ilde', 'oldsymbol', 'ight)', 'rac' read as \tanh, \tilde, \boldsymbol, \right), \frac; "
                  "W[h_(t-1), x_t] read per gate, each term with its own gate's weights and pre-activation (W_fh with "
                  "c_(t-1), W_ih with the candidate, W_gh with i_t), the most charitable faithful reading; products "
                  "of vectors as diag(.) factors",
          findings=(differs(SEED_JACOBIAN_READ, "lstm.cell_jacobian", "the seed's Jacobian read per gate"),
                    agrees(FOUR, "lstm.cell_jacobian", what="the same with tanh' for sigma' on the candidate's term "
                                                            "(its only error)"))),
    Claim("1.dominate", 1, "answer",
          "if one of the four additive terms dominates, the LSTM back-propagates like a vanilla RNN and the "
          "gradient may still vanish or blow up",
          r"\prod_k \frac{\partial c_k}{\partial c_{k-1}} \approx \prod_k \operatorname{diag}(i_k \odot "
          r"\tanh'(u_{g,k})) W_{gh} D_{k-1} \quad \text{when it dominates}",
          findings=(computed("holds", "numeric", "a dominating term makes the product RNN-like", _dominating_term),)),
    Claim("2.gd", 2, "(a)", "the gradient-descent update",
          r"\theta_{k+1} = \theta_k - \gamma \frac{1}{N}\sum_{i=1}^{N} \nabla \ell_i(\theta_k)",
          seed=r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{N} \frac{\partial (\sum_i \ell(\hat{y}_\theta(x_i), "
               r"y_i))}{\partial \theta_k}",
          repairs=r"the derivative of the sum written as the sum of per-sample gradients \nabla \ell_i(\theta_k)",
          findings=(agrees(r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{N} \sum_{i=1}^{N} \nabla "
                           r"\ell_i(\theta_k)", "optim.gd"),)),
    Claim("2.sgd", 2, "(b)", "the SGD update on a mini-batch",
          r"\theta_{k+1} = \theta_k - \gamma \frac{1}{|B|}\sum_{j \in B} \nabla \ell_j(\theta_k)",
          seed=r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{|M_i|} \sum_{j \in M_i} \frac{\partial \ell_j(\hat{"
               r"\boldsymbol{y}}_{\theta}(x_j), y_j)}{\partial \theta_k}",
          repairs=r"the derivative of sample j's loss written \nabla \ell_j(\theta_k); M_i is the batch B",
          findings=(agrees(r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{|M_i|} \sum_{j \in M_i} \nabla "
                           r"\ell_j(\theta_k)", "optim.sgd"),)),
    Claim("2.batch", 2, "(c)", "smaller batches converge sooner and regularise",
          r"\operatorname{Var}\Big[\frac{1}{|B|}\sum_{j \in B} g_j\Big] = \frac{s^2}{|B|}\,\frac{N - |B|}{N - 1}",
          findings=(computed("loose", "numeric", "batch noise against batch size", _batch_noise),)),
    Claim("2.classes", 2, "(d)", "a batch of slightly more than or equal to K samples represents all K classes",
          r"P(\text{a uniform batch of } K \text{ has every class}) = \frac{K!}{K^K}; \quad "
          r"\text{stratified: } |B| \ge K \text{ suffices}",
          findings=(computed("loose", "numeric", "batch size K against the classes it holds", _batch_of_k),)),
    Claim("2.early", 2, "(e)", "early in training the SGD noise is small compared with the information in the gradient",
          r"\frac{\lVert \bar g \rVert}{\operatorname{rms}(g_i - \bar g)} \text{ is larger far from the optimum, "
          r"and below } 1 \text{ for one sample}",
          findings=(computed("loose", "numeric", "signal to noise of a sample gradient", _noise_early),)),
    Claim("2.faster", 2, "(f)", "SGD converges faster since it updates more often; GD may stop at a local optimum "
          "and assume it is global",
          r"\text{SGD: } N/|B| \text{ updates per epoch, GD: } 1; \text{ faster per epoch, not per update}",
          findings=(computed("loose", "numeric", "one epoch and one update of GD and SGD", _sgd_faster),)),
    Claim("2.heavy", 2, "(g)", "the stochastic heavy-ball update",
          r"w_{t+1} = w_t - \gamma g_t + \beta (w_t - w_{t-1})",
          seed=r"\boldsymbol{w}_{t+1} = \boldsymbol{w}_t - \gamma_t \nabla f_i(\boldsymbol{w}_t) + \beta_t "
               r"(\boldsymbol{w}_t - \boldsymbol{w}_{t-1})",
          repairs="the lost minus of (w_t w_{t-1}) restored",
          findings=(agrees(r"\boldsymbol{w}_{t+1} = \boldsymbol{w}_t - \gamma_t \nabla f_i(\boldsymbol{w}_t) + \beta_t "
                           r"(\boldsymbol{w}_t - \boldsymbol{w}_{t-1})", "optim.heavy_ball"),)),
    Claim("2.dampening", 2, "(g)", "beta_t is the dampening factor",
          r"\beta = \mu \text{ (PyTorch's momentum)}, \quad \tau = 0 \text{ (its dampening)}",
          findings=(computed("loose", "numeric", "the heavy ball is PyTorch's momentum with dampening 0", _dampening),)),
    Claim("2.range", 2, "(g)", "the appropriate range of beta_t is [0, 1)",
          r"\text{converges iff } |\beta| < 1,\; 0 < \gamma \lambda < 2(1 + \beta); \quad [0, 1) \text{ is the "
          r"range used in practice}",
          findings=(computed("loose", "numeric", "where the heavy ball converges on a quadratic", _beta_range),)),
    Claim("2.negative", 2, "(g)", "if beta_t < 0, the algorithm is simply standard gradient descent",
          r"\text{only } \beta = 0 \text{ gives } w_{t+1} = w_t - \gamma g_t",
          findings=(differs(r"w_t - \gamma_t \nabla f_i(w_t)", "optim.heavy_ball", "GD's update"),
                    computed("fails", "symbolic", "a negative beta is not GD", _negative_beta_is_not_gd))),
    Claim("2.above", 2, "(g)", "if beta_t > 1, the iteration blows up eventually",
          r"|r_1|\,|r_2| = \beta > 1 \;\Rightarrow\; \max_i |r_i| \ge \sqrt{\beta} > 1",
          findings=(computed("holds", "numeric", "beta > 1 puts a root outside the unit circle", _beta_above_one),)),
    Claim("2.rmsprop", 2, "(h)", "the RMSprop updates",
          r"w_{t+1} = w_t - \gamma \frac{g_t}{\sqrt{v_{t+1}} + \epsilon}, \quad v_{t+1} = \alpha v_t + (1 - \alpha) g_t^2",
          seed=r"v_{t+1} = \alpha v_t + (1 - \alpha) \nabla f_i(w_t)^2,\quad w_{t+1} = w_t - \gamma \frac{\nabla f_i(w_t)}"
               r"{\sqrt{v_{t+1}} + \epsilon}",
          repairs="both equations checked at once, v_{t+1} put into the update",
          findings=(agrees(r"w_t - \gamma \frac{\nabla f_i(w_t)}{\sqrt{\alpha v_t + (1 - \alpha) \nabla f_i(w_t)^2} + "
                           r"\epsilon}", "optim.rmsprop"),)),
    Claim("2.std", 2, "(h)", "if the gradient is small, dividing by sqrt(v) is dividing by the standard deviation",
          r"\sqrt{v} \approx \sqrt{\mathbb{E}[g^2]} = \sqrt{\operatorname{Var}[g] + \mathbb{E}[g]^2}",
          findings=(computed("loose", "numeric", "root mean square against standard deviation", _rms_is_not_std),)),
    Claim("2.adam", 2, "(h)", "the Adam update (the bias correction left out, as the seed says)",
          r"w_{t+1} = w_t - \gamma \frac{\hat{m}_{t+1}}{\sqrt{\hat{v}_{t+1}} + \epsilon}",
          seed=r"\boldsymbol{w}_{t+1} = \boldsymbol{w}_t - \gamma \frac{\boldsymbol{m}_t}{\sqrt{\boldsymbol{v}_{t+1}} + "
               r"\boldsymbol{\epsilon}}",
          repairs=r"the seed's \beta and \alpha are Adam's \beta_1 and \beta_2; the bias correction the seed says it "
                  "leaves out put back before checking, so that only what it wrote is graded",
          findings=(differs(r"w_t - \gamma \frac{m_t/(1 - \beta_1^{t+1})}{\sqrt{v_{t+1}/(1 - \beta_2^{t+1})} + \epsilon}",
                            "optim.adam", "the seed's update with the bias correction put back (m_t, not m_(t+1))"),)),
    Claim("2.adam_m", 2, "(h)", "Adam's first moment",
          r"m_{t+1} = \beta_1 m_t + (1 - \beta_1) g_t",
          seed=r"\boldsymbol{m}_{t+1} = \beta \boldsymbol{m}_t + (1 - \beta) \nabla f_i(\boldsymbol{w}_t)",
          repairs=r"checked inside the bias-corrected update \hat{m}_{t+1} = m_{t+1}/(1 - \beta^{t+1})",
          findings=(agrees(r"w_t - \gamma \frac{(\beta m_t + (1 - \beta) \nabla f_i(w_t))/(1 - \beta^{t+1})}{\sqrt{\hat v_{t+1}} "
                           r"+ \epsilon}", "optim.adam"),)),
    Claim("2.bias", 2, "(h)", "Adam has a bias correction (not shown), unlike RMSprop, hence Adam is preferred for "
          "problems with an oscillatory trajectory",
          r"\hat m_{t+1} = \frac{m_{t+1}}{1 - \beta_1^{t+1}} \to m_{t+1} \quad (t \to \infty)",
          findings=(computed("holds", "symbolic", "Adam's update has a bias correction, RMSprop's none",
                             _bias_correction_unlike_rmsprop),
                    computed("loose", "numeric", "the bias correction fades after the first steps",
                             _bias_correction_fades))),
    Claim("2.cost", 2, "(h)", "RMS Prop takes up more computational efficiency compared to Adam",
          r"\text{per step: RMSprop keeps } v;\ \text{Adam keeps } m, v \text{ and does more arithmetic}",
          findings=(computed("loose", "numeric", "state and arithmetic of one step of RMSprop and Adam", _cost),)),
    Claim("2.stepsize", 2, "(h)", "with Adam the step size need not change, since beta takes care of it",
          r"|w_1 - w_0| = \gamma \frac{|g_0|}{|g_0| + \epsilon} \approx \gamma \text{ for every } \beta_1",
          findings=(computed("loose", "numeric", "Adam's first step against beta", _step_size_beta),)),
    Claim("2.nonmono", 2, "(i)", "the condition checks whether the current loss exceeds the lowest loss so far",
          r"L_e > \min(L_1, \ldots, L_{e - NONMONO}) \text{ and } e > NONMONO",
          findings=(computed("fails", "numeric", "the seed's reading of the condition against the rule",
                             _nonmono_reading),)),
    Claim("3.infer", 3, "(a)", "inference by the lowest energy",
          r"\hat y = \operatorname{argmin}_y F(x, y)",
          seed=r"\hat{\mathbf{y}} = \operatorname{argmin}_{y} F(\mathbf{x}, \mathbf{y})",
          repairs=r"'argmin' read as \operatorname{argmin}",
          findings=(agrees(r"\hat{\mathbf{y}} = \operatorname{argmin}_{y} F(\mathbf{x}, \mathbf{y})", "ebm.inference"),)),
    Claim("3.gibbs", 3, "(b)", "the Gibbs-Boltzmann distribution",
          r"P(y \mid x) = \frac{\exp(-\beta F(x,y))}{\int_{y'} \exp(-\beta F(x,y'))\, dy'}",
          seed=r"\mathbb{P}(\boldsymbol{y} \mid \boldsymbol{x}) = \frac{\exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}))}"
               r"{\int_{\mathcal{U}} \exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}))}",
          repairs=r"the integral over \mathcal{U} without a differential read as over y, dy: the set, the differential "
                  "and a dummy variable distinct from the free y are missing",
          findings=(agrees(r"P(y \mid x) = \frac{\exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}))}{\int_{y} \exp(-\beta "
                           r"F(\boldsymbol{x}, \boldsymbol{y}))\, dy}", "ebm.gibbs", kind="loose",
                           what="the seed's form, read with a dummy y and dy"),)),
    Claim("3.joint", 3, "(c)", "the joint Gibbs distribution with a latent z",
          r"P(y, z \mid x) = \frac{\exp(-\beta E(x,y,z))}{\int_{y'}\int_{z'} \exp(-\beta E(x,y',z'))\, dz'\, dy'}",
          seed=r"\mathbb{P}(\boldsymbol{y}, \boldsymbol{z} \mid \boldsymbol{x}) = \frac{\exp(-\beta F(\boldsymbol{x}, "
               r"\boldsymbol{y}, \boldsymbol{z}))}{\int_{\boldsymbol{y}} \exp(-\beta F(\boldsymbol{x}, \boldsymbol{y}, "
               r"\boldsymbol{z}))}",
          repairs="the energy with a latent read as E (the seed's F(x, y, z)); dummy y' and dy' added",
          findings=(differs(r"\frac{\exp(-\beta E(x,y,z))}{\int_{y'} \exp(-\beta E(x,y',z))\, dy'}",
                            "ebm.joint_gibbs"),)),
    Claim("3.marginal", 3, "(c)", "the marginal over z",
          r"P(y \mid x) = \frac{\int_{z} \exp(-\beta E(x,y,z))\, dz}{\int_{y'}\int_{z} \exp(-\beta E(x,y',z))\, dz\, "
          r"dy'}",
          seed=r"\mathbb{P}(\boldsymbol{y} \mid \boldsymbol{x}) = \frac{\int_{\boldsymbol{y}} \exp(-\beta E(\boldsymbol{x}, "
               r"\boldsymbol{y}, \boldsymbol{z}))}{\int_{\boldsymbol{y}} \int_{\boldsymbol{z}} \exp(-\beta E(\boldsymbol{x}, "
               r"\boldsymbol{y}, \boldsymbol{z}))}",
          findings=(computed("fails", "numeric", "the seed's marginal is not a distribution over y", _marginal_middle),)),
    Claim("3.freegibbs", 3, "(c)", "the marginal as a Gibbs distribution of the free energy",
          r"P(y \mid x) = \frac{\exp(-\beta F_\beta(x,y))}{\int_{y'} \exp(-\beta F_\beta(x,y'))\, dy'}",
          seed=r"\mathbb{P}(\boldsymbol{y} \mid \boldsymbol{x}) = \frac{\exp(-\beta F_{\beta}(\boldsymbol{x}, \boldsymbol{y}))}"
               r"{\int_{\boldsymbol{y}} \exp(-\beta F_{\beta}(\boldsymbol{x}, \boldsymbol{y}))}",
          findings=(computed("holds", "numeric", "the Gibbs form of F_beta is the marginal", _marginal_last),)),
    Claim("3.free", 3, "(c)", "the free energy",
          r"F_\beta(x,y) = -\frac{1}{\beta}\log \int_z \exp(-\beta E(x,y,z))\, dz",
          seed=r"F_{\beta}(\boldsymbol{x}, y) = -\frac{1}{\beta} \log \int_{\boldsymbol{z}} \exp(-\beta E(\boldsymbol{x}, "
               r"\boldsymbol{y}, \boldsymbol{z}))",
          repairs="dz added",
          findings=(agrees(r"F_{\beta}(\boldsymbol{x}, y) = -\frac{1}{\beta} \log \int_{\boldsymbol{z}} \exp(-\beta "
                           r"E(\boldsymbol{x}, \boldsymbol{y}, \boldsymbol{z}))\, dz", "ebm.free_energy"),)),
    Claim("3.nll", 3, "(d)", "the negative log-likelihood loss",
          r"\mathcal{L}(w) = \frac{1}{N}\sum_{i=1}^{N} \Big[F_w(x_i,y_i) + \frac{1}{\beta}\log\int_y \exp(-\beta "
          r"F_w(x_i,y))\, dy\Big]",
          seed=r"\mathcal{L}(\boldsymbol{w}) = \frac{1}{N} \sum_{i}^{N} \Big[F_{\boldsymbol{w}}(\boldsymbol{x}^{(i)}, "
               r"\boldsymbol{y}^{(i)}) + \frac{1}{\beta} \log \int_{y} \exp(-\beta F_{\boldsymbol{w}}(\boldsymbol{x}^{(i)}, "
               r"y)) \Big]",
          repairs="x^(i), y^(i) written x_i, y_i; dy added",
          findings=(agrees(r"\mathcal{L}(w) = \frac{1}{N} \sum_{i=1}^{N} \left[F_{\boldsymbol{w}}(x_i, y_i) + \frac{1}"
                           r"{\beta} \log \int_{y} \exp(-\beta F_{\boldsymbol{w}}(x_i, y))\, dy \right]", "ebm.nll_loss"),)),
    Claim("3.grad1", 3, "(d)", "the gradient of the loss",
          r"\frac{\partial \mathcal{L}}{\partial w} = \frac{1}{N}\sum_{i=1}^{N} \Big[\frac{\partial F_w(x_i,y_i)}"
          r"{\partial w} - \int_y P_w(y \mid x_i) \frac{\partial F_w(x_i,y)}{\partial w}\, dy\Big]",
          seed=r"\frac{\partial \mathcal{L}(\boldsymbol{w})}{\partial \boldsymbol{w}} = \frac{\partial F_{\boldsymbol{w}}"
               r"(\boldsymbol{x}^{(i)}, \boldsymbol{y}^i)}{\partial \boldsymbol{w}} - \int_{\boldsymbol{y}} \frac{\partial "
               r"F_{\boldsymbol{w}}(\boldsymbol{x}^{(i)}, \boldsymbol{y})}{\partial \boldsymbol{w}} \mathbb{P}"
               r"(\boldsymbol{y}^{(i)} \mid \boldsymbol{x}^{(i)})",
          repairs="x^(i), y^(i) written x_i, y_i; P written out as the Gibbs distribution of F_w",
          findings=(computed("loose", "numeric", "wrong as written, right with P(y | x_i) and the mean over i",
                             _nll_gradient_first),)),
    Claim("3.grad2", 3, "(d)", "the gradient, second line",
          r"\frac{\partial \mathcal{L}}{\partial w} = \frac{1}{N}\sum_{i=1}^{N} \Big[\frac{\partial F_w(x_i,y_i)}"
          r"{\partial w} - \int_y P_w(y \mid x_i) \frac{\partial F_w(x_i,y)}{\partial w}\, dy\Big]",
          seed=r"\frac{\partial \mathcal{L}(\boldsymbol{w})}{\partial \boldsymbol{w}} = F_{\boldsymbol{w}}"
               r"(\boldsymbol{x}^{(i)}, \boldsymbol{y}^{(i)}) + F_{\beta, \boldsymbol{w}}(\boldsymbol{x}^{(i)}, y)",
          repairs="F_{beta,w}(x_i, y) read as the free energy of F_w over y, (1/N) sum_i added",
          findings=(differs(r"\frac{1}{N}\sum_{i=1}^{N} \left[F_w(x_i,y_i) - \frac{1}{\beta}\log\int_y \exp(-\beta "
                            r"F_w(x_i,y))\, dy\right]", "ebm.nll_gradient"),)),
    Claim("3.h", 3, "(e)", "PIRL's h",
          r"h(v_I, v_{I^t}) = \frac{\exp(s(v_I, v_{I^t})/\tau)}{\exp(s(v_I, v_{I^t})/\tau) + \sum_{I' \in D_N} "
          r"\exp(s(v_{I^t}, v_{I'})/\tau)}",
          seed=r"h(\boldsymbol{v_I}, \boldsymbol{v_{I^t}}) = \frac{\exp(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}"
               r"{\tau})}{\exp(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}{\tau}) + \sum_{I' \in D_N} "
               r"\exp(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I'}})}{\tau})}",
          findings=(differs(r"h(\boldsymbol{v_I}, \boldsymbol{v_{I^t}}) = \frac{\exp{(\frac{s(\boldsymbol{v_I}, "
                            r"\boldsymbol{v_{I^t}})}{\tau})}}{\exp{(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}"
                            r"{\tau})} + \sum_{I' \in D_N} \exp{(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I'}})}{\tau})}}",
                            "contrastive.pirl_h"),)),
    Claim("3.nce", 3, "(e)", "the NCE loss",
          r"L_{NCE}(I, I^t) = -\log h(f(v_I), g(v_{I^t})) - \sum_{I' \in D_N} \log(1 - h(g(v_{I^t}), f(v_{I'})))",
          seed=r"L_{NCE}(\boldsymbol{I}, \boldsymbol{I^t}) = -\log[h(f(\boldsymbol{v_I}), g(\boldsymbol{v_{I^t}}))] - "
               r"\sum_{I' \in D_N} \log[1 - h(g(\boldsymbol{v_{I^t}}), f(\boldsymbol{v_{I'}}))]",
          repairs=r"an unbalanced \left[ closed",
          findings=(agrees(r"L_{NCE}(\boldsymbol{I}, \boldsymbol{I^t}) = -\log\left[h(f(\boldsymbol{v_I}), "
                           r"g(\boldsymbol{v_{I^t}}))\right] - \sum_{\boldsymbol{I'} \in D_N} \log\left[1 - "
                           r"h(g(\boldsymbol{v_{I^t}}), f(\boldsymbol{v_{I'}}))\right]", "contrastive.nce_loss"),)),
    Claim("3.maximise", 3, "(e)", "NCE's objective function tries to maximise the cost function",
          r"L_{NCE} \text{ is minimised}",
          findings=(computed("loose", "symbolic", "L_NCE is minimised: the signs of its gradient", _nce_minimised),)),
    Claim("3.kmeans", 3, "(f)", "the K-means energy",
          r"E(y, z) = \lVert y - W z \rVert^2,\; F(y) = \min_z E(y, z)",
          seed=r"F(\boldsymbol{x}, \boldsymbol{y}) = ||\boldsymbol{y} - \boldsymbol{W}\boldsymbol{z}||^2",
          repairs="the lost minus of ||y Wz|| restored; it is the energy E(y, z) of the latent-variable model, not "
                  "F(x, y): F(y) = min_z E(y, z)",
          findings=(agrees(r"||\boldsymbol{y} - \boldsymbol{W}\boldsymbol{z}||^2", "latent.kmeans_energy", kind="loose",
                           what="the seed's right-hand side, which is E(y, z) under the name F(x, y)"),)),
    Claim("3.sparse", 3, "(f)", "the sparse-coding energy",
          r"E(y, z) = \lVert y - W z \rVert^2 + \lambda \lVert z \rVert_1",
          seed=r"F(\boldsymbol{x}, \boldsymbol{y}) = ||y - Wz||^2 + \lambda ||z||_{L1}",
          repairs="the lost minus of ||y Wz|| restored; it is the energy E(y, z), not F(x, y); F(y) = min_z E(y, z)",
          findings=(agrees(r"||y - Wz||^2 + \lambda ||z||_{L1}", "latent.sparse_coding_energy", kind="loose",
                           what="the seed's right-hand side, which is E(y, z) under the name F(x, y)"),)),
    Claim("3.vae", 3, "(f)", "the VAE loss: reconstruction error plus beta times a KL term",
          r"\lVert y - \hat y \rVert^2 + \frac{\beta}{2} \sum_j (\sigma_j^2 + \mu_j^2 - 1 - \log \sigma_j^2)",
          seed=r"l(\boldsymbol{x}, \hat{\boldsymbol{x}}) = l_{reconstruction} + \beta l_{KL}(\boldsymbol{z}, N(0, I_d))",
          not_graded="the seed names the two terms without writing either; any form to check would be the "
                     "transcriber's own construction of latent.vae_loss, so a check could only confirm itself"),
)
