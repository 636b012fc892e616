import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _project_cwd(monkeypatch):
    """Tests run from the project folder, where derivations/ and templates/ are."""
    monkeypatch.chdir(ROOT)
    os.environ.setdefault("MPLBACKEND", "Agg")
