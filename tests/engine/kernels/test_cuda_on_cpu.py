"""The CUDA kernels' index arithmetic, checked on the CPU: every source the ``cupy`` set
declares (``minicnn.kernels.cupy.cuda.SOURCES``) is compiled as plain C++ (with ``blockIdx``
and ``threadIdx`` as globals), every thread of the grid is run, and the result is held to
the reference set. Kernels launched one block per plane run the block's threads at once
(OS threads meeting at ``__syncthreads`` on a barrier); elementwise kernels run their body
in a loop. This runs everywhere; the ``gpu`` tests run the same kernels on a device.
"""
import ctypes
import pathlib
import shutil
import subprocess
import threading

import numpy as np
import pytest

import minicnn.kernels.cupy  # noqa: F401 - declares every source
from minicnn.gradcheck.cases import off_kinks
from minicnn.kernels import Window, reference
from minicnn.kernels.cupy import cuda

pytestmark = pytest.mark.skipif(shutil.which("g++") is None,
                                reason="needs g++ to compile the kernels")

HOST = r"""
#include <cmath>
#include <pthread.h>
using std::sqrt;
struct Dim { unsigned x; };
static Dim blockIdx, blockDim;
static thread_local Dim threadIdx;
static pthread_barrier_t block_barrier;
static bool barrier_made = false;
#define __global__
#define __device__
#define __shared__ static
#define __syncthreads() pthread_barrier_wait(&block_barrier)
extern "C" void set_block(unsigned block, unsigned size) {
    blockIdx.x = block; blockDim.x = size;
    if (barrier_made) pthread_barrier_destroy(&block_barrier);
    pthread_barrier_init(&block_barrier, nullptr, size);
    barrier_made = true;
}
extern "C" void set_thread(unsigned thread) { threadIdx.x = thread; }
"""


def elementwise_as_cpp(source: cuda.ElementwiseSource, ctype: str) -> str:
    """The ElementwiseKernel as a C++ loop ``name(inputs..., outputs..., size)``."""
    params = [p.strip().split() for p in (source.inputs + ", " + source.outputs).split(",")]
    inputs = len(source.inputs.split(","))
    pointers = ", ".join(f"{'const ' if k < inputs else ''}T* {name}_"
                         for k, (_, name) in enumerate(params))
    loads = " ".join(f"T {name} = {name}_[i];" for _, name in params)
    stores = " ".join(f"{name}_[i] = {name};" for _, name in params[inputs:])
    return (cuda.HEADER.substitute(ctype=ctype) +
            f'extern "C" void {source.name}({pointers}, long long size) {{\n'
            f"    for (long long i = 0; i < size; ++i) {{ {loads} {source.body} {stores} }}\n}}\n")


def cpp_text(source, ctype: str) -> str:
    if isinstance(source, cuda.ElementwiseSource):
        return HOST + elementwise_as_cpp(source, ctype)
    return HOST + source.text(ctype)


@pytest.fixture(scope="module")
def kernels(tmp_path_factory):
    """{(name, ctype): (library, function)} for float and double, every declared source."""
    folder = tmp_path_factory.mktemp("cuda_on_cpu")
    built = {}
    for name, source in cuda.SOURCES.items():
        for ctype in ("float", "double"):
            cpp, lib = folder / f"{name}_{ctype}.cpp", folder / f"{name}_{ctype}.so"
            cpp.write_text(cpp_text(source, ctype))
            subprocess.run(["g++", "-O1", "-shared", "-fPIC", "-pthread", "-o", str(lib),
                            str(cpp)], check=True)
            library = ctypes.CDLL(str(lib))
            built[name, ctype] = (library, getattr(library, name))
    return built


def _arguments(dtype, args) -> list:
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
    return converted


