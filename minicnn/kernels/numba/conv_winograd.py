"""The ``numba`` set's 3 x 3 convolution at stride 1: Winograd's F(2x2, 3x3), 16
multiplications per 2 x 2 output tile and channel pair instead of 36.

The output is cut into 2 x 2 tiles; tile ``t`` reads a 4 x 4 patch ``d`` of the padded input
(rows and columns from ``2*ty``, ``2*tx``). With

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

the patch, the weight and the tile's output are

    V_t,c = B^T d_t,c B (4x4),  U_c,f = G w_f,c G^T (4x4),  y_t,f = A^T (sum_c U_c,f * V_t,c) A

(``*`` elementwise), so for each of the 16 positions ``xi`` of the 4 x 4 domain the sum
over channels is one matrix product ``M[xi] (T, F) = V[xi] (T, C) @ U[xi] (C, F)``. Backward
is the adjoint of each step: ``dM = A dy A^T`` per tile, then

    dU[xi] (C, F) = V[xi]^T @ dM[xi],   dw = G^T dU G
    dV[xi] (T, C) = dM[xi] @ U[xi]^T,   dx += B dV B^T  (overlapping patches added)

Transforms run per sample over the threads: the sample goes into a zero-padded
channels-last plane, each tile row's patches are gathered into rows of contiguous numbers,
and a transform is a small product with 0/+-1 coefficients over those rows (one loop over
contiguous numbers per coefficient, which vectorises). The products run two ways, both with
single-threaded BLAS:

- in blocks of samples whose transformed input fits
  :data:`minicnn.kernels.numba.conv_batched.BLOCK_BYTES`, the 16 products of a block spread
  over the threads: each reads ``U`` once per block, which pays where the weight is large
  and the maps are small;
- per sample (``per_sample``), each thread transforming, multiplying and untransforming
  whole samples while their numbers are in cache, reading all of ``U`` per sample: that pays
  where the weight is small and the maps are large (:func:`minicnn.kernels.numba.conv.path`
  draws the line).

Rounding differs from the direct product (the transforms add and halve), within float32's
and float64's precision.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..memory import POOL
from . import conv_batched
from .window import padded_channels_last


def takes(win) -> bool:
    """Whether this module serves the window: 3 x 3, stride 1, no dilation."""
    return (win.kh, win.kw, win.sh, win.sw, win.dh, win.dw) == (3, 3, 1, 1, 1, 1)


B_T = np.array([[1.0, 0.0, -1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, -1.0, 1.0, 0.0],
                [0.0, 1.0, 0.0, -1.0]])
A_T = np.array([[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]])
INPUT = np.kron(B_T, B_T)    # (16, 16): V[4a + b] = sum_ij B^T[a, i] B^T[b, j] d[4i + j]
OUTPUT = np.kron(A_T, A_T)   # (4, 16):  y[2a + b] = sum_ij A^T[a, i] A^T[b, j] M[4i + j]


@njit(cache=True)
def _rows_product(coef, src, src_lo, dst, dst_lo, count):
    """``dst[r, dst_lo:dst_lo + count] = sum_q coef[r, q] * src[q, src_lo:src_lo + count]``
    for a small coefficient matrix (entries 0, +-1): one loop over contiguous numbers per
    nonzero coefficient, which vectorises."""
    for r in range(coef.shape[0]):
        out, first = dst[r][dst_lo:dst_lo + count], True
        for q in range(coef.shape[1]):
            k = coef[r, q]
            if k == 0:
                continue
            row = src[q][src_lo:src_lo + count]
            if first:
                for e in range(count):
                    out[e] = k * row[e]
            else:
                for e in range(count):
                    out[e] += k * row[e]
            first = False


@njit(cache=True)
def _gather_tiles(plane, ty, tiles_w, side, rows):
    """``rows[side*i + j, tx*C:(tx+1)*C] = plane[2*ty + i, 2*tx + j, :]``: the ``side`` x
    ``side`` patch of every tile in tile row ``ty``, channels last."""
    depth = plane.shape[2]
    for i in range(side):
        for j in range(side):
            row = rows[side * i + j]
            for tx in range(tiles_w):
                src, out = plane[2 * ty + i, 2 * tx + j], row[tx * depth:(tx + 1) * depth]
                for c in range(depth):
                    out[c] = src[c]


@njit(cache=True)
def _scatter_tiles(rows, plane, ty, tiles_w, side):
    """The adjoint of :func:`_gather_tiles`: each patch added back into the plane."""
    depth = plane.shape[2]
    for i in range(side):
        for j in range(side):
            row = rows[side * i + j]
            for tx in range(tiles_w):
                out, src = plane[2 * ty + i, 2 * tx + j], row[tx * depth:(tx + 1) * depth]
                for c in range(depth):
                    out[c] += src[c]


@njit(cache=True)
def _tile_sample(src, plane, rows, coef, side, dst, dst_lo, ph, pw, th, tw):
    """One sample ``src (D, H, W)`` into the zero-padded channels-last ``plane`` (offset
    ``ph``, ``pw``), each of its ``th`` tile rows' ``side`` x ``side`` patches gathered,
    then ``dst[:, dst_lo + tile rows] = coef @ patches`` (``dst (16, ...)``). With
    ``B^T (x) B^T`` and side 4 it is the input transform ``V``; with ``A (x) A`` and side 2
    the output gradient's ``dM``."""
    depth = src.shape[0]
    padded_channels_last(src, plane, ph, pw)
    for ty in range(th):
        _gather_tiles(plane, ty, tw, side, rows)
        _rows_product(coef, rows, 0, dst, dst_lo + ty * tw * depth, tw * depth)


