"""minicnn.viz: the tape drawn (make_dot's Digraph source) and listed (print_tape)."""
import io
import re
import shutil

import numpy as np
import pytest

import minicnn
from minicnn import nn, viz
from minicnn.nn.fusion import layer_by_layer
from tests.engine.simple_cnn import simple_cnn

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed "
                                      "(apt-get install graphviz)")


def _labels(source: str) -> list[str]:
    return [label.replace("\n", " ") for label in re.findall(r'label="([^"]*)"', source)]


def _edges(source: str) -> set[tuple[str, str]]:
    return {(a.strip('"'), b.strip('"')) for a, b in re.findall(r"(\S+) -> (\S+)", source)}


def _simple_cnn_loss(batch=2):
    model = simple_cnn()
    x = minicnn.randn(batch, 1, 128, 128)
    loss = nn.CrossEntropyLoss()(model(x), minicnn.tensor(np.arange(batch) % 5))
    return model, loss


def test_a_hand_built_tape_has_one_box_per_node_and_edges_the_way_backward_walks():
    w = nn.Parameter(np.ones((2, 3), dtype=np.float32))
    doubled = w * 2
    total = doubled.sum()
    source = viz.make_dot(total, params={"w": w}).source
    assert _labels(source) == ["output () float32", "SumBackward () float32",
                               "MulBackward (2, 3) float32", "w (2, 3) float32"]
    out, sum_node, mul_node = f"out{id(total)}", str(id(total.grad_fn)), str(id(doubled.grad_fn))
    assert _edges(source) == {(out, sum_node), (sum_node, mul_node), (mul_node, str(id(w)))}


def test_show_saved_shows_the_saved_arrays_then_that_backward_freed_them():
    w = nn.Parameter(np.ones((2, 3), dtype=np.float64))
    total = (w * w).sum()
    before = _labels(viz.make_dot(total, show_saved=True).source)
    assert before.count("saved 0 (2, 3) float64") == 1 and "saved 1 (2, 3) float64" in before
    total.backward()
    after = _labels(viz.make_dot(total, show_saved=True).source)
    assert after.count("saved: freed") == 2  # Mul's and Sum's (Sum saves nothing: freed too)


def test_simple_cnn_names_every_parameter_and_each_kind_of_layer():
    model, loss = _simple_cnn_loss()
    params = dict(model.named_parameters())
    labels = _labels(viz.make_dot(loss, params=params).source)
    for name, p in params.items():
        assert f"{name} {tuple(p.shape)} float32" in labels
    assert len(params) == 14
    names = [label.split(" ")[0] for label in labels]
    assert names.count("Conv2dBackward") == 3
    assert names.count("BatchNormReLUMaxPoolBackward") == 3  # fused by nn.Sequential
    # each op box says which layer recorded it: its path from params and its class
    assert "Conv2dBackward (2, 16, 128, 128) float32 in conv_layer1.0 (Conv2d)" in labels
    assert ("BatchNormReLUMaxPoolBackward (2, 64, 16, 16) float32 in conv_layer3 (Sequential)"
            in labels)
    assert "ReshapeBackward (2, 16384) float32 in SimpleCNN" in labels  # x.view(...) in forward
    assert "MatMulBackward (2, 5) float32 in fc_layers.0 (Linear)" in labels  # x @ W^T + b
    assert "PermuteBackward (16384, 5) float32 in fc_layers.0 (Linear)" in labels
    assert "AddBackward (2, 5) float32 in fc_layers.0 (Linear)" in labels
    assert "LogSoftmaxBackward (2, 5) float32 in CrossEntropyLoss" in labels
    assert "DivBackward () float32 in CrossEntropyLoss" in labels  # the mean over the batch


def test_layer_by_layer_shows_batch_norm_relu_and_pooling_apart():
    with layer_by_layer():
        _, loss = _simple_cnn_loss()
    names = [label.split(" ")[0] for label in _labels(viz.make_dot(loss).source)]
    for op in ("BatchNormBackward", "ReLUBackward", "MaxPool2dBackward"):
        assert names.count(op) == 3


def test_print_tape_lists_nodes_in_backward_order_with_their_inputs():
    w = nn.Parameter(np.ones((2, 3), dtype=np.float32))
    b = nn.Parameter(np.zeros(3, dtype=np.float32))
    out = io.StringIO()
    viz.print_tape(((w + b) * w).sum(), params={"w": w, "b": b}, file=out)
    assert out.getvalue().splitlines() == [
        "#0  SumBackward  () float32      <- #1",
        "#1  MulBackward  (2, 3) float32  <- #2 #4",
        "#2  AddBackward  (2, 3) float32  <- #4 #3",
        "#3  b            (3,) float32    leaf",
        "#4  w            (2, 3) float32  leaf",
    ]


def test_params_must_be_a_dict():
    w = nn.Parameter(np.ones(2, dtype=np.float32))
    with pytest.raises(TypeError, match="params must be a dict"):
        viz.make_dot(w.sum(), params=[w])


@needs_dot
def test_the_simple_cnn_tape_renders_to_png(tmp_path):
    model, loss = _simple_cnn_loss()
    path = viz.make_dot(loss, params=dict(model.named_parameters())).render(
        tmp_path / "tape", format="png")
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
