"""The ``numba`` set's convolution kernels (``minicnn/kernels/numba/conv.py`` and the
modules its ``path`` picks from), each forced on every geometry it serves, against the
reference in float32 and float64: batch 1, odd sizes, stride larger than the kernel,
padding, dilation, and the work split into several blocks of samples or bands of rows."""
import numba
import numpy as np
import pytest

from minicnn import backend
from minicnn.kernels import Window, reference
from minicnn.kernels.numba import (
    conv,
    conv_batched,
    conv_depthwise,
    conv_fft,
    conv_pointwise,
    conv_winograd,
)
from tests.engine.kernels.test_kernels import check_depthwise

RTOL = {np.float32: 1e-4, np.float64: 1e-10}
GEOMETRIES = [  # (N, C, H, W, F, window)
    (1, 3, 5, 7, 8, Window(3, 3, 1, 1, 1, 1)), (2, 4, 9, 7, 6, Window(2, 2, 3, 3)),
    (3, 2, 11, 5, 5, Window(1, 3, 4, 2, 0, 1)), (1, 5, 7, 9, 3, Window(3, 2, 5, 4, 1, 1, 1, 2)),
    (5, 6, 4, 4, 16, Window(3, 3, 1, 1, 1, 1)), (4, 7, 2, 2, 9, Window(3, 3, 1, 1, 1, 1)),
    (3, 8, 6, 6, 12, Window(1, 1, 2, 2)), (2, 5, 7, 5, 3, Window(1, 1)),
    (1, 4, 7, 8, 6, Window(1, 1, 3, 2)), (2, 3, 5, 5, 4, Window(1, 1, 1, 1, 1, 0)),
    (2, 3, 6, 5, 4, Window(3, 3)), (1, 2, 3, 3, 5, Window(3, 3, 1, 1, 2, 2)),
    (3, 4, 1, 6, 2, Window(3, 3, 1, 1, 1, 1)), (2, 1, 6, 7, 3, Window(3, 3, 1, 1, 1, 1)),
    (1, 1, 5, 5, 2, Window(2, 3, 2, 1)),
    # one channel at stride 1: a kernel row's taps eight at a time (two groups for 10 taps),
    # and with dilation the per-tap kernel
    (2, 1, 9, 11, 3, Window(7, 7, 1, 1, 1, 1)), (1, 1, 6, 8, 4, Window(5, 5, 1, 1, 2, 2)),
    (3, 1, 4, 13, 2, Window(2, 10, 1, 1, 0, 1)), (2, 1, 5, 6, 3, Window(1, 1)),
    (2, 1, 7, 7, 2, Window(3, 3, 1, 1, 1, 1, 2, 2)),
    # a stacked input gradient with fewer rows than filters per thread: the filters split
    (2, 8, 2, 2, 25, Window(3, 3, 1, 1, 1, 1)),
    # fewer filters than channels at stride 1: the input gradient is a convolution of g
    (2, 6, 7, 6, 3, Window(3, 3)), (1, 5, 6, 7, 2, Window(2, 3, 1, 1, 1, 2))]


def serves(kind, c, win):
    if kind == "one-channel":
        return c == 1
    if kind.startswith("winograd"):
        return conv_winograd.takes(win)
    if kind == "pointwise":
        return conv_pointwise.takes(win)
    return True


CASES = [(geometry, kind) for geometry in GEOMETRIES for kind in conv.PATHS
         if serves(kind, geometry[1], geometry[5])]


def close(ours, expected, dtype, what):
    scale = float(np.abs(expected).max(initial=0.0))
    np.testing.assert_allclose(ours, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * scale,
                               err_msg=what)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("split", [False, True], ids=["whole", "split"])