@njit(cache=True)
def _untile_sample(src, src_lo, plane, rows, coef, side, bias, dst, ph, pw, th, tw):
    """The other way: ``coef @ src[:, src_lo + tile rows]`` per tile row, its ``side`` x
    ``side`` patches added into the zeroed channels-last ``plane``, and ``dst (D, H, W)``
    the plane from offset ``ph``, ``pw`` plus ``bias`` per channel. With ``A^T (x) A^T``,
    side 2 and the layer's bias it is the output ``y``; with ``B (x) B``, side 4 and zeros
    the input gradient."""
    depth, h, w = dst.shape
    plane[:, :, :] = 0
    for ty in range(th):
        _rows_product(coef, src, src_lo + ty * tw * depth, rows, 0, tw * depth)
        _scatter_tiles(rows, plane, ty, tw, side)
    for d in range(depth):
        b = bias[d]
        for yy in range(h):
            for xx in range(w):
                dst[d, yy, xx] = plane[ph + yy, pw + xx, d] + b


@njit(parallel=True, cache=True)
def _tile_block(src, planes, patches, coef, side, dst, ph, pw, tiles):
    """:func:`_tile_sample` for every sample of the block, sample ``n`` at tile rows
    ``n*TH ..`` of ``dst (16, T*D)``."""
    th, tw, depth = tiles[0], tiles[1], src.shape[1]
    for k in prange(src.shape[0]):
        thread = numba.get_thread_id()
        _tile_sample(src[k], planes[thread], patches[thread], coef, side, dst,
                     k * th * tw * depth, ph, pw, th, tw)


@njit(parallel=True, cache=True)
def _untile_block(src, planes, patches, coef, side, bias, dst, ph, pw, tiles):
    """:func:`_untile_sample` for every sample of the block."""
    th, tw, depth = tiles[0], tiles[1], dst.shape[1]
    for k in prange(dst.shape[0]):
        thread = numba.get_thread_id()
        _untile_sample(src, k * th * tw * depth, planes[thread], patches[thread], coef, side,
                       bias, dst[k], ph, pw, th, tw)


@njit(parallel=True, cache=True)
def _forward_per_sample(x, u_t, bias, y, work, vs, ms, ph, pw, tiles):
    """Each thread takes whole samples: ``V`` into its ``vs[thread] (16, T, C)``, the 16
    products ``M[xi] = V[xi] @ U[xi]`` into ``ms[thread] (16, T, F)`` with single-threaded
    BLAS, and ``y[k]`` from ``M``, all while the sample's numbers are in cache."""
    inputs, outputs, patches, input_coef, output_coef = work
    th, tw = tiles[0], tiles[1]
    for k in prange(x.shape[0]):
        thread = numba.get_thread_id()
        v, m, rows = vs[thread], ms[thread], patches[thread]
        _tile_sample(x[k], inputs[thread], rows, input_coef, 4, v.reshape(16, -1), 0, ph, pw,
                     th, tw)
        for xi in range(16):
            np.dot(v[xi], u_t[xi].T, m[xi])
        _untile_sample(m.reshape(16, -1), 0, outputs[thread], rows, output_coef, 2, bias, y[k],
                       0, 0, th, tw)


