"""Question 3: the checks behind the steps: marginalisation, the latent-variable gradient, the seed's lines, PIRL's
h, the VAE's reparameterisation and divergence, the sparse code."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symdl import ref
from symdl.document.derivation import Table, tex
from symdl.models import contrastive as C
from symdl.models import ebm as M
from symdl.models import latent as Lt
from symdl.models._grids import gradient_w
from symdl.verify.oracles import ebm as oracles_ebm
from symdl.verify.spec import RTOL, CheckSpec, compare_trials


def symbolic(description, fn, timeout=60.0):
    return CheckSpec("symbolic", description, fn, timeout=timeout)


def verdict(ok, yes, no="SymPy could not show it"):
    return (True, yes, None) if ok else (None, no, None)



# -- (c): steps of the marginalisation --------------------------------------------------------


def exp_free_energy_is_partition():
    e = sp.exp(-M.beta * M.FREE_ENERGY)
    return verdict(e == M.integral(sp.exp(-M.beta * M.E(M.x, M.y, M.z)), M.z),
                    "SymPy evaluates exp(-beta F_beta) directly to the integral over z of exp(-beta E(x, y, z))")


def seed_joint_check():
    """The seed's joint, normalised over y alone, summed over (y, z) on grids of symbolic sizes J and K."""

    def run():
        j, k, jj = sp.symbols("j k jj", integer=True)
        J, K = sp.symbols("J K", integer=True, positive=True)
        e = sp.IndexedBase("E")
        inner = sp.Sum(sp.exp(-M.beta * e[j, k]) / sp.Sum(sp.exp(-M.beta * e[jj, k]), (jj, 1, J)), (j, 1, J))
        total = sp.Sum(sp.simplify(sp.simplify(inner).as_dummy()), (k, 1, K)).doit()
        return verdict(total == K, "the seed's joint sums to |Z| = K over (y, z), not 1 (symbolic J, K)",
                        f"SymPy left {total}")

    return symbolic("the seed's joint normaliser", run)


# -- (d): the latent-variable gradient and the seed's last line ---------------------------------


def latent_gradient_pieces():
    Ew = M.E(M.x, M.y, M.z, M.w)
    Fb = -sp.log(M.integral(sp.exp(-M.beta * Ew), M.z)) / M.beta
    P = sp.exp(-M.beta * Ew) / M.integral(sp.exp(-M.beta * Ew.subs(M.z, M.z_)), M.z_)
    return sp.diff(Fb, M.w), M.integral(P * sp.Derivative(Ew, M.w), M.z)


def latent_gradient_symbolic():
    derived, want = latent_gradient_pieces()
    return verdict(sp.simplify((derived - want).as_dummy()) == 0,
                    "sp.diff of F_beta under the integral minus E_{z ~ P(z|x,y)}[dE/dw] simplifies to 0")


def latent_gradient_numeric():
    """Complex step of ebm.free_energy in w against the expectation of dE/dw, and torch autograd."""
    import torch

    trials = []
    for dz, Kz in ((1, 4), (2, 7)):
        for seed in (0, 1):
            rng = np.random.default_rng(seed)
            net = oracles_ebm.OneLayer((1, 1, dz), seed=seed, params=True)
            x, y, zs, b = rng.normal(size=1), rng.normal(size=1), rng.normal(size=(Kz, dz)), 1.3
            Fb = ref("ebm.free_energy")

            def at(w):
                return Fb.evaluate({"E": lambda x_, y_, z_: net.numpy(x_, y_, z_, w), "x": x, "y": y, "z": zs,
                                    r"\beta": b})

            energies = np.array([net.numpy(x, y, zk, net.w0) for zk in zs])
            P = np.exp(-b * energies - np.log(np.sum(np.exp(-b * energies))))
            expected = sum(P[k] * gradient_w(net.numpy, (x, y, zs[k]), net.w0, "numpy") for k in range(Kz))
            step = np.array([np.imag(at(net.w0 + 1e-30j * np.eye(net.w0.size)[j])) / 1e-30
                             for j in range(net.w0.size)])
            wt = torch.as_tensor(net.w0).clone().requires_grad_(True)
            E = torch.stack([net.torch(x, y, zk, wt) for zk in zs])
            (g,) = torch.autograd.grad(-torch.logsumexp(-b * E, 0) / b, wt)
            trials += [(f"z size {dz} grid {Kz}, complex step", expected, step),
                       (f"z size {dz} grid {Kz}, torch autograd", expected, g.numpy())]
    return compare_trials(trials, RTOL)


