"""The ``cupy`` set's ``im2col`` and ``col2im``, in two column layouts.

"batch" ``(N, C, kh, kw, OH, OW)`` is the contract's; "rows" ``(C, kh, kw, N, OH, OW)`` is
the one in which a convolution is one 2-D product ``W (F, C kh kw) @ col`` (:mod:`.conv`).
im2col is one thread per column entry; col2im is a gather, one thread per input pixel
looping over the windows that cover it: deterministic, no atomics.
"""
from __future__ import annotations

import string

import numpy as np

from ...backend import cupy_module
from ..window import Window
from .cuda import geometry, launch, raw_source

LAYOUTS = ("batch", "rows")
_COL_INDEX = {"batch": "((((n * C + c) * kh + i) * kw + j) * OH + oy) * OW + ox",
              "rows": "((((c * kh + i) * kw + j) * N + n) * OH + oy) * OW + ox"}
_COL_DECOMPOSE = {
    "batch": ("const int j = t % kw; t /= kw; const int i = t % kh; t /= kh;\n"
              "    const int c = t % C; const i64 n = t / C;"),
    "rows": ("const i64 n = t % N; t /= N; const int j = t % kw; t /= kw;\n"
             "    const int i = t % kh; const int c = t / kh;")}

_IM2COL = r"""
extern "C" __global__ void im2col_$layout(const T* x, T* col, const T pad, const i64 total,
        const int N, const int C, const int H, const int W, const int kh, const int kw,
        const int sh, const int sw, const int ph, const int pw, const int dh, const int dw,
        const int OH, const int OW) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int ox = idx % OW; i64 t = idx / OW;
    const int oy = t % OH; t /= OH;
    $decompose
    const int y = oy * sh + i * dh - ph, xx = ox * sw + j * dw - pw;
    col[idx] = (y >= 0 && y < H && xx >= 0 && xx < W) ? x[((n * C + c) * H + y) * W + xx] : pad;
}
"""

# The windows that read input pixel (y, xx): the kernel offsets (i, j) whose output
# position (oy, ox) is whole and in range; $body runs for each. Shared by the gathers
# (col2im here, the max-pooling backward in pool.py).
COVERING_WINDOWS = string.Template(r"""
    for (int i = 0; i < kh; ++i) {
        const int ty = y + ph - i * dh;
        if (ty < 0 || ty % sh != 0 || ty / sh >= OH) continue;
        for (int j = 0; j < kw; ++j) {
            const int tx = xx + pw - j * dw;
            if (tx < 0 || tx % sw != 0 || tx / sw >= OW) continue;
            const int oy = ty / sh, ox = tx / sw;
            $body
        }
    }
""")

_COL2IM = r"""
extern "C" __global__ void col2im_$layout(const T* col, T* x, const i64 total, const int N,
        const int C, const int H, const int W, const int kh, const int kw, const int sh,
        const int sw, const int ph, const int pw, const int dh, const int dw,
        const int OH, const int OW) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int xx = idx % W; i64 t = idx / W;
    const int y = t % H; t /= H;
    const int c = t % C; const i64 n = t / C;
    T sum = 0;
$covering
    x[idx] = sum;
}
"""

IM2COL = {layout: raw_source(f"im2col_{layout}", _IM2COL, layout=layout,
                             decompose=_COL_DECOMPOSE[layout]) for layout in LAYOUTS}
COL2IM = {layout: raw_source(f"col2im_{layout}", _COL2IM, layout=layout,
                             covering=COVERING_WINDOWS.substitute(
                                 body=f"sum += col[{_COL_INDEX[layout]}];"))
          for layout in LAYOUTS}


def im2col_layout(x, win: Window, layout: str, pad_value: float = 0.0):
    """``im2col`` into ``layout`` (one of :data:`LAYOUTS`)."""
    cp = cupy_module()
    x = cp.ascontiguousarray(x)
    n, c, h, w = x.shape
    oh, ow = win.out_shape(h, w)
    shape = ((n, c, win.kh, win.kw, oh, ow) if layout == "batch"
             else (c, win.kh, win.kw, n, oh, ow))
    col = cp.empty(shape, x.dtype)
    launch(IM2COL[layout], x.dtype, col.size, x, col, x.dtype.type(pad_value),
           np.int64(col.size), np.int32(n), np.int32(c), np.int32(h), np.int32(w),
           *geometry(win, oh, ow))
    return col


def col2im_layout(col, win: Window, layout: str, n: int, c: int, h: int, w: int):
    """``col2im`` from ``layout`` into ``(n, c, h, w)``."""
    cp = cupy_module()
    col = cp.ascontiguousarray(col)
    oh, ow = col.shape[-2:]
    x = cp.empty((n, c, h, w), col.dtype)
    launch(COL2IM[layout], col.dtype, x.size, col, x, np.int64(x.size), np.int32(n),
           np.int32(c), np.int32(h), np.int32(w), *geometry(win, oh, ow))
    return x


def im2col(x, win: Window, *, pad_value: float = 0.0):
    return im2col_layout(x, win, "batch", pad_value)


def col2im(col, win: Window, h: int, w: int):
    return col2im_layout(col, win, "batch", col.shape[0], col.shape[1], h, w)