@njit(parallel=True, cache=True)
def _backward_per_sample(g, x, u_t, grad_x, du_ts, products, work, dms, vs, no_bias,
                         need_x, need_w, ph, pw, tiles):
    """Each thread takes whole samples: ``dM`` of ``g[k]``; for the input gradient
    ``dV[xi] = dM[xi] @ U[xi]^T`` and ``dx[k]`` from it; for the weight's, ``V`` of ``x[k]``
    and ``du_ts[thread][xi] += dM[xi]^T @ V[xi]`` (the caller adds the threads' sums)."""
    inputs, outputs, patches, input_coef, output_adjoint, input_adjoint = work
    th, tw = tiles[0], tiles[1]
    for k in prange(g.shape[0]):
        thread = numba.get_thread_id()
        dm, v, rows = dms[thread], vs[thread], patches[thread]
        _tile_sample(g[k], outputs[thread], rows, output_adjoint, 2, dm.reshape(16, -1), 0,
                     0, 0, th, tw)
        if need_x:
            for xi in range(16):
                np.dot(dm[xi], u_t[xi], v[xi])
            _untile_sample(v.reshape(16, -1), 0, inputs[thread], rows, input_adjoint, 4,
                           no_bias, grad_x[k], ph, pw, th, tw)
        if need_w:
            _tile_sample(x[k], inputs[thread], rows, input_coef, 4, v.reshape(16, -1), 0, ph,
                         pw, th, tw)
            product = products[thread]
            for xi in range(16):
                np.dot(dm[xi].T, v[xi], product[xi])
            du_ts[thread] += product


@njit(parallel=True, cache=True)
def _products(a, b, out):
    """``out[xi] = a[xi] @ b[xi]`` for the 16 positions, spread over the threads."""
    for xi in prange(16):
        np.dot(a[xi], b[xi], out[xi])


@njit(parallel=True, cache=True)
def _products_with_transposed(a, b, out):
    """``out[xi] = a[xi] @ b[xi]^T`` for the 16 positions."""
    for xi in prange(16):
        np.dot(a[xi], b[xi].T, out[xi])


@njit(parallel=True, cache=True)
def _products_of_transposed(a, b, out):
    """``out[xi] = a[xi]^T @ b[xi]`` for the 16 positions."""
    for xi in prange(16):
        np.dot(a[xi].T, b[xi], out[xi])


@njit(cache=True)
def _g_times(a0, a1, a2, half):
    """``G @ (a0, a1, a2)``: four numbers (``half`` is 1/2 in their dtype)."""
    return a0, half * (a0 + a1 + a2), half * (a0 - a1 + a2), a2


@njit(cache=True)
def _g_transposed_times(a0, a1, a2, a3, half):
    """``G^T @ (a0, a1, a2, a3)``: three numbers (``half`` is 1/2 in their dtype)."""
    return a0 + half * (a1 + a2), half * (a1 - a2), half * (a1 + a2) + a3


@njit(parallel=True, cache=True)
def _transform_weight(weight, u_t):
    """``u_t[4a + b, f, c] = (G w_f,c G^T)[a, b]``; weight ``(F, C, 3, 3)``."""
    half = weight.dtype.type(0.5)
    for f in prange(weight.shape[0]):
        for c in range(weight.shape[1]):
            # each row of w times G^T: r_i = (w_i0, (w_i0+w_i1+w_i2)/2, (w_i0-w_i1+w_i2)/2, w_i2)
            a0, a1, a2, a3 = _g_times(weight[f, c, 0, 0], weight[f, c, 0, 1],
                                      weight[f, c, 0, 2], half)
            b0, b1, b2, b3 = _g_times(weight[f, c, 1, 0], weight[f, c, 1, 1],
                                      weight[f, c, 1, 2], half)
            e0, e1, e2, e3 = _g_times(weight[f, c, 2, 0], weight[f, c, 2, 1],
                                      weight[f, c, 2, 2], half)
            # then G times each column b: (r0b, r1b, r2b) -> U[0..3, b]
            u_t[0, f, c], u_t[4, f, c], u_t[8, f, c], u_t[12, f, c] = _g_times(a0, b0, e0, half)
            u_t[1, f, c], u_t[5, f, c], u_t[9, f, c], u_t[13, f, c] = _g_times(a1, b1, e1, half)
            u_t[2, f, c], u_t[6, f, c], u_t[10, f, c], u_t[14, f, c] = _g_times(a2, b2, e2, half)
            u_t[3, f, c], u_t[7, f, c], u_t[11, f, c], u_t[15, f, c] = _g_times(a3, b3, e3, half)


