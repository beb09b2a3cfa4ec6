"""CuPy kernels for CUDA GPUs: the contract of ``minicnn/kernels/__init__.py`` on the device.

- im2col is one thread per column entry; col2im and the max-pooling backward are gathers,
  one thread per input pixel looping over the windows that cover it: deterministic, no
  atomics. Max pooling keeps the first maximum in row-major window order, as every set.
- Convolution products go to cuBLAS through ``cupy.matmul`` (batched) and
  ``cupy.tensordot``; batch norm's statistics are CuPy reductions, its normalisation and
  gradient one elementwise kernel each; ReLU is an elementwise kernel.
- Each kernel is compiled once per dtype and kept (``functools.lru_cache``); CuPy caches
  the binaries on disk. Arrays are made contiguous before a RawKernel (raw pointers ignore
  strides). Nothing leaves the device inside a step; CuPy's memory pool serves every array.

Importing this module needs no CUDA: CuPy is imported when a kernel first runs.
"""
from __future__ import annotations

import functools

import numpy as np

from ..backend import cupy_module
from .window import Window

THREADS = 256

_INDEX = """
typedef {ctype} T;
typedef long long i64;
"""

_IM2COL = _INDEX + r"""
extern "C" __global__ void im2col(const T* x, T* col, const T pad, const i64 total,
        const int C, const int H, const int W, const int kh, const int kw, const int sh,
        const int sw, const int ph, const int pw, const int dh, const int dw,
        const int OH, const int OW) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int ox = idx % OW; i64 t = idx / OW;
    const int oy = t % OH; t /= OH;
    const int j = t % kw; t /= kw;
    const int i = t % kh; t /= kh;
    const int c = t % C; const i64 n = t / C;
    const int y = oy * sh + i * dh - ph, xx = ox * sw + j * dw - pw;
    col[idx] = (y >= 0 && y < H && xx >= 0 && xx < W) ? x[((n * C + c) * H + y) * W + xx] : pad;
}
"""

# The windows that read input pixel (y, xx): the kernel offsets (i, j) whose output
# position (oy, ox) is whole and in range. Shared by the two gathers below.
_COVERING_WINDOWS = r"""
    for (int i = 0; i < kh; ++i) {
        const int ty = y + ph - i * dh;
        if (ty < 0 || ty % sh != 0 || ty / sh >= OH) continue;
        for (int j = 0; j < kw; ++j) {
            const int tx = xx + pw - j * dw;
            if (tx < 0 || tx % sw != 0 || tx / sw >= OW) continue;
            const int oy = ty / sh, ox = tx / sw;
            BODY
        }
    }
"""

_COL2IM = _INDEX + r"""
extern "C" __global__ void col2im(const T* col, T* x, const i64 total,
        const int C, const int H, const int W, const int kh, const int kw, const int sh,
        const int sw, const int ph, const int pw, const int dh, const int dw,
        const int OH, const int OW) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int xx = idx % W; i64 t = idx / W;
    const int y = t % H; t /= H;
    const int c = t % C; const i64 n = t / C;
    T sum = 0;
""" + _COVERING_WINDOWS.replace("BODY", "sum += col[((((n * C + c) * kh + i) * kw + j) * OH + oy) * OW + ox];") + r"""
    x[idx] = sum;
}
"""

_MAXPOOL_FORWARD = _INDEX + r"""
extern "C" __global__ void maxpool_forward(const T* x, T* y, int* argmax, const T neg_inf,
        const i64 total, const int C, const int H, const int W, const int kh, const int kw,
        const int sh, const int sw, const int ph, const int pw, const int dh, const int dw,
        const int OH, const int OW) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int ox = idx % OW; i64 t = idx / OW;
    const int oy = t % OH; const i64 plane = t / OH;
    const T* image = x + plane * H * W;
    T best = neg_inf;
    int best_k = 0;
    for (int i = 0; i < kh; ++i) {
        const int yy = oy * sh + i * dh - ph;
        if (yy < 0 || yy >= H) continue;
        for (int j = 0; j < kw; ++j) {
            const int xx = ox * sw + j * dw - pw;
            if (xx < 0 || xx >= W) continue;
            const T v = image[yy * W + xx];
            if (v > best) { best = v; best_k = i * kw + j; }  /* strict: first maximum wins */
        }
    }
    y[idx] = best;
    argmax[idx] = best_k;
}
"""

