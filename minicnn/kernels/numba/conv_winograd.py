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
over channels is one matrix product ``M[xi] (T, F) = V[xi] (T, C) @ U[xi] (C, F)``. Per
sample (below) ``U`` is held as ``(16, C, F)`` for it: numba's ``np.dot`` with the
transposed ``(16, F, C)``, which the input gradient reads, runs those small products at
about half the speed; in blocks of samples, where the weight is large, the transposed
one serves, as making ``(16, C, F)`` from a large weight costs more than it saves. Backward
is the adjoint of each step: ``dM = A dy A^T`` per tile, then

    dU[xi] (C, F) = V[xi]^T @ dM[xi],   dw = G^T dU G
    dV[xi] (T, C) = dM[xi] @ U[xi]^T,   dx += B dV B^T  (overlapping patches added)

Transforms run per sample over the threads, each separable: the sample goes into a
zero-padded channels-last plane (:func:`.window.padded_channels_last`), the 1-D transform
(``B^T``, ``A``, ``A^T`` or ``B``, coefficients 0 and +-1) is applied along each row's
columns, a pixel's C channels at a time, then along the rows, a whole tile row of
contiguous numbers at a time: every loop adds or subtracts two or three runs of contiguous
numbers, which vectorises (and Numba's slices keep the indices provably non-negative, so
no wraparound check stops it). The products run two ways, both with
single-threaded BLAS:

- in blocks of samples whose transformed input fits
  :data:`minicnn.kernels.numba.conv_batched.BLOCK_BYTES`, the 16 products of a block spread
  over the threads: each reads ``U`` once per block, which pays where the weight is large
  and the maps are small;
- per sample (``per_sample``), each thread transforming, multiplying and untransforming
  whole samples, a band of tile rows at a time so that its numbers stay in cache
  (:data:`BAND_BYTES`), reading all of ``U`` per band: that pays where the weight is small
  and the maps are large (:func:`minicnn.kernels.numba.conv.path` draws the line).

Rounding differs from the direct product (the transforms add and halve), within float32's
and float64's precision.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..memory import POOL
from . import conv_batched
from .window import from_channels_last, padded_channels_last


def takes(win) -> bool:
    """Whether this module serves the window: 3 x 3, stride 1, no dilation."""
    return (win.kh, win.kw, win.sh, win.sw, win.dh, win.dw) == (3, 3, 1, 1, 1, 1)


# The transforms' steps: each one loop over equal runs of numbers (``out`` and its operands
# 1-D views): out = a, -a, a + b, a - b, a + b + c, a - b - c, a - b + c, a + b - c, and the
# same added into out.

@njit(cache=True, inline="always")
def _copy(out, a):
    for k in range(out.shape[0]):
        out[k] = a[k]


@njit(cache=True, inline="always")
def _neg(out, a):
    for k in range(out.shape[0]):
        out[k] = -a[k]


@njit(cache=True, inline="always")
def _add(out, a, b):
    for k in range(out.shape[0]):
        out[k] = a[k] + b[k]


@njit(cache=True, inline="always")
def _sub(out, a, b):
    for k in range(out.shape[0]):
        out[k] = a[k] - b[k]


@njit(cache=True, inline="always")
def _add_add(out, a, b, c):
    for k in range(out.shape[0]):
        out[k] = a[k] + b[k] + c[k]


@njit(cache=True, inline="always")
def _sub_sub(out, a, b, c):
    for k in range(out.shape[0]):
        out[k] = a[k] - b[k] - c[k]


@njit(cache=True, inline="always")
def _sub_add(out, a, b, c):
    for k in range(out.shape[0]):
        out[k] = a[k] - b[k] + c[k]


@njit(cache=True, inline="always")
def _add_sub(out, a, b, c):
    for k in range(out.shape[0]):
        out[k] = a[k] + b[k] - c[k]


@njit(cache=True, inline="always")
def _add_into(out, a):
    for k in range(out.shape[0]):
        out[k] += a[k]


@njit(cache=True, inline="always")
def _sub_into(out, a):
    for k in range(out.shape[0]):
        out[k] -= a[k]


@njit(cache=True, inline="always")
def _sub_add_into(out, a, b, c):
    for k in range(out.shape[0]):
        out[k] += a[k] - b[k] + c[k]


@njit(cache=True, inline="always")
def _add_sub_into(out, a, b, c):
    for k in range(out.shape[0]):
        out[k] += a[k] + b[k] - c[k]