@njit(parallel=True, cache=True)
def _weight_gradient(du_t, grad_w):
    """``grad_w[f, c] = G^T dU_f,c G`` from ``du_t[4a + b, f, c]``."""
    half = grad_w.dtype.type(0.5)
    for f in prange(grad_w.shape[0]):
        for c in range(grad_w.shape[1]):
            # each row a of dU times G: three numbers
            a0, a1, a2 = _g_transposed_times(du_t[0, f, c], du_t[1, f, c], du_t[2, f, c],
                                             du_t[3, f, c], half)
            b0, b1, b2 = _g_transposed_times(du_t[4, f, c], du_t[5, f, c], du_t[6, f, c],
                                             du_t[7, f, c], half)
            e0, e1, e2 = _g_transposed_times(du_t[8, f, c], du_t[9, f, c], du_t[10, f, c],
                                             du_t[11, f, c], half)
            h0, h1, h2 = _g_transposed_times(du_t[12, f, c], du_t[13, f, c], du_t[14, f, c],
                                             du_t[15, f, c], half)
            # then G^T times each column j
            grad_w[f, c, 0, 0], grad_w[f, c, 1, 0], grad_w[f, c, 2, 0] = _g_transposed_times(
                a0, b0, e0, h0, half)
            grad_w[f, c, 0, 1], grad_w[f, c, 1, 1], grad_w[f, c, 2, 1] = _g_transposed_times(
                a1, b1, e1, h1, half)
            grad_w[f, c, 0, 2], grad_w[f, c, 1, 2], grad_w[f, c, 2, 2] = _g_transposed_times(
                a2, b2, e2, h2, half)


def transformed_weight(weight):
    """``U^T (16, F, C)``: ``G w_f,c G^T`` at each of the 16 positions."""
    f, c = weight.shape[:2]
    u_t = POOL.empty((16, f, c), weight.dtype)
    _transform_weight(np.ascontiguousarray(weight), u_t)
    return u_t