_MAXPOOL_BACKWARD = _INDEX + r"""
extern "C" __global__ void maxpool_backward(const T* g, const int* argmax, T* gx,
        const i64 total, const int C, const int H, const int W, const int kh, const int kw,
        const int sh, const int sw, const int ph, const int pw, const int dh, const int dw,
        const int OH, const int OW) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int xx = idx % W; i64 t = idx / W;
    const int y = t % H; const i64 plane = t / H;
    T sum = 0;
""" + _COVERING_WINDOWS.replace(
    "BODY", "const i64 o = (plane * OH + oy) * OW + ox; if (argmax[o] == i * kw + j) sum += g[o];") + r"""
    gx[idx] = sum;
}
"""

_CTYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}


@functools.lru_cache(maxsize=None)
def _raw(source: str, name: str, dtype: np.dtype):
    cp = cupy_module()
    if dtype not in _CTYPES:
        raise TypeError(f"minicnn GPU kernels: dtype {dtype} is not supported (float32, float64)")
    return cp.RawKernel(source.replace("{ctype}", _CTYPES[dtype]), name)


@functools.lru_cache(maxsize=None)
def _elementwise(name: str):
    cp = cupy_module()
    kernels = {
        "bn_apply": ("T x, raw T scale, raw T shift, int64 C, int64 M", "T y",
                     "const long long c = (i / M) % C; y = x * scale[c] + shift[c];"),
        "bn_grad": ("T g, T x, raw T mean, raw T inv_std, raw T scale, raw T mean_g, raw T mean_gx, "
                    "int64 C, int64 M", "T out",
                    "const long long c = (i / M) % C; "
                    "out = scale[c] * (g - mean_g[c] - (x - mean[c]) * inv_std[c] * mean_gx[c]);"),
        "relu": ("T x", "T y", "y = x > (T)0 ? x : (T)0;"),
        "relu_grad": ("T g, T y", "T out", "out = y > (T)0 ? g : (T)0;"),
    }
    inputs, outputs, body = kernels[name]
    return cp.ElementwiseKernel(inputs, outputs, body, f"minicnn_{name}")


