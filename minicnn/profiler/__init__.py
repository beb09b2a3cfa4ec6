"""``minicnn.profiler``: every op's forward and backward, timed, as ``torch.profiler``.

    from minicnn.profiler import profile, record_function

    with profile() as prof:
        loss = loss_fn(model(x), y)
        loss.backward()
        with record_function("optimizer.step"):
            opt.step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")      # open in chrome://tracing or ui.perfetto.dev

Each :class:`~minicnn.autograd.Function` run is one event (:class:`OpEvent`): the op's
forward (``Conv2d``) or backward (``Conv2dBackward``), its input shapes, the kernel set
serving its input (``minicnn.backend``), its wall time, FLOPs where defined and bytes
moved (``minicnn/profiler/events.py``). The time is that of the op's ``forward`` or
``backward`` itself; building the Tensor and the tape around it is not in it.

A run of BatchNorm2d -> ReLU -> MaxPool2d in ``nn.Sequential`` is one op
(``BatchNormReLUMaxPool``, ``minicnn/nn/fusion.py``), so it is one row, as the engine runs
it; inside ``minicnn.nn.fusion.layer_by_layer()`` the three appear as three rows.

``MINICNN_DEBUG=1`` in the environment prints one line per event to stderr as it ends, the
columns of :meth:`OpEvent` (phase, name, time, FLOPs, bytes, kernel set, input shapes).

Cost when not profiling: ``minicnn.autograd.observer`` is None, and each op tests that once.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
import time

from .. import autograd
from ..autograd import op_name
from ..backend import kernel_set_name, kernels_of
from .events import OpEvent, arrays_in, backward_flops, forward_flops, nbytes
from .table import KeyAverages, format_row, write_chrome_trace

__all__ = ["profile", "record_function", "OpEvent", "KeyAverages"]


class _Observer:
    """Installed as ``minicnn.autograd.observer`` while some sink listens: times each op's
    forward and backward and hands the finished :class:`OpEvent` to every sink."""

    def __init__(self):
        self.sinks: list = []
        self._stack = threading.local()

    def _open(self) -> list:
        stack = getattr(self._stack, "events", None)
        if stack is None:
            stack = self._stack.events = []
        return stack

    @contextlib.contextmanager
    def timing(self, event: OpEvent):
        """Time the block as ``event``; nested events count as its children."""
        stack = self._open()
        stack.append(event)
        event.thread = threading.get_ident()
        event.start_ns = time.perf_counter_ns()
        try:
            yield event
        finally:
            event.duration_ns = time.perf_counter_ns() - event.start_ns
            stack.pop()
            if stack:
                stack[-1].child_ns += event.duration_ns

    def emit(self, event: OpEvent) -> None:
        """Hand the finished ``event`` to every sink."""
        for sink in list(self.sinks):
            sink(event)

    def forward(self, cls):
        name = op_name(cls)

        def run(ctx, *args, **kwargs):
            inputs = arrays_in(args)
            event = OpEvent(name, "forward", tuple(tuple(a.shape) for a in inputs),
                            _kernel_set(inputs), 0)
            with self.timing(event):
                out = cls.forward(ctx, *args, **kwargs)
            event.flops = forward_flops(name, inputs, out)
            event.bytes = nbytes(inputs) + nbytes([out])
            self.emit(event)
            return out

        return run

    def backward(self, cls):
        name = op_name(cls)

        def run(ctx, grad):
            saved = arrays_in(ctx.saved_tensors)
            event = OpEvent(name + "Backward", "backward",
                            tuple(tuple(a.shape) for a in [grad] + saved),
                            _kernel_set([grad]), 0, flops=backward_flops(name, ctx, grad))
            with self.timing(event):
                grads = cls.backward(ctx, grad)
            event.bytes = nbytes([grad] + saved) + nbytes(
                grads if isinstance(grads, tuple) else (grads,))
            self.emit(event)
            return grads

        return run


def _kernel_set(inputs: list) -> str:
    return kernel_set_name(kernels_of(inputs[0])) if inputs else "-"


_observer = _Observer()


def _listen(sink) -> None:
    _observer.sinks.append(sink)
    autograd.observer = _observer


def _stop_listening(sink) -> None:
    _observer.sinks.remove(sink)
    if not _observer.sinks:
        autograd.observer = None


class profile:  # noqa: N801 - named as torch.profiler.profile
    """Context manager recording every op run inside it (module docstring).

    ``events()`` lists the :class:`OpEvent` in the order they ended;
    ``key_averages(group_by_input_shape=False)`` groups them by name (and input shapes);
    ``export_chrome_trace(path)`` writes the trace-event JSON of ``chrome://tracing``.
    """

    def __init__(self):
        self._events: list[OpEvent] = []
        self._running = False

    def __enter__(self) -> profile:
        if self._running:
            raise RuntimeError("minicnn.profiler.profile: this profile is already running")
        self._running = True
        _listen(self._events.append)
        return self

    def __exit__(self, *exc) -> None:
        _stop_listening(self._events.append)
        self._running = False

    def events(self) -> list[OpEvent]:
        return list(self._events)

    def key_averages(self, group_by_input_shape: bool = False) -> KeyAverages:
        return KeyAverages(self._events, group_by_input_shape)

    def export_chrome_trace(self, path) -> None:
        write_chrome_trace(self._events, path)


@contextlib.contextmanager
def record_function(name: str):
    """Label a block (an optimizer step, a data load) as one event named ``name``; ops run
    inside it are its children, as in ``torch.profiler.record_function``. Costs nothing
    when no profile is running."""
    if autograd.observer is None:
        yield
        return
    event = OpEvent(name, "user", (), "-", 0)
    try:
        with _observer.timing(event):
            yield
    finally:
        _observer.emit(event)


def _print_live(event: OpEvent) -> None:
    print(format_row(event), file=sys.stderr, flush=True)


if os.environ.get("MINICNN_DEBUG", "0").strip() not in ("", "0"):
    _listen(_print_live)
