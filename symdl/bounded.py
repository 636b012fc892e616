"""Run SymPy work in a child process that is killed at a wall-clock limit.

``simplify`` can run for minutes and ``signal.alarm`` only works in the main
thread, so a proof attempt runs in a forked child with a memory limit
(``resource.setrlimit``) and is killed when its time is up.  The parent gets
``Outcome("ok", value)``, ``Outcome("timeout")`` or ``Outcome("error", message)``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Callable

#: Address-space limit of a proof child: far above what a proof needs, far below the machine.
MEMORY_LIMIT = 4 * 1024**3


@dataclass(frozen=True)
class Outcome:
    status: str  # "ok", "timeout", "error"
    value: Any = None
    message: str = ""


def _child(conn, fn, args, memory):
    try:
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        sys.setrecursionlimit(20000)
        conn.send(("ok", fn(*args), ""))
    except MemoryError:
        conn.send(("error", None, f"ran out of its {memory // 2**20} MiB memory limit"))
    except RecursionError:
        conn.send(("error", None, "the expression is nested too deeply"))
    except BaseException as exc:  # the child reports every failure instead of dying silently
        tb = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" at {os.path.basename(tb[0].filename)}:{tb[0].lineno}" if tb else ""
        conn.send(("error", None, f"{type(exc).__name__}: {exc}{where}"))
    finally:
        conn.close()


def run_bounded(fn: Callable, *args, timeout: float, memory: int | None = MEMORY_LIMIT) -> Outcome:
    """``fn(*args)`` in a forked child, killed after ``timeout`` seconds.

    The value must be picklable (a bool, number or string).
    """
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, memory), daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(timeout):
            try:
                status, value, message = parent.recv()
            except EOFError:
                return Outcome("error", message=f"the proof process died (exit code {proc.exitcode})")
            return Outcome(status, value, message)
        return Outcome("timeout", message=f"no answer within {timeout:g} s")
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(1)
        parent.close()
