r"""The lines of a batch, read one at a time: each line is a :class:`Task`, or a task that carries its problem.

A batch is read as bytes, a line at a time, so that a class of 100,000 lines never sits in memory and
a line that cannot be read is that line's answer, not the batch's end.  Nothing about a line can stop
the lines after it:

- bytes that are not UTF-8 (whatever the locale: the batch is never decoded by it), a line longer
  than :data:`MAX_LINE` bytes, text that is not JSON, a JSON value nested deeper than Python's
  recursion allows, an integer of more digits than Python converts, a missing key or a key of the
  wrong type: each is a problem naming the line;
- a number strict JSON cannot carry (``NaN``, ``Infinity``, ``1e999``) is read as the string it was
  written as, and the task's ``notes`` say so, so that the verdict written back is strict JSON.

Blank lines (nothing but white space) are skipped and keep their numbers: line numbers are those of
the file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

#: The longest line read, in bytes: far above a derivation at the contract's limit (200,000
#: characters, escaped in JSON), far below what would make a batch's memory grow with one line.
MAX_LINE = 4 * 1024**2

#: Keys every line needs; ``against`` and ``model`` are optional (a derivation names its model itself).
KEYS = ("id", "latex")


@dataclass(frozen=True)
class Task:
    """One line of a batch: what to check, or why it cannot be checked.

    ``against`` is ``""`` when the line names no reference; ``derivation`` says the line holds a
    whole derivation (:func:`symdl.check_derivation`), checked under the total time limit."""

    line: int
    id: Any = None
    against: str = ""
    latex: str = ""
    problem: str = ""
    model: str | None = None
    derivation: bool = False
    notes: tuple = ()


def read_tasks(stream: Iterable) -> Iterator[Task]:
    """Every non-blank line of ``stream`` (a binary or text file, or an iterable of lines) as a task,
    lazily and in order; lines keep their numbers in the file."""
    for number, raw in enumerate(_lines(stream), start=1):
        if raw is None:
            yield Task(number, problem=f"line {number} is longer than {MAX_LINE} bytes")
        elif raw.strip():
            yield parse_line(number, raw)


def _lines(stream: Iterable) -> Iterator[bytes | str | None]:
    """The lines of ``stream``; a line past :data:`MAX_LINE` bytes is ``None``, and is skipped to its end
    without being held."""
    readline = getattr(stream, "readline", None)
    if readline is None:
        yield from stream
        return
    while True:
        raw = readline(MAX_LINE + 1)
        if not raw:
            return
        if len(raw) <= MAX_LINE or raw.endswith(b"\n" if isinstance(raw, bytes) else "\n"):
            yield raw
            continue
        while raw and not raw.endswith(b"\n" if isinstance(raw, bytes) else "\n"):
            raw = readline(MAX_LINE)
        yield None


def parse_line(number: int, raw: bytes | str) -> Task:
    """Line ``number`` (1-based) of a batch as a :class:`Task`; a bad line carries its problem."""
    try:
        text = raw.decode("utf-8-sig" if number == 1 else "utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        return Task(number, problem=f"line {number} is not UTF-8: byte 0x{raw[exc.start]:02x} at column "
                                    f"{len(raw[:exc.start].decode('utf-8', 'replace')) + 1} cannot be decoded")
    unfit: list[str] = []
    try:
        obj = json.loads(text, parse_constant=lambda s: _unfit(s, unfit), parse_float=lambda s: _float(s, unfit))
        json.dumps(obj.get("id") if isinstance(obj, dict) else None)  # what is read can be written back
    except json.JSONDecodeError as exc:
        return Task(number, problem=f"line {number} is not JSON ({exc})")
    except RecursionError:
        return Task(number, problem=f"line {number} is nested too deeply to be read")
    except (ValueError, MemoryError) as exc:  # such as an integer of more than 4,300 digits
        return Task(number, problem=f"line {number} cannot be read: {_short(str(exc))}")
    notes = tuple(f"{s} is a number strict JSON cannot carry: it was read, and is written back, as the string "
                  f"\"{s}\"" for s in dict.fromkeys(unfit))
    return _task(number, obj, notes)


def _task(number: int, obj, notes: tuple) -> Task:
    if not isinstance(obj, dict):
        return Task(number, problem=f"line {number} is a JSON {type(obj).__name__}, not an object with "
                                    f"the keys {', '.join(KEYS)}", notes=notes)
    missing = [k for k in KEYS if k not in obj]
    if missing:
        return Task(number, obj.get("id"), problem=f"line {number} lacks the key{'s' if len(missing) > 1 else ''} "
                                                  f"{', '.join(missing)}", notes=notes)
    wrong = [k for k in ("against", "latex", "model") if k in obj and not isinstance(obj[k], str)
             and not (k != "latex" and obj[k] is None)]
    if wrong:
        return Task(number, obj["id"], problem=f"line {number}: {', '.join(wrong)} must be a string, got "
                                              + ", ".join(type(obj[k]).__name__ for k in wrong), notes=notes)
    against, model, latex = obj.get("against") or "", obj.get("model"), obj["latex"]
    return Task(number, obj["id"], against, latex, model=model, derivation=is_derivation(latex, against, model),
                notes=notes)


def _unfit(text: str, unfit: list[str]) -> str:
    unfit.append(text)
    return text


def _float(text: str, unfit: list[str]) -> float | str:
    value = float(text)
    return value if math.isfinite(value) else _unfit(text, unfit)


def _short(message: str, most: int = 200) -> str:
    return message if len(message) <= most else message[:most] + "..."


def is_derivation(latex: str, against: str, model: str | None) -> bool:
    """Whether a line is checked as a whole derivation: it names a ``model``, or no reference, or its text
    runs over more than one line of mathematics or has a product or sum over a range.  A line with
    ``against`` and one line of mathematics is a single check, as a batch has always checked it (with
    ``model`` it is read as a derivation of one line); a text the derivation reader cannot cut into
    lines is a single check too, whose answer says where it cannot be read."""
    from ..reader.display import read_display
    from ..reader.ranges import has_range

    if model is not None or not against:
        return True
    try:
        return has_range(latex) or len(read_display(latex).rows) > 1
    except Exception:  # not readable as mathematics at all: the single check says where, per line
        return False
