"""The kernel contract: every set agrees with the plain-loop reference on random geometries,
in float32 (rtol 1e-4) and float64 (rtol 1e-10), with the same max-pooling tie rule.
The CuPy set runs the same checks on a GPU (marked ``gpu``)."""
import importlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicnn import backend
from minicnn.gradcheck.cases import off_kinks
from minicnn.kernels import Window, reference

RTOL = {np.float32: 1e-4, np.float64: 1e-10}
CPU_SETS = [name for name in backend.kernel_set_names(cpu_only=True) if name != "reference"]
GPU = pytest.param("cupy", marks=pytest.mark.gpu)
SETS = CPU_SETS + [GPU]


def kernel_set(name):
    if name == "cupy" and not backend.cuda_available():
        pytest.skip("no CUDA device with CuPy on this machine")
    return importlib.import_module(backend._KERNEL_SETS[name])


def on(name, array):
    return backend.to_device(array, "cuda" if name == "cupy" else "cpu")


def host(array):
    return None if array is None else np.asarray(backend.to_device(array, "cpu"))


def close(ours, expected, dtype, what=""):
    ours, expected = host(ours), np.asarray(expected)
    assert ours.shape == expected.shape, what
    scale = float(np.abs(expected).max(initial=0.0))
    np.testing.assert_allclose(ours, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * scale, err_msg=what)


@st.composite
def geometries(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    win = Window(kh, kw, draw(st.integers(1, 4)), draw(st.integers(1, 4)), ph, pw, dh, dw)
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 9))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 9))
    return draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w, win


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SETS)
@settings(max_examples=40, deadline=None)
@given(geometry=geometries(), seed=st.integers(0, 2**16), filters=st.integers(1, 4))
def test_kernel_set_matches_reference(name, dtype, geometry, seed, filters):
    kernels = kernel_set(name)
    n, c, h, w, win = geometry
    rng = np.random.default_rng(seed)
    x = off_kinks(rng, (n, c, h, w)).astype(dtype)
    xd = on(name, x)

    col = kernels.im2col(xd, win)
    assert np.array_equal(host(col), reference.im2col(x, win))
    close(kernels.col2im(col, win, h, w), reference.col2im(reference.im2col(x, win), win, h, w), dtype, "col2im")

    y, argmax = kernels.maxpool2d_forward(xd, win)
    y_ref, argmax_ref = reference.maxpool2d_forward(x, win)
    assert np.array_equal(host(y), y_ref) and np.array_equal(host(argmax), argmax_ref)
    g = rng.standard_normal(y_ref.shape).astype(dtype)
    close(kernels.maxpool2d_backward(on(name, g), argmax, win, h, w),
          reference.maxpool2d_backward(g, argmax_ref, win, h, w), dtype, "maxpool backward")

    weight = rng.standard_normal((filters, c, win.kh, win.kw)).astype(dtype)
    bias = rng.standard_normal(filters).astype(dtype)
    y, saved = kernels.conv2d_forward(xd, on(name, weight), on(name, bias), win)
    y_ref, saved_ref = reference.conv2d_forward(x, weight, bias, win)
    close(y, y_ref, dtype, "conv forward")
    g = rng.standard_normal(y_ref.shape).astype(dtype)
    ours = kernels.conv2d_backward(on(name, g), saved, xd, on(name, weight), win, True, True, True)
    expected = reference.conv2d_backward(g, saved_ref, x, weight, win, True, True, True)
    for part, a, b in zip(("input", "weight", "bias"), ours, expected):
        close(a, b, dtype, f"conv gradient of the {part}")
    only_w = kernels.conv2d_backward(on(name, g), saved, xd, on(name, weight), win, False, True, False)
    assert only_w[0] is None and only_w[2] is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("batch_stats", [True, False])
