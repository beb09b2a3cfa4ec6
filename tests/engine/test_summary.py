"""minicnn.summary on the proposal's SimpleCNN, against hand-computed values."""
import io

import numpy as np

import minicnn
from tests.engine.simple_cnn import simple_cnn


def test_simplecnn_summary():
    model = simple_cnn()
    before = model.conv_layer1[1].running_mean.numpy().copy()
    text = io.StringIO()
    result = minicnn.summary(model, (1, 128, 128), file=text)
    assert result["parameters"] == 105_445 and result["output_shape"] == (1, 5)
    shapes = [row[2] for row in result["rows"]]
    expected = []
    for channels, size in ((16, 128), (32, 64), (64, 32)):
        expected += [(-1, channels, size, size)] * 3 + [(-1, channels, size // 2, size // 2)]
    assert shapes == expected + [(-1, 5)]
    params = [row[3] for row in result["rows"]]
    assert params[0] == 16 * 9 + 16 and params[4] == 32 * 16 * 9 + 32
    assert params[12] == 16384 * 5 + 5
    assert result["rows"][0][4] == 128 * 128 * 16 * 9  # conv1 multiply-accumulates
    assert "105,445" in text.getvalue()
    assert model.training and np.array_equal(model.conv_layer1[1].running_mean.numpy(), before)
    assert "forward" not in model.conv_layer1[0].__dict__  # the recorders are gone


def test_the_size_may_hold_the_batch_dimension_as_torchinfo_takes_it():
    model = simple_cnn()
    without = minicnn.summary(model, (1, 128, 128), file=io.StringIO())
    with_batch = minicnn.summary(model, (1, 1, 128, 128), file=io.StringIO())
    assert with_batch["rows"] == without["rows"] and with_batch["output_shape"] == (1, 5)
    batch_of_3 = minicnn.summary(model, (3, 1, 128, 128), file=io.StringIO())
    assert batch_of_3["output_shape"] == (3, 5)
    assert batch_of_3["rows"] == without["rows"]  # shapes, MACs and bytes are per sample
    assert without["rows"][0][5] == 16 * 128 * 128 * 4  # conv1's float32 output, one sample


def test_a_linear_first_model_takes_its_features_with_or_without_the_batch():
    nn = minicnn.nn
    model = nn.Sequential(nn.Linear(20, 8), nn.ReLU(), nn.Linear(8, 3))
    for size in [(20,), (1, 20)]:
        result = minicnn.summary(model, size, file=io.StringIO())
        assert result["output_shape"] == (1, 3) and [r[2] for r in result["rows"]] == [
            (-1, 8), (-1, 8), (-1, 3)]
        assert result["macs"] == 20 * 8 + 8 * 3
