"""The profiler's outputs: events grouped by name (:class:`KeyAverages`) and printed as
``torch.profiler``'s table, one live line per event, and the Chrome trace-event JSON.

Times in the averages are microseconds, as torch's ``FunctionEventAvg``: ``self_cpu_time_total``
(the op's own time, without events nested in it), ``cpu_time_total`` (with them) and
``cpu_time`` (``cpu_time_total / count``).

The trace is the trace-event format's JSON object form: ``{"traceEvents": [...],
"displayTimeUnit": "ms"}``, one complete event (``"ph": "X"``) per op run with ``name``,
``cat`` (the phase), ``ts`` and ``dur`` in microseconds, ``pid``, ``tid`` and ``args``
(input shapes, kernel set, FLOPs, bytes). chrome://tracing and ui.perfetto.dev open it.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from .events import OpEvent

_TEXT_COLUMNS = ("Name", "Kernel set", "Input Shapes")
SORT_KEYS = ("self_cpu_time_total", "cpu_time_total", "cpu_time", "count", "flops", "bytes")


def format_time(us: float) -> str:
    """``1234.5`` (microseconds) -> ``'1.234ms'``, as torch's tables write times."""
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _flops_text(flops) -> str:
    return "--" if flops is None else f"{flops / 1e6:.3f}"


def _shapes_text(shapes) -> str:
    return "[" + ", ".join(str(list(s)) for s in shapes) + "]"


def format_row(event: OpEvent) -> str:
    """One live line (``MINICNN_DEBUG=1``): phase, name, time, MFLOPs, MB, kernel set, shapes."""
    return (f"minicnn {event.phase:<8} {event.name:<28} {format_time(event.duration_ns / 1e3):>12} "
            f"{_flops_text(event.flops):>10} MFLOP {event.bytes / 1e6:9.3f} MB "
            f"{event.kernel_set:<10} {_shapes_text(event.input_shapes)}")


@dataclass
class OpAverage:
    """The events of one key (name, or name and input shapes) summed."""

    key: str
    input_shapes: tuple
    count: int = 0
    self_cpu_time_total: float = 0.0
    cpu_time_total: float = 0.0
    flops: int | None = None
    bytes: int = 0
    kernel_sets: list = field(default_factory=list)

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / self.count if self.count else 0.0

    def add(self, event: OpEvent) -> None:
        self.count += 1
        self.self_cpu_time_total += event.self_ns / 1e3
        self.cpu_time_total += event.duration_ns / 1e3
        if event.flops is not None:
            self.flops = (self.flops or 0) + event.flops
        self.bytes += event.bytes
        if event.kernel_set not in self.kernel_sets:
            self.kernel_sets.append(event.kernel_set)


class KeyAverages(list):
    """A list of :class:`OpAverage`, in the order each key was first seen; ``table()``."""

    def __init__(self, events: list[OpEvent], group_by_input_shape: bool = False):
        groups: dict = {}
        for event in events:
            shapes = event.input_shapes if group_by_input_shape else ()
            key = (event.name, shapes)
            if key not in groups:
                groups[key] = OpAverage(event.name, shapes)
            groups[key].add(event)
        super().__init__(groups.values())
        self.group_by_input_shape = group_by_input_shape

    @property
    def self_cpu_time_total(self) -> float:
        """The sum of every event's self time, in microseconds (no time counted twice)."""
        return sum(a.self_cpu_time_total for a in self)

    def table(self, sort_by: str | None = "self_cpu_time_total", row_limit: int = 100) -> str:
        """The averages as a text table (torch's columns, then MFLOPs, MB and kernel set;
        ``Input Shapes`` last when grouped by them), largest ``sort_by`` first, at most
        ``row_limit`` rows (all when negative), and the total self time below."""
        if sort_by is not None and sort_by not in SORT_KEYS:
            raise ValueError(f"KeyAverages.table: sort_by must be one of {SORT_KEYS}, "
                             f"got {sort_by!r}")
        rows = list(self)
        if sort_by is not None:
            rows.sort(key=lambda a: getattr(a, sort_by) or 0, reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        total = self.self_cpu_time_total or 1.0
        head = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                "# of Calls", "Total MFLOPs", "MB moved", "Kernel set"]
        if self.group_by_input_shape:
            head.append("Input Shapes")
        body = []
        for a in rows:
            cells = [a.key, f"{100 * a.self_cpu_time_total / total:.2f}%",
                     format_time(a.self_cpu_time_total),
                     f"{100 * a.cpu_time_total / total:.2f}%", format_time(a.cpu_time_total),
                     format_time(a.cpu_time), str(a.count), _flops_text(a.flops),
                     f"{a.bytes / 1e6:.3f}", ",".join(a.kernel_sets)]
            if self.group_by_input_shape:
                cells.append(_shapes_text(a.input_shapes))
            body.append(cells)
        widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
        rule = "  ".join("-" * w for w in widths)

        def line(cells):
            return "  ".join(c.ljust(w) if head[i] in _TEXT_COLUMNS else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        lines = [rule, line(head), rule, *(line(r) for r in body), rule,
                 f"Self CPU time total: {format_time(self.self_cpu_time_total)}"]
        return "\n".join(lines) + "\n"


def chrome_trace(events: list[OpEvent]) -> dict:
    """The trace-event JSON object for ``events`` (module docstring)."""
    if not events:
        return {"traceEvents": [], "displayTimeUnit": "ms"}
    origin = min(e.start_ns for e in events)
    pid = os.getpid()
    return {"displayTimeUnit": "ms", "traceEvents": [
        {"name": e.name, "cat": e.phase, "ph": "X", "ts": (e.start_ns - origin) / 1e3,
         "dur": e.duration_ns / 1e3, "pid": pid, "tid": e.thread,
         "args": {"input_shapes": [list(s) for s in e.input_shapes], "kernel_set": e.kernel_set,
                  "flops": e.flops, "bytes": e.bytes}}
        for e in sorted(events, key=lambda e: e.start_ns)]}


def write_chrome_trace(events: list[OpEvent], path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(chrome_trace(events), f)