class _Workspace:
    """Each thread's channels-last input plane ``(2*TH + 2, 2*TW + 2, C)``, output plane
    ``(2*TH, 2*TW, F)`` and one tile row's patches ``(16, TW * max(C, F))``; the transforms
    in the input's dtype; ``tiles = (TH, TW)``."""

    def __init__(self, x, oh: int, ow: int, filters: int):
        threads, c, dtype = numba.get_num_threads(), x.shape[1], x.dtype
        self.tiles = th, tw = -(-oh // 2), -(-ow // 2)
        self.count = th * tw
        self.inputs = POOL.empty((threads, 2 * th + 2, 2 * tw + 2, c), dtype)
        self.outputs = POOL.empty((threads, 2 * th, 2 * tw, filters), dtype)
        self.patches = np.empty((threads, 16, tw * max(c, filters)), dtype)
        self.input, self.output = INPUT.astype(dtype), OUTPUT.astype(dtype)
        self.input_adjoint = np.ascontiguousarray(self.input.T)
        self.output_adjoint = np.ascontiguousarray(self.output.T)

    def per_thread(self, depth: int, dtype) -> np.ndarray:
        """Each thread's transformed sample ``(16, T, depth)``, from the pool."""
        return POOL.empty((self.inputs.shape[0], 16, self.count, depth), dtype)


def forward(x, weight, bias, y, win, per_sample: bool = False):
    """Fill ``y (N, F, OH, OW)`` from x ``(N, C, H, W)``, weight ``(F, C, 3, 3)`` and the
    bias. ``per_sample``: each thread transforms, multiplies and untransforms whole samples
    in cache (:func:`_forward_per_sample`) rather than the 16 products of a block of samples
    being spread over the threads."""
    n, c = x.shape[:2]
    f, oh, ow = y.shape[1:]
    u_t = transformed_weight(weight)
    work = _Workspace(x, oh, ow, f)
    if per_sample:
        _forward_per_sample(x, u_t, bias, y, (work.inputs, work.outputs, work.patches,
                                              work.input, work.output),
                            work.per_thread(c, x.dtype), work.per_thread(f, x.dtype),
                            win.ph, win.pw, work.tiles)
        return
    for block in conv_batched.sample_blocks(n, 16 * work.count * max(c, f) * x.itemsize):
        rows = (block.stop - block.start) * work.count
        v, m = POOL.empty((16, rows, c), x.dtype), POOL.empty((16, rows, f), x.dtype)
        _tile_block(x[block], work.inputs, work.patches, work.input, 4, v.reshape(16, -1),
                    win.ph, win.pw, work.tiles)
        _products_with_transposed(v, u_t, m)
        _untile_block(m.reshape(16, -1), work.outputs, work.patches, work.output, 2, bias,
                      y[block], 0, 0, work.tiles)
        del v, m  # back to the pool before the next block takes its pair


def backward(g, x, weight, win, grad_x, need_x: bool, need_w: bool,
             per_sample: bool = False):
    """``dW (F, C, 3, 3)`` (None unless ``need_w``) from g ``(N, F, OH, OW)``, filling
    ``grad_x`` when ``need_x``. The transformed weight is made again rather than kept from
    the forward (16/9 of the weight per layer held through the step would raise the peak).
    In blocks of samples the input gradient is done with it before the weight's gradient
    ``dU`` of the same size is taken from the pool, in a second pass that transforms ``g``
    again; ``per_sample`` (:func:`_backward_per_sample`), each thread does both for whole
    samples in one pass, summing its own ``dU``."""
    n, c = x.shape[:2]
    f, oh, ow = g.shape[1:]
    work = _Workspace(x, oh, ow, f)
    if per_sample:
        return _backward_by_samples(g, x, weight, win, grad_x, need_x, need_w, work)
    blocks = conv_batched.sample_blocks(n, 16 * work.count * max(c, f) * x.itemsize)
    if need_x:
        u_t, no_bias = transformed_weight(weight), np.zeros(c, x.dtype)
        for block in blocks:
            dm, v = _output_gradient(g[block], work, block)
            _products(dm, u_t, v)
            _untile_block(v.reshape(16, -1), work.inputs, work.patches, work.input_adjoint, 4,
                          no_bias, grad_x[block], win.ph, win.pw, work.tiles)
            del dm, v
        u_t = None  # back to the pool before dU takes a block of U's size
    if not need_w:
        return None
    du_t = POOL.empty((16, f, c), x.dtype)
    product = np.empty_like(du_t) if len(blocks) > 1 else None
    for k, block in enumerate(blocks):
        dm, v = _output_gradient(g[block], work, block)
        _tile_block(x[block], work.inputs, work.patches, work.input, 4, v.reshape(16, -1),
                    win.ph, win.pw, work.tiles)
        _products_of_transposed(dm, v, du_t if k == 0 else product)  # the first block: dU
        if k:
            du_t += product
        del dm, v
    grad_w = np.empty((f, c, 3, 3), x.dtype)
    _weight_gradient(du_t, grad_w)
    return grad_w


def _backward_by_samples(g, x, weight, win, grad_x, need_x, need_w, work):
    """:func:`backward` with each thread taking whole samples. What a pass does not need
    (``U`` without the input gradient, ``dU`` without the weight's) is an empty array of the
    same rank, which the compiled kernel never reads."""
    c, f, threads = x.shape[1], g.shape[1], work.inputs.shape[0]
    u_t = transformed_weight(weight) if need_x else np.empty((16, 0, 0), x.dtype)
    shape = (threads, 16, f, c) if need_w else (threads, 16, 0, 0)
    du_ts, products = np.zeros(shape, x.dtype), POOL.empty(shape, x.dtype)
    _backward_per_sample(g, x, u_t, grad_x, du_ts, products,
                         (work.inputs, work.outputs, work.patches, work.input,
                          work.output_adjoint, work.input_adjoint),
                         work.per_thread(f, x.dtype), work.per_thread(c, x.dtype),
                         np.zeros(c, x.dtype), need_x, need_w, win.ph, win.pw, work.tiles)
    if not need_w:
        return None
    grad_w = np.empty((f, c, 3, 3), x.dtype)
    _weight_gradient(du_ts.sum(axis=0), grad_w)
    return grad_w


def _output_gradient(g, work, block):
    """``dM (16, rows, F)`` of the block's gradient and an input-sized ``(16, rows, C)``
    buffer, both from the pool."""
    rows, (f, c) = (block.stop - block.start) * work.count, (g.shape[1], work.inputs.shape[3])
    dm, v = POOL.empty((16, rows, f), g.dtype), POOL.empty((16, rows, c), g.dtype)
    _tile_block(g, work.outputs, work.patches, work.output_adjoint, 2, dm.reshape(16, -1),
                0, 0, work.tiles)
    return dm, v
