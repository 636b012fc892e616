"""At exit, freeze the heap before Python's last garbage collection (one registration a process).

That collection walks every object SymPy and the references made (0.1-0.3 s at the end of a
build or a batch) only to free memory the process is about to give back whole; frozen objects
are skipped.  The registration is symdl's own function, so registering it again, or taking it
back, never touches a ``gc.freeze`` a program registered itself.
"""

import atexit
import gc

_registered: list = []


def _freeze() -> None:
    gc.freeze()


def freeze_heap_at_exit() -> None:
    if not _registered:
        atexit.register(_freeze)
        _registered.append(True)
