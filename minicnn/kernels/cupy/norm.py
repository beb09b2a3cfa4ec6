"""CuPy kernels for CUDA GPUs: the contract of ``minicnn/kernels/__init__.py`` on the device.

- im2col is one thread per column entry; col2im and the max-pooling backward are gathers,
  one thread per input pixel looping over the windows that cover it: deterministic, no
  atomics. Max pooling keeps the first maximum in row-major window order, as every set.
- A convolution is 2-D cuBLAS products on a column layout ``(C kh kw, N OH OW)`` (its own
  im2col/col2im variant), with one reordering kernel each way.
- Batch norm sums each (sample, channel) plane in one block (a shared-memory tree, in
  double), combines the planes per channel in a second kernel, and normalises or
  differentiates in one elementwise kernel; ReLU is an elementwise kernel.
- Each kernel is compiled once per dtype and kept (``functools.lru_cache``); CuPy caches
  the binaries on disk. Arrays are made contiguous before a RawKernel (raw pointers ignore
  strides). Nothing leaves the device inside a step; CuPy's memory pool serves every array.

Importing this module needs no CUDA: CuPy is imported when a kernel first runs.
"""
from __future__ import annotations

import functools
import sys

import numpy as np

from ..backend import cupy_module
from . import generic
from .window import Window

THREADS = 256

_INDEX = """
typedef {ctype} T;
typedef long long i64;
"""

# Two column layouts: "batch" (N, C, kh, kw, OH, OW), the contract's, and "rows"
# (C, kh, kw, N, OH, OW), in which the convolution is one 2-D product W (F, C kh kw) @ col.
_COL_INDEX = {"batch": "((((n * C + c) * kh + i) * kw + j) * OH + oy) * OW + ox",
              "rows": "((((c * kh + i) * kw + j) * N + n) * OH + oy) * OW + ox"}
_COL_DECOMPOSE = {
    "batch": "const int j = t % kw; t /= kw; const int i = t % kh; t /= kh; const int c = t % C; const i64 n = t / C;",
    "rows": "const i64 n = t % N; t /= N; const int j = t % kw; t /= kw; const int i = t % kh; const int c = t / kh;"}

_IM2COL = _INDEX + r"""
extern "C" __global__ void NAME(const T* x, T* col, const T pad, const i64 total, const int N,
        const int C, const int H, const int W, const int kh, const int kw, const int sh,
        const int sw, const int ph, const int pw, const int dh, const int dw,
        const int OH, const int OW) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int ox = idx % OW; i64 t = idx / OW;
    const int oy = t % OH; t /= OH;
    DECOMPOSE
    const int y = oy * sh + i * dh - ph, xx = ox * sw + j * dw - pw;
    col[idx] = (y >= 0 && y < H && xx >= 0 && xx < W) ? x[((n * C + c) * H + y) * W + xx] : pad;
}
"""


@functools.lru_cache(maxsize=None)  # one string per layout: _raw's cache then hashes it once
def _im2col_source(layout: str) -> str:
    return _IM2COL.replace("NAME", f"im2col_{layout}").replace("DECOMPOSE", _COL_DECOMPOSE[layout])


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
extern "C" __global__ void NAME(const T* col, T* x, const i64 total, const int N,
        const int C, const int H, const int W, const int kh, const int kw, const int sh,
        const int sw, const int ph, const int pw, const int dh, const int dw,
        const int OH, const int OW) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int xx = idx % W; i64 t = idx / W;
    const int y = t % H; t /= H;
    const int c = t % C; const i64 n = t / C;
    T sum = 0;
