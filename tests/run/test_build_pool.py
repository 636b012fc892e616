"""The build's workers: each check made once whatever documents show it, a proof killed at its time limit with the
build going on, a worker that dies replaced, and the same bytes whatever the number of jobs."""

import os
import resource
import sys
import textwrap
import time
from pathlib import Path

import pytest

from symdl.cli.main import main

SHARED = '''
"""Checks that count how often they are made (one line a run in $SYMDL_TEST_COUNTS)."""
import os
import time

from symdl.verify.spec import CheckSpec


def counted(name, method="numeric", timeout=None, then=None):
    def run():
        with open(os.environ["SYMDL_TEST_COUNTS"], "a") as fh:
            fh.write(f"{name} {os.getpid()}\\n")
        if then is not None:
            return then()
        return True, f"{name} made", None
    return CheckSpec(method, f"check {name}", run, timeout=timeout)


def _sleep():
    time.sleep(60)
    return True, "slept", None


def _die():
    os._exit(3)


def _hog():
    return len(bytearray(8 * 2**30)) > 0, "allocated 8 GiB", None


def _after_hog():
    return len(bytearray(2**30)) == 2**30, "allocated 1 GiB", None


SHARED = counted("shared")
EARLY = (counted("early1"), counted("early2", method="symbolic", timeout=30))
ONLY_A, ONLY_B = counted("only-a", method="symbolic", timeout=30), counted("only-b", method="oracle")
SLOW = counted("slow", method="symbolic", timeout=1, then=_sleep)
DIES = counted("dies", then=_die)
HOG, AFTER_HOG = counted("hog", method="symbolic", timeout=30, then=_hog), counted("after-hog", then=_after_hog)
'''

DOC = '''
"""Document {name}."""
from symdl.document.derivation import Derivation, Section, Step, prose, tex
from symdl.verify.spec import run_many
import _shared as S


def derivation(runner=None):
    early = run_many(list(S.EARLY), runner)  # checks a derivation needs while it is built, as the seed audit's grades
    return Derivation(slug="{name}", title="{name}", description="{name}", sections=(Section("S", (
        prose("while built: " + "; ".join(c.detail for c in early)),
        Step("shared", tex("x = x"), "shared", checks=(S.SHARED, {own})),
        Step("early", tex("y = y"), "early", checks=S.EARLY),
    )),))
'''


def _docs(folder: Path, own_b="S.ONLY_B") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_shared.py").write_text(SHARED)
    (folder / "a.py").write_text(DOC.format(name="a", own="S.ONLY_A"))
    (folder / "b.py").write_text(DOC.format(name="b", own=own_b))
    return folder


def _counts(path: Path) -> dict:
    out = {}
    for line in path.read_text().split("\n") if path.exists() else []:
        if line:
            name, pid = line.split()
            out.setdefault(name, []).append(int(pid))
    return out


@pytest.fixture
def counts(tmp_path, monkeypatch):
    path = tmp_path / "counts"
    monkeypatch.setenv("SYMDL_TEST_COUNTS", str(path))
    return path


def test_each_check_is_made_once_however_many_documents_and_workers_ask(tmp_path, counts, capsys):
    docs = _docs(tmp_path / "docs")
    assert main(["build", "--derivations", str(docs), "--out", str(tmp_path / "out"), "--no-pdf", "-j", "2"]) == 0
    made = _counts(counts)
    assert {k: len(v) for k, v in made.items()} == {"early1": 1, "early2": 1, "shared": 1, "only-a": 1, "only-b": 1}
    assert os.getpid() not in {p for v in made.values() for p in v}  # made in workers, not in this process
    for name in ("a", "b"):
        text = (tmp_path / "out" / f"{name}.tex").read_text().replace(r"\allowbreak{}", "")
        assert "while built: check early1: early1 made; check early2: early2 made" in text
        assert "check shared: shared made" in text and f"check only-{name}: only-{name} made" in text
    out = capsys.readouterr().out
    assert out.index("[1/2] a:") < out.index("[2/2] b:") and out.count("wrote") == 2


def test_a_proof_past_its_time_limit_is_not_made_and_the_build_goes_on(tmp_path, counts, capsys):
    docs = _docs(tmp_path / "docs", own_b="S.SLOW, S.ONLY_B")
    start = time.monotonic()
    assert main(["build", "--derivations", str(docs), "--out", str(tmp_path / "out"), "--no-pdf", "-j", "2"]) == 0
    assert time.monotonic() - start < 30
    text = (tmp_path / "out" / "b.tex").read_text()
    assert "not made: check slow: no answer within 1 s" in text.replace(r"\allowbreak{}", "")
    assert "only-b made" in text
    (slow_pid,) = _counts(counts)["slow"]
    time.sleep(0.2)
    assert not Path(f"/proc/{slow_pid}").exists()  # the worker making it was killed, and not left behind


