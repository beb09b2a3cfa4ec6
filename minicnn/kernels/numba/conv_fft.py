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

The images are real, so only the half spectrum ``v <= Wf/2`` is computed (``scipy.fft``'s
``rfft2`` and ``irfft2`` over the planes, on the threads minicnn has). The weight's spectrum
and the few grid points of ``dw`` are small matrix products with the Fourier factors
(:func:`_factors`), not transforms of mostly zero planes. The per-frequency products run
over the threads in blocks of frequencies, each thread gathering its block's matrices out
of the planes' spectra and calling single-threaded BLAS.

Rounding: every output gathers the whole plane's rounding error, so the error is relative
to the plane's largest values (about 1e-6 of them in float32), not to each output's own.
"""
from __future__ import annotations

import numba
import numpy as np
import scipy.fft
from numba import njit, prange

from ..memory import POOL

BLOCK_BYTES = 1 << 18
"""The most bytes of one thread's gathered block of frequencies (its left operands and
products), so they stay in cache between the gather, the products and the scatter."""


def grid(size: int, pad: int, extent: int, last: int) -> int:
    """The grid's length along one axis: at least ``size + pad`` (no wrapped index lands on
    data), the dilated kernel's ``extent`` and ``last + 1`` (the outputs' last position),
    rounded up to a length ``scipy.fft`` transforms fast."""
    return scipy.fft.next_fast_len(max(size + pad, extent, last + 1), real=True)


class _Plan:
    """A layer's grid ``(hf, wf)``, half spectrum ``wr = wf // 2 + 1``, the taps' offsets
    and the complex dtype, from x ``(N, C, H, W)`` and its output ``(OH, OW)``."""

    def __init__(self, x, win, oh: int, ow: int):
        h, w = x.shape[2:]
        self.hf = grid(h, win.ph, (win.kh - 1) * win.dh + 1, (oh - 1) * win.sh)
        self.wf = grid(w, win.pw, (win.kw - 1) * win.dw + 1, (ow - 1) * win.sw)
        self.wr = self.wf // 2 + 1
        self.rows = np.arange(win.kh) * win.dh - win.ph  # t_a
        self.cols = np.arange(win.kw) * win.dw - win.pw  # t_b
        self.complex = np.result_type(x.dtype, np.complex64)
        self.win, self.workers = win, numba.get_num_threads()

    def spectrum(self, planes) -> np.ndarray:
        """``(A, B, ...)`` real planes -> their half spectra ``(A*B, hf*wr)``."""
        s = scipy.fft.rfft2(planes, s=(self.hf, self.wf), workers=self.workers)
        return s.reshape(planes.shape[0] * planes.shape[1], -1)

    def planes(self, spectra, first: int) -> np.ndarray:
        """Half spectra ``(first*B, hf*wr)`` -> real planes ``(first, B, hf, wf)``."""
        s = spectra.reshape(first, -1, self.hf, self.wr)
        return scipy.fft.irfft2(s, s=(self.hf, self.wf), workers=self.workers)

    def factors(self):
        """``(E_h (hf, kh), E_w (wr, kw))``: ``exp(-2 pi i u t_a / hf)`` and the same for the
        columns, so that ``K = E_h w E_w^T`` plane by plane."""
        u, v = np.arange(self.hf)[:, None], np.arange(self.wr)[:, None]
        return (np.exp(-2j * np.pi * u * self.rows / self.hf).astype(self.complex),
                np.exp(-2j * np.pi * v * self.cols / self.wf).astype(self.complex))

    def weight_spectrum(self, weight, conjugate: bool) -> np.ndarray:
        """``K`` at each frequency, ``(hf*wr, F, C)``; ``conjugate``: ``conj(K)^T``,
        ``(hf*wr, C, F)``, the forward's right operand."""
        e_h, e_w = self.factors()
        if conjugate:
            e_h, e_w = e_h.conj(), e_w.conj()
        order = (2, 3, 1, 0) if conjugate else (2, 3, 0, 1)
        taps = weight.transpose(order).astype(self.complex)  # (kh, kw, P, Q)
        kh, kw, p, q = taps.shape
        by_column = np.matmul(e_w, taps.reshape(kh, kw, p * q))  # (kh, wr, P*Q)
        return (e_h @ by_column.reshape(kh, -1)).reshape(self.hf * self.wr, p, q)

    def taps(self, dk, dtype) -> np.ndarray:
        """``dw (F, C, kh, kw)`` from ``DK (hf*wr, F, C)``: the inverse transform at the
        taps' offsets only, ``Re(conj(E_h)^T DK (c conj(E_w)))`` over ``hf*wf``, with ``c``
        2 at the frequencies whose mirror image the half spectrum leaves out, else 1."""
        e_h, e_w = self.factors()
        f, c = dk.shape[1:]
        twice = np.full(self.wr, 2.0)
        twice[0] = 1.0
        if self.wf % 2 == 0:
            twice[-1] = 1.0
        by_row = e_h.conj().T @ dk.reshape(self.hf, -1)  # (kh, wr*F*C)
        back = np.matmul((e_w.conj() * twice[:, None]).T,
                         by_row.reshape(len(self.rows), self.wr, f * c))  # (kh, kw, F*C)
        dw = back.real / (self.hf * self.wf)
        return np.ascontiguousarray(dw.reshape(len(self.rows), len(self.cols), f, c)
                                    .transpose(2, 3, 0, 1), dtype=dtype)


