"""The ``numba`` set's convolution paths, a product per sample (``conv.py``, and
``conv_pointwise.py`` for 1 x 1 windows without padding) and all samples' columns in one
product (``conv_batched.py``), each forced on, against the reference in float32 and
float64: batch 1, odd sizes, stride larger than the kernel, padding, dilation, and the
batch split into several blocks."""
import numpy as np
import pytest

from minicnn.kernels import Window, reference
from minicnn.kernels.numba import conv, conv_batched

RTOL = {np.float32: 1e-4, np.float64: 1e-10}
GEOMETRIES = [  # (N, C, H, W, F, window)
    (1, 3, 5, 7, 8, Window(3, 3, 1, 1, 1, 1)), (2, 4, 9, 7, 6, Window(2, 2, 3, 3)),
    (3, 2, 11, 5, 5, Window(1, 3, 4, 2, 0, 1)), (1, 5, 7, 9, 3, Window(3, 2, 5, 4, 1, 1, 1, 2)),
    (5, 6, 4, 4, 16, Window(3, 3, 1, 1, 1, 1)), (4, 7, 2, 2, 9, Window(3, 3, 1, 1, 1, 1)),
    (3, 8, 6, 6, 12, Window(1, 1, 2, 2)), (2, 5, 7, 5, 3, Window(1, 1)),
    (1, 4, 7, 8, 6, Window(1, 1, 3, 2)), (2, 3, 5, 5, 4, Window(1, 1, 1, 1, 1, 0))]


def close(ours, expected, dtype, what):
    scale = float(np.abs(expected).max(initial=0.0))
    np.testing.assert_allclose(ours, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * scale,
                               err_msg=what)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("stacked", [False, True], ids=["per-sample", "stacked"])
@pytest.mark.parametrize("block_bytes", [conv_batched.BLOCK_BYTES, 1], ids=["one", "blocks"])
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
def test_both_paths_match_the_reference(monkeypatch, geometry, block_bytes, stacked, dtype):
    monkeypatch.setattr(conv, "stacks_samples", lambda pixels, filters: stacked)
    monkeypatch.setattr(conv_batched, "BLOCK_BYTES", block_bytes)
    n, c, h, w, f, win = geometry
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = rng.standard_normal((f, c, win.kh, win.kw)).astype(dtype)
    bias = rng.standard_normal(f).astype(dtype)
    y, saved = conv.conv2d_forward(x, weight, bias, win)
    y_ref, saved_ref = reference.conv2d_forward(x, weight, bias, win)
    close(y, y_ref, dtype, "forward")
    g = rng.standard_normal(y_ref.shape).astype(dtype)
    expected = reference.conv2d_backward(g, saved_ref, x, weight, win, True, True, True)
    ours = conv.conv2d_backward(g, saved, x, weight, win, True, True, True)
    for part, a, b in zip(("input", "weight", "bias"), ours, expected):
        close(a, b, dtype, f"gradient of the {part}")
    only_x = conv.conv2d_backward(g, saved, x, weight, win, True, False, False)
    close(only_x[0], expected[0], dtype, "input gradient alone")
    assert only_x[1] is None and only_x[2] is None
    only_w = conv.conv2d_backward(g, saved, x, weight, win, False, True, False)
    close(only_w[1], expected[1], dtype, "weight gradient alone")
    assert only_w[0] is None and only_w[2] is None


def test_the_rule_stacks_where_the_weight_has_more_rows_than_a_sample_has_pixels():
    assert conv.stacks_samples(4 * 4, 512) and conv.stacks_samples(8 * 8, 128)
    assert not conv.stacks_samples(32 * 32, 64) and not conv.stacks_samples(16 * 16, 128)
