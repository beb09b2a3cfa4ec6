"""minicnn.summary on the proposal's SimpleCNN, against hand-computed values."""
import io

import numpy as np

import minicnn
from experiments.models import proposal_simple_cnn


def test_simplecnn_summary():
    model = proposal_simple_cnn(minicnn.nn)
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
    assert params[0] == 16 * 9 + 16 and params[4] == 32 * 16 * 9 + 32 and params[12] == 16384 * 5 + 5
    assert result["rows"][0][4] == 128 * 128 * 16 * 9  # conv1 multiply-accumulates
    assert "105,445" in text.getvalue()
    assert model.training and np.array_equal(model.conv_layer1[1].running_mean.numpy(), before)
    assert "forward" not in model.conv_layer1[0].__dict__  # the recorders are gone
