"""minicnn.profiler: events per op forward and backward, FLOPs and bytes, the table, the
Chrome trace (checked against the trace-event format), MINICNN_DEBUG and the cost when off."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

import minicnn
from minicnn import autograd, nn, optim
from minicnn.nn.fusion import layer_by_layer
from minicnn.profiler import profile, record_function
from tests.engine.simple_cnn import simple_cnn


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


def test_the_table_has_torchs_columns_sorted_and_limited():
    with profile() as prof:
        _small_step()
    averages = prof.key_averages()
    table = averages.table(sort_by="self_cpu_time_total", row_limit=3)
    lines = table.splitlines()
    for column in ("Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                   "# of Calls", "Total MFLOPs", "MB moved", "Kernel set"):
        assert column in lines[1]
    rows = lines[3:6]
    assert lines[6].startswith("---") and lines[7].startswith("Self CPU time total: ")
    biggest = sorted(averages, key=lambda a: a.self_cpu_time_total, reverse=True)[:3]
    assert [r.split()[0] for r in rows] == [a.key for a in biggest]
    with pytest.raises(ValueError, match="sort_by must be one of"):
        averages.table(sort_by="gpu_time")


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


@pytest.mark.slow
def test_a_simple_cnn_step_at_batch_32_is_covered_by_its_rows():
    """The rows' self times add up to nearly all of a training step's wall time (the rest is
    Python between the ops: modules, the tape, the optimizer's loop)."""
    model = simple_cnn()
    opt = optim.SGD(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x, y = minicnn.randn(32, 1, 128, 128), minicnn.tensor(np.arange(32) % 5)

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        with record_function("optimizer.step"):
            opt.step()

    step()  # warm
    with profile() as prof:
        start = time.perf_counter_ns()
        step()
        wall = time.perf_counter_ns() - start
    averages = prof.key_averages()
    names = {a.key for a in averages}
    for op in ("Conv2d", "BatchNormReLUMaxPool", "MatMul", "LogSoftmax"):
        assert op in names and op + "Backward" in names
    covered = averages.self_cpu_time_total * 1e3 / wall
    assert 0.8 < covered <= 1.0, covered
