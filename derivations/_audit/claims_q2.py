"""The seed's answers to question 2 (optimisation), claim by claim, each graded by its findings.

Where the seed's sentence holds parts that deserve different grades, each part is a claim of its own: the batch
size against its reason (d), the three parts of (e), the when and the what of the NONMONO rule.
"""

from __future__ import annotations

from symdl.grade.rubric import Claim

from _audit.findings import agrees, computed, differs
from _audit.q2_adaptive import (_adam_without_momentum, _bias_correction_lasts, _bias_correction_unlike_rmsprop,
                                _cost, _eps, _first_moment_is_momentum, _generalisation, _rms_is_not_std,
                                _sparse_refused, _step_size_beta, _torch_state)
from _audit.q2_momentum import (_beta_above_one, _beta_range, _dampening, _negative_beta_is_not_gd, _usual_betas)
from _audit.q2_nonmono import (_decay_divides, _direction_kept, _lowest_in_own_reading, _nonmono_reading,
                               _not_lowest)
from _audit.q2_sgd import (_batch_noise, _batch_of_k, _classes_rule, _decaying_converges, _noise_ball, _noise_early,
                           _noise_not_accumulated, _not_comparable, _sgd_faster)

_BATCHES = (
    Claim("2.gd", 2, "(a)", "the gradient-descent update",
          r"\theta_{k+1} = \theta_k - \gamma \frac{1}{N}\sum_{i=1}^{N} \nabla \ell_i(\theta_k)",
          seed=r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{N} \frac{\partial (\sum_i \ell(\hat{y}_\theta(x_i), "
               r"y_i))}{\partial \theta_k}",
          repairs=r"the derivative of the sum written as the sum of per-sample gradients $\nabla \ell_i(\theta_k)$",
          findings=(agrees(r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{N} \sum_{i=1}^{N} \nabla "
                           r"\ell_i(\theta_k)", "optim.gd"),)),
    Claim("2.sgd", 2, "(b)", "the SGD update on a mini-batch",
          r"\theta_{k+1} = \theta_k - \gamma \frac{1}{|B|}\sum_{j \in B} \nabla \ell_j(\theta_k)",
          seed=r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{|M_i|} \sum_{j \in M_i} \frac{\partial \ell_j(\hat{"
               r"\boldsymbol{y}}_{\theta}(x_j), y_j)}{\partial \theta_k}",
          repairs=r"the derivative of sample $j$'s loss written $\nabla \ell_j(\theta_k)$; $M_i$ is the batch $B$",
          findings=(agrees(r"\theta_{k+1} \leftarrow \theta_k - \gamma_k \frac{1}{|M_i|} \sum_{j \in M_i} \nabla "
                           r"\ell_j(\theta_k)", "optim.sgd"),)),
    Claim("2.batch", 2, "(c)", "smaller batches converge sooner and regularise",
          r"\operatorname{Var}\Big[\frac{1}{M}\sum_{j \in B} g_j\Big] = \frac{s^2}{M}\,\frac{N - M}{N - 1}",
          findings=(computed("loose", "numeric", "batch noise against batch size", _batch_noise),)),
    Claim("2.classes", 2, "(d)", "a good batch size is slightly more than or equal to the number of classes K",
          r"M \approx K \text{ to } 2K: \quad \mathbb{E}[\text{share of classes in a batch}] = 1 - (1 - 1/K)^M",
          findings=(computed("holds", "numeric", "the course's rule of thumb and the classes a batch holds",
                             _classes_rule),)),
    Claim("2.classwhy", 2, "(d)", "because each batch should represent the whole data set, and a batch of at least "
          "K samples enforces it",
          r"P(\text{a uniform batch of } K \text{ holds every class}) = \frac{K!}{K^K}; \quad "
          r"\text{stratified: } M \ge K \text{ suffices}",
          findings=(computed("loose", "numeric", "a batch of $K$ against the classes it holds", _batch_of_k),)),
    Claim("2.early", 2, "(e)", "early in training the noise of SGD is small compared with the information in the "
          "gradient",
          r"\frac{\lVert \bar g \rVert}{\operatorname{rms}(g_i - \bar g)} \text{ is larger far from the optimum than "
          r"near it}",
          findings=(computed("loose", "numeric", "signal to noise of a sample gradient, far from and at the optimum",
                             _noise_early),)),
    Claim("2.accum", 2, "(e)", "the noise is small early since SGD has not accumulated gradients yet",
          r"\theta_{k+1} = \theta_k - \frac{\gamma}{M}\sum_{j \in B_k} \nabla \ell_j(\theta_k) \text{ carries no state}",
          findings=(computed("fails", "numeric", "what the noise of a step depends on (optim.sgd)",
                             _noise_not_accumulated),)),
    Claim("2.likegd", 2, "(e)", "so early on the steps of SGD are virtually comparable to those of GD",
          r"\mathbb{E}\lVert g_B - \bar g \rVert^2 = \frac{s^2}{M}\,\frac{N - M}{N - 1}, \quad s^2 = "
          r"\frac{1}{N}\sum_i \lVert g_i - \bar g \rVert^2",
          findings=(computed("fails", "numeric", "a sample's step against GD's, far from the optimum",
                             _not_comparable),)),
    Claim("2.optimum", 2, "(e)", "if the loss has only one global optimum, both SGD and GD converge to it",
          r"\gamma \text{ constant: } \lim_{k \to \infty} \mathbb{E}[L(\theta_k)] > L^*; \quad \sum_k \gamma_k = \infty, "
          r"\ \sum_k \gamma_k^2 < \infty: \ L(\theta_k) \to L^*",
          findings=(computed("loose", "numeric", "SGD and GD at a constant step on a loss with one minimum",
                             _noise_ball),
                    computed("holds", "numeric", "SGD with a decaying step on the same loss", _decaying_converges))),
    Claim("2.faster", 2, "(f)", "SGD converges faster since it updates more often; GD may stop at a local optimum "
          "and assume it is global",
          r"\text{SGD: } N/M \text{ updates per epoch, GD: } 1; \text{ faster per epoch, not per update}",
          findings=(computed("loose", "numeric", "one epoch and one update of GD and SGD", _sgd_faster),)),
)

_MOMENTUM = (
    Claim("2.heavy", 2, "(g)", "the stochastic heavy-ball update",
          r"w_{t+1} = w_t - \gamma g_t + \beta (w_t - w_{t-1})",
          seed=r"\boldsymbol{w}_{t+1} = \boldsymbol{w}_t - \gamma_t \nabla f_i(\boldsymbol{w}_t) + \beta_t "
               r"(\boldsymbol{w}_t - \boldsymbol{w}_{t-1})",
          repairs=r"the lost minus of $(w_t \; w_{t-1})$ restored",
          findings=(agrees(r"\boldsymbol{w}_{t+1} = \boldsymbol{w}_t - \gamma_t \nabla f_i(\boldsymbol{w}_t) + \beta_t "
                           r"(\boldsymbol{w}_t - \boldsymbol{w}_{t-1})", "optim.heavy_ball"),)),
    Claim("2.dampening", 2, "(g)", "the coefficient of the previous step is the dampening factor",
          r"\beta = \mu \text{ (PyTorch's momentum)}, \quad \tau = 0 \text{ (its dampening)}",
          findings=(computed("loose", "numeric", "the heavy ball is PyTorch's momentum with dampening 0", _dampening),)),
    Claim("2.range", 2, "(g)", "the appropriate range of the coefficient is from 0 up to, not including, 1",
          r"\text{converges iff } |\beta| < 1,\; 0 < \gamma \lambda < 2(1 + \beta); \quad [0, 1) \text{ is the "
          r"range used in practice}",
          findings=(computed("loose", "numeric", "where the heavy ball converges on a quadratic", _beta_range),)),
    Claim("2.negative", 2, "(g)", "with a negative coefficient the algorithm is simply standard gradient descent",
          r"\text{only } \beta = 0 \text{ gives } w_{t+1} = w_t - \gamma g_t",
          findings=(computed("fails", "symbolic", "a negative coefficient is not GD (optim.heavy_ball)",
                             _negative_beta_is_not_gd),
                    differs(r"w_t - \gamma_t \nabla f_i(w_t)", "optim.heavy_ball", "GD's update"))),
    Claim("2.above", 2, "(g)", "with a coefficient above 1 the iteration blows up eventually",
          r"|r_1|\,|r_2| = \beta > 1 \;\Rightarrow\; \max_i |r_i| \ge \sqrt{\beta} > 1",
          findings=(computed("holds", "numeric", "a coefficient above 1 puts a root outside the unit circle", _beta_above_one),)),
    Claim("2.usual", 2, "(g)", "in practice the momentum is 0.9 or 0.99",
          r"\beta \in \{0.9, 0.99\}: \ |\beta| < 1, \ 0 < \gamma\lambda < 2(1 + \beta), \ \text{horizon } "
          r"\frac{1}{1 - \beta}",
          findings=(computed("holds", "numeric", "the stable step sizes and the averaging horizon of 0.9 and 0.99",
                             _usual_betas),)),
)

_ADAPTIVE = (
    Claim("2.rmsprop", 2, "(h)", "the RMSprop updates",
          r"w_{t+1} = w_t - \gamma \frac{g_t}{\sqrt{v_{t+1}} + \epsilon}, \quad v_{t+1} = \alpha v_t + (1 - \alpha) g_t^2",
          seed=r"v_{t+1} = \alpha v_t + (1 - \alpha) \nabla f_i(w_t)^2,\quad w_{t+1} = w_t - \gamma \frac{\nabla f_i(w_t)}"
               r"{\sqrt{v_{t+1}} + \epsilon}",
          repairs=r"both equations checked at once, $v_{t+1}$ put into the update",
          findings=(agrees(r"w_t - \gamma \frac{\nabla f_i(w_t)}{\sqrt{\alpha v_t + (1 - \alpha) \nabla f_i(w_t)^2} + "
                           r"\epsilon}", "optim.rmsprop"),)),
    Claim("2.eps", 2, "(h)", "epsilon keeps the denominator from 0; it is very small, of the order of ten to the "
          "minus seven, and has minimal impact",
          r"\epsilon_{\mathrm{PyTorch}} = 10^{-8}; \quad \frac{g}{\sqrt{v} + \epsilon} \text{ is defined at } v = 0",
          findings=(computed("holds", "oracle", "PyTorch's default epsilon and what epsilon does (optim.rmsprop)",
                             _eps),)),
    Claim("2.std", 2, "(h)", "if the gradient is small, dividing by the root of the second moment is dividing by its "
          "standard deviation",
          r"\sqrt{v} \approx \sqrt{\mathbb{E}[g^2]} = \sqrt{\operatorname{Var}[g] + \mathbb{E}[g]^2}",
          findings=(computed("loose", "numeric", "root mean square against standard deviation", _rms_is_not_std),)),
    Claim("2.adam", 2, "(h)", "the Adam update (the bias correction left out, as the seed says)",
          r"w_{t+1} = w_t - \gamma \frac{\hat{m}_{t+1}}{\sqrt{\hat{v}_{t+1}} + \epsilon}",
          seed=r"\boldsymbol{w}_{t+1} = \boldsymbol{w}_t - \gamma \frac{\boldsymbol{m}_t}{\sqrt{\boldsymbol{v}_{t+1}} + "
               r"\boldsymbol{\epsilon}}",
          repairs=r"the seed's $\beta$ and $\alpha$ are Adam's $\beta_1$ and $\beta_2$; the bias correction the seed "
                  r"says it leaves out put back before checking, so that only what it wrote is graded",
          findings=(differs(r"w_t - \gamma \frac{m_t/(1 - \beta_1^{t+1})}{\sqrt{v_{t+1}/(1 - \beta_2^{t+1})} + \epsilon}",
                            "optim.adam", r"the seed's update with the bias correction put back (its $m_t$, not $m_{t+1}$)"),)),
    Claim("2.adam_m", 2, "(h)", "Adam's first moment",
          r"m_{t+1} = \beta_1 m_t + (1 - \beta_1) g_t",
          seed=r"\boldsymbol{m}_{t+1} = \beta \boldsymbol{m}_t + (1 - \beta) \nabla f_i(\boldsymbol{w}_t)",
          repairs=r"checked inside the bias-corrected update $\hat{m}_{t+1} = m_{t+1}/(1 - \beta^{t+1})$",
          findings=(agrees(r"w_t - \gamma \frac{(\beta m_t + (1 - \beta) \nabla f_i(w_t))/(1 - \beta^{t+1})}{\sqrt{\hat v_{t+1}} "
                           r"+ \epsilon}", "optim.adam"),)),
    Claim("2.rmsmom", 2, "(h)", "Adam is essentially RMSprop plus momentum",
          r"\beta_1 = 0: \text{ Adam} = \text{RMSprop}(\alpha = \beta_2) \text{ with } \hat v; \quad m_{t+1} = "
          r"\beta_1 m_t + (1 - \beta_1) g_t",
          findings=(computed("holds", "numeric", "Adam's first moment against PyTorch's momentum buffer "
                                                 "(optim.sgd_momentum_torch)", _first_moment_is_momentum),
                    computed("holds", "symbolic", "Adam without its first moment against RMSprop (optim.adam, "
                                                  "optim.rmsprop)", _adam_without_momentum))),
    Claim("2.stepsize", 2, "(h)", "with Adam the step size need not change, since the averaging takes care of it",
          r"|w_1 - w_0| = \gamma \frac{|g_0|}{|g_0| + \epsilon} \approx \gamma \text{ for every } \beta_1",
          findings=(computed("loose", "numeric", "Adam's first step against its first decay rate (optim.adam)", _step_size_beta),)),
    Claim("2.bias", 2, "(h)", "Adam has a bias correction (not shown), unlike RMSprop, hence Adam is preferred for "
          "problems with an oscillatory trajectory",
          r"\hat m_{t+1} = \frac{m_{t+1}}{1 - \beta_1^{t+1}} \to m_{t+1} \quad (t \to \infty)",
          findings=(computed("holds", "symbolic", "Adam's update has a bias correction, RMSprop's none",
                             _bias_correction_unlike_rmsprop),
                    computed("loose", "numeric", "how long the bias correction lasts, and what it corrects (optim.adam)",
                             _bias_correction_lasts))),
    Claim("2.cost", 2, "(h)", "RMS Prop takes up more computational efficiency compared to Adam",
          r"\text{per step: RMSprop keeps } v;\ \text{Adam keeps } m, v \text{ and does more arithmetic}",
          findings=(computed("fails", "numeric", "state and arithmetic of one step of each, counted from the "
                                                 "definitions (optim.rmsprop, optim.adam)", _cost),
                    computed("fails", "oracle", "the state torch.optim keeps per parameter", _torch_state))),
    Claim("2.general", 2, "(h)", "adaptive methods such as RMSprop and Adam tend to generalise poorly compared with "
          "SGD",
          r"\min_w \lVert X w - y \rVert^2, \ X \in \mathbb{R}^{20 \times 30}: \ w_{\mathrm{GD}} \ne "
          r"w_{\mathrm{Adam}}, \text{ the better one depends on the problem}",
          findings=(computed("loose", "numeric", "test error of GD's and Adam's solutions of two underdetermined "
                                                 "problems", _generalisation),)),
    Claim("2.sparse", 2, "(h)", "RMSprop is more suitable for sparse problems",
          r"v_{t+1} = v_t + g_t^2 \ \text{(Adagrad, for sparse features)}",
          findings=(computed("fails", "oracle", "torch.optim on a sparse gradient", _sparse_refused),)),
)

_NONMONO = (
    Claim("2.nonmono", 2, "(i)", "the condition checks whether the current loss exceeds the lowest loss so far",
          r"L_e > \min(L_1, \ldots, L_{e - \mathrm{NONMONO}}) \text{ and } e > \mathrm{NONMONO}",
          findings=(computed("fails", "numeric", "the seed's reading of the condition against the rule (optim.lr_decay_nonmono)",
                             _nonmono_reading),)),
    Claim("2.lowest", 2, "(i)", "if the loss is not greater, it is the lowest loss yet, and the rate is kept",
          r"L_e \le \min(L_1, \ldots, L_{e - \mathrm{NONMONO}}) \not\Rightarrow L_e \le \min(L_1, \ldots, L_{e-1})",
          findings=(computed("fails", "numeric", "a loss the rule keeps the rate for that is not the lowest yet "
                                                 "(optim.lr_decay_nonmono)", _not_lowest),
                    computed("context", "numeric", "the inference in the seed's own reading", _lowest_in_own_reading))),
    Claim("2.decay", 2, "(i)", "when the condition is met the rate is divided by the decay factor, so that smaller steps do "
          "not overshoot the optimum",
          r"\gamma_{e+1} = \gamma_e / \mathrm{LR\_DECAY} \text{ when the condition holds, else } \gamma_{e+1} = "
          r"\gamma_e",
          findings=(computed("holds", "numeric", "the rate the rule sets on each side of the condition "
                                                 "(optim.lr_decay_nonmono)", _decay_divides),)),
    Claim("2.direction", 2, "(i)", "the direction is adjusted accordingly",
          r"\theta_e - \frac{\gamma_e}{\mathrm{LR\_DECAY}}\, b_e: \text{ the same direction, a shorter step}",
          findings=(computed("fails", "numeric", "PyTorch's SGD step before and after a decay "
                                                 "(optim.sgd_momentum_torch)", _direction_kept),)),
)

Q2: tuple[Claim, ...] = _BATCHES + _MOMENTUM + _ADAPTIVE + _NONMONO
