"""One pool of forked worker processes, with deadlines: what the build and the batch both stand on.

A worker is forked from the coordinator (so it starts with every module and reference the coordinator has
loaded) and serves the messages of its pipe until it is told to stop or its coordinator is gone.  The pool
knows nothing of documents or verdicts: it forks, hands a worker a task with an optional wall-clock limit,
and reports what happened -- a message, a death, a limit passed -- as :class:`Event` s.  The caller decides
what a task is, what a message means, and whether a worker is replaced.

The rules every worker keeps:

- it leads a process group of its own, so that killing it kills every process it started (a proof's child,
  latexmk), and a terminal's Ctrl-C reaches the coordinator alone;
- it ignores SIGINT (an interrupt is the coordinator's to handle: it kills the workers) and dies of SIGTERM
  (a worker told to terminate does, whatever handler the coordinator had);
- it dies with the thread that forked it, however that ends (SIGKILL, a crash, a killed Dask worker):
  the kernel's parent-death signal on Linux, set again in each process the worker forks (a proof's
  child); and it holds no end of any pipe but its own, so that elsewhere too it reads end-of-file and
  ends instead of waiting forever (and holding the build's lock and the caller's output pipes);
- it holds no inherited socket (a Dask worker's connections to its scheduler) but its own pipe.

An interrupt cannot fall between a fork and the bookkeeping of its worker, nor inside the killing of the
workers: both are done with SIGINT and SIGTERM held back (:func:`uninterrupted`), and delivered right after.
Without that, a Ctrl-C at the wrong moment left a worker the coordinator did not know of, running for good.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
import stat
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Callable

from .heap import freeze_heap_at_exit

#: What tells an idle worker to end.
STOP = None


class Worker:
    """One forked worker as its pool sees it: the process, the coordinator's end of its pipe, and its task."""

    def __init__(self, proc, conn):
        self.proc, self.conn = proc, conn
        self.task: Any = None  # the caller's name for what the worker is making; None when idle
        self.started = 0.0
        self.deadline: float | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def assign(self, task: Any, timeout: float | None = None) -> None:
        """Mark the worker busy with ``task``, to be stopped ``timeout`` seconds from now (never if None)."""
        self.task, self.started = task, time.monotonic()
        self.deadline = self.started + timeout if timeout is not None else None

    def release(self) -> None:
        """Mark the worker idle: its task is answered."""
        self.task = self.deadline = None


@dataclass(frozen=True)
class Event:
    """What happened to a worker: ``"message"`` (it sent ``message``), ``"died"`` (it ended with exit ``code``)
    or ``"expired"`` (its task's time ran out and it was killed).  ``task`` is the task it had then."""

    kind: str
    worker: Worker
    task: Any = None
    message: Any = None
    code: int | None = None
    seconds: float = 0.0  # since the task was assigned


class Pool:
    """Forked workers that each run ``serve(conn, *args)``; the coordinator reads their events with :meth:`wait`.

    Use it as a context manager: on the way out, however that is (Ctrl-C included), every worker is stopped.
    """

    def __init__(self, serve: Callable[..., None], *args, name: str = "symdl-worker"):
        self.serve, self.args, self.name = serve, args, name
        self.workers: list[Worker] = []
        self.ctx = mp.get_context("fork")

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def spawn(self) -> Worker:
        """Fork one more worker."""
        with uninterrupted():
            parent, child = self.ctx.Pipe()
            theirs = [w.conn for w in self.workers] + [parent]
            # not a daemon: a daemonic process may not start a proof's child process
            proc = self.ctx.Process(target=_start, args=(child, theirs, os.getpid(), self.serve, self.args),
                                    name=self.name)
            proc.start()
            child.close()
            worker = Worker(proc, parent)
            self.workers.append(worker)
        return worker

    def send(self, worker: Worker, message) -> bool:
        """Send ``message`` to ``worker``; False when it cannot take it (it is gone: :meth:`wait` says so)."""
        try:
            worker.conn.send(message)
        except (BrokenPipeError, OSError):
            return False
        return True

    def wait(self) -> list[Event]:
        """Wait for a message, a worker's end or a task's deadline; what happened, in order.

        A worker that died or whose task expired is no longer in the pool when this returns.
        """
        if not self.workers:
            return []
        deadlines = [w.deadline for w in self.workers if w.deadline is not None]
        timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        ready = set(wait([w.conn for w in self.workers] + [w.proc.sentinel for w in self.workers], timeout))
        events = []
        for w in list(self.workers):
            if w.conn in ready:
                try:
                    events.append(Event("message", w, w.task, w.conn.recv()))
                except (EOFError, OSError):
                    events.append(self._died(w))
            elif w.proc.sentinel in ready and not w.conn.poll():
                events.append(self._died(w))
        now = time.monotonic()
        for w in [w for w in self.workers if w.deadline is not None and now >= w.deadline]:
            self.kill(w)
            events.append(Event("expired", w, w.task, seconds=now - w.started))
        return events

    def _died(self, w: Worker) -> Event:
        w.proc.join(1)
        code = w.proc.exitcode
        self.kill(w)
        return Event("died", w, w.task, code=code, seconds=time.monotonic() - w.started)

    def kill(self, w: Worker) -> None:
        """End a worker and every process it started (its process group), and forget it."""
        with uninterrupted():
            try:
                os.killpg(w.pid, signal.SIGKILL)
            except OSError:  # not yet the leader of its own group, or already gone
                if w.proc.exitcode is None:
                    w.proc.kill()
            w.proc.join(5)
            w.conn.close()
            if w in self.workers:
                self.workers.remove(w)

    def stop(self) -> None:
        """End every worker: an idle one is told to stop and given two seconds, a busy one is killed."""
        with uninterrupted():
            for w in list(self.workers):
                if w.task is None and self.send(w, STOP):
                    w.proc.join(2)
                self.kill(w)