def seed_last_line():
    """Shift F_w by a constant c: the derived gradient does not move, the seed's F_w + F_beta moves by 2c."""
    c = sp.Symbol("c", real=True)
    shifted = M._dw(M.NLL_TERM).replace(
        lambda e: isinstance(e, sp.core.function.AppliedUndef) and e.func == M.F_w, lambda e: e + c)
    grad = sp.diff(shifted, M.w)
    Fw = M.F_w(M.x_i, M.y_i, M.w) + c
    seed = Fw - sp.log(M.integral(sp.exp(-M.beta * (M.F_w(M.x_i, M.y, M.w) + c)), M.y)) / M.beta
    moves = sp.simplify(sp.diff(grad, c))
    seed_moves = sp.simplify(sp.diff(seed, c))
    if moves == 0 and seed_moves == 2:
        return True, "d/dc of the derived gradient is 0; d/dc of the seed's F_w + F_beta is 2", None
    return None, f"SymPy gave {moves} and {seed_moves}", None


def likelihood_check():
    """ebm.nll_loss is -(1/(N beta)) log of the product of ebm.gibbs masses at the training pairs."""

    def run():
        trials = []
        for N, K in ((2, 5), (4, 9)):
            rng = np.random.default_rng(N)
            net = oracles_ebm.OneLayer((1, 1), seed=N, params=True)
            grid, idx, xs, b = rng.normal(size=K), rng.integers(0, K, N), rng.normal(size=(N, 1)), 0.9
            masses = [ref("ebm.gibbs").evaluate({"F": lambda x_, y_: net.numpy(x_, y_, net.w0), "x": x, "y": grid,
                                                 r"\beta": b})[k] for x, k in zip(xs, idx)]
            loss = ref("ebm.nll_loss").evaluate({"F_w": net.numpy, "w": net.w0, "x_i": xs, "y_i": grid[idx],
                                                 "y": grid, r"\beta": b})
            trials.append((f"N = {N} grid {K}", loss, -np.log(np.prod(masses)) / (N * b)))
        return compare_trials(trials, RTOL)

    return CheckSpec("numeric", "ebm.nll_loss against -(1/(N beta)) log of the product of ebm.gibbs masses", run)


# -- (e): derived gradient of L_NCE -------------------------------------------------------------


def nce_derivatives():
    L, a, b, c, _ = C.loss_in_similarities()
    return [(name, sp.simplify(sp.diff(L, s))) for name, s in (("a", a), ("b_1", b[0]), ("c_1", c[0]))]


#: The seed's h of (e), as the seed writes it (LaTeX read by symdl's grammar, never evaluated as code).
SEED_H = (r"h(\boldsymbol{v_I}, \boldsymbol{v_{I^t}}) = \frac{\exp{(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}"
          r"{\tau})}}{\exp{(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I^t}})}{\tau})} + \sum_{I' \in D_N} "
          r"\exp{(\frac{s(\boldsymbol{v_I}, \boldsymbol{v_{I'}})}{\tau})}}")


def seed_h_by_checker():
    """symdl.check, the hand-derivation checker, on the seed's own LaTeX for h."""

    def run():
        from symdl.grade.check import check

        verdict = check(SEED_H, against="contrastive.pirl_h")
        first = str(verdict).splitlines()[0]
        if verdict.verdict == "not_equivalent":
            return True, f"symdl.check(seed's h, against='contrastive.pirl_h'): {first}", None
        if verdict.verdict == "equivalent":
            return False, f"symdl.check found the seed's h equivalent: {first}", None
        return None, f"symdl.check could not decide: {first}", None

    return CheckSpec("numeric", "the hand-derivation checker on the seed's LaTeX", run)


def seed_counterexample_table():
    for _, seed_v, pirl_v, v in C.seed_form_trials():
        if abs(seed_v - pirl_v) > 1e-6 * abs(pirl_v):
            rows = [(tex(k), tex(r"\left(" + ", ".join(f"{x:.4f}" for x in np.ravel(val)) + r"\right)")
                     if np.ndim(val) else tex(f"{val:.4f}")) for k, val in v.items()]
            rows += [("the seed's h", tex(f"{seed_v:.6f}")), ("PIRL's h", tex(f"{float(pirl_v):.6f}"))]
            return Table(("input", "value"), tuple(rows), caption="A point where the seed's h and PIRL's differ "
                                                                  "(two negatives, features of size 3)")
    raise AssertionError("the seed's form agreed with PIRL's at every trial point")


