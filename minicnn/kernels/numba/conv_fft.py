"""The ``numba`` set's convolution through the discrete Fourier transform: one matrix
product per frequency instead of one per tap, which pays for large kernels (5 x 5, 7 x 7),
whose taps each cost a product as large as a whole frequency's.

On a grid of ``Hf x Wf`` the convolution is a circular correlation with the weight's taps
at the offsets ``t_a = a*dh - ph`` and ``t_b = b*dw - pw`` (taken modulo the grid):

    z_n,f[m, l] = sum_c sum_(a,b) w_f,c[a, b] x_n,c[m + t_a, l + t_b]   (x zero outside H x W)
    y_n,f[i, j] = z_n,f[i*sh, j*sw] + b_f

The grid (:func:`grid`) holds at least ``H + ph`` rows, the dilated kernel's extent and the
outputs' last row ``(OH-1)*sh``: then ``m + t_a`` runs from ``-ph`` to ``H + ph - 1`` and
every index that wraps lands on the zeros after row ``H - 1``, never on data (the same
for columns). With ``X`` the spectrum of ``x`` over the grid, ``G`` that of ``g`` placed at
``(i*sh, j*sw)``, and the weight's spectrum

    K_f,c[u, v] = sum_(a,b) w_f,c[a, b] exp(-2 pi i (u t_a / Hf + v t_b / Wf)),

the correlation and convolution theorems make each frequency ``(u, v)`` one product over
channels:

    Z[u,v]  (N, F) = X[u,v] (N, C) @ conj(K[u,v])^T (C, F)
    DX[u,v] (N, C) = G[u,v] (N, F) @ K[u,v] (F, C)             dx = IDFT(DX)[:H, :W]
    DK[u,v] (F, C) = conj(G[u,v])^T (F, N) @ X[u,v] (N, C)     dw_f,c[a, b] = IDFT(DK_f,c)[t_a, t_b]

The images are real, so only the half spectrum ``v <= Wf/2`` is computed (``scipy.fft``
over the planes, on the threads minicnn has). The weight's spectrum is ``hf*wr / (kh*kw)``
times the weight (43 times for 7 x 7 on a 64 x 64 grid), so it is never held whole: it
is separable, ``K[u, v] = sum_a E_h[u, a] S[a, v]`` with ``S`` the weight transformed
along its columns (:meth:`_Plan.weight_columns`), and each thread builds ``K[u, v]`` in
cache just before its product. The weight's gradient is reduced the same way: each
thread sums ``conj(E_h[u, a]) DK[u, v]`` over its frequencies, and the inverse along the
columns at the taps is one small product at the end (:meth:`_Plan.taps`). The products
run over the threads in blocks of frequencies, each thread gathering its block's
matrices out of the planes' spectra and calling single-threaded BLAS.

Rounding: every output gathers the whole plane's rounding error, so the error is relative
to the plane's largest values (about 1e-6 of them in float32), not to each output's own.
"""
from __future__ import annotations

import numba
import numpy as np
import scipy.fft
from numba import njit, prange

from ..memory import POOL

PART_BYTES = 16 << 20
"""The most bytes of products' spectra (and so of the planes they turn back into) held at
once: the forward's output channels and the input gradient's channels are taken in parts
of this size, each its own products and inverse transforms, so a layer's transient
memory does not grow with its channels (a 32->64 62x62 layer's whole ``Z`` at batch 32
is 35 MiB)."""

BLOCK_BYTES = 1 << 18
"""The most bytes of one thread's gathered block of frequencies (its left operands and
products), so they stay in cache between the gather, the products and the scatter."""


def grid(size: int, pad: int, extent: int, last: int) -> int:
    """The grid's length along one axis: at least ``size + pad`` (no wrapped index lands on
    data), the dilated kernel's ``extent`` and ``last + 1`` (the outputs' last position),
    rounded up to a length ``scipy.fft`` transforms fast."""
    return scipy.fft.next_fast_len(max(size + pad, extent, last + 1), real=True)


