"""Question 2: every optimiser's path on a quadratic and on Rosenbrock's function, and their figures."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from symdl import ref
from symdl.verify.spec import CheckSpec, compare_trials
from symdl.document.figures import pyplot, save

from _figstyle import PRINT, inches


# -- figures: trajectories --------------------------------------------------------------------------

H = np.array([1.0, 25.0])  # an ill-conditioned quadratic, f(x) = sum_i H_i x_i^2 / 2
SAMPLES = 8


def _offsets(seed=5):
    """Per-sample shifts that sum to zero: sample i's gradient is f's minus H a_i, their mean is f's."""
    a = np.random.default_rng(seed).normal(0, 0.04, (SAMPLES, 2))
    return a - a.mean(axis=0)


def quad_grad(x):
    return H * x


def rosen_grad(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


PROBLEMS = {
    "quadratic": {"grad": quad_grad, "x0": np.array([-2.0, 0.9]), "steps": 150,
                  "lr": {"gd": 0.07, "sgd": 0.07, "heavy": 0.03, "rmsprop": 0.03, "adam": 0.1}},
    "rosenbrock": {"grad": rosen_grad, "x0": np.array([-1.2, 1.0]), "steps": 1500,
                   "lr": {"gd": 1.5e-3, "sgd": 1.5e-3, "heavy": 1.5e-4, "rmsprop": 5e-4, "adam": 0.02}},
}
MOMENTUM, BATCH = 0.9, 2


def batches(steps: int, seed=9):
    rng = np.random.default_rng(seed)
    return [sorted(rng.choice(np.arange(1, SAMPLES + 1), BATCH, replace=False).tolist()) for _ in range(steps)]


@lru_cache(maxsize=None)
def trajectories(problem: str) -> dict:
    """Each optimiser's path, stepped by the optim references (numpy); computed once a process, for the oracle
    check and the figure alike (callers do not modify the arrays)."""
    P = PROBLEMS[problem]
    lr, a, out = P["lr"], _offsets(), {}
    per_sample = lambda x: np.stack([P["grad"](x) + H * (x - a[i]) - H * x for i in range(SAMPLES)])  # noqa: E731

    def run(step, x0=P["x0"]):
        xs, state = [x0], {}
        for k in range(P["steps"]):
            xs.append(step(xs, k, state))
        return np.array(xs)

    out["GD"] = run(lambda xs, k, s: ref("optim.gd").evaluate(
        {r"\theta_k": xs[-1], r"\gamma": lr["gd"], r"\nabla \ell_i(\theta_k)": per_sample(xs[-1])}))
    bs = batches(P["steps"])
    out["SGD (batch 2)"] = run(lambda xs, k, s: ref("optim.sgd").evaluate(
        {r"\theta_k": xs[-1], r"\gamma": lr["sgd"], r"\nabla \ell_i(\theta_k)": per_sample(xs[-1]), "B": bs[k]}))
    out["heavy ball"] = run(lambda xs, k, s: ref("optim.heavy_ball").evaluate(
        {"w_t": xs[-1], "w_{t-1}": xs[-2] if len(xs) > 1 else xs[-1], "g_t": P["grad"](xs[-1]),
         r"\gamma": lr["heavy"], r"\beta": MOMENTUM}))

    def rms(xs, k, s):
        g = P["grad"](xs[-1])
        v = s.get("v", np.zeros(2))
        s["v"] = 0.9 * v + 0.1 * g**2
        return ref("optim.rmsprop").evaluate({"w_t": xs[-1], "v_t": v, "g_t": g, r"\gamma": lr["rmsprop"],
                                              r"\alpha": 0.9, r"\epsilon": 1e-8})

    def adam(xs, k, s):
        g = P["grad"](xs[-1])
        m, v = s.get("m", np.zeros(2)), s.get("v", np.zeros(2))
        s["m"], s["v"] = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
        return ref("optim.adam").evaluate({"w_t": xs[-1], "m_t": m, "v_t": v, "g_t": g, r"\gamma": lr["adam"],
                                           r"\beta_1": 0.9, r"\beta_2": 0.999, r"\epsilon": 1e-8, "t": k})

    out["RMSprop"] = run(rms)
    out["Adam"] = run(adam)
    for xs in out.values():
        xs.setflags(write=False)  # shared by every caller in the process
    return out


def torch_trajectories(problem: str) -> dict:
    """The same paths by torch.optim and autograd (sample losses written in torch)."""
    import torch

    P = PROBLEMS[problem]
    lr, a, Ht = P["lr"], torch.as_tensor(_offsets()), torch.as_tensor(H)

    def f(x):
        if problem == "quadratic":
            return 0.5 * (Ht * x**2).sum()
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    def sample_losses(x, rows):
        """The losses of the samples ``rows``, one a row: f(x) + |x - a_i|_H^2 / 2 - |x|_H^2 / 2 (one graph for all
        of them rather than one a sample: the same losses, a tenth of the autograd nodes)."""
        return f(x) + 0.5 * (Ht * (x - a[rows]) ** 2).sum(dim=1) - 0.5 * (Ht * x**2).sum()

    def run(make, samples=None):
        """``samples(k)``: the 0-based sample rows of step k, or None for the plain loss f."""
        p = torch.nn.Parameter(torch.as_tensor(P["x0"].copy()))
        opt, xs = make([p]), [p.detach().clone().numpy()]
        for k in range(P["steps"]):
            opt.zero_grad()
            rows = None if samples is None else samples(k)
            loss = f(p) if rows is None else sample_losses(p, torch.as_tensor(list(rows))).sum() / len(rows)
            loss.backward()
            opt.step()
            xs.append(p.detach().clone().numpy())
        return np.array(xs)

    bs = batches(P["steps"])
    return {
        "GD": run(lambda ps: torch.optim.SGD(ps, lr=lr["gd"]), lambda k: range(SAMPLES)),
        "SGD (batch 2)": run(lambda ps: torch.optim.SGD(ps, lr=lr["sgd"]), lambda k: [j - 1 for j in bs[k]]),
        "heavy ball": run(lambda ps: torch.optim.SGD(ps, lr=lr["heavy"], momentum=MOMENTUM)),
        "RMSprop": run(lambda ps: torch.optim.RMSprop(ps, lr=lr["rmsprop"], alpha=0.9, eps=1e-8)),
        "Adam": run(lambda ps: torch.optim.Adam(ps, lr=lr["adam"], betas=(0.9, 0.999), eps=1e-8)),
    }


def _trajectory_check(problem):
    def run():
        ours, theirs = trajectories(problem), torch_trajectories(problem)
        trials = [(name, ours[name], theirs[name]) for name in ours]
        passed, detail, err = compare_trials(trials, rtol=1e-9)
        return passed, f"{PROBLEMS[problem]['steps']} steps each: {detail}", err

    return CheckSpec("oracle", f"every plotted path against torch.optim with autograd on the {problem}", run)


#: How each optimiser's path is drawn, and which step size (PROBLEMS[...]["lr"]) it runs at.
STYLES = {
    "GD": {"color": "C0", "ls": "-", "marker": "o", "lr": "gd"},
    "SGD (batch 2)": {"color": "C1", "ls": "--", "marker": "s", "lr": "sgd"},
    "heavy ball": {"color": "C2", "ls": "-.", "marker": "^", "lr": "heavy"},
    "RMSprop": {"color": "C3", "ls": ":", "marker": "v", "lr": "rmsprop"},
    "Adam": {"color": "C4", "ls": "-", "marker": "D", "lr": "adam"},
}


def _label(problem: str, name: str) -> str:
    """The legend entry: the method and its step size (and momentum)."""
    lr = PROBLEMS[problem]["lr"][STYLES[name]["lr"]]
    extra = rf", $\beta = {MOMENTUM:g}$" if name == "heavy ball" else ""
    return rf"{name}: $\gamma = {lr:g}${extra}"


def _landscape(ax, problem: str, marks: bool = True):
    """Contours of the loss, the start (circle) and the minimum (star) drawn above the paths."""
    if problem == "quadratic":
        X, Y = np.meshgrid(np.linspace(-2.3, 1.0, 200), np.linspace(-1.1, 1.1, 200))
        ax.contour(X, Y, 0.5 * (H[0] * X**2 + H[1] * Y**2), levels=np.geomspace(0.01, 15, 14), colors="0.8",
                   linewidths=0.6)
        best = (0.0, 0.0)
    else:
        X, Y = np.meshgrid(np.linspace(-1.6, 1.4, 200), np.linspace(-0.6, 1.6, 200))
        ax.contour(X, Y, (1 - X) ** 2 + 100 * (Y - X**2) ** 2, levels=np.geomspace(0.1, 800, 16), colors="0.8",
                   linewidths=0.6)
        best = (1.0, 1.0)
    start = PROBLEMS[problem]["x0"]
    ax.plot(*start, "o", color="k", mfc="w", ms=6, zorder=6, label="start" if marks else None)
    ax.plot(*best, "*", color="gold", mec="k", ms=12, zorder=6, label="minimum" if marks else None)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")


def _path(ax, problem: str, name: str, xs, every: int):
    st = STYLES[name]
    ax.plot(xs[:, 0], xs[:, 1], color=st["color"], ls=st["ls"], lw=1.2, marker=st["marker"], ms=3,
            markevery=every, label=_label(problem, name))


def make_quadratic_figure(path):
    """All five paths on one set of axes: on the quadratic they part early and are told apart by style."""
    plt = pyplot()
    with plt.rc_context(PRINT):
        fig, ax = plt.subplots(figsize=(inches(0.9), 3.6))
        _landscape(ax, "quadratic")
        for name, xs in trajectories("quadratic").items():
            _path(ax, "quadratic", name, xs, every=5)
        ax.set_ylim(-1.1, 1.75)
        ax.legend(loc="upper center", ncol=3, fontsize=8)
        save(fig, path)


def rosenbrock_loss(xs):
    return (1 - xs[:, 0]) ** 2 + 100 * (xs[:, 1] - xs[:, 0] ** 2) ** 2


#: The Rosenbrock figure's panels: the methods drawn in each (in the valley one method's path hides another's).
ROSENBROCK_PANELS = (("GD", "SGD (batch 2)"), ("heavy ball",), ("RMSprop", "Adam"))


def make_rosenbrock_figure(path):
    """Three panels of paths (methods that would hide one another apart) and the loss of all five: four panels."""
    plt = pyplot()
    paths = trajectories("rosenbrock")
    with plt.rc_context(PRINT):
        fig, axes = plt.subplots(2, 2, figsize=(inches(1.0), 5.4))
        for ax, names in zip(axes.flat, ROSENBROCK_PANELS):
            _landscape(ax, "rosenbrock", marks=ax is axes.flat[0])
            for name in names:
                _path(ax, "rosenbrock", name, paths[name], every=100)
            ax.legend(loc="lower right", fontsize=8)
        loss_ax = axes.flat[-1]
        for name, xs in paths.items():
            st = STYLES[name]
            loss_ax.semilogy(rosenbrock_loss(xs), color=st["color"], ls=st["ls"], lw=1.2, label=name)
        loss_ax.set_xlabel("step $t$")
        loss_ax.set_ylabel("$f(w_t) - f(1, 1)$")
        loss_ax.legend(loc="lower left", fontsize=8)
        loss_ax.grid(alpha=0.3)
        save(fig, path)