def test_a_worker_that_dies_is_replaced_and_its_check_is_not_made(tmp_path, counts, capsys):
    docs = _docs(tmp_path / "docs", own_b="S.DIES, S.ONLY_B")
    assert main(["build", "--derivations", str(docs), "--out", str(tmp_path / "out"), "--no-pdf", "-j", "1"]) == 0
    text = (tmp_path / "out" / "b.tex").read_text().replace(r"\allowbreak{}", "")
    assert "not made: check dies: the worker process making it died (exit code 3)" in text
    assert "only-b made" in text and (tmp_path / "out" / "a.tex").exists()


def test_a_proof_past_its_memory_limit_is_not_made_and_its_worker_goes_on(tmp_path, counts, capsys):
    docs = _docs(tmp_path / "docs", own_b="S.HOG, S.AFTER_HOG")
    assert main(["build", "--derivations", str(docs), "--out", str(tmp_path / "out"), "--no-pdf", "-j", "1"]) == 0
    text = (tmp_path / "out" / "b.tex").read_text().replace(r"\allowbreak{}", "")
    assert "not made: check hog: ran out of its 4096 MiB memory limit" in text
    assert "check after-hog: allocated 1 GiB" in text  # the limit ended with the proof
    made = _counts(counts)
    assert made["hog"] == made["after-hog"]  # one worker made both


def test_the_outputs_are_the_same_bytes_whatever_the_number_of_jobs(tmp_path, counts):
    docs = _docs(tmp_path / "docs")
    for jobs in ("1", "2", "3"):
        assert main(["build", "--derivations", str(docs), "--out", str(tmp_path / jobs), "-j", jobs]) == 0
    for rel in ("a.tex", "a.pdf", "b.tex", "b.pdf"):
        assert (tmp_path / "1" / rel).read_bytes() == (tmp_path / "2" / rel).read_bytes() == \
            (tmp_path / "3" / rel).read_bytes(), rel


def test_a_derivation_that_differs_from_one_load_to_the_next_is_an_error(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "moody.py").write_text(textwrap.dedent('''
        """Builds a different number of steps in each process."""
        import os
        from symdl.document.derivation import Derivation, Section, Step, tex
        from symdl.verify.spec import CheckSpec

        def derivation():
            steps = tuple(Step(f"s{i}", tex("x = x"), "r", checks=(CheckSpec("numeric", f"c{i}", lambda: (True, "", None)),))
                          for i in range(os.getpid() % 7 + 1))
            return Derivation(slug="moody", title="m", description="m", sections=(Section("S", steps),))
    '''))
    codes = [main(["build", "--derivations", str(docs), "--out", str(tmp_path / "out"), "--no-pdf", "--force",
                   "-j", "2"]) for _ in range(3)]
    err = capsys.readouterr().err
    # pids of two workers differ by one or two, so the step counts differ in at least one of three builds
    assert 2 in codes and "builds different checks each time it is loaded" in err


