"""The ``cupy`` set's max pooling: one thread per output forward; backward a gather, one
thread per input pixel over the windows that cover it (deterministic, no atomics). The
first maximum in row-major window order wins, as in every set."""
from __future__ import annotations

import numpy as np

from ...backend import cupy_module
from ..window import Window
from .cuda import geometry, launch, raw_source
from .window import COVERING_WINDOWS

MAXPOOL_FORWARD = raw_source("maxpool_forward", r"""
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
""")

MAXPOOL_BACKWARD = raw_source("maxpool_backward", r"""
extern "C" __global__ void maxpool_backward(const T* g, const int* argmax, T* gx,
        const i64 total, const int C, const int H, const int W, const int kh, const int kw,
        const int sh, const int sw, const int ph, const int pw, const int dh, const int dw,
        const int OH, const int OW) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int xx = idx % W; i64 t = idx / W;
    const int y = t % H; const i64 plane = t / H;
    T sum = 0;
$covering
    gx[idx] = sum;
}
""", covering=COVERING_WINDOWS.substitute(
    body="const i64 o = (plane * OH + oy) * OW + ox; if (argmax[o] == i * kw + j) sum += g[o];"))


def maxpool2d_forward(x, win: Window):
    cp = cupy_module()
    x = cp.ascontiguousarray(x)
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    y = cp.empty((n, c, oh, ow), x.dtype)
    argmax = cp.empty((n, c, oh, ow), cp.int32)
    launch(MAXPOOL_FORWARD, x.dtype, y.size, x, y, argmax, x.dtype.type(-np.inf),
           np.int64(y.size), np.int32(c), np.int32(h), np.int32(w), *geometry(win, oh, ow))
    return y, argmax


def maxpool2d_backward(grad_y, argmax, win: Window, h: int, w: int):
    cp = cupy_module()
    grad_y = cp.ascontiguousarray(grad_y)
    argmax = cp.ascontiguousarray(argmax, dtype=cp.int32)
    n, c, oh, ow = grad_y.shape
    grad_x = cp.empty((n, c, h, w), grad_y.dtype)
    launch(MAXPOOL_BACKWARD, grad_y.dtype, grad_x.size, grad_y, argmax, grad_x,
           np.int64(grad_x.size), np.int32(c), np.int32(h), np.int32(w),
           *geometry(win, oh, ow))
    return grad_x