@njit(cache=True)
def _input_columns(row, out, n, depth):
    """``out[b, tx*D + c] = (B^T (p_0, p_1, p_2, p_3))[b]`` with ``p_j`` channel c of
    padded column ``2*tx + j`` of one row of the plane in halves (even columns, then odd:
    :func:`.window.padded_channels_last`), so each ``p_j`` over all tiles is one run of
    ``n = TW*D`` contiguous numbers."""
    odd = row.shape[0] // 2
    p0, p2 = row[:n], row[depth:depth + n]
    p1, p3 = row[odd:odd + n], row[odd + depth:odd + depth + n]
    _sub(out[0], p0, p2)
    _add(out[1], p1, p2)
    _sub(out[2], p2, p1)
    _sub(out[3], p1, p3)


@njit(cache=True)
def _input_tiles(src, plane, ring, dst, dst_lo, ph, pw, th, tw):
    """``V``: ``dst[4a + b, dst_lo + (ty*TW + tx)*C + c] = (B^T d B)[a, b]`` for the 4 x 4
    patch ``d`` of tile (ty, tx) in channel c of ``src (C, H, W)``, zero-padded by ``ph``,
    ``pw`` into the channels-last ``plane`` in halves (:func:`_input_tile_rows`)."""
    padded_channels_last(src, plane, ph, pw, True)
    _input_tile_rows(plane, ring, dst, dst_lo, src.shape[0], 0, th, tw)


@njit(cache=True)
def _input_tile_rows(plane, ring, dst, dst_lo, depth, t0, t1, tw):
    """:func:`_input_tiles` of tile rows ``t0 .. t1 - 1`` of the ready ``plane``, tile row
    ``ty`` at ``dst_lo + (ty - t0)*TW*C``. Separably: ``B^T`` along each padded row's
    columns (:func:`_input_columns`, into the ``ring (4, 4, TW*C)`` of the last four rows),
    then along the rows, a whole tile row of contiguous numbers per loop."""
    n = tw * depth
    rows = plane.reshape(plane.shape[0], -1)
    _input_columns(rows[2 * t0], ring[(2 * t0) % 4], n, depth)
    _input_columns(rows[2 * t0 + 1], ring[(2 * t0 + 1) % 4], n, depth)
    for ty in range(t0, t1):
        _input_columns(rows[2 * ty + 2], ring[(2 * ty + 2) % 4], n, depth)
        _input_columns(rows[2 * ty + 3], ring[(2 * ty + 3) % 4], n, depth)
        r0, r1, r2, r3 = (ring[(2 * ty) % 4], ring[(2 * ty + 1) % 4], ring[(2 * ty + 2) % 4],
                          ring[(2 * ty + 3) % 4])
        o = slice(dst_lo + (ty - t0) * n, dst_lo + (ty - t0 + 1) * n)
        for b in range(4):
            _sub(dst[b, o], r0[b], r2[b])
            _add(dst[4 + b, o], r1[b], r2[b])
            _sub(dst[8 + b, o], r2[b], r1[b])
            _sub(dst[12 + b, o], r1[b], r3[b])


@njit(cache=True)
def _output_gradient_tiles(src, plane, work, dst, dst_lo, th, tw):
    """``dM``: ``dst[4i + j, dst_lo + (ty*TW + tx)*F + f] = (A g A^T)[i, j]`` for the 2 x 2
    tile ``g`` of ``src (F, OH, OW)`` (zeros past an odd edge), through the channels-last
    ``plane`` in halves (:func:`_output_gradient_tile_rows`)."""
    padded_channels_last(src, plane, 0, 0, True)
    _output_gradient_tile_rows(plane, work, dst, dst_lo, src.shape[0], 0, th, tw)


