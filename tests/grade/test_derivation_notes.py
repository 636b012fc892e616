r"""A derivation's link says how the reader read it (issue 13, item 10): juxtaposed vectors whose matrix
product is undefined are multiplied elementwise, and the link's answer says so, in its message (human
output) and in ``notes`` (``--json``), as a single check does.

The truth of each link comes from ``torch.nn.LSTMCell``: its new cell and state rebuilt from its gates with
elementwise products.
"""

from __future__ import annotations

import json

import torch

from symdl.cli.main import main
from symdl.grade.derivation import check_derivation

TEXT = "\\begin{align*}\nc_t &= f_t c_{t-1} + i_t g_t \\\\\nh_t &= o_t \\tanh(c_t)\n\\end{align*}\n"
NOTE = r"read o_t \tanh(c_t) as o_t \odot \tanh(c_t)"


def test_the_truth_used_below():
    """torch.nn.LSTMCell's outputs are the elementwise products of its gates (gate order i, f, g, o)."""
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(2, 3).double()
    x, h, c = torch.randn(1, 2, dtype=torch.float64), torch.randn(1, 3, dtype=torch.float64), \
        torch.randn(1, 3, dtype=torch.float64)
    i, f, g, o = (x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh).chunk(4, 1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    with torch.no_grad():
        h_new, c_new = cell(x, (h, c))
        assert torch.allclose(c_new, f * c + i * g, rtol=1e-12)
        assert torch.allclose(h_new, o * torch.tanh(c_new), rtol=1e-12)


def test_a_link_read_elementwise_says_so():
    out = check_derivation(TEXT, model="lstm")
    assert [s.verdict for s in out.steps] == ["equivalent", "equivalent"], out.message
    last = out.steps[1]
    assert any(n.startswith(NOTE) for n in last.notes)
    assert NOTE in last.message and NOTE in str(out)
    assert not any(NOTE in n for n in out.steps[0].notes)  # each link carries its own readings


def test_the_notes_reach_json(tmp_path, capsys):
    path = tmp_path / "d.tex"
    path.write_text(TEXT)
    main(["check", "--model", "lstm", "--json", "--file", str(path)])
    steps = json.loads(capsys.readouterr().out)["steps"]
    assert any(n.startswith(NOTE) for n in steps[1]["notes"])
