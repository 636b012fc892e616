"""Run SymPy work in a child process that is killed at a wall-clock limit.

``simplify`` can run for minutes and ``signal.alarm`` only works in the main
thread, so a proof attempt runs in a forked child with a memory limit
(``resource.setrlimit``) and is killed when its time is up.  The parent gets
``Outcome("ok", value)``, ``Outcome("timeout")`` or ``Outcome("error", message)``.

:func:`call_limited` is the child's side alone (the memory and recursion limits, every failure reported): a
build's worker process makes one proof after another with it, and the build kills the worker at the time limit
instead of forking a child for each proof (a fork of a process holding torch costs 10-20 ms).
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


def call_limited(fn, args=(), memory: int | None = MEMORY_LIMIT, *, keep_limits: bool = False) -> tuple:
    """``fn(*args)`` under the memory limit and a deep recursion limit: ``(status, value, message)``.

    Every failure is reported, never raised.  In a proof child the limits stay (it exits next); with
    ``keep_limits=False`` the caller's soft address-space limit and recursion limit are put back, so that a
    long-lived worker (:mod:`symdl.run.build`) can make one bounded proof after another; its wall-clock limit is
    then kept by whoever started the worker, which kills it.
    """
    old_as = resource.getrlimit(resource.RLIMIT_AS)
    old_depth = sys.getrecursionlimit()
    try:
        if memory:
            soft = memory if old_as[1] == resource.RLIM_INFINITY else min(memory, old_as[1])
            resource.setrlimit(resource.RLIMIT_AS, (soft, soft if keep_limits else old_as[1]))
        sys.setrecursionlimit(20000)
        return "ok", fn(*args), ""
    except MemoryError:
        return "error", None, (f"ran out of its {memory // 2**20} MiB memory limit" if memory else "ran out of memory")
    except RecursionError:
        return "error", None, "the expression is nested too deeply"
    except BaseException as exc:  # every failure is reported instead of ending the process silently
        tb = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" at {os.path.basename(tb[0].filename)}:{tb[0].lineno}" if tb else ""
        return "error", None, f"{type(exc).__name__}: {exc}{where}"
    finally:
        if not keep_limits:
            sys.setrecursionlimit(old_depth)
            if memory:
                resource.setrlimit(resource.RLIMIT_AS, old_as)


def _child(conn, fn, args, memory):
    try:
        out = call_limited(fn, args, memory, keep_limits=True)
        try:
            conn.send(out)
        except BaseException as exc:  # a value that cannot be sent is reported as such
            conn.send(("error", None, f"{type(exc).__name__}: {exc}"))
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