@pytest.mark.parametrize(("geometry", "kind"), CASES, ids=str)
def test_every_path_matches_the_reference(monkeypatch, geometry, kind, split, dtype):
    """``split``: the stacked product takes one sample per block, the per-sample one one
    output row per band, Winograd per sample one tile row per band and the DFT's products
    one frequency per block; the stacked input
    gradient of ``(2, 8, 2, 2, 25)`` splits its 25 filters over the threads."""
    monkeypatch.setattr(conv, "path", lambda *shape: kind)
    if split:
        monkeypatch.setattr(conv_batched, "BLOCK_BYTES", 1)
        monkeypatch.setattr(conv, "BAND_BYTES", 1)
        monkeypatch.setattr(conv_fft, "BLOCK_BYTES", 1)
        monkeypatch.setattr(conv_winograd, "BAND_BYTES", 1)
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
    for needs in ((True, False, False), (False, True, False), (False, False, True)):
        alone = conv.conv2d_backward(g, saved, x, weight, win, *needs)
        for part, wanted, a, b in zip(("input", "weight", "bias"), needs, alone, expected):
            if wanted:
                close(a, b, dtype, f"gradient of the {part} alone")
            else:
                assert a is None, part


def test_the_input_gradient_is_a_convolution_where_filters_are_fewer_at_stride_one():
    assert conv.input_gradient_as_convolution(48, 12, Window(3, 3, 1, 1, 1, 1))
    assert not conv.input_gradient_as_convolution(12, 48, Window(3, 3, 1, 1, 1, 1))
    assert not conv.input_gradient_as_convolution(48, 12, Window(3, 3, 2, 2, 1, 1))
    assert not conv.input_gradient_as_convolution(48, 12, Window(1, 1))
    assert not conv.input_gradient_as_convolution(48, 12, Window(3, 3, 1, 1, 3, 3))


@pytest.mark.parametrize(("channels", "filters", "pixels", "win", "samples", "kind"), [
    (1, 16, 128 * 128, Window(3, 3, 1, 1, 1, 1), 32, "one-channel"),
    (1, 16, 63 * 63, Window(3, 3, 2, 2), 32, "per-sample"),
    (128, 128, 16 * 16, Window(3, 3, 1, 1, 1, 1), 32, "winograd"),
    (128, 128, 32 * 32, Window(3, 3, 1, 1, 1, 1), 32, "winograd-per-sample"),
    (64, 128, 16 * 16, Window(3, 3, 1, 1, 1, 1), 32, "winograd-per-sample"),
    (128, 128, 16 * 16, Window(3, 3, 1, 1, 1, 1), 2, "winograd"),
    (128, 256, 8 * 8, Window(3, 3, 1, 1, 1, 1), 32, "winograd"),
    (16, 32, 64 * 64, Window(3, 3, 1, 1, 1, 1), 32, "winograd-per-sample"),
    (16, 32, 64 * 64, Window(3, 3, 1, 1, 1, 1), 2, "winograd-per-sample"),
    (16, 32, 8 * 8, Window(3, 3, 1, 1, 1, 1), 2, "per-sample"),
    (6, 32, 64 * 64, Window(3, 3, 1, 1, 1, 1), 32, "per-sample"),
    (48, 12, 32 * 32, Window(3, 3, 1, 1, 1, 1), 32, "winograd-per-sample"),
    (48, 12, 8 * 8, Window(3, 3, 1, 1, 1, 1), 32, "per-sample"),
    (512, 512, 2 * 2, Window(3, 3, 1, 1, 1, 1), 32, "winograd"),
    (128, 256, 8 * 8, Window(3, 3, 1, 1, 1, 1), 2, "winograd"),
    (512, 512, 4 * 4, Window(3, 3, 1, 1, 1, 1), 2, "stacked"),
    (512, 512, 2 * 2, Window(3, 3, 1, 1, 1, 1), 8, "stacked"),
    (64, 64, 32 * 32, Window(3, 3, 1, 1, 1, 1), 1, "winograd"),
    (32, 64, 32 * 32, Window(3, 3, 1, 1, 1, 1), 32, "winograd-per-sample"),
    (256, 512, 4 * 4, Window(3, 3, 2, 2, 1, 1), 32, "stacked"),
    (256, 512, 4 * 4, Window(1, 1, 2, 2), 32, "stacked"),
    (320, 1280, 4 * 4, Window(1, 1), 32, "per-sample"),
    (320, 1280, 4 * 4, Window(1, 1), 8, "stacked"),
    (960, 320, 4 * 4, Window(1, 1), 32, "per-sample"),
    (960, 320, 4 * 4, Window(1, 1), 2, "stacked"),
    (24, 144, 32 * 32, Window(1, 1), 32, "pointwise"),
    (576, 96, 8 * 8, Window(1, 1), 128, "pointwise"),
    (96, 576, 8 * 8, Window(1, 1), 32, "pointwise"),
    (960, 160, 4 * 4, Window(1, 1), 8, "stacked"),
    (64, 128, 16 * 16, Window(3, 3, 2, 2, 1, 1), 32, "per-sample"),
    (128, 256, 8 * 8, Window(3, 3, 2, 2, 1, 1), 32, "per-sample"),
    (128, 256, 8 * 8, Window(3, 3, 2, 2, 1, 1), 2, "stacked"),
    (32, 64, 58 * 58, Window(7, 7, 1, 1, 1, 1), 32, "fft"),
    (16, 32, 56 * 56, Window(7, 7, 1, 1, 1, 1), 16, "fft"),
    (16, 32, 56 * 56, Window(7, 7, 1, 1, 1, 1), 8, "per-sample"),
    (64, 128, 25 * 25, Window(7, 7, 1, 1, 1, 1), 2, "per-sample"),
    (32, 64, 28 * 28, Window(5, 5, 1, 1, 1, 1), 32, "fft"),
    (32, 64, 28 * 28, Window(5, 5, 1, 1, 1, 1), 16, "per-sample"),
    (32, 64, 28 * 28, Window(7, 7, 2, 2, 1, 1), 32, "per-sample"),
    (3, 64, 58 * 58, Window(7, 7, 1, 1, 1, 1), 32, "per-sample")])