""" + _COVERING_WINDOWS.replace("BODY", "sum += col[COL_INDEX];") + r"""
    x[idx] = sum;
}
"""


@functools.lru_cache(maxsize=None)
def _col2im_source(layout: str) -> str:
    return _COL2IM.replace("NAME", f"col2im_{layout}").replace("COL_INDEX", _COL_INDEX[layout])


# y (N, F, P) from the product's rows (F, N P), plus the bias; and g (N, F, P) -> (F, N P).
_ROWS_TO_BATCH = _INDEX + r"""
extern "C" __global__ void rows_to_batch(const T* rows, const T* bias, T* y, const i64 total,
        const int N, const int F, const i64 P, const int has_bias) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const i64 p = idx % P; const i64 t = idx / P;
    const int f = t % F; const i64 n = t / F;
    y[idx] = rows[(f * N + n) * P + p] + (has_bias ? bias[f] : (T)0);
}
"""

_BATCH_TO_ROWS = _INDEX + r"""
extern "C" __global__ void batch_to_rows(const T* g, T* rows, const i64 total, const int N,
        const int F, const i64 P) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const i64 p = idx % P; const i64 t = idx / P;
    const i64 n = t % N; const int f = t / N;
    rows[idx] = g[(n * F + f) * P + p];
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

# Batch norm per channel c of x (N, C, M): one block per (n, c) plane sums its M values
# in double (two passes over the plane: its sum, then squared deviations from the plane's
# mean), and one thread per channel combines the N planes (Chan et al.'s pairwise
# formula: var = (sum of plane M2 + M * sum (plane mean - mean)^2) / (N M)).
_BLOCK_SUM = r"""
__device__ double block_sum(double v, double* shared) {
    shared[threadIdx.x] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) shared[threadIdx.x] += shared[threadIdx.x + s];
        __syncthreads();
    }
    const double total = shared[0];
    __syncthreads();
    return total;
}
"""

_BN_PLANE_STATS = _INDEX + _BLOCK_SUM + r"""
extern "C" __global__ void bn_plane_stats(const T* x, double* sums, double* m2, const i64 M) {
    __shared__ double shared[""" + str(THREADS) + r"""];
    const T* plane = x + (i64)blockIdx.x * M;
    double s = 0, q = 0;
    for (i64 m = threadIdx.x; m < M; m += blockDim.x) s += plane[m];
    s = block_sum(s, shared);
    const double mu = s / M;
    for (i64 m = threadIdx.x; m < M; m += blockDim.x) { const double d = plane[m] - mu; q += d * d; }
    q = block_sum(q, shared);
    if (threadIdx.x == 0) { sums[blockIdx.x] = s; m2[blockIdx.x] = q; }
}
"""

_BN_PLANE_GRAD_SUMS = _INDEX + _BLOCK_SUM + r"""
extern "C" __global__ void bn_plane_grad_sums(const T* g, const T* x, const T* mean, double* sum_g,
        double* sum_g_dev, const int C, const i64 M) {
    __shared__ double shared[""" + str(THREADS) + r"""];
    const i64 offset = (i64)blockIdx.x * M;
    const double mu = mean[blockIdx.x % C];
    double a = 0, b = 0;
    for (i64 m = threadIdx.x; m < M; m += blockDim.x) {
        const double gm = g[offset + m];
        a += gm; b += gm * (x[offset + m] - mu);
    }
    a = block_sum(a, shared);
    b = block_sum(b, shared);
    if (threadIdx.x == 0) { sum_g[blockIdx.x] = a; sum_g_dev[blockIdx.x] = b; }
}
"""

_BN_COMBINE_STATS = _INDEX + r"""
extern "C" __global__ void bn_combine_stats(const double* sums, const double* m2, T* mean, T* var,
        const i64 total, const int N, const int C, const i64 M) {
    i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= total) return;
    double s = 0, q = 0;
    for (int n = 0; n < N; ++n) s += sums[n * C + c];
    const double mu = s / ((double)N * M);
    for (int n = 0; n < N; ++n) {
        const double d = sums[n * C + c] / M - mu;
        q += m2[n * C + c] + M * d * d;
    }
    mean[c] = mu;
    var[c] = q / ((double)N * M);
}
"""