def _block(frequencies: int, per_frequency_bytes: int) -> int:
    """Frequencies per thread's block: as many as :data:`BLOCK_BYTES` holds, at most a
    quarter of each thread's share, at least one."""
    share = -(-frequencies // (4 * numba.get_num_threads()))
    return max(1, min(share, BLOCK_BYTES // max(per_frequency_bytes, 1)))


@njit(parallel=True, cache=True)
def _products(lhs, rhs, out, samples, block, left, right):
    """``out[n, q] @ f = sum_p lhs[n, p] @ f * rhs[f, p, q]`` at each frequency ``f``: lhs
    ``(N*P, F)`` and out ``(N*Q, F)`` planes' spectra, rhs ``(F, P, Q)``. Each thread
    gathers a block of frequencies' ``(N, P)`` matrices into ``left[thread]``, multiplies
    them into ``right[thread]`` and scatters those back."""
    inner, outer, frequencies = rhs.shape[1], rhs.shape[2], rhs.shape[0]
    for start in prange(-(-frequencies // block)):
        thread = numba.get_thread_id()
        lo = start * block
        hi = min(lo + block, frequencies)
        a, b = left[thread], right[thread]
        for n in range(samples):
            for p in range(inner):
                row = lhs[n * inner + p]
                for k in range(lo, hi):
                    a[k - lo, n, p] = row[k]
        for k in range(lo, hi):
            np.dot(a[k - lo], rhs[k], b[k - lo])
        for n in range(samples):
            for q in range(outer):
                row = out[n * outer + q]
                for k in range(lo, hi):
                    row[k] = b[k - lo, n, q]


@njit(parallel=True, cache=True)
def _weight_products(gs, xs, dk, samples, block, left, right):
    """``dk[f] (F, C) = conj(G[f])^T @ X[f]`` at each frequency: gs ``(N*F, ...)`` and xs
    ``(N*C, ...)`` the planes' spectra; each thread gathers a block of frequencies'
    ``conj(G[f])^T`` into ``left[thread]`` and ``X[f]`` into ``right[thread]``."""
    filters, channels = dk.shape[1], dk.shape[2]
    frequencies = dk.shape[0]
    for start in prange(-(-frequencies // block)):
        thread = numba.get_thread_id()
        lo = start * block
        hi = min(lo + block, frequencies)
        a, b = left[thread], right[thread]
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
            np.dot(a[k - lo], b[k - lo], dk[k])


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


def _multiplied(lhs, rhs, samples: int, dtype) -> np.ndarray:
    """:func:`_products` of lhs ``(N*P, F)`` and rhs ``(F, P, Q)`` -> ``(N*Q, F)``."""
    frequencies, inner, outer = rhs.shape
    block = _block(frequencies, samples * (inner + outer) * dtype.itemsize)
    threads = numba.get_num_threads()
    out = POOL.empty((samples * outer, frequencies), dtype)
    _products(lhs, rhs, out, samples, block, np.empty((threads, block, samples, inner), dtype),
              np.empty((threads, block, samples, outer), dtype))
    return out


def forward(x, weight, bias, y, win):
    """Fill ``y (N, F, OH, OW)`` from x ``(N, C, H, W)``, weight ``(F, C, kh, kw)`` and the
    bias ``(F,)``."""
    n, f, oh, ow = y.shape
    plan = _Plan(x, win, oh, ow)
    zs = _multiplied(plan.spectrum(x), plan.weight_spectrum(weight, True), n, plan.complex)
    _sampled_plus_bias(plan.planes(zs, n), bias, y, win.sh, win.sw)


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
        dxs = _multiplied(gs, plan.weight_spectrum(weight, False), n, plan.complex)
        h, w = x.shape[2:]
        grad_x = POOL.empty(x.shape, x.dtype)
        grad_x[...] = plan.planes(dxs, n)[:, :, :h, :w]
        del dxs
    if need_w:
        xs = plan.spectrum(x)
        c, frequencies = x.shape[1], xs.shape[1]
        block = _block(frequencies, n * (f + c) * plan.complex.itemsize)
        threads = numba.get_num_threads()
        dk = POOL.empty((frequencies, f, c), plan.complex)
        _weight_products(gs, xs, dk, n, block,
                         np.empty((threads, block, f, n), plan.complex),
                         np.empty((threads, block, n, c), plan.complex))
        grad_w = plan.taps(dk, x.dtype)
    return grad_x, grad_w