def test_a_bounded_proof_in_a_worker_gives_back_its_limits():
    from symdl.verify.bounded import call_limited

    before, depth = resource.getrlimit(resource.RLIMIT_AS), sys.getrecursionlimit()
    status, _, message = call_limited(lambda: len(bytearray(3 * 2**30 // 2)), memory=2**30)
    assert status == "error" and "memory limit" in message
    assert resource.getrlimit(resource.RLIMIT_AS) == before and sys.getrecursionlimit() == depth
    assert len(bytearray(3 * 2**30 // 2)) == 3 * 2**30 // 2  # this process may allocate again
    assert call_limited(lambda: 7) == ("ok", 7, "")


def test_verify_shares_the_checks_out_too(tmp_path, counts, capsys):
    import json

    docs = _docs(tmp_path / "docs")
    (docs / "broken.py").write_text('"""Broken on purpose."""\ndef derivation():\n    raise RuntimeError("boom")\n')
    args = ["verify", "--json", "--derivations", str(docs), "-j", "2", "rnn.state_jacobian", "a", "broken", "b"]
    assert main(args) == 2
    data = json.loads(capsys.readouterr().out)
    names = [r["name"] for r in data["results"]]
    assert names[0] == "rnn.state_jacobian" and names.index("a: shared") < names.index("b: shared")
    assert all(r["status"] == "verified" for r in data["results"])
    assert len(data["errors"]) == 1 and "broken.py:3: RuntimeError: boom" in data["errors"][0]
    assert {k: len(v) for k, v in _counts(counts).items()} == {"early1": 1, "early2": 1, "shared": 1, "only-a": 1,
                                                               "only-b": 1}


SLEEPY = '''
"""A document whose check sleeps, to be stopped."""
import os
import time
from symdl.document.derivation import Derivation, Section, Step, tex
from symdl.verify.spec import CheckSpec

def slow():
    with open(os.environ["SYMDL_TEST_COUNTS"], "a") as fh:
        fh.write(f"slow {os.getpid()}\\n")
    time.sleep(60)
    return True, "slept", None

def derivation():
    return Derivation(slug="sleepy", title="S", description="s", sections=(Section("S", (
        Step("wait", tex("x = x"), "a slow check", checks=(CheckSpec("numeric", "sleeps", slow),)),)),))
'''


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_a_stopped_build_kills_its_workers_and_leaves_nothing_behind(tmp_path, counts, signal_name):
    import signal
    import subprocess

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "sleepy.py").write_text(SLEEPY)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "symdl.cli.main", "build", "--derivations", str(docs), "--out", str(out),
                             "-j", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while "slow" not in _counts(counts) and time.monotonic() < deadline:
        time.sleep(0.1)
    (pid,) = _counts(counts)["slow"]
    proc.send_signal(getattr(signal, signal_name))
    proc.communicate(timeout=30)
    assert proc.returncode == (128 + signal.SIGTERM if signal_name == "SIGTERM" else 130)
    time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]
    assert [p for p in out.rglob("*") if p.name != ".symdl.lock"] == []


def test_a_bounded_proof_without_a_memory_limit_reports_running_out_of_memory():
    from symdl.verify.bounded import call_limited

    def out_of_memory():
        raise MemoryError

    assert call_limited(out_of_memory, memory=None) == ("error", None, "ran out of memory")


def test_verify_reports_an_error_when_the_references_ledger_cannot_be_made(monkeypatch):
    from symdl.run import build, tasks

    made = tasks.DocumentWorker.typeset

    def typeset(self, d, extra):
        if d == -1:  # the worker assembling the references' ledger dies
            os._exit(5)
        return made(self, d, extra)

    monkeypatch.setattr(tasks.DocumentWorker, "typeset", typeset)  # the workers are forked: they see it
    results, errors = build.verify_all(["rnn.state_jacobian"], [], jobs=1)
    assert results == [] and errors == ["references: the worker process making it died (exit code 5)"]


def test_a_worker_told_to_terminate_ends_and_its_proof_is_not_made(tmp_path, counts):
    import signal
    import subprocess

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "sleepy.py").write_text(SLEEPY.replace('CheckSpec("numeric", "sleeps", slow)',
                                                   'CheckSpec("symbolic", "sleeps", slow, timeout=60)'))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "symdl.cli.main", "build", "--derivations", str(docs), "--out", str(out),
                             "--no-pdf", "-j", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while "slow" not in _counts(counts) and time.monotonic() < deadline:
        time.sleep(0.1)
    (pid,) = _counts(counts)["slow"]
    os.kill(pid, signal.SIGTERM)  # the worker alone, as a service manager signals every process of a unit
    proc.communicate(timeout=50)
    text = (out / "sleepy.tex").read_text().replace(r"\allowbreak{}", "")
    assert "sleeps: the worker process making it died (exit code -15)" in text and "SystemExit" not in text


def test_proofs_past_their_time_limit_do_not_use_up_the_workers_the_build_may_start(tmp_path, counts, monkeypatch):
    from symdl.run import schedule

    monkeypatch.setattr(schedule.Coordinator, "MAX_WORKERS", 3)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "hard.py").write_text(textwrap.dedent('''
        """Proofs SymPy does not find in time, more than the workers a build may start."""
        import time
        from symdl.document.derivation import Derivation, Section, Step, tex
        from symdl.verify.spec import CheckSpec

        def slow():
            time.sleep(30)
            return True, "slept", None

        def derivation():
            steps = tuple(Step(f"s{i}", tex("x = x"), "r", checks=(CheckSpec("symbolic", f"hard {i}", slow, timeout=0.2),))
                          for i in range(6))
            return Derivation(slug="hard", title="h", description="h", sections=(Section("S", steps),))
    '''))
    assert main(["build", "--derivations", str(docs), "--out", str(tmp_path / "out"), "--no-pdf", "-j", "1"]) == 0
    text = (tmp_path / "out" / "hard.tex").read_text().replace(r"\allowbreak{}", "")
    assert all(f"hard {i}: no answer within 0.2 s" in text for i in range(6))


EARLY_INTERRUPT = '''
"""Interrupts the build as soon as the first worker loads it, while the coordinator forks the others."""
import os
import signal

with open(os.environ["SYMDL_TEST_COUNTS"], "a") as fh:
    fh.write(f"worker {os.getpid()}\\n")
try:
    os.close(os.open(os.environ["SYMDL_TEST_COUNTS"] + ".sent", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
except FileExistsError:
    pass
else:
    os.kill(os.getppid(), signal.SIGINT)
''' + SLEEPY.split('"""', 2)[2]


@pytest.mark.parametrize("jobs", ["2", "4"])
def test_an_interrupt_at_the_earliest_moment_still_ends_the_build_cleanly(tmp_path, counts, jobs):
    """Ctrl-C while workers are being forked once left a worker nobody killed: the build hung at exit, or ended
    while that worker held its output pipes open."""
    import subprocess

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "sleepy.py").write_text(EARLY_INTERRUPT)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "symdl.cli.main", "build", "--derivations", str(docs), "--out",
                             str(out), "-j", jobs], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err
    time.sleep(0.2)
    assert not any(Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text()
                   .rsplit(")", 1)[1][:3] for pid in _counts(counts).get("worker", []))
    assert [p for p in out.rglob("*") if p.name != ".symdl.lock"] == []