_BN_COMBINE_GRAD_SUMS = _INDEX + r"""
extern "C" __global__ void bn_combine_grad_sums(const double* sum_g_planes, const double* sum_g_dev_planes,
        const T* inv_std, T* sum_g, T* sum_gx, const i64 total, const int N, const int C) {
    i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= total) return;
    double a = 0, b = 0;
    for (int n = 0; n < N; ++n) { a += sum_g_planes[n * C + c]; b += sum_g_dev_planes[n * C + c]; }
    sum_g[c] = a;
    sum_gx[c] = b * inv_std[c];
}
"""

# One thread per channel: the running estimates (when update) and 1 / sqrt(var + eps).
_BN_INV_STD = _INDEX + r"""
extern "C" __global__ void bn_inv_std(const T* var, const T* mean, T* running_mean, T* running_var,
        T* inv_std, const i64 total, const T eps, const T momentum, const T unbias, const int update) {
    i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= total) return;
    if (update) {
        running_mean[c] = running_mean[c] * ((T)1 - momentum) + momentum * mean[c];
        running_var[c] = running_var[c] * ((T)1 - momentum) + momentum * var[c] * unbias;
    }
    inv_std[c] = (T)1 / sqrt(var[c] + eps);
}
"""

# weight and bias may be absent (has_weight / has_bias 0; any pointer is passed).
_BN_APPLY = _INDEX + r"""
extern "C" __global__ void bn_apply(const T* x, const T* mean, const T* inv_std, const T* weight,
        const T* bias, T* y, const i64 total, const int C, const i64 M, const int has_weight,
        const int has_bias) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int c = (idx / M) % C;
    const T scale = has_weight ? inv_std[c] * weight[c] : inv_std[c];
    y[idx] = (x[idx] - mean[c]) * scale + (has_bias ? bias[c] : (T)0);
}
"""

