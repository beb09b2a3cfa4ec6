"""minicnn.profiler: events per op forward and backward, FLOPs and bytes, the table, the
Chrome trace (checked against the trace-event format), MINICNN_DEBUG and the cost when off."""
import itertools
import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import minicnn
from minicnn import autograd, nn
from minicnn.nn.fusion import layer_by_layer
from minicnn.profiler import KeyAverages, OpEvent, profile, record_function


def _small_step(batch=2):
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    x = minicnn.randn(batch, 1, 8, 8)
    loss = nn.CrossEntropyLoss()(model(x), minicnn.tensor(np.arange(batch) % 3))
    loss.backward()


def test_every_op_has_a_forward_and_a_backward_event():
    _small_step()  # warm (Numba's first calls load compiled code)
    with profile() as prof:
        _small_step()
    names = [e.name for e in prof.events()]
    for op in ("Conv2d", "BatchNormReLUMaxPool", "Reshape", "Permute", "MatMul", "Add",
               "LogSoftmax"):
        assert names.count(op) == 1 and names.count(op + "Backward") == 1, op
    assert {e.phase for e in prof.events()} == {"forward", "backward"}
    assert autograd.observer is None  # off again after the block


def test_fusion_is_one_row_and_layer_by_layer_three():
    with layer_by_layer(), profile() as prof:
        _small_step()
    names = {a.key for a in prof.key_averages()}
    assert {"BatchNorm", "ReLU", "MaxPool2d", "MaxPool2dBackward"} <= names
    assert "BatchNormReLUMaxPool" not in names


def test_conv_and_matmul_flops_and_bytes_are_counted_by_hand():
    x = minicnn.randn(2, 3, 7, 6).requires_grad_()
    w = nn.Parameter(np.ones((4, 3, 3, 2), dtype=np.float32))
    a = minicnn.randn(5, 6).requires_grad_()
    b = minicnn.randn(6, 7)
    with profile() as prof:
        y = nn.functional.conv2d(x, w, stride=(2, 1))   # (2, 4, 3, 5)
        y.sum().backward()
        (a @ b).sum().backward()
    events = {e.name: e for e in prof.events()}
    conv_flops = 2 * (2 * 4 * 3 * 5) * (3 * 3 * 2)
    assert events["Conv2d"].flops == conv_flops
    assert events["Conv2dBackward"].flops == 2 * conv_flops  # dL/dx and dL/dW
    assert events["Conv2d"].input_shapes == ((2, 3, 7, 6), (4, 3, 3, 2))
    assert events["MatMul"].flops == 2 * 5 * 7 * 6
    assert events["MatMulBackward"].flops == 2 * 5 * 7 * 6  # only a needs its gradient
    assert events["MatMul"].bytes == 4 * (5 * 6 + 6 * 7 + 5 * 7)
    assert events["Sum"].flops is None