@njit(cache=True)
def _output_gradient_tile_rows(plane, work, dst, dst_lo, depth, t0, t1, tw):
    """:func:`_output_gradient_tiles` of tile rows ``t0 .. t1 - 1`` of the ready ``plane``,
    tile row ``ty`` at ``dst_lo + (ty - t0)*TW*F``: ``A`` along each tile's columns into
    ``work (2, 4, TW*F)``, then along its rows. ``A (g0, g1) = (g0, g0 + g1, g0 - g1,
    -g1)``."""
    n = tw * depth
    rows = plane.reshape(plane.shape[0], -1)
    for ty in range(t0, t1):
        for a in range(2):
            row, out = rows[2 * ty + a], work[a]
            g0, g1 = row[:n], row[n:2 * n]
            _copy(out[0], g0)
            _add(out[1], g0, g1)
            _sub(out[2], g0, g1)
            _neg(out[3], g1)
        o = slice(dst_lo + (ty - t0) * n, dst_lo + (ty - t0 + 1) * n)
        for j in range(4):
            _copy(dst[j, o], work[0, j])
            _add(dst[4 + j, o], work[0, j], work[1, j])
            _sub(dst[8 + j, o], work[0, j], work[1, j])
            _neg(dst[12 + j, o], work[1, j])


@njit(cache=True)
def _output_tiles(src, src_lo, plane, work, bias, dst, th, tw):
    """``y``: each tile of ``dst (F, OH, OW)`` is ``A^T M A`` of its 16 numbers in ``src``
    (laid out as :func:`_input_tiles` writes ``V``) plus ``bias``, through the
    channels-last ``plane`` in halves (:func:`_output_tile_rows`), cropped to ``dst``."""
    _output_tile_rows(src, src_lo, plane, work, dst.shape[0], 0, th, tw)
    from_channels_last(plane, dst, 0, 0, bias, True)


@njit(cache=True)
def _output_tile_rows(src, src_lo, plane, work, depth, t0, t1, tw):
    """Tile rows ``t0 .. t1 - 1`` of :func:`_output_tiles` into ``plane``, tile row ``ty``
    read from ``src_lo + (ty - t0)*TW*F``: ``A^T`` along the rows into ``work (2, 4,
    TW*F)``, then along the columns. ``A^T (m0, m1, m2, m3) = (m0 + m1 + m2, m1 - m2 -
    m3)``."""
    n = tw * depth
    rows = plane.reshape(plane.shape[0], -1)
    for ty in range(t0, t1):
        o = slice(src_lo + (ty - t0) * n, src_lo + (ty - t0 + 1) * n)
        for j in range(4):
            _add_add(work[0, j], src[j, o], src[4 + j, o], src[8 + j, o])
            _sub_sub(work[1, j], src[4 + j, o], src[8 + j, o], src[12 + j, o])
        for a in range(2):
            row, q = rows[2 * ty + a], work[a]
            _add_add(row[:n], q[0], q[1], q[2])
            _sub_sub(row[n:2 * n], q[1], q[2], q[3])


@njit(cache=True)
def _input_gradient_tiles(src, src_lo, plane, work, dst, ph, pw, th, tw):
    """``dx``: ``B dV B^T`` of each tile's 16 numbers in ``src``, added into the zeroed
    channels-last ``plane`` in halves where the 4 x 4 patches overlap
    (:func:`_input_gradient_tile_rows`), then ``dst (C, H, W)`` is the plane from offset
    ``ph``, ``pw``."""
    plane[:, :, :] = 0
    _input_gradient_tile_rows(src, src_lo, plane, work, dst.shape[0], 0, th, tw)
    from_channels_last(plane, dst, ph, pw, None, True)


@njit(cache=True)
def _input_gradient_tile_rows(src, src_lo, plane, work, depth, t0, t1, tw):
    """Tile rows ``t0 .. t1 - 1`` of :func:`_input_gradient_tiles` added into ``plane``,
    tile row ``ty`` read from ``src_lo + (ty - t0)*TW*C``: ``B`` along the rows into
    ``work (4, 4, TW*C)``, then along the columns. ``B (v0, v1, v2, v3) = (v0, v1 - v2 +
    v3, v1 + v2 - v0, -v3)``."""
    n = tw * depth
    rows = plane.reshape(plane.shape[0], -1)
    for ty in range(t0, t1):
        o = slice(src_lo + (ty - t0) * n, src_lo + (ty - t0 + 1) * n)
        for b in range(4):
            v0, v1, v2, v3 = src[b, o], src[4 + b, o], src[8 + b, o], src[12 + b, o]
            _copy(work[0, b], v0)
            _sub_add(work[1, b], v1, v2, v3)
            _add_sub(work[2, b], v1, v2, v0)
            _neg(work[3, b], v3)
        for i in range(4):
            row, q = rows[2 * ty + i], work[i]
            odd = row.shape[0] // 2
            _add_into(row[:n], q[0])
            _sub_add_into(row[odd:odd + n], q[1], q[2], q[3])
            _add_sub_into(row[depth:depth + n], q[1], q[2], q[0])
            _sub_into(row[odd + depth:odd + depth + n], q[3])


