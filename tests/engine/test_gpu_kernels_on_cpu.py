"""The CUDA kernels' index arithmetic, checked on the CPU: each RawKernel source of
``minicnn/kernels/gpu.py`` is compiled as plain C++ (with ``blockIdx`` and ``threadIdx``
as globals), every thread of the grid is run in turn, and the result is held to the
reference set. This runs everywhere; the ``gpu`` tests run the same kernels on a device.
"""
import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from minicnn.gradcheck.cases import off_kinks
from minicnn.kernels import Window, gpu, reference

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++ to compile the kernels")

HOST = r"""
#include <cmath>
using std::sqrt;
struct Dim { unsigned x; };
static Dim blockIdx, blockDim, threadIdx;
#define __global__
extern "C" void set_thread(unsigned block, unsigned size, unsigned thread) {
    blockIdx.x = block; blockDim.x = size; threadIdx.x = thread;
}
"""

# The kernels with one thread per output; the batch-norm plane sums use a shared-memory
# tree across a block, which this sequential host cannot run (the gpu tests cover them).
SOURCES = {f"{kind}_{layout}": source(layout) for layout in ("batch", "rows")
           for kind, source in (("im2col", gpu._im2col_source), ("col2im", gpu._col2im_source))}
SOURCES.update({"rows_to_batch": gpu._ROWS_TO_BATCH, "batch_to_rows": gpu._BATCH_TO_ROWS,
           "maxpool_forward": gpu._MAXPOOL_FORWARD,
           "maxpool_backward": gpu._MAXPOOL_BACKWARD, "bn_combine_stats": gpu._BN_COMBINE_STATS,
           "bn_combine_grad_sums": gpu._BN_COMBINE_GRAD_SUMS, "bn_apply": gpu._BN_APPLY,
           "bn_grad_input": gpu._BN_GRAD_INPUT, "bn_inv_std": gpu._BN_INV_STD})


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    """{(name, ctype): (library, function)} for float and double."""
    folder = tmp_path_factory.mktemp("cuda_on_cpu")
    built = {}
    for name, source in SOURCES.items():
        for ctype in ("float", "double"):
            cpp, lib = folder / f"{name}_{ctype}.cpp", folder / f"{name}_{ctype}.so"
            cpp.write_text(HOST + source.replace("{ctype}", ctype))
            subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-o", str(lib), str(cpp)], check=True)
            library = ctypes.CDLL(str(lib))
            built[name, ctype] = (library, getattr(library, name))
    return built


def run(kernels, name, dtype, total, *args):
    """Every thread of the grid, one after another, as ``gpu._launch`` would start them."""
    library, kernel = kernels[name, "float" if dtype == np.float32 else "double"]
    scalar = ctypes.c_float if dtype == np.float32 else ctypes.c_double
    converted = []
    for a in args:
        if isinstance(a, np.ndarray):
            converted.append(ctypes.c_void_p(a.ctypes.data))
        elif isinstance(a, np.int64):
            converted.append(ctypes.c_longlong(int(a)))
        elif isinstance(a, np.int32):
            converted.append(ctypes.c_int(int(a)))
        else:
            converted.append(scalar(float(a)))
    for index in range(total):
        library.set_thread(index // gpu.THREADS, gpu.THREADS, index % gpu.THREADS)
        kernel(*converted)


WINDOWS = [Window(3, 3, 1, 1, 1, 1, 1, 1), Window(2, 2, 2, 2), Window(3, 2, 2, 3, 1, 0, 2, 1),
           Window(2, 3, 3, 1, 1, 1, 1, 2)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("win", WINDOWS, ids=str)
def test_cuda_kernels_match_the_reference(kernels, win, dtype):
    rng = np.random.default_rng(0)
    n, c, h, w = 2, 3, 7, 6
    x = off_kinks(rng, (n, c, h, w)).astype(dtype)
    oh, ow = win.out_shape(h, w)
    geometry = [np.int32(v) for v in (c, h, w)] + list(gpu._geometry(win, oh, ow))

    col = np.empty((n, c, win.kh, win.kw, oh, ow), dtype)
    run(kernels, "im2col_batch", dtype, col.size, x, col, dtype(0), np.int64(col.size), np.int32(n), *geometry)
    assert np.array_equal(col, reference.im2col(x, win))
    rows = np.empty((c, win.kh, win.kw, n, oh, ow), dtype)
    run(kernels, "im2col_rows", dtype, rows.size, x, rows, dtype(0), np.int64(rows.size), np.int32(n), *geometry)
    assert np.array_equal(rows, col.transpose(1, 2, 3, 0, 4, 5))

    image = np.empty_like(x)
    run(kernels, "col2im_batch", dtype, image.size, col, image, np.int64(image.size), np.int32(n), *geometry)
    np.testing.assert_allclose(image, reference.col2im(col, win, h, w), rtol=1e-6)
    from_rows = np.empty_like(x)
    run(kernels, "col2im_rows", dtype, x.size, rows, from_rows, np.int64(x.size), np.int32(n), *geometry)
    assert np.array_equal(from_rows, image)

    y, argmax = np.empty((n, c, oh, ow), dtype), np.empty((n, c, oh, ow), np.int32)
    run(kernels, "maxpool_forward", dtype, y.size, x, y, argmax, dtype(-np.inf), np.int64(y.size), *geometry)
    y_ref, argmax_ref = reference.maxpool2d_forward(x, win)
    assert np.array_equal(y, y_ref) and np.array_equal(argmax, argmax_ref)

    g = rng.standard_normal(y.shape).astype(dtype)
    grad = np.empty_like(x)
    run(kernels, "maxpool_backward", dtype, grad.size, g, argmax, grad, np.int64(grad.size), *geometry)
    np.testing.assert_allclose(grad, reference.maxpool2d_backward(g, argmax_ref, win, h, w), rtol=1e-6)


def test_ties_go_to_the_first_maximum(kernels):
    x = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])
    y, argmax = np.empty((1, 1, 1, 1)), np.empty((1, 1, 1, 1), np.int32)
    geometry = [np.int32(v) for v in (1, 2, 2)] + list(gpu._geometry(Window(2, 2, 2, 2), 1, 1))
    run(kernels, "maxpool_forward", np.float64, 1, x, y, argmax, -np.inf, np.int64(1), *geometry)
    assert argmax.item() == 1 and y.item() == 3.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("batch_stats", [True, False])