def test_batchnorm_and_relu_match_reference(name, dtype, batch_stats):
    kernels = kernel_set(name)
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((3, 4, 5, 6)) * 2 + 1).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    weight, bias = rng.uniform(0.5, 1.5, 4).astype(dtype), rng.standard_normal(4).astype(dtype)
    mean, var = kernels.batchnorm_stats(on(name, x))
    mean_ref, var_ref = reference.batchnorm_stats(x)
    close(mean, mean_ref, dtype, "mean")
    close(var, var_ref, dtype, "var")
    running = [rng.standard_normal(4).astype(dtype), rng.uniform(0.5, 1.5, 4).astype(dtype)]
    expected_running = [r.copy() for r in running]
    on_set = [on(name, r) for r in running]
    inv_std = kernels.batchnorm_inv_std(on(name, var_ref), 1e-5, on(name, mean_ref), *on_set, 0.1, 90)
    expected = reference.batchnorm_inv_std(var_ref, 1e-5, mean_ref, *expected_running, 0.1, 90)
    close(inv_std, expected, dtype, "inverse deviation")
    for ours, theirs in zip(on_set, expected_running):
        close(ours, theirs, dtype, "running estimate")
    close(kernels.batchnorm_inv_std(on(name, var_ref), 1e-5), expected, dtype, "inverse deviation, eval")
    inv_std = (1 / np.sqrt(var_ref + 1e-5)).astype(dtype)
    args = [on(name, a) for a in (mean_ref, inv_std, weight)]
    close(kernels.batchnorm_apply(on(name, x), *args, on(name, bias)),
          reference.batchnorm_apply(x, mean_ref, inv_std, weight, bias), dtype, "batchnorm apply")
    ours = kernels.batchnorm_backward(on(name, g), on(name, x), *args, batch_stats)
    expected = reference.batchnorm_backward(g, x, mean_ref, inv_std, weight, batch_stats)
    for part, a, b in zip(("input", "weight", "bias"), ours, expected):
        close(a, b, dtype, f"batchnorm gradient of the {part}")
    y = kernels.relu_forward(on(name, x))
    close(y, reference.relu_forward(x), dtype, "relu")
    close(kernels.relu_backward(on(name, g), y), reference.relu_backward(g, reference.relu_forward(x)),
          dtype, "relu backward")


@st.composite
def pool_geometries(draw):
    """Half the time the 2x2 stride-2 window (the Numba set's fused path), odd sizes too."""
    if draw(st.booleans()):
        return draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(2, 9)), \
            draw(st.integers(2, 9)), Window(2, 2, 2, 2)
    return draw(geometries())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SETS)
@settings(max_examples=40, deadline=None)
@given(geometry=pool_geometries(), seed=st.integers(0, 2**16), batch_stats=st.booleans())
def test_fused_batchnorm_relu_maxpool_matches_reference(name, dtype, geometry, seed, batch_stats):
    """Against the reference composition; and its output is bit for bit the set's own
    batch norm, ReLU and max pooling one after the other."""
    kernels = kernel_set(name)
    n, c, h, w, win = geometry
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, c, h, w)) * 2 + 0.5).astype(dtype)
    mean, var = reference.batchnorm_stats(x)
    inv_std = (1 / np.sqrt(var + 1e-5)).astype(dtype)
    weight, bias = rng.uniform(0.5, 1.5, c).astype(dtype), rng.standard_normal(c).astype(dtype)
    args = [on(name, a) for a in (mean, inv_std, weight)]
    xd = on(name, x)
    y, saved = kernels.batchnorm_relu_maxpool_forward(xd, *args, on(name, bias), win)
    y_ref, saved_ref = reference.batchnorm_relu_maxpool_forward(x, mean, inv_std, weight, bias, win)
    close(y, y_ref, dtype, "fused forward")
    chain = kernels.maxpool2d_forward(kernels.relu_forward(kernels.batchnorm_apply(xd, *args, on(name, bias))), win)[0]
    assert np.array_equal(host(y), host(chain))
    g = rng.standard_normal(y_ref.shape).astype(dtype)
    ours = kernels.batchnorm_relu_maxpool_backward(on(name, g), y, saved, xd, *args, batch_stats, win)
    expected = reference.batchnorm_relu_maxpool_backward(g, y_ref, saved_ref, x, mean, inv_std, weight,
                                                         batch_stats, win)
    for part, a, b in zip(("input", "weight", "bias"), ours, expected):
        close(a, b, dtype, f"fused gradient of the {part}")
    only_x = kernels.batchnorm_relu_maxpool_backward(on(name, g), y, saved, xd, *args, batch_stats, win,
                                                     True, False, False)
    assert only_x[1] is None and only_x[2] is None
    close(only_x[0], expected[0], dtype, "fused gradient of the input alone")


@pytest.mark.parametrize("name", ["reference"] + SETS)
def test_max_pool_ties_go_to_the_first_maximum_in_row_major_order(name):
    kernels = kernel_set(name)
    x = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])
    _, argmax = kernels.maxpool2d_forward(on(name, x), Window(2, 2, 2, 2))
    assert int(host(argmax).item()) == 1