def run(kernels, name, dtype, count, *args):
    """Launch ``name`` as ``cuda.launch`` would, over ``count`` elements (or planes, for a
    kernel launched per plane), its threads one after another or, per plane, together."""
    source = cuda.SOURCES[name]
    library, kernel = kernels[name, "float" if dtype == np.float32 else "double"]
    converted = _arguments(dtype, args)
    if isinstance(source, cuda.ElementwiseSource):
        kernel(*converted, ctypes.c_longlong(count))
        return
    if not source.per_plane:
        for index in range(count):
            if index % cuda.THREADS == 0:
                library.set_block(index // cuda.THREADS, cuda.THREADS)
            library.set_thread(index % cuda.THREADS)
            kernel(*converted)
        return
    for block in range(count):  # ctypes releases the GIL: the block's threads run at once
        library.set_block(block, cuda.THREADS)

        def thread(t):
            library.set_thread(t)
            kernel(*converted)
        threads = [threading.Thread(target=thread, args=(t,)) for t in range(cuda.THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


WINDOWS = [Window(3, 3, 1, 1, 1, 1, 1, 1), Window(2, 2, 2, 2), Window(3, 2, 2, 3, 1, 0, 2, 1),
           Window(2, 3, 3, 1, 1, 1, 1, 2)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("win", WINDOWS, ids=str)
def test_cuda_kernels_match_the_reference(kernels, win, dtype):
    rng = np.random.default_rng(0)
    n, c, h, w = 2, 3, 7, 6
    x = off_kinks(rng, (n, c, h, w)).astype(dtype)
    oh, ow = win.out_shape(h, w)
    geometry = [np.int32(v) for v in (c, h, w)] + list(cuda.geometry(win, oh, ow))

    col = np.empty((n, c, win.kh, win.kw, oh, ow), dtype)
    run(kernels, "im2col_batch", dtype, col.size, x, col, dtype(0), np.int64(col.size),
        np.int32(n), *geometry)
    assert np.array_equal(col, reference.im2col(x, win))
    rows = np.empty((c, win.kh, win.kw, n, oh, ow), dtype)
    run(kernels, "im2col_rows", dtype, rows.size, x, rows, dtype(0), np.int64(rows.size),
        np.int32(n), *geometry)
    assert np.array_equal(rows, col.transpose(1, 2, 3, 0, 4, 5))

    image = np.empty_like(x)
    run(kernels, "col2im_batch", dtype, image.size, col, image, np.int64(image.size),
        np.int32(n), *geometry)
    np.testing.assert_allclose(image, reference.col2im(col, win, h, w), rtol=1e-6)
    from_rows = np.empty_like(x)
    run(kernels, "col2im_rows", dtype, x.size, rows, from_rows, np.int64(x.size), np.int32(n),
        *geometry)
    assert np.array_equal(from_rows, image)

    y, argmax = np.empty((n, c, oh, ow), dtype), np.empty((n, c, oh, ow), np.int32)
    run(kernels, "maxpool_forward", dtype, y.size, x, y, argmax, dtype(-np.inf),
        np.int64(y.size), *geometry)
    y_ref, argmax_ref = reference.maxpool2d_forward(x, win)
    assert np.array_equal(y, y_ref) and np.array_equal(argmax, argmax_ref)

    g = rng.standard_normal(y.shape).astype(dtype)
    grad = np.empty_like(x)
    run(kernels, "maxpool_backward", dtype, grad.size, g, argmax, grad, np.int64(grad.size),
        *geometry)
    np.testing.assert_allclose(grad, reference.maxpool2d_backward(g, argmax_ref, win, h, w),
                               rtol=1e-6)


def test_ties_go_to_the_first_maximum(kernels):
    x = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])
    y, argmax = np.empty((1, 1, 1, 1)), np.empty((1, 1, 1, 1), np.int32)
    geometry = [np.int32(v) for v in (1, 2, 2)] + list(cuda.geometry(Window(2, 2, 2, 2), 1, 1))
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
    run(kernels, "bn_grad_input", dtype, x.size, g, x, mean_ref, inv_std, weight, sum_g,
        sum_gx, grad_x, np.int64(x.size), np.int32(c), np.int64(m), dtype(n * m),
        np.int32(affine), np.int32(batch_stats))
    gx_ref, gw_ref, gb_ref = reference.batchnorm_backward(
        g, x, mean_ref, inv_std, weight if affine else None, batch_stats, True, True, True)
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
    expected_mean = 0.9 * running[0].astype(np.float64) + 0.1 * mean
    expected_var = 0.9 * running[1].astype(np.float64) + 0.1 * var * 40 / 39
    run(kernels, "bn_update_running", dtype, 5, mean, var, *running, np.int64(5), dtype(0.1),
        dtype(40 / 39))
    inv_std = np.empty_like(var)
    run(kernels, "bn_inv_std", dtype, 5, var, inv_std, np.int64(5), dtype(1e-5))
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(inv_std, 1 / np.sqrt(var.astype(np.float64) + 1e-5), rtol=rtol)
    np.testing.assert_allclose(running[0], expected_mean, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(running[1], expected_var, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_plane_sums_of_one_block_per_plane(kernels, dtype):
    """Each block's threads stride over a plane and meet in the shared-memory tree: the sums
    and squared deviations of the statistics, and the two sums of the gradient."""
    rng = np.random.default_rng(6)
    n, c, m = 2, 3, 300  # more values per plane than threads in a block
    x = (rng.standard_normal((n, c, m)) * 3 + 5).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    mean = rng.standard_normal(c).astype(dtype)
    sums, m2 = np.empty(n * c), np.empty(n * c)
    run(kernels, "bn_plane_stats", dtype, n * c, x, sums, m2, np.int64(m))
    planes = x.astype(np.float64)
    np.testing.assert_allclose(sums, planes.sum(axis=2).ravel(), rtol=1e-12)
    deviations = planes - planes.mean(axis=2, keepdims=True)
    np.testing.assert_allclose(m2, (deviations ** 2).sum(axis=2).ravel(), rtol=1e-12)
    sum_g, sum_g_dev = np.empty(n * c), np.empty(n * c)
    run(kernels, "bn_plane_grad_sums", dtype, n * c, g, x, mean, sum_g, sum_g_dev, np.int32(c),
        np.int64(m))
    g64 = g.astype(np.float64)
    np.testing.assert_allclose(sum_g, g64.sum(axis=2).ravel(), rtol=1e-12)
    centred = planes - mean.astype(np.float64).reshape(1, c, 1)
    np.testing.assert_allclose(sum_g_dev, (g64 * centred).sum(axis=2).ravel(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_relu_kernels(kernels, dtype):
    x = np.array([-2.0, -0.0, 0.0, 0.5, 3.0], dtype)
    g = np.array([1.0, 2.0, 3.0, 4.0, 5.0], dtype)
    y, grad = np.empty_like(x), np.empty_like(x)
    run(kernels, "relu", dtype, x.size, x, y)
    np.testing.assert_array_equal(y, [0.0, 0.0, 0.0, 0.5, 3.0])
    run(kernels, "relu_grad", dtype, x.size, g, y, grad)
    np.testing.assert_array_equal(grad, [0.0, 0.0, 0.0, 4.0, 5.0])


def test_every_declared_kernel_is_checked_here():
    """A kernel added to the ``cupy`` set is declared through ``cuda.raw_source`` or
    ``cuda.elementwise_source`` (no module of the set builds a CuPy kernel itself), so it
    is in ``SOURCES``; each must be named by a test of this module."""
    package = pathlib.Path(minicnn.kernels.cupy.__file__).parent
    for module in package.glob("*.py"):
        text = module.read_text()
        if module.name != "cuda.py":
            assert "RawKernel(" not in text and "ElementwiseKernel(" not in text, module.name
    this_file = pathlib.Path(__file__).read_text()
    unchecked = [name for name in cuda.SOURCES if f'"{name}"' not in this_file]
    assert not unchecked, f"CUDA kernels with no CPU check here: {unchecked}"