class _Plan:
    """A layer's grid ``(hf, wf)``, half spectrum ``wr = wf // 2 + 1``, the taps' offsets,
    the complex dtype and the Fourier factors ``e_h``, ``e_w``, from x ``(N, C, H, W)`` and
    its output ``(OH, OW)``."""

    def __init__(self, x, win, oh: int, ow: int):
        h, w = x.shape[2:]
        self.hf = grid(h, win.ph, (win.kh - 1) * win.dh + 1, (oh - 1) * win.sh)
        self.wf = grid(w, win.pw, (win.kw - 1) * win.dw + 1, (ow - 1) * win.sw)
        self.wr = self.wf // 2 + 1
        self.rows = np.arange(win.kh) * win.dh - win.ph  # t_a
        self.cols = np.arange(win.kw) * win.dw - win.pw  # t_b
        self.complex = np.result_type(x.dtype, np.complex64)
        self.workers = numba.get_num_threads()
        # E_h (hf, kh) = exp(-2 pi i u t_a / hf) and E_w (wr, kw) the same for the columns,
        # so that K = E_h w E_w^T plane by plane
        u, v = np.arange(self.hf)[:, None], np.arange(self.wr)[:, None]
        self.e_h = np.exp(-2j * np.pi * u * self.rows / self.hf).astype(self.complex)
        self.e_w = np.exp(-2j * np.pi * v * self.cols / self.wf).astype(self.complex)

    def spectrum(self, planes) -> np.ndarray:
        """``(A, B, ...)`` real planes -> their half spectra ``(A*B, hf*wr)``."""
        s = scipy.fft.rfft2(planes, s=(self.hf, self.wf), workers=self.workers)
        return s.reshape(planes.shape[0] * planes.shape[1], -1)

    def planes(self, spectra, first: int, rows: int) -> np.ndarray:
        """Half spectra ``(first*B, hf*wr)`` -> the real planes' first ``rows`` rows
        ``(first, B, rows, wf)``: the inverse along the grid's rows in place (``spectra``
        is overwritten), then along the columns of the rows wanted only."""
        s = spectra.reshape(first, -1, self.hf, self.wr)
        s = scipy.fft.ifft(s, axis=2, overwrite_x=True, workers=self.workers)
        return scipy.fft.irfft(s[:, :, :rows], n=self.wf, axis=3, workers=self.workers)

    def weight_columns(self, weight, conjugate: bool) -> tuple:
        """The weight's spectrum in two factors: ``(E_h (hf, kh), S (kh, wr, F, C))`` with
        ``S[a, v] = sum_b E_w[v, b] w[:, :, a, b]``, so that ``K[u, v] = sum_a E_h[u, a]
        S[a, v]`` (:func:`_spectrum_at`); ``conjugate``: both conjugated and ``S`` as
        ``(kh, wr, C, F)``, for ``conj(K)^T``, the forward's right operand. The spectrum
        itself, ``hf*wr / (kh*kw)`` times the weight, is never held whole."""
        e_h, e_w = self.e_h, self.e_w
        if conjugate:
            e_h, e_w = e_h.conj(), e_w.conj()
        order = (2, 3, 1, 0) if conjugate else (2, 3, 0, 1)
        taps = weight.transpose(order).astype(self.complex)  # (kh, kw, P, Q)
        kh, kw, p, q = taps.shape
        return np.ascontiguousarray(e_h), np.matmul(e_w, taps.reshape(kh, kw, p * q)).reshape(
            kh, self.wr, p, q)

    def taps(self, rows, dtype) -> np.ndarray:
        """``dw (F, C, kh, kw)`` from each thread's ``rows (threads, kh, wr, F, C)``, their
        sum ``sum_u conj(E_h[u, a]) DK[u, v]``: the inverse transform at the taps' offsets
        only, ``Re(sum_v rows[a, v] c_v conj(E_w[v, b])) / (hf*wf)``, with ``c_v`` 2 at the
        frequencies whose mirror image the half spectrum leaves out, else 1."""
        kh, wr, f, c = rows.shape[1:]
        twice = np.full(self.wr, 2.0)
        twice[0] = 1.0
        if self.wf % 2 == 0:
            twice[-1] = 1.0
        back = np.matmul((self.e_w.conj() * twice[:, None]).T,
                         rows.sum(axis=0).reshape(kh, wr, f * c))  # (kh, kw, F*C)
        dw = back.real / (self.hf * self.wf)
        return np.ascontiguousarray(dw.reshape(kh, len(self.cols), f, c).transpose(2, 3, 0, 1),
                                    dtype=dtype)