def test_col2im_is_the_adjoint_of_im2col():
    """<im2col(x), c> == <x, col2im(c)> for every x, c: the defining property of backward."""
    rng = np.random.default_rng(0)
    win = Window(3, 2, 2, 1, 1, 1, 1, 2)
    x = rng.standard_normal((2, 3, 7, 6))
    c = rng.standard_normal(reference.im2col(x, win).shape)
    assert np.isclose(np.sum(reference.im2col(x, win) * c), np.sum(x * reference.col2im(c, win, 7, 6)))


def test_use_kernels_switches_the_set_for_a_block():
    x = np.zeros((1, 1, 2, 2))
    with backend.use_kernels("reference"):
        assert backend.kernels_of(x) is reference
    assert backend.kernels_of(x) is not reference
    with pytest.raises(ValueError, match="unknown kernel set"):
        with backend.use_kernels("nope"):
            pass


def test_numba_is_the_cpu_default_and_the_environment_can_choose(monkeypatch):
    assert backend.kernels_of(np.zeros(1)).__name__ == "minicnn.kernels.cpu"
    monkeypatch.setenv("MINICNN_KERNELS", "numpy")
    assert backend._cpu_default() == "numpy"
    monkeypatch.setenv("MINICNN_KERNELS", "fortran")
    with pytest.raises(ValueError, match="MINICNN_KERNELS"):
        backend._cpu_default()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SETS)
def test_the_common_2x2_pooling_on_odd_sizes(name, dtype):
    """Kernel 2, stride 2 leaves the last row and column of an odd-sized input uncovered:
    their gradient must be zero (the Numba set has a fast path for this window)."""
    kernels = kernel_set(name)
    rng = np.random.default_rng(5)
    x = off_kinks(rng, (2, 3, 5, 7)).astype(dtype)
    win = Window(2, 2, 2, 2)
    y, argmax = kernels.maxpool2d_forward(on(name, x), win)
    y_ref, argmax_ref = reference.maxpool2d_forward(x, win)
    assert np.array_equal(host(y), y_ref) and np.array_equal(host(argmax), argmax_ref)
    g = rng.standard_normal(y_ref.shape).astype(dtype)
    grad = host(kernels.maxpool2d_backward(on(name, g), argmax, win, 5, 7))
    assert np.array_equal(grad, reference.maxpool2d_backward(g, argmax_ref, win, 5, 7))
    assert not grad[:, :, 4, :].any() and not grad[:, :, :, 6].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("padding", [(0, 0), (1, 1), (2, 1)])
def test_the_common_3x3_convolution_of_one_channel(name, dtype, padding):
    """A one-channel input with a 3x3 window and stride 1 (the first layer of the study's
    networks; the Numba set has an unrolled direct kernel for it) against the reference."""
    kernels = kernel_set(name)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 1, 6, 9)).astype(dtype)
    weight, bias = rng.standard_normal((4, 1, 3, 3)).astype(dtype), rng.standard_normal(4).astype(dtype)
    win = Window(3, 3, 1, 1, *padding)
    y, saved = kernels.conv2d_forward(on(name, x), on(name, weight), on(name, bias), win)
    y_ref, saved_ref = reference.conv2d_forward(x, weight, bias, win)
    close(y, y_ref, dtype, "conv forward")
    g = rng.standard_normal(y_ref.shape).astype(dtype)
    ours = kernels.conv2d_backward(on(name, g), saved, on(name, x), on(name, weight), win, True, True, True)
    expected = reference.conv2d_backward(g, saved_ref, x, weight, win, True, True, True)
    for part, a, b in zip(("input", "weight", "bias"), ours, expected):
        close(a, b, dtype, f"conv gradient of the {part}")


def test_thread_count_follows_the_environment(monkeypatch):
    monkeypatch.setenv("MINICNN_NUM_THREADS", "1")
    assert backend.num_threads() == 1
    monkeypatch.delenv("MINICNN_NUM_THREADS")
    assert backend.num_threads() >= 1
    with pytest.raises(ValueError, match="at least 1 thread"):
        backend.set_num_threads(0)


def test_a_private_kernel_cache_only_before_the_kernels_load():
    import subprocess
    import sys
    code = ("import minicnn, numba; d = minicnn.backend.use_private_kernel_cache(); "
            "import numpy as np; minicnn.nn.ReLU()(minicnn.ones(2)); import os; "
            "print(d is not None and numba.config.CACHE_DIR == d and any(os.scandir(d)))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "True"
    backend.kernels_of(np.zeros(1))  # this process loads the kernels (if no test did yet) ...
    assert backend.use_private_kernel_cache() is None  # ... so its cache stays where it is