TILE_SUM = 5
"""The position of ``dM`` that is its tile's sum: ``(A g A^T)[1, 1]`` with ``A``'s row
``(1, 1)``, ``g00 + g01 + g10 + g11``; summed over the tiles it is the bias's gradient."""


@njit(cache=True)
def _add_tile_sums(tile_sums, sums):
    """``sums[f] += sum_t tile_sums[t, f]``, in float64; tile_sums ``(T, F)``."""
    for t in range(tile_sums.shape[0]):
        row = tile_sums[t]
        for f in range(sums.shape[0]):
            sums[f] += row[f]


@njit(cache=True)
def _scratch(flat, rows, depth, tw):
    """A thread's scratch numbers as ``(rows, 4, TW*depth)``."""
    return flat[:rows * 4 * tw * depth].reshape(rows, 4, tw * depth)


@njit(parallel=True, cache=True)
def _input_tiles_block(x, planes, scratch, v, ph, pw, tiles):
    """:func:`_input_tiles` for every sample of the block, sample ``n`` at tile rows
    ``n*TH ..`` of ``v (16, T*C)``."""
    th, tw, depth = tiles[0], tiles[1], x.shape[1]
    for k in prange(x.shape[0]):
        thread = numba.get_thread_id()
        _input_tiles(x[k], planes[thread], _scratch(scratch[thread], 4, depth, tw), v,
                     k * th * tw * depth, ph, pw, th, tw)


@njit(parallel=True, cache=True)
def _output_gradient_tiles_block(g, planes, scratch, dm, tiles):
    """:func:`_output_gradient_tiles` for every sample of the block."""
    th, tw, depth = tiles[0], tiles[1], g.shape[1]
    for k in prange(g.shape[0]):
        thread = numba.get_thread_id()
        _output_gradient_tiles(g[k], planes[thread], _scratch(scratch[thread], 2, depth, tw),
                               dm, k * th * tw * depth, th, tw)


@njit(parallel=True, cache=True)
def _output_tiles_block(m, planes, scratch, bias, y, tiles):
    """:func:`_output_tiles` for every sample of the block."""
    th, tw, depth = tiles[0], tiles[1], y.shape[1]
    for k in prange(y.shape[0]):
        thread = numba.get_thread_id()
        _output_tiles(m, k * th * tw * depth, planes[thread],
                      _scratch(scratch[thread], 2, depth, tw), bias, y[k], th, tw)


@njit(parallel=True, cache=True)
def _input_gradient_tiles_block(dv, planes, scratch, dx, ph, pw, tiles):
    """:func:`_input_gradient_tiles` for every sample of the block."""
    th, tw, depth = tiles[0], tiles[1], dx.shape[1]
    for k in prange(dx.shape[0]):
        thread = numba.get_thread_id()
        _input_gradient_tiles(dv, k * th * tw * depth, planes[thread],
                              _scratch(scratch[thread], 4, depth, tw), dx[k], ph, pw, th, tw)


@njit(parallel=True, cache=True)
def _forward_per_sample(x, u, bias, y, planes, scratch, vs, ms, ph, pw, tiles, band):
    """Each thread takes whole samples, ``band`` tile rows at a time: ``V`` into its
    ``vs[thread] (16, band*TW, C)``, the 16 products ``M[xi] = V[xi] @ U[xi]`` into
    ``ms[thread]`` with single-threaded BLAS, and those rows of ``y[k]`` from ``M``
    through the output plane, all while the band's numbers are in cache."""
    inputs, outputs = planes
    th, tw, c, f = tiles[0], tiles[1], x.shape[1], y.shape[1]
    for k in prange(x.shape[0]):
        thread = numba.get_thread_id()
        v, m = vs[thread], ms[thread]
        ring, work = _scratch(scratch[thread], 4, c, tw), _scratch(scratch[thread], 2, f, tw)
        padded_channels_last(x[k], inputs[thread], ph, pw, True)
        for t0 in range(0, th, band):
            t1 = min(t0 + band, th)
            count = (t1 - t0) * tw
            _input_tile_rows(inputs[thread], ring, v.reshape(16, -1), 0, c, t0, t1, tw)
            for xi in range(16):
                np.dot(v[xi, :count], u[xi], m[xi, :count])
            _output_tile_rows(m.reshape(16, -1), 0, outputs[thread], work, f, t0, t1, tw)
        from_channels_last(outputs[thread], y[k], 0, 0, bias, True)