def _block(frequencies: int, per_frequency_bytes: int) -> int:
    """Frequencies per thread's block: as many as :data:`BLOCK_BYTES` holds, at most a
    quarter of each thread's share, at least one."""
    share = -(-frequencies // (4 * numba.get_num_threads()))
    return max(1, min(share, BLOCK_BYTES // max(per_frequency_bytes, 1)))


@njit(cache=True)
def _spectrum_at(e_h, columns, k, out):
    """``out (P, Q) = sum_a e_h[u, a] columns[a, v]`` at frequency ``k = u*wr + v``."""
    u, v = k // columns.shape[1], k % columns.shape[1]
    out[:] = 0
    for a in range(columns.shape[0]):
        coefficient, plane = e_h[u, a], columns[a, v]
        for p in range(plane.shape[0]):
            row, dst = plane[p], out[p]
            for q in range(plane.shape[1]):
                dst[q] += coefficient * row[q]


@njit(parallel=True, cache=True)
def _products(lhs, e_h, columns, out, samples, block, left, right, weights):
    """``out[n, q] @ k = sum_p lhs[n, p] @ k * W_k[p, q]`` at each frequency ``k``, with
    ``W_k`` (P, Q) from ``e_h`` and ``columns`` (:func:`_spectrum_at`): lhs ``(N*P, hf*wr)``
    and out ``(N*Q, hf*wr)`` planes' spectra. Each thread gathers a block of frequencies'
    ``(N, P)`` matrices into ``left[thread]``, multiplies each by its ``W_k``, built in
    ``weights[thread]``, into ``right[thread]`` and scatters those back."""
    inner, outer, frequencies = columns.shape[2], columns.shape[3], lhs.shape[1]
    for start in prange(-(-frequencies // block)):
        thread = numba.get_thread_id()
        lo = start * block
        hi = min(lo + block, frequencies)
        a, b, w = left[thread], right[thread], weights[thread]
        for n in range(samples):
            for p in range(inner):
                row = lhs[n * inner + p]
                for k in range(lo, hi):
                    a[k - lo, n, p] = row[k]
        for k in range(lo, hi):
            _spectrum_at(e_h, columns, k, w)
            np.dot(a[k - lo], w, b[k - lo])
        for n in range(samples):
            for q in range(outer):
                row = out[n * outer + q]
                for k in range(lo, hi):
                    row[k] = b[k - lo, n, q]


@njit(parallel=True, cache=True)
def _weight_rows(gs, xs, e_h, rows, samples, block, left, right, products):
    """Each thread's ``rows[thread, a, v] += conj(e_h[u, a]) DK_k`` over its frequencies
    ``k = u*wr + v``, with ``DK_k (F, C) = conj(G_k)^T @ X_k``: gs ``(N*F, hf*wr)`` and xs
    ``(N*C, hf*wr)`` the planes' spectra. Each thread gathers a block of frequencies'
    ``conj(G_k)^T`` into ``left[thread]`` and ``X_k`` into ``right[thread]``."""
    filters, channels, wr = rows.shape[3], rows.shape[4], rows.shape[2]
    frequencies = xs.shape[1]
    rows[:] = 0
    for start in prange(-(-frequencies // block)):
        thread = numba.get_thread_id()
        lo = start * block
        hi = min(lo + block, frequencies)
        a, b, dk, acc = left[thread], right[thread], products[thread], rows[thread]
        for n in range(samples):
            for f in range(filters):
                row = gs[n * filters + f]
                for k in range(lo, hi):
                    a[k - lo, f, n] = np.conj(row[k])
            for c in range(channels):
                row = xs[n * channels + c]
                for k in range(lo, hi):
                    b[k - lo, n, c] = row[k]
        for k in range(lo, hi):
            np.dot(a[k - lo], b[k - lo], dk)
            u, v = k // wr, k % wr
            for t in range(acc.shape[0]):
                coefficient, plane = np.conj(e_h[u, t]), acc[t, v]
                for f in range(filters):
                    src, dst = dk[f], plane[f]
                    for c in range(channels):
                        dst[c] += coefficient * src[c]


@njit(parallel=True, cache=True)
def _sampled_plus_bias(z, bias, y, sh, sw):
    """``y[n, f, i, j] = z[n, f, i*sh, j*sw] + bias[f]``."""
    oh, ow = y.shape[2], y.shape[3]
    filters = y.shape[1]
    for k in prange(y.shape[0] * filters):
        n, f = k // filters, k % filters
        b = bias[f]
        for i in range(oh):
            src, dst = z[n, f, i * sh], y[n, f, i]
            for j in range(ow):
                dst[j] = src[j * sw] + b


def _multiplied(lhs, e_h, columns, samples: int, dtype) -> np.ndarray:
    """:func:`_products` of lhs ``(N*P, hf*wr)`` and the weight's spectrum from ``e_h`` and
    ``columns (kh, wr, P, Q)`` -> ``(N*Q, hf*wr)``."""
    frequencies, (inner, outer) = lhs.shape[1], columns.shape[2:]
    block = _block(frequencies, samples * (inner + outer) * dtype.itemsize)
    threads = numba.get_num_threads()
    out = np.empty((samples * outer, frequencies), dtype)
    _products(lhs, e_h, columns, out, samples, block,
              np.empty((threads, block, samples, inner), dtype),
              np.empty((threads, block, samples, outer), dtype),
              np.empty((threads, inner, outer), dtype))
    return out


def _parts(outer: int, samples: int, frequencies: int, dtype) -> list:
    """The ranges of the ``outer`` channels of products taken at a time
    (:data:`PART_BYTES`), at least one channel each."""
    most = max(1, PART_BYTES // max(samples * frequencies * dtype.itemsize, 1))
    count = -(-outer // most)
    step = -(-outer // count)  # parts of equal size
    return [slice(lo, min(lo + step, outer)) for lo in range(0, outer, step)]


def forward(x, weight, bias, y, win):
    """Fill ``y (N, F, OH, OW)`` from x ``(N, C, H, W)``, weight ``(F, C, kh, kw)`` and the
    bias ``(F,)``, a part of the filters at a time (:func:`_parts`)."""
    n, f, oh, ow = y.shape
    plan = _Plan(x, win, oh, ow)
    xs = plan.spectrum(x)
    e_h, columns = plan.weight_columns(weight, True)
    for part in _parts(f, n, xs.shape[1], plan.complex):
        zs = _multiplied(xs, e_h, np.ascontiguousarray(columns[..., part]), n, plan.complex)
        _sampled_plus_bias(plan.planes(zs, n, (oh - 1) * win.sh + 1), bias[part], y[:, part],
                           win.sh, win.sw)
        del zs  # back to the pool for the next part


def backward(g, x, weight, win, need_x: bool, need_w: bool):
    """``(dx, dW)`` from g ``(N, F, OH, OW)``, each None unless wanted."""
    n, f, oh, ow = g.shape
    plan = _Plan(x, win, oh, ow)
    if win.sh > 1 or win.sw > 1:  # g at the positions its outputs were sampled from
        placed = np.zeros((n, f, (oh - 1) * win.sh + 1, (ow - 1) * win.sw + 1), g.dtype)
        placed[:, :, ::win.sh, ::win.sw] = g
        g = placed
    gs = plan.spectrum(g)
    grad_x = grad_w = None
    if need_x:
        e_h, columns = plan.weight_columns(weight, False)
        h, w = x.shape[2:]
        grad_x = POOL.empty(x.shape, x.dtype)
        for part in _parts(x.shape[1], n, gs.shape[1], plan.complex):
            dxs = _multiplied(gs, e_h, np.ascontiguousarray(columns[..., part]), n,
                              plan.complex)
            grad_x[:, part] = plan.planes(dxs, n, h)[..., :w]
            del dxs
    if need_w:
        xs = plan.spectrum(x)
        c, frequencies = x.shape[1], xs.shape[1]
        block = _block(frequencies, n * (f + c) * plan.complex.itemsize)
        threads = numba.get_num_threads()
        rows = np.empty((threads, len(plan.rows), plan.wr, f, c), plan.complex)
        _weight_rows(gs, xs, plan.e_h, rows, n, block,
                     np.empty((threads, block, f, n), plan.complex),
                     np.empty((threads, block, n, c), plan.complex),
                     np.empty((threads, f, c), plan.complex))
        grad_w = plan.taps(rows, x.dtype)
    return grad_x, grad_w