def _launch(kernel, total: int, *args) -> None:
    kernel(((total + THREADS - 1) // THREADS,), (THREADS,), args)


def _geometry(win: Window, oh: int, ow: int) -> tuple:
    return tuple(np.int32(v) for v in (win.kh, win.kw, win.sh, win.sw, win.ph, win.pw, win.dh, win.dw, oh, ow))


def im2col(x, win: Window, pad_value: float = 0.0):
    cp = cupy_module()
    x = cp.ascontiguousarray(x)
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    col = cp.empty((n, c, win.kh, win.kw, oh, ow), x.dtype)
    _launch(_raw(_IM2COL, "im2col", x.dtype), col.size, x, col, x.dtype.type(pad_value),
            np.int64(col.size), np.int32(c), np.int32(h), np.int32(w), *_geometry(win, oh, ow))
    return col


def col2im(col, win: Window, h: int, w: int):
    cp = cupy_module()
    col = cp.ascontiguousarray(col)
    n, c, _, _, oh, ow = col.shape
    x = cp.empty((n, c, h, w), col.dtype)
    _launch(_raw(_COL2IM, "col2im", col.dtype), x.size, col, x, np.int64(x.size),
            np.int32(c), np.int32(h), np.int32(w), *_geometry(win, oh, ow))
    return x


def maxpool2d_forward(x, win: Window):
    cp = cupy_module()
    x = cp.ascontiguousarray(x)
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    y = cp.empty((n, c, oh, ow), x.dtype)
    argmax = cp.empty((n, c, oh, ow), cp.int32)
    _launch(_raw(_MAXPOOL_FORWARD, "maxpool_forward", x.dtype), y.size, x, y, argmax,
            x.dtype.type(-np.inf), np.int64(y.size), np.int32(c), np.int32(h), np.int32(w),
            *_geometry(win, oh, ow))
    return y, argmax


def maxpool2d_backward(grad_y, argmax, win: Window, h: int, w: int):
    cp = cupy_module()
    grad_y = cp.ascontiguousarray(grad_y)
    argmax = cp.ascontiguousarray(argmax, dtype=cp.int32)
    n, c, oh, ow = grad_y.shape
    grad_x = cp.empty((n, c, h, w), grad_y.dtype)
    _launch(_raw(_MAXPOOL_BACKWARD, "maxpool_backward", grad_y.dtype), grad_x.size, grad_y, argmax,
            grad_x, np.int64(grad_x.size), np.int32(c), np.int32(h), np.int32(w),
            *_geometry(win, oh, ow))
    return grad_x


def conv2d_forward(x, weight, bias, win: Window):
    """``y[n] = W (F, C*kh*kw) @ col[n]`` as one batched cuBLAS product; ``col`` is saved."""
    cp = cupy_module()
    n, f = x.shape[0], weight.shape[0]
    col = im2col(x, win)
    oh, ow = col.shape[-2:]
    col3 = col.reshape(n, -1, oh * ow)
    y = cp.matmul(cp.ascontiguousarray(weight).reshape(f, -1), col3)
    if bias is not None:
        y += bias.reshape(1, f, 1)
    return y.reshape(n, f, oh, ow), col3


def conv2d_backward(g, saved, x, weight, win: Window, need_x=True, need_w=True, need_b=True):
    cp = cupy_module()
    col3 = saved
    n, f = g.shape[:2]
    g3 = cp.ascontiguousarray(g).reshape(n, f, -1)
    wmat = cp.ascontiguousarray(weight).reshape(f, -1)
    grad_x = grad_w = grad_b = None
    if need_w:
        grad_w = cp.tensordot(g3, col3, axes=((0, 2), (0, 2))).reshape(weight.shape)
    if need_x:
        grad_col = cp.matmul(wmat.T, g3)
        grad_x = col2im(grad_col.reshape(n, x.shape[1], win.kh, win.kw, *g.shape[2:]), win, *x.shape[2:])
    if need_b:
        grad_b = g3.sum(axis=(0, 2))
    return grad_x, grad_w, grad_b


def _axes(x) -> tuple:
    return (0,) + tuple(range(2, x.ndim))


def batchnorm_stats(x):
    return x.mean(axis=_axes(x)), x.var(axis=_axes(x))


def _per_channel(x) -> tuple:
    return np.int64(x.shape[1]), np.int64(x.size // (x.shape[0] * x.shape[1]))


def batchnorm_apply(x, mean, inv_std, weight, bias):
    cp = cupy_module()
    scale = inv_std if weight is None else inv_std * weight
    shift = -mean * scale if bias is None else bias - mean * scale
    x = cp.ascontiguousarray(x)
    return _elementwise("bn_apply")(x, scale.astype(x.dtype), shift.astype(x.dtype), *_per_channel(x))


def batchnorm_backward(g, x, mean, inv_std, weight, batch_stats: bool,
                       need_x=True, need_w=True, need_b=True):
    cp = cupy_module()
    g, x = cp.ascontiguousarray(g), cp.ascontiguousarray(x)
    axes = _axes(x)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    xhat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
    sum_g, sum_gx = g.sum(axis=axes), (g * xhat).sum(axis=axes)
    grad_x = None
    if need_x:
        count = x.size // x.shape[1]
        scale = (inv_std if weight is None else inv_std * weight).astype(x.dtype)
        zeros = cp.zeros_like(sum_g)
        mean_g, mean_gx = (sum_g / count, sum_gx / count) if batch_stats else (zeros, zeros)
        grad_x = _elementwise("bn_grad")(g, x, mean.astype(x.dtype), inv_std.astype(x.dtype), scale,
                                         mean_g.astype(x.dtype), mean_gx.astype(x.dtype), *_per_channel(x))
    return grad_x, (sum_gx if need_w else None), (sum_g if need_b else None)


def relu_forward(x):
    return _elementwise("relu")(x)


def relu_backward(g, y):
    return _elementwise("relu_grad")(g, y)