def test_the_table_has_torchs_columns():
    with profile() as prof:
        _small_step()
    lines = prof.key_averages().table(row_limit=3).splitlines()
    for column in ("Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                   "# of Calls", "Total MFLOPs", "MB moved", "Kernel set"):
        assert column in lines[1]
    assert lines[6].startswith("---") and lines[7].startswith("Self CPU time total: ")
    with pytest.raises(ValueError, match="sort_by must be one of"):
        prof.key_averages().table(sort_by="gpu_time")


def _event(name: str, duration_us: int, child_us: int = 0) -> OpEvent:
    return OpEvent(name, "forward", (), "numpy", 0, duration_ns=duration_us * 1000,
                   child_ns=child_us * 1000)


def test_the_table_sorts_by_the_chosen_column_and_keeps_row_limit_rows():
    """Hand-made events: self times A 30, B 20 + 25, C 10, D 60 - 20 (nested) us."""
    averages = KeyAverages([_event("A", 30), _event("B", 20), _event("C", 10),
                            _event("D", 60, child_us=20), _event("B", 25)])

    def names(table):
        lines = table.splitlines()
        return [line.split()[0] for line in lines[3:lines.index(lines[0], 3)]]

    assert names(averages.table(sort_by="self_cpu_time_total", row_limit=3)) == ["B", "D", "A"]
    assert names(averages.table(sort_by="cpu_time_total", row_limit=2)) == ["D", "B"]
    assert names(averages.table(sort_by="count", row_limit=1)) == ["B"]
    assert names(averages.table(sort_by=None, row_limit=-1)) == ["A", "B", "C", "D"]
    table = averages.table(row_limit=1)
    assert table.splitlines()[3].split() == ["B", "36.00%", "45.000us", "36.00%", "45.000us",
                                             "22.500us", "2", "--", "0.000", "numpy"]
    assert table.splitlines()[-1] == "Self CPU time total: 125.000us"


def test_group_by_input_shape_splits_one_op_by_its_shapes():
    with profile() as prof:
        for n in (2, 3, 3):
            (minicnn.randn(n, 4).requires_grad_() @ minicnn.randn(4, 2)).sum().backward()
    by_name = {a.key: a.count for a in prof.key_averages()}
    assert by_name["MatMul"] == 3
    by_shape = {(a.key, a.input_shapes): a.count for a in prof.key_averages(True)}
    assert by_shape[("MatMul", ((2, 4), (4, 2)))] == 1
    assert by_shape[("MatMul", ((3, 4), (4, 2)))] == 2
    assert "Input Shapes" in prof.key_averages(True).table()


def test_record_function_nests_ops_and_its_self_time_leaves_them_out():
    with profile() as prof:
        with record_function("forward pass"):
            _small_step()
    outer = next(e for e in prof.events() if e.name == "forward pass")
    inner = [e for e in prof.events() if e.phase != "user"]
    assert all(outer.start_ns <= e.start_ns and e.start_ns + e.duration_ns
               <= outer.start_ns + outer.duration_ns for e in inner)
    assert outer.self_ns == outer.duration_ns - sum(e.duration_ns for e in inner)


def test_the_chrome_trace_follows_the_trace_event_format(tmp_path):
    with profile() as prof:
        with record_function("step"):
            _small_step()
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(path)
    trace = json.loads(path.read_text())
    # The JSON object form: traceEvents (a list) and optional displayTimeUnit ("ms" or "ns").
    assert isinstance(trace["traceEvents"], list) and trace["displayTimeUnit"] in ("ms", "ns")
    assert len(trace["traceEvents"]) == len(prof.events())
    for event in trace["traceEvents"]:
        # A complete event ("X"): name, cat, ph, ts and dur in microseconds, pid, tid, args.
        assert isinstance(event["name"], str) and isinstance(event["cat"], str)
        assert event["ph"] == "X"
        assert isinstance(event["ts"], (int, float)) and event["ts"] >= 0
        assert isinstance(event["dur"], (int, float)) and event["dur"] >= 0
        assert isinstance(event["pid"], int) and isinstance(event["tid"], int)
        assert isinstance(event["args"], dict)
    step = next(e for e in trace["traceEvents"] if e["name"] == "step")
    ops = [e for e in trace["traceEvents"] if e["cat"] in ("forward", "backward")]
    assert step["ts"] == 0 and all(e["ts"] + e["dur"] <= step["dur"] + 1e-3 for e in ops)
    conv = next(e for e in ops if e["name"] == "Conv2d")
    assert conv["args"]["input_shapes"] == [[2, 1, 8, 8], [4, 1, 3, 3], [4]]


def test_minicnn_debug_prints_each_event_live():
    code = ("import minicnn\n"
            "x = minicnn.randn(30, 40).requires_grad_()\n"
            "(x @ minicnn.randn(40, 20)).sum().backward()\n")
    env = dict(os.environ, MINICNN_DEBUG="1")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300, cwd=os.getcwd())
    lines = [line for line in done.stderr.splitlines() if line.startswith("minicnn ")]
    assert [tuple(line.split()[1:3]) for line in lines] == [
        ("forward", "MatMul"), ("forward", "Sum"), ("backward", "SumBackward"),
        ("backward", "MatMulBackward")]
    assert lines[0].split()[4:6] == ["0.048", "MFLOP"]  # 2 * 30 * 20 * 40
    assert lines[0].endswith("[[30, 40], [40, 20]]")


def test_the_rows_self_times_add_up_to_the_step_on_a_ticking_clock(monkeypatch):
    """A clock that advances 1 us per reading: each op reads it at its start and end, and the
    ``step`` block around them once before and once after, so for ``n`` ops each op lasts
    1 us, the block ``2n + 1`` us (``n + 1`` of them its own), and the self times of all rows
    add up to the block's time: nothing counted twice, nothing left out."""
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    x, y = minicnn.randn(2, 1, 8, 8), minicnn.tensor([0, 2])
    ticks = itertools.count(0, 1000)
    monkeypatch.setattr(minicnn.profiler, "time",
                        types.SimpleNamespace(perf_counter_ns=lambda: next(ticks)))
    with profile() as prof:
        with record_function("step"):
            nn.CrossEntropyLoss()(model(x), y).backward()
    step = next(e for e in prof.events() if e.name == "step")
    ops = [e for e in prof.events() if e.name != "step"]
    assert {"Conv2d", "Conv2dBackward", "BatchNormReLUMaxPool"} <= {e.name for e in ops}
    assert [e.duration_ns for e in ops] == [1000] * len(ops)
    assert step.duration_ns == (2 * len(ops) + 1) * 1000
    assert step.self_ns == (len(ops) + 1) * 1000  # the readings between the ops
    assert prof.key_averages().self_cpu_time_total == (2 * len(ops) + 1)