@njit(parallel=True, cache=True)
def _backward_per_sample(g, x, u_t, grad_x, du_ts, products, bias_sums, planes, scratch, dms,
                         vs, need_x, need_w, need_b, ph, pw, tiles, band):
    """Each thread takes whole samples, ``g[k]`` in the output plane, ``band`` tile rows at
    a time: the band's ``dM`` (and its tile sums into ``bias_sums[thread]``,
    :func:`_add_tile_sums`); for the input gradient ``dV[xi] = dM[xi] @ U[xi]^T`` added
    into the zeroed gradient plane (``dx[k]`` after the last band); for the weight's, with
    ``x[k]`` in the input plane, ``V`` and ``du_ts[thread][xi] += dM[xi]^T @ V[xi]``.
    Where a band is less than the sample, both gradients are taken from each band's ``dM``
    while it is in cache; where one band holds the whole sample, the input gradient's pass
    goes first and the weight's reuses its ``dM``, so ``U`` and ``dU`` are not in cache at
    once. ``planes`` is (input, output, gradient); the gradient plane may be the input
    plane when the weight's gradient is not wanted. The caller adds the threads' sums."""
    inputs, outputs, gradients = planes
    th, tw, c, f = tiles[0], tiles[1], x.shape[1], g.shape[1]
    passes = 2 if need_x and need_w and band >= th else 1
    for k in prange(g.shape[0]):
        thread = numba.get_thread_id()
        dm, v, product = dms[thread], vs[thread], products[thread]
        ring, work = _scratch(scratch[thread], 4, c, tw), _scratch(scratch[thread], 2, f, tw)
        padded_channels_last(g[k], outputs[thread], 0, 0, True)
        if need_x:
            gradients[thread][:, :, :] = 0
        for step in range(passes):
            take_x = need_x and (passes == 1 or step == 0)
            take_w = need_w and (passes == 1 or step == 1)
            if take_w:
                padded_channels_last(x[k], inputs[thread], ph, pw, True)
            for t0 in range(0, th, band):
                t1 = min(t0 + band, th)
                count = (t1 - t0) * tw
                if step == 0:
                    _output_gradient_tile_rows(outputs[thread], work, dm.reshape(16, -1), 0, f,
                                               t0, t1, tw)
                    if need_b:
                        _add_tile_sums(dm[TILE_SUM, :count], bias_sums[thread])
                if take_x:
                    for xi in range(16):
                        np.dot(dm[xi, :count], u_t[xi], v[xi, :count])
                    _input_gradient_tile_rows(v.reshape(16, -1), 0, gradients[thread], ring, c,
                                              t0, t1, tw)
                if take_w:
                    _input_tile_rows(inputs[thread], ring, v.reshape(16, -1), 0, c, t0, t1, tw)
                    for xi in range(16):
                        np.dot(dm[xi, :count].T, v[xi, :count], product[xi])
                    du_ts[thread] += product
        if need_x:
            from_channels_last(gradients[thread], grad_x[k], ph, pw, None, True)


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


@njit(inline="always")
def _transform_weight_pair(weight, u_t, f, c, half):
    """``u_t[4a + b, f, c] = (G w_f,c G^T)[a, b]`` for one filter and channel."""
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
def _transform_weight(weight, u_t, filters_inner):
    """``u_t[4a + b, f, c] = (G w_f,c G^T)[a, b]``; weight ``(F, C, 3, 3)``, ``u_t``
    ``(16, F, C)``, or with ``filters_inner`` the transposed view of a ``(16, C, F)``
    array, which is then written in its own order (the filters in the inner loop), not by
    scattered stores."""
    half = weight.dtype.type(0.5)
    filters, channels = weight.shape[0], weight.shape[1]
    if filters_inner:
        for c in prange(channels):
            for f in range(filters):
                _transform_weight_pair(weight, u_t, f, c, half)
    else:
        for f in prange(filters):
            for c in range(channels):
                _transform_weight_pair(weight, u_t, f, c, half)


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


