"""The example notebook runs top to bottom and shows what it promises."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"


def _text(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            out.append(o["text"])
        elif "data" in o:
            out.append(o["data"].get("text/latex", "") + o["data"].get("text/plain", ""))
    return "".join(out)


def test_quickstart_notebook_executes():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    shown = _text(code[0])
    assert "\\operatorname{diag}" in shown and "\\odot" in shown
    assert "W_{fh}" in _text(code[1]) and "c_{t-1}" in _text(code[1])
    lines = _text(code[2]).splitlines()
    assert lines[0] == "Tensor (3, 3) torch.float64"
    assert float(lines[1].split(":")[1]) < 1e-12
    assert _text(code[3]).split() == ["equivalent", "numeric"] or _text(code[3]).split() == ["equivalent", "symbolic"]
    wrong = _text(code[4])
    assert wrong.startswith("not_equivalent") and "counterexample at n = 2, m = 3" in wrong
    assert _text(code[5]).strip() == "not_equivalent"
