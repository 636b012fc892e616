"""docs/reference.md is what `symdl list --markdown --builtin` prints: regenerate it when a model changes."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SYMDL = str(Path(sys.executable).parent / "symdl")


def test_the_committed_reference_is_current(tmp_path):
    out = subprocess.run([SYMDL, "list", "--markdown", "--builtin"], capture_output=True, text=True, cwd=tmp_path,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    committed = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert out.stdout == committed, "docs/reference.md is stale: run `symdl list --markdown --builtin > docs/reference.md`"


def test_a_course_model_is_listed_the_same_way(tmp_path):
    out = subprocess.run([SYMDL, "list", "--markdown", "--models", str(ROOT / "models")], capture_output=True,
                         text=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "## gru" in out.stdout and "| `gru.state_jacobian` |" in out.stdout and "`W_{hz}` | n × n" in out.stdout