def test_the_path_each_layer_of_the_benchmarked_networks_takes(channels, filters, pixels, win,
                                                                samples, kind):
    assert conv.path(channels, filters, pixels, win, samples) == kind


def test_small_samples_are_multiplied_several_at_a_time_in_tasks_the_threads_share_evenly():
    threads = numba.get_num_threads()
    depth, filters = 128 * 9, 256  # 128->256, 3x3 at stride 2 on 16x16: 8x8 outputs
    most = conv.BAND_BYTES // (64 * depth * 4)
    group = conv.samples_per_task(32, 64, depth, filters, 4)
    tasks = -(-32 // group)
    assert 1 < group <= most and tasks % threads == 0
    assert conv.samples_per_task(32, 256, 64 * 9, 128, 4) == 1  # as many pixels as filters
    assert conv.samples_per_task(32, 64, depth, filters, 4) * 64 >= filters
    assert conv.samples_per_task(1, 64, depth, filters, 4) == 1


DEPTHWISE = [  # (N, C, H, W, window): batch 1, odd sizes, stride above the kernel, dilation
    (1, 5, 7, 6, Window(3, 3, 1, 1, 1, 1)), (2, 3, 9, 8, Window(3, 3, 2, 2, 1, 1)),
    (2, 4, 9, 8, Window(3, 2, 2, 3, 1, 0, 2, 1)), (3, 6, 5, 7, Window(2, 2, 3, 3)),
    (1, 7, 4, 4, Window(3, 3, 1, 1, 1, 1)), (2, 2, 1, 5, Window(1, 3, 1, 2, 0, 1))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("last", [False, True], ids=["planes", "channels-last"])
@pytest.mark.parametrize("geometry", DEPTHWISE, ids=str)
def test_both_depthwise_kernels_match_the_reference(monkeypatch, geometry, last, dtype):
    monkeypatch.setattr(conv_depthwise, "channels_last", lambda *shape: last)
    check_depthwise(backend.kernel_set("numba"), "numba", dtype, geometry, 5, 1)


def test_small_maps_with_many_channels_take_the_channels_last_depthwise_kernel():
    assert conv_depthwise.channels_last(960, 960, 4 * 4)
    assert conv_depthwise.channels_last(192, 192, 8 * 8)
    assert conv_depthwise.channels_last(192, 192, 16 * 16)
    assert not conv_depthwise.channels_last(96, 96, 32 * 32)
    assert not conv_depthwise.channels_last(144, 144, 32 * 32)
    assert not conv_depthwise.channels_last(960, 1920, 4 * 4)  # multiplier 2