_BN_GRAD_INPUT = _INDEX + r"""
extern "C" __global__ void bn_grad_input(const T* g, const T* x, const T* mean, const T* inv_std,
        const T* weight, const T* sum_g, const T* sum_gx, T* out, const i64 total, const int C,
        const i64 M, const T count, const int has_weight, const int batch_stats) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int c = (idx / M) % C;
    const T scale = has_weight ? inv_std[c] * weight[c] : inv_std[c];
    if (batch_stats) {
        const T xhat = (x[idx] - mean[c]) * inv_std[c];
        out[idx] = scale * (g[idx] - sum_g[c] / count - xhat * sum_gx[c] / count);
    } else {
        out[idx] = scale * g[idx];
    }
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
        "relu": ("T x", "T y", "y = x > (T)0 ? x : (T)0;"),
        "relu_grad": ("T g, T y", "T out", "out = y > (T)0 ? g : (T)0;"),
    }
    inputs, outputs, body = kernels[name]
    return cp.ElementwiseKernel(inputs, outputs, body, f"minicnn_{name}")


def _launch(kernel, total: int, *args) -> None:
    kernel(((total + THREADS - 1) // THREADS,), (THREADS,), args)


def _geometry(win: Window, oh: int, ow: int) -> tuple:
    return tuple(np.int32(v) for v in (win.kh, win.kw, win.sh, win.sw, win.ph, win.pw, win.dh, win.dw, oh, ow))


def _im2col(x, win: Window, layout: str, pad_value: float = 0.0):
    cp = cupy_module()
    x = cp.ascontiguousarray(x)
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    shape = (n, c, win.kh, win.kw, oh, ow) if layout == "batch" else (c, win.kh, win.kw, n, oh, ow)
    col = cp.empty(shape, x.dtype)
    _launch(_raw(_im2col_source(layout), f"im2col_{layout}", x.dtype), col.size, x, col,
            x.dtype.type(pad_value), np.int64(col.size), np.int32(n), np.int32(c), np.int32(h),
            np.int32(w), *_geometry(win, oh, ow))
    return col


def _col2im(col, win: Window, layout: str, n: int, c: int, h: int, w: int):
    cp = cupy_module()
    col = cp.ascontiguousarray(col)
    oh, ow = col.shape[-2:]
    x = cp.empty((n, c, h, w), col.dtype)
    _launch(_raw(_col2im_source(layout), f"col2im_{layout}", col.dtype), x.size, col, x,
            np.int64(x.size), np.int32(n), np.int32(c), np.int32(h), np.int32(w), *_geometry(win, oh, ow))
    return x


def im2col(x, win: Window, pad_value: float = 0.0):
    return _im2col(x, win, "batch", pad_value)


def col2im(col, win: Window, h: int, w: int):
    return _col2im(col, win, "batch", col.shape[0], col.shape[1], h, w)


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
    """``rows (F, N P) = W (F, C kh kw) @ col (C kh kw, N P)``, one 2-D cuBLAS product on
    the "rows" column layout, then one kernel reorders it to ``(N, F, OH, OW)`` and adds
    the bias. ``col`` is saved for backward."""
    cp = cupy_module()
    n, f = x.shape[0], weight.shape[0]
    col = _im2col(x, win, "rows")
    oh, ow = col.shape[-2:]
    col2d = col.reshape(-1, n * oh * ow)
    rows = cp.ascontiguousarray(weight).reshape(f, -1) @ col2d
    y = cp.empty((n, f, oh, ow), x.dtype)
    bias, has_bias = _optional(bias, rows)
    _launch(_raw(_ROWS_TO_BATCH, "rows_to_batch", x.dtype), y.size, rows, bias, y, np.int64(y.size),
            np.int32(n), np.int32(f), np.int64(oh * ow), has_bias)
    return y, col2d


def conv2d_backward(g, saved, x, weight, win: Window, need_x=True, need_w=True, need_b=True):
    """``g`` reordered to rows ``(F, N P)``; ``dW = g_rows @ col.T``, ``db`` = row sums,
    ``dcol = W.T @ g_rows`` and ``dx = col2im(dcol)``: two 2-D products."""
    cp = cupy_module()
    col2d = saved
    n, f = g.shape[:2]
    g = cp.ascontiguousarray(g)
    g_rows = cp.empty((f, g.size // f), g.dtype)
    _launch(_raw(_BATCH_TO_ROWS, "batch_to_rows", g.dtype), g.size, g, g_rows, np.int64(g.size),
            np.int32(n), np.int32(f), np.int64(g.size // (n * f)))
    grad_x = grad_w = grad_b = None
    if need_w:
        grad_w = (g_rows @ col2d.T).reshape(weight.shape)
    if need_x:
        grad_col = cp.ascontiguousarray(weight).reshape(f, -1).T @ g_rows
        grad_x = _col2im(grad_col.reshape(x.shape[1], win.kh, win.kw, n, *g.shape[2:]), win, "rows", *x.shape)
    if need_b:
        grad_b = g_rows.sum(axis=1)
    return grad_x, grad_w, grad_b


def _planes(x) -> tuple:
    """``x`` contiguous, and its ``(N, C, M)`` sizes as kernel arguments."""
    cp = cupy_module()
    x = cp.ascontiguousarray(x)
    return x, x.shape[0], x.shape[1], x.size // (x.shape[0] * x.shape[1])


def _launch_per_plane(kernel, planes: int, *args) -> None:
    kernel((planes,), (THREADS,), args)


def batchnorm_stats(x):
    """Per-channel mean and biased variance: plane sums and squared deviations (one block
    per plane), then one thread per channel combines them; all in double."""
    cp = cupy_module()
    x, n, c, m = _planes(x)
    sums, m2 = cp.empty(n * c, cp.float64), cp.empty(n * c, cp.float64)
    _launch_per_plane(_raw(_BN_PLANE_STATS, "bn_plane_stats", x.dtype), n * c, x, sums, m2, np.int64(m))
    mean, var = cp.empty(c, x.dtype), cp.empty(c, x.dtype)
    _launch(_raw(_BN_COMBINE_STATS, "bn_combine_stats", x.dtype), c, sums, m2, mean, var,
            np.int64(c), np.int32(n), np.int32(c), np.int64(m))
    return mean, var


def batchnorm_inv_std(var, eps, mean=None, running_mean=None, running_var=None, momentum=0.0, count=1):
    """One kernel for the running estimates' update and ``1 / sqrt(var + eps)``; arrays of
    mixed dtypes take the generic path."""
    cp = cupy_module()
    update = running_mean is not None
    arrays = (var, mean, running_mean, running_var) if update else (var,)
    if len({a.dtype for a in arrays}) > 1 or not all(a.flags.c_contiguous for a in arrays):
        return generic.batchnorm_inv_std(var, eps, mean, running_mean, running_var, momentum, count)
    inv_std, scalar = cp.empty_like(var), var.dtype.type
    dummy = inv_std
    _launch(_raw(_BN_INV_STD, "bn_inv_std", var.dtype), var.size, var,
            *((mean, running_mean, running_var) if update else (dummy, dummy, dummy)), inv_std,
            np.int64(var.size), scalar(eps), scalar(momentum), scalar(count / max(count - 1, 1)),
            np.int32(update))
    return inv_std


def _optional(array, like):
    """``(array, 1)``, or ``(like, 0)`` for an absent weight or bias (the kernel ignores it)."""
    if array is None:
        return like, np.int32(0)
    return cupy_module().ascontiguousarray(array, dtype=like.dtype), np.int32(1)


def batchnorm_apply(x, mean, inv_std, weight, bias):
    cp = cupy_module()
    x, n, c, m = _planes(x)
    mean, inv_std = mean.astype(x.dtype, copy=False), inv_std.astype(x.dtype, copy=False)
    (weight, has_weight), (bias, has_bias) = _optional(weight, mean), _optional(bias, mean)
    y = cp.empty_like(x)
    _launch(_raw(_BN_APPLY, "bn_apply", x.dtype), x.size, x, mean, inv_std, weight, bias, y,
            np.int64(x.size), np.int32(c), np.int64(m), has_weight, has_bias)
    return y


def batchnorm_backward(g, x, mean, inv_std, weight, batch_stats: bool,
                       need_x=True, need_w=True, need_b=True):
    """``sum_g = sum g`` and ``sum_gx = inv_std * sum g (x - mean)`` per channel (plane sums,
    then one thread per channel), then one elementwise kernel for ``grad_x``."""
    cp = cupy_module()
    x, n, c, m = _planes(x)
    g = cp.ascontiguousarray(g)
    mean, inv_std = mean.astype(x.dtype, copy=False), inv_std.astype(x.dtype, copy=False)
    planes_g, planes_g_dev = cp.empty(n * c, cp.float64), cp.empty(n * c, cp.float64)
    _launch_per_plane(_raw(_BN_PLANE_GRAD_SUMS, "bn_plane_grad_sums", x.dtype), n * c, g, x, mean,
                      planes_g, planes_g_dev, np.int32(c), np.int64(m))
    sum_g, sum_gx = cp.empty(c, x.dtype), cp.empty(c, x.dtype)
    _launch(_raw(_BN_COMBINE_GRAD_SUMS, "bn_combine_grad_sums", x.dtype), c, planes_g, planes_g_dev,
            inv_std, sum_g, sum_gx, np.int64(c), np.int32(n), np.int32(c))
    grad_x = None
    if need_x:
        weight, has_weight = _optional(weight, mean)
        grad_x = cp.empty_like(x)
        _launch(_raw(_BN_GRAD_INPUT, "bn_grad_input", x.dtype), x.size, g, x, mean, inv_std, weight,
                sum_g, sum_gx, grad_x, np.int64(x.size), np.int32(c), np.int64(m),
                x.dtype.type(n * m), has_weight, np.int32(batch_stats))
    return grad_x, (sum_gx if need_w else None), (sum_g if need_b else None)


def relu_forward(x):
    return _elementwise("relu")(x)


def relu_backward(g, y):
    return _elementwise("relu_grad")(g, y)


(batchnorm_relu_maxpool_forward,
 batchnorm_relu_maxpool_backward) = generic.batchnorm_relu_maxpool_kernels(sys.modules[__name__])
