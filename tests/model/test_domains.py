"""The one sampler: each domain draws the random stream it always drew, and keeps its values inside itself."""

import numpy as np
import pytest
import sympy as sp

from symdl.model.domains import DOMAINS, concrete_shape, random_values
from symdl.model.reference import Input

#: The draws of each domain as the two samplers of old wrote them (symdl.verify.spec.sample and the witness's
#: own, which drew steps as integers): a seed must keep giving the values that documents and tests hang on.
OLD = {
    "real": lambda rng, shape: rng.normal(0.0, 0.7, shape),
    "positive": lambda rng, shape: rng.uniform(0.5, 2.0, shape),
    "nonnegative": lambda rng, shape: rng.uniform(0.0, 2.0, shape),
    "unit": lambda rng, shape: rng.uniform(0.0, 0.95, shape),
    "probability": lambda rng, shape: rng.uniform(0.05, 0.95, shape),
    "count": lambda rng, shape: rng.integers(0, 5, shape).astype(np.float64),
    "step": lambda rng, shape: rng.integers(1, 4, shape).astype(float) if shape else float(rng.integers(1, 4)),
}


@pytest.mark.parametrize("name", sorted(OLD))
@pytest.mark.parametrize("shape", [(), (3,), (2, 4)])
def test_each_domain_draws_the_stream_it_always_drew(name, shape):
    for seed in range(20):
        new, old = np.random.default_rng(seed), np.random.default_rng(seed)
        for _ in range(3):  # the stream goes on the same way after each draw
            got, want = DOMAINS[name].sample(shape, new), OLD[name](old, shape)
            assert np.array_equal(got, want) and type(got) is (float if not shape else np.ndarray)
            assert all(DOMAINS[name].contains(float(v)) for v in np.reshape(got, -1)), (name, got)


def test_random_values_draw_each_input_in_order_at_its_size():
    n = sp.Symbol("n")
    inputs = (Input(sp.MatrixSymbol("W", n, n)), Input(sp.Symbol(r"\gamma"), "positive"),
              Input(sp.MatrixSymbol("x", n, 1)))
    got = random_values(inputs, {n: 3}, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    want = {"W": rng.normal(0.0, 0.7, (3, 3)), r"\gamma": float(rng.uniform(0.5, 2.0)), "x": rng.normal(0.0, 0.7, (3, 1))}
    assert list(got) == list(want) and all(np.array_equal(got[k], want[k]) for k in want)
    assert concrete_shape((n, 1), {n: 4}) == (4, 1)