# -- (f): the VAE's expectation, the reparameterisation, and what the KL term prevents -----------------

MU, SIGMA, EPS = sp.Symbol(r"\mu", real=True), sp.Symbol(r"\sigma", positive=True), sp.Symbol(r"\epsilon", real=True)
#: Test functions g of z for the reparameterisation: a square and an exponential, whose expectations under a
#: Gaussian have closed forms to compare against.
REPARAM_TESTS = (lambda z: z ** 2, sp.exp)


def gauss_expectation(expr, var, mean, std):
    """The integral of expr against the density of N(mean, std^2) in var."""
    return sp.simplify(sp.integrate(expr * Lt.gaussian_density(var, mean, std), (var, -sp.oo, sp.oo)).rewrite(sp.erf))


def reparam_symbolic():
    """E_{z ~ N(mu, sigma^2)} g(z) = E_{eps ~ N(0, 1)} g(mu + sigma eps), and its derivatives in mu and sigma can
    be taken inside the expectation over eps, for each test g."""
    zz = sp.Symbol("z", real=True)
    for g in REPARAM_TESTS:
        direct = gauss_expectation(g(zz), zz, MU, SIGMA)
        reparam = gauss_expectation(g(MU + SIGMA * EPS), EPS, 0, 1)
        if sp.simplify(direct - reparam) != 0:
            return False, f"the two expectations of {g(zz)} differ", None
        for v in (MU, SIGMA):
            inside = gauss_expectation(sp.diff(g(MU + SIGMA * EPS), v), EPS, 0, 1)
            if sp.simplify(sp.diff(direct, v) - inside) != 0:
                return False, f"d/d{v} of E[{g(zz)}] is not the expectation of the derivative", None
    return True, ("for g(z) = z^2 and exp(z): the expectation under N(mu, sigma^2) equals that of g(mu + "
                  "sigma eps) under N(0, 1), and its derivatives in mu and sigma are the expectations of the "
                  "derivatives"), None


def reparam_torch():
    """Autograd through torch.distributions.Normal(mu, sigma).rsample (the reparameterised sample) against the
    closed-form gradient of E[z^2] = mu^2 + sigma^2, averaged over many samples."""
    import torch

    trials = []
    for mu_, sigma_ in ((0.3, 1.2), (-1.5, 0.4)):
        torch.manual_seed(0)
        mu = torch.tensor(mu_, dtype=torch.float64, requires_grad=True)
        sigma = torch.tensor(sigma_, dtype=torch.float64, requires_grad=True)
        z = torch.distributions.Normal(mu, sigma).rsample((400000,))
        (z ** 2).mean().backward()
        trials.append((f"mu = {mu_}, sigma = {sigma_}", np.array([mu.grad.item(), sigma.grad.item()]),
                       np.array([2 * mu_, 2 * sigma_])))
    passed, detail, err = compare_trials(trials, rtol=2e-2)
    return passed, f"gradients of the Monte Carlo mean of z^2 over 400000 samples (tolerance 2e-2): {detail}", err


def kl_collapse():
    """d KL / d sigma_j = sigma_j - 1/sigma_j, zero at sigma_j = 1, and KL grows without bound as sigma_j -> 0."""
    kl = Lt.kl_derived()
    slope = sp.simplify(sp.diff(kl, Lt.sigma_j))
    limit = sp.limit(kl, Lt.sigma_j, 0, "+")
    ok = sp.simplify(slope - (Lt.sigma_j - 1 / Lt.sigma_j)) == 0 and limit == sp.oo
    return ok, f"derivative of the derived KL in sigma_j: {slope}; limit as sigma_j -> 0+: {limit}", None


def sparse_piecewise_linear():
    """Each branch of the one-atom sparse code is affine in a = w^T y: its second derivative in a is 0."""
    zp, zn = Lt.sparse_code_branches()
    second = [sp.diff(z, Lt.atom_a, 2) for z in (zp, zn)]
    first = [sp.simplify(sp.diff(z, Lt.atom_a)) for z in (zp, zn)]
    ok = all(d == 0 for d in second) and all(f == 1 / Lt.atom_c for f in first)
    return ok, f"second derivatives in a: {second}; slopes: {first}", None


