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
struct Dim { unsigned x; };
static Dim blockIdx, blockDim, threadIdx;
#define __global__
extern "C" void set_thread(unsigned block, unsigned size, unsigned thread) {
    blockIdx.x = block; blockDim.x = size; threadIdx.x = thread;
}
"""

SOURCES = {"im2col": gpu._IM2COL, "col2im": gpu._COL2IM, "maxpool_forward": gpu._MAXPOOL_FORWARD,
           "maxpool_backward": gpu._MAXPOOL_BACKWARD}


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
    run(kernels, "im2col", dtype, col.size, x, col, dtype(0), np.int64(col.size), *geometry)
    assert np.array_equal(col, reference.im2col(x, win))

    image = np.empty_like(x)
    run(kernels, "col2im", dtype, image.size, col, image, np.int64(image.size), *geometry)
    np.testing.assert_allclose(image, reference.col2im(col, win, h, w), rtol=1e-6)

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