def transformed_weight(weight, channels_first: bool = False):
    """``U^T (16, F, C)``: ``G w_f,c G^T`` at each of the 16 positions; ``U (16, C, F)``
    with ``channels_first``, the forward's layout."""
    f, c = weight.shape[:2]
    if channels_first:
        u = POOL.empty((16, c, f), weight.dtype)
        _transform_weight(np.ascontiguousarray(weight), u.transpose(0, 2, 1), True)
        return u
    u_t = POOL.empty((16, f, c), weight.dtype)
    _transform_weight(np.ascontiguousarray(weight), u_t, False)
    return u_t


BAND_BYTES = 1 << 20
"""The most bytes of one band's transformed input and products together, ``16 * band*TW
* (C + F)`` numbers, that a thread taking whole samples holds at a time, or four times
the transformed weight if that is more: each band's 16 products read all of ``U``, so a
band much smaller than ``U`` rereads it more than it spares. Whole samples of 64->64
channels at 32 x 32 (2 MiB) or 16->16 at 128 x 128 (8 MiB) fall out of a core's L2 cache
between the products and the output's transform."""


class _Workspace:
    """Each thread's channels-last input plane ``(2*TH + 2, 2*TW + 2, C)``, output plane
    ``(2*TH, 2*TW, F)`` and the transforms' scratch ``(16 * TW * max(C, F))`` (four rows
    of a tile row's numbers, or two tile rows' halfway sums); ``tiles = (TH, TW)``, and
    ``band``, the tile rows a thread taking whole samples transforms and multiplies at a
    time (:data:`BAND_BYTES`)."""

    def __init__(self, x, oh: int, ow: int, filters: int):
        threads, c, dtype = numba.get_num_threads(), x.shape[1], x.dtype
        self.tiles = th, tw = -(-oh // 2), -(-ow // 2)
        self.count = th * tw
        budget = max(BAND_BYTES, 4 * 16 * c * filters * x.itemsize)
        self.band = max(1, min(th, budget // (16 * tw * (c + filters) * x.itemsize)))
        self.inputs = POOL.empty((threads, 2 * th + 2, 2 * tw + 2, c), dtype)
        self.outputs = POOL.empty((threads, 2 * th, 2 * tw, filters), dtype)
        self.planes = (self.inputs, self.outputs)
        self.scratch = np.empty((threads, 16 * tw * max(c, filters)), dtype)

    def per_thread(self, depth: int, dtype) -> np.ndarray:
        """Each thread's transformed band ``(16, band*TW, depth)``, from the pool."""
        return POOL.empty((self.inputs.shape[0], 16, self.band * self.tiles[1], depth), dtype)


def forward(x, weight, bias, y, win, per_sample: bool = False):
    """Fill ``y (N, F, OH, OW)`` from x ``(N, C, H, W)``, weight ``(F, C, 3, 3)`` and the
    bias. ``per_sample``: each thread transforms, multiplies and untransforms whole samples
    in cache (:func:`_forward_per_sample`) rather than the 16 products of a block of samples
    being spread over the threads."""
    n, c = x.shape[:2]
    f, oh, ow = y.shape[1:]
    work = _Workspace(x, oh, ow, f)
    if per_sample:
        u = transformed_weight(weight, channels_first=True)
        _forward_per_sample(x, u, bias, y, work.planes, work.scratch,
                            work.per_thread(c, x.dtype), work.per_thread(f, x.dtype),
                            win.ph, win.pw, work.tiles, work.band)
        return
    u_t = transformed_weight(weight)
    for block in conv_batched.sample_blocks(n, 16 * work.count * max(c, f) * x.itemsize):
        rows = (block.stop - block.start) * work.count
        v, m = POOL.empty((16, rows, c), x.dtype), POOL.empty((16, rows, f), x.dtype)
        _input_tiles_block(x[block], work.inputs, work.scratch, v.reshape(16, -1),
                           win.ph, win.pw, work.tiles)
        _products_with_transposed(v, u_t, m)
        _output_tiles_block(m.reshape(16, -1), work.outputs, work.scratch, bias, y[block],
                            work.tiles)
        del v, m  # back to the pool before the next block takes its pair


def backward(g, x, weight, win, grad_x, need_x: bool, need_w: bool, need_b: bool,
             per_sample: bool = False):
    """``(dW (F, C, 3, 3), db (F,))``, each None unless needed, from g ``(N, F, OH, OW)``,
    filling ``grad_x`` when ``need_x``; ``db`` is summed from ``dM``'s tile sums
    (:data:`TILE_SUM`) in float64. The transformed weight is made again rather than kept
    from the forward (16/9 of the weight per layer held through the step would raise the
    peak). In blocks of samples the input gradient is done with it before the weight's
    gradient ``dU`` of the same size is taken from the pool, in a second pass that
    transforms ``g`` again; ``per_sample`` (:func:`_backward_per_sample`), each thread does
    both for whole samples, each band's ``dM`` made once, summing its own ``dU``."""
    n, c = x.shape[:2]
    f, oh, ow = g.shape[1:]
    work = _Workspace(x, oh, ow, f)
    if per_sample:
        return _backward_by_samples(g, x, weight, win, grad_x, need_x, need_w, need_b, work)
    blocks = conv_batched.sample_blocks(n, 16 * work.count * max(c, f) * x.itemsize)
    bias_sums = np.zeros(f)
    if need_x:
        u_t = transformed_weight(weight)
        for block in blocks:
            dm, v = _output_gradient(g[block], work, block, bias_sums if need_b else None)
            _products(dm, u_t, v)
            _input_gradient_tiles_block(v.reshape(16, -1), work.inputs, work.scratch,
                                        grad_x[block], win.ph, win.pw, work.tiles)
            del dm, v
        u_t = None  # back to the pool before dU takes a block of U's size
    grad_w = None
    if need_w:
        du_t = POOL.empty((16, f, c), x.dtype)
        product = np.empty_like(du_t) if len(blocks) > 1 else None
        for k, block in enumerate(blocks):
            dm, v = _output_gradient(g[block], work, block,
                                     bias_sums if need_b and not need_x else None)
            _input_tiles_block(x[block], work.inputs, work.scratch, v.reshape(16, -1),
                               win.ph, win.pw, work.tiles)
            _products_of_transposed(dm, v, du_t if k == 0 else product)  # the first: dU
            if k:
                du_t += product
            del dm, v
        grad_w = np.empty((f, c, 3, 3), x.dtype)
        _weight_gradient(du_t, grad_w)
    elif need_b and not need_x:  # no dM to take the tile sums from: g's own sum
        bias_sums = g.sum(axis=(0, 2, 3), dtype=np.float64)
    return grad_w, (bias_sums.astype(x.dtype) if need_b else None)


def _backward_by_samples(g, x, weight, win, grad_x, need_x, need_w, need_b, work):
    """:func:`backward` with each thread taking whole samples. What a pass does not need
    (``U`` without the input gradient, ``dU`` without the weight's) is an empty array of the
    same rank, which the compiled kernel never reads."""
    c, f, threads = x.shape[1], g.shape[1], work.inputs.shape[0]
    u_t = transformed_weight(weight) if need_x else np.empty((16, 0, 0), x.dtype)
    shape = (threads, 16, f, c) if need_w else (threads, 16, 0, 0)
    du_ts, products = np.zeros(shape, x.dtype), POOL.empty(shape, x.dtype)
    bias_sums = np.zeros((threads, f))
    gradients = POOL.empty(work.inputs.shape, x.dtype) if need_x and need_w else work.inputs
    _backward_per_sample(g, x, u_t, grad_x, du_ts, products, bias_sums,
                         (work.inputs, work.outputs, gradients), work.scratch,
                         work.per_thread(f, x.dtype), work.per_thread(c, x.dtype), need_x,
                         need_w, need_b, win.ph, win.pw, work.tiles, work.band)
    grad_w = None
    if need_w:
        grad_w = np.empty((f, c, 3, 3), x.dtype)
        _weight_gradient(du_ts.sum(axis=0), grad_w)
    return grad_w, (bias_sums.sum(axis=0).astype(x.dtype) if need_b else None)


def _output_gradient(g, work, block, bias_sums=None):
    """``dM (16, rows, F)`` of the block's gradient and an input-sized ``(16, rows, C)``
    buffer, both from the pool; ``bias_sums`` (given) gets the block's tile sums."""
    rows, (f, c) = (block.stop - block.start) * work.count, (g.shape[1], work.inputs.shape[3])
    dm, v = POOL.empty((16, rows, f), g.dtype), POOL.empty((16, rows, c), g.dtype)
    _output_gradient_tiles_block(g, work.outputs, work.scratch, dm.reshape(16, -1),
                                 work.tiles)
    if bias_sums is not None:
        _add_tile_sums(dm[TILE_SUM], bias_sums)
    return dm, v
