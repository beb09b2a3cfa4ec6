"""The ``cupy`` set's convolution: 2-D cuBLAS products on the "rows" column layout
``(C kh kw, N OH OW)`` (:mod:`.window`), with one reordering kernel each way."""
from __future__ import annotations

import numpy as np

from ...backend import cupy_module
from ..window import Window
from .cuda import launch, optional, raw_source
from .window import col2im_layout, im2col_layout

# y (N, F, P) from the product's rows (F, N P), plus the bias; and g (N, F, P) -> (F, N P).
ROWS_TO_BATCH = raw_source("rows_to_batch", r"""
extern "C" __global__ void rows_to_batch(const T* rows, const T* bias, T* y, const i64 total,
        const int N, const int F, const i64 P, const int has_bias) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const i64 p = idx % P; const i64 t = idx / P;
    const int f = t % F; const i64 n = t / F;
    y[idx] = rows[(f * N + n) * P + p] + (has_bias ? bias[f] : (T)0);
}
""")

BATCH_TO_ROWS = raw_source("batch_to_rows", r"""
extern "C" __global__ void batch_to_rows(const T* g, T* rows, const i64 total, const int N,
        const int F, const i64 P) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const i64 p = idx % P; const i64 t = idx / P;
    const i64 n = t % N; const int f = t / N;
    rows[idx] = g[(n * F + f) * P + p];
}
""")


def conv2d_forward(x, weight, bias, win: Window):
    """``rows (F, N P) = W (F, C kh kw) @ col (C kh kw, N P)``, one 2-D cuBLAS product on
    the "rows" column layout, then one kernel reorders it to ``(N, F, OH, OW)`` and adds
    the bias. ``col`` is saved for backward."""
    cp = cupy_module()
    n, f = x.shape[0], weight.shape[0]
    col = im2col_layout(x, win, "rows")
    oh, ow = col.shape[-2:]
    col2d = col.reshape(-1, n * oh * ow)
    rows = cp.ascontiguousarray(weight).reshape(f, -1) @ col2d
    y = cp.empty((n, f, oh, ow), x.dtype)
    bias, has_bias = optional(bias, rows)
    launch(ROWS_TO_BATCH, x.dtype, y.size, rows, bias, y, np.int64(y.size), np.int32(n),
           np.int32(f), np.int64(oh * ow), has_bias)
    return y, col2d


def conv2d_backward(g, saved, x, weight, win: Window, need_x=True, need_w=True, need_b=True):
    """``g`` reordered to rows ``(F, N P)``; ``dW = g_rows @ col.T``, ``db`` = row sums,
    ``dcol = W.T @ g_rows`` and ``dx = col2im(dcol)``: two 2-D products."""
    cp = cupy_module()
    col2d = saved
    n, f = g.shape[:2]
    g = cp.ascontiguousarray(g)
    g_rows = cp.empty((f, g.size // f), g.dtype)
    launch(BATCH_TO_ROWS, g.dtype, g.size, g, g_rows, np.int64(g.size), np.int32(n),
           np.int32(f), np.int64(g.size // (n * f)))
    grad_x = grad_w = grad_b = None
    if need_w:
        grad_w = (g_rows @ col2d.T).reshape(weight.shape)
    if need_x:
        grad_col = cp.ascontiguousarray(weight).reshape(f, -1).T @ g_rows
        grad_col = grad_col.reshape(x.shape[1], win.kh, win.kw, n, *g.shape[2:])
        grad_x = col2im_layout(grad_col, win, "rows", *x.shape)
    if need_b:
        grad_b = g_rows.sum(axis=1)
    return grad_x, grad_w, grad_b
