import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The parser tables and the fused kernels are cached per user (XDG_CACHE_HOME); the tests, and the
# processes they start, use a folder of their own instead of the user's.
_CACHE_HOME = os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="symdl-tests-cache-")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_CACHE_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def _project_cwd(monkeypatch):
    """Tests run from the project folder, where derivations/ and templates/ are."""
    monkeypatch.chdir(ROOT)
    os.environ.setdefault("MPLBACKEND", "Agg")


# -- shared by tests/test_contrastive.py and tests/test_latent.py ----------------------------------

RTOL = 1e-10
BACKENDS = ("numpy", "torch")


def rel(got, want) -> float:
    """The relative error of a scalar from symdl (numpy or torch) against a torch float64 value."""
    got = float(got.detach() if hasattr(got, "detach") else got)
    return abs(got - float(want)) / abs(float(want))


def ref(name):
    import symdl.model.registry as registry

    return registry.ref(name)