def test_batchnorm_kernels_match_the_reference(kernels, dtype, affine, batch_stats):
    """Plane sums (what the per-plane blocks compute) are given here in NumPy; the
    per-channel combination, normalisation and input gradient run as CUDA source."""
    rng = np.random.default_rng(1)
    n, c, h, w = 3, 4, 5, 2
    m = h * w
    x = (rng.standard_normal((n, c, h, w)) * 3 + 5).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    planes = x.reshape(n, c, m).astype(np.float64)
    sums = planes.sum(axis=2).ravel()
    m2 = ((planes - planes.mean(axis=2, keepdims=True)) ** 2).sum(axis=2).ravel()
    mean, var = np.empty(c, dtype), np.empty(c, dtype)
    ints = (np.int32(n), np.int32(c))
    run(kernels, "bn_combine_stats", dtype, c, sums, m2, mean, var, np.int64(c), *ints, np.int64(m))
    mean_ref, var_ref = reference.batchnorm_stats(x)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(mean, mean_ref, rtol=rtol)
    np.testing.assert_allclose(var, var_ref, rtol=rtol)

    inv_std = (1 / np.sqrt(var_ref + 1e-5)).astype(dtype)
    weight, bias = (rng.standard_normal(c).astype(dtype) for _ in range(2))
    flags = (np.int32(affine), np.int32(affine))
    y = np.empty_like(x)
    run(kernels, "bn_apply", dtype, x.size, x, mean_ref, inv_std, weight, bias, y, np.int64(x.size),
        np.int32(c), np.int64(m), *flags)
    expected = reference.batchnorm_apply(x, mean_ref, inv_std, weight if affine else None,
                                         bias if affine else None)
    np.testing.assert_allclose(y, expected, rtol=rtol * 10, atol=rtol)

    g_planes = g.reshape(n, c, m).astype(np.float64)
    planes_g = g_planes.sum(axis=2).ravel()
    planes_g_dev = (g_planes * (planes - mean_ref.reshape(1, c, 1))).sum(axis=2).ravel()
    sum_g, sum_gx = np.empty(c, dtype), np.empty(c, dtype)
    run(kernels, "bn_combine_grad_sums", dtype, c, planes_g, planes_g_dev, inv_std, sum_g, sum_gx,
        np.int64(c), *ints)
    grad_x = np.empty_like(x)
    run(kernels, "bn_grad_input", dtype, x.size, g, x, mean_ref, inv_std, weight, sum_g, sum_gx, grad_x,
        np.int64(x.size), np.int32(c), np.int64(m), dtype(n * m), np.int32(affine), np.int32(batch_stats))
    gx_ref, gw_ref, gb_ref = reference.batchnorm_backward(g, x, mean_ref, inv_std, weight if affine else None,
                                                          batch_stats, True, True, True)
    np.testing.assert_allclose(sum_g, gb_ref, rtol=rtol * 10, atol=rtol)
    np.testing.assert_allclose(sum_gx, gw_ref, rtol=rtol * 10, atol=rtol)
    np.testing.assert_allclose(grad_x, gx_ref, rtol=rtol * 100, atol=rtol * 10)


@pytest.mark.parametrize("bias", [True, False])
def test_the_row_reorderings_of_the_convolution(kernels, bias):
    """``rows (F, N P)`` <-> ``(N, F, P)``, the first adding the bias per filter."""
    rng = np.random.default_rng(2)
    n, f, p = 3, 4, 5
    rows = rng.standard_normal((f, n * p))
    b = rng.standard_normal(f)
    y = np.empty((n, f, p))
    run(kernels, "rows_to_batch", np.float64, y.size, rows, b, y, np.int64(y.size), np.int32(n),
        np.int32(f), np.int64(p), np.int32(bias))
    expected = rows.reshape(f, n, p).transpose(1, 0, 2) + (b.reshape(1, f, 1) if bias else 0)
    np.testing.assert_array_equal(y, expected)
    back = np.empty_like(rows)
    run(kernels, "batch_to_rows", np.float64, y.size, y - (b.reshape(1, f, 1) if bias else 0), back,
        np.int64(y.size), np.int32(n), np.int32(f), np.int64(p))
    np.testing.assert_allclose(back, rows, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_running_estimates_and_inverse_deviation(kernels, dtype):
    rng = np.random.default_rng(3)
    mean, var = rng.standard_normal(5).astype(dtype), rng.uniform(0.1, 2, 5).astype(dtype)
    running = [rng.standard_normal(5).astype(dtype), rng.uniform(0.5, 1.5, 5).astype(dtype)]
    expected_running = [r.copy() for r in running]
    expected = reference.batchnorm_inv_std(var, 1e-5, mean, *expected_running, 0.1, 40)
    inv_std = np.empty_like(var)
    run(kernels, "bn_inv_std", dtype, 5, var, mean, *running, inv_std, np.int64(5), dtype(1e-5),
        dtype(0.1), dtype(40 / 39), np.int32(1))
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(inv_std, expected, rtol=rtol)
    for ours, theirs in zip(running, expected_running):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol)