def _start(conn, theirs: list, coordinator: int, serve: Callable[..., None], args: tuple) -> None:
    """A worker's first steps, then ``serve(conn, *args)`` until it returns or the coordinator is gone."""
    try:  # first of all, so that the coordinator's kill of the group takes this process from the start
        os.setpgrp()
    except OSError:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # not the coordinator's SIGTERM handler (SystemExit), which call_limited would report as a proof's failure
    # while the worker went on
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(coordinator)  # after the above: it loads libc, and checks the parent once it is set
    os.register_at_fork(before=_note_forker, after_in_child=_die_with_forker)  # a proof's child goes with its worker
    for c in theirs:  # the coordinator's ends of every pipe, its own included
        c.close()
    _drop_sockets(keep=conn.fileno())
    try:
        serve(conn, *args)
    except (EOFError, BrokenPipeError, ConnectionResetError):  # the coordinator is gone: so is its worker
        pass


#: prctl's option for the signal a process gets when the thread that forked it ends (linux/prctl.h).
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this process as soon as the thread that forked it ends, however it ends (SIGKILL
    included; Linux's parent-death signal, where there is one), and end now if ``parent`` is gone already
    (it died between the fork and here).  Elsewhere a worker ends when it reads end-of-file on its pipe."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)


_forker = [0]


def _note_forker() -> None:
    _forker[0] = os.getpid()


def _die_with_forker() -> None:
    die_with_parent(_forker[0])


def _drop_sockets(keep: int) -> None:
    """Point every socket this process inherited, but its own pipe, at /dev/null: a worker forked inside a
    Dask worker must not keep that worker's connections to its scheduler open after it is gone.  The
    numbers stay taken, so that the objects that own them (copies from the fork) close /dev/null, never
    a descriptor opened since."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = range(3, 1024)
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in fds:
            if fd > 2 and fd not in (keep, null) and _is_socket(fd):
                os.dup2(null, fd)
    finally:
        os.close(null)


def _is_socket(fd: int) -> bool:
    try:
        return stat.S_ISSOCK(os.fstat(fd).st_mode)
    except OSError:
        return False


@contextmanager
def uninterrupted():
    """Hold SIGINT and SIGTERM back for the block, then deliver them as they would have been.

    Only the main thread gets Python's signal handlers, so elsewhere there is nothing to hold back.  A signal
    whose handler Python did not install is left alone.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}
    for s in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(s)
        if handler is not None:
            previous[s] = signal.signal(s, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if caught:
            signal.raise_signal(caught[0])  # a second one asks for the same: stop


class Stopped(KeyboardInterrupt):
    """SIGTERM, unwinding as Ctrl-C does; ``status`` is the exit status by the shell's convention
    (128 + the signal's number)."""

    def __init__(self, signum: int):
        super().__init__(f"stopped by signal {signum}")
        self.status = 128 + signum


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def _interrupt(signum, frame):
    raise Stopped(signum)


@contextmanager
def coordinating(interrupt: bool = False):
    """While a coordinator runs its pool: SIGTERM (a scheduler's time limit) unwinds like Ctrl-C, so that the
    workers are killed and private folders removed on the way out (with ``interrupt``, as Ctrl-C's own
    :class:`KeyboardInterrupt`, so that the command says the same); and at exit the heap is frozen first, so
    that Python's last garbage collection does not walk every object SymPy made (0.1-0.3 s) only to free
    memory the process gives back whole."""
    freeze_heap_at_exit()
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt if interrupt else _terminate) if main else None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
