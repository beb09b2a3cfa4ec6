"""The ``numba`` set's convolution: :func:`path` picks a kernel by the layer's shape.

This module's own kernel spreads whole samples over the threads: each writes one
sample's pixel-major im2col columns (:mod:`.window`), a band of output rows at a time,
into its own scratch buffer (small enough to stay in cache: :data:`BAND_BYTES`) and
multiplies them with single-threaded BLAS straight away; where a sample has fewer output
pixels than the weight has rows, a few whole samples' columns at a time
(:func:`samples_per_task`), so the weight is read once for all of them. Nothing of
``col`` is kept for backward: it is rebuilt per band. One threading system (Numba's) keeps
the cores busy; BLAS threads spinning beside Numba's would fight them for the same cores.
Scratch buffers and outputs come from :data:`minicnn.kernels.memory.POOL`.
"""
from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ..memory import POOL
from ..window import Window
from . import conv_batched, conv_fft, conv_pointwise, conv_winograd
from .conv_one_channel import conv_one_channel_forward, conv_one_channel_weight_bias_grads
from .window import (
    add_pixel_major_rows,
    from_channels_last,
    geometry,
    pixel_major_rows,
    to_channels_last,
)

BAND_BYTES = 4 << 20
"""The most bytes of one sample's columns built at a time: larger samples are convolved a
band of output rows after another, so each band's columns are still in cache when they are
multiplied (at least one output row per band)."""


def band_rows(oh: int, ow: int, depth: int, itemsize: int) -> int:
    """Output rows per band: as many as fit :data:`BAND_BYTES` of columns, at least one."""
    return max(1, min(oh, BAND_BYTES // max(ow * depth * itemsize, 1)))


def samples_per_task(n: int, pixels: int, depth: int, filters: int, itemsize: int) -> int:
    """Samples whose columns one thread builds and multiplies at once: 1 where a sample
    has at least as many output pixels as the weight has rows (its product already reads
    the weight to good use) or needs bands; else as many whole samples as fit
    :data:`BAND_BYTES`, in tasks that come in multiples of the threads, so that none waits
    on another's extra task."""
    most = BAND_BYTES // max(pixels * depth * itemsize, 1)
    if most <= 1 or pixels >= filters:
        return 1
    threads = numba.get_num_threads()
    tasks = threads * -(-n // (threads * most))
    return -(-n // tasks)


@njit(parallel=True, cache=True)
def _conv_forward(x, wmat_t, bias, y, cols, scratches, outs, band, group,
                  kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Each thread takes ``group`` whole samples at a time, or one sample a band of output
    rows at a time (``group`` 1): pixel-major im2col of the samples or the band into its
    own ``cols[thread]``, then one single-threaded BLAS product ``out = col^T @ W'^T``
    while the columns are in cache (``W'`` the weight ``(F, kh*kw*C)`` with columns
    ordered (i, j, c)), and each sample's share of ``out`` transposed plus the bias."""
    n, p = x.shape[0], oh * ow
    for task in prange(-(-n // group)):
        thread = numba.get_thread_id()
        col_t, out_t, scratch = cols[thread], outs[thread], scratches[thread]
        k0, k1 = task * group, min(n, (task + 1) * group)
        for k in range(k0, k1):
            to_channels_last(x[k], scratch)
            at = (k - k0) * p
            for lo in range(0, oh, band):
                hi = min(lo + band, oh)
                rows = (hi - lo) * ow
                pixel_major_rows(scratch, col_t[at:], lo, hi, kh, kw, sh, sw, ph, pw, dh, dw, ow)
                if group == 1:
                    np.dot(col_t[:rows], wmat_t, out_t[:rows])
                    _transposed_plus_bias(out_t, bias, y[k], lo * ow, rows)
        if group > 1:
            rows = (k1 - k0) * p
            np.dot(col_t[:rows], wmat_t, out_t[:rows])
            for k in range(k0, k1):
                _transposed_plus_bias(out_t[(k - k0) * p:], bias, y[k], 0, p)


@njit(cache=True)
def _transposed_plus_bias(out_t, bias, y_k, first, rows):
    """``y_k[f, first + q] = out_t[q, f] + bias[f]`` for ``q < rows``."""
    for f in range(y_k.shape[0]):
        row, b = y_k[f], bias[f]
        for q in range(rows):
            row[first + q] = out_t[q, f] + b


@njit(parallel=True, cache=True)
def _conv_backward(x, g3, wmat, grad_x, grad_ws, products, cols, scratches, grad_scratches,
                   g_bands, need_x, need_w, band, group, kh, kw, sh, sw, ph, pw, dh, dw, oh,
                   ow):
    """Per ``group`` whole samples, or per sample a band of output rows at a time (``group``
    1): rebuild the pixel-major ``col^T``; ``dW'[thread] += g_rows @ col^T``, ``(F,
    kh*kw*C)`` (with the filters as the product's rows, which BLAS runs faster than ``col
    @ g_rows^T`` where the columns are deep, as on 5 x 5 and 7 x 7 layers, and as fast on
    3 x 3); then the columns' gradient ``dcol^T = g_rows^T @ W'`` into the same buffer,
    added into each sample's channels-last input gradient, which becomes ``dx[k]`` after
    its last band. ``g_rows (F, rows)`` is the gradient of the samples or band, gathered
    contiguous for BLAS unless it is one whole sample's. Each thread sums its own dW'
    (columns (i, j, c)); the caller adds them up and reorders them."""
    n, filters, p = x.shape[0], g3.shape[1], oh * ow
    for task in prange(-(-n // group)):
        thread = numba.get_thread_id()
        col_t, scratch, grad_scratch = cols[thread], scratches[thread], grad_scratches[thread]
        k0, k1 = task * group, min(n, (task + 1) * group)
        for k in range(k0, k1):
            if group == 1 and need_x:
                grad_scratch[:] = 0
            if need_w:
                to_channels_last(x[k], scratch)
            for lo in range(0, oh, band):
                hi = min(lo + band, oh)
                rows, first = (hi - lo) * ow, lo * ow
                at = (k - k0) * p
                if need_w:
                    pixel_major_rows(scratch, col_t[at:], lo, hi, kh, kw, sh, sw, ph, pw, dh,
                                     dw, ow)
                if group == 1:
                    _band_gradients(g3[k], wmat, col_t, grad_ws[thread], products[thread],
                                    grad_scratch, g_bands[thread], first, rows, need_x, need_w,
                                    lo, hi, kh, kw, sh, sw, ph, pw, dh, dw, ow)
            if group == 1 and need_x:
                from_channels_last(grad_scratch, grad_x[k])
        if group > 1:
            rows = (k1 - k0) * p
            g_rows = g_bands[thread][:filters * rows].reshape(filters, rows)
            for k in range(k0, k1):
                g_rows[:, (k - k0) * p:(k - k0 + 1) * p] = g3[k]
            if need_w:
                np.dot(g_rows, col_t[:rows], products[thread])
                grad_ws[thread] += products[thread]
            if need_x:
                np.dot(g_rows.T, wmat, col_t[:rows])
                for k in range(k0, k1):
                    grad_scratch[:] = 0
                    add_pixel_major_rows(col_t[(k - k0) * p:], grad_scratch, 0, oh, kh, kw, sh,
                                         sw, ph, pw, dh, dw, ow)
                    from_channels_last(grad_scratch, grad_x[k])


@njit(cache=True)
def _band_gradients(g_k, wmat, col_t, grad_w, product, grad_scratch, g_band, first, rows,
                    need_x, need_w, lo, hi, kh, kw, sh, sw, ph, pw, dh, dw, ow):
    """One band of one sample: ``dW' += g_band @ col^T`` and ``dcol^T = g_band^T @ W'``
    added into ``grad_scratch``; ``g_band`` the band's gradient, contiguous for BLAS."""
    filters = g_k.shape[0]
    if rows < g_k.shape[1]:
        g_rows = g_band[:filters * rows].reshape(filters, rows)
        g_rows[:, :] = g_k[:, first:first + rows]
    else:
        g_rows = g_k
    if need_w:
        np.dot(g_rows, col_t[:rows], product)
        grad_w += product
    if need_x:
        np.dot(g_rows.T, wmat, col_t[:rows])
        add_pixel_major_rows(col_t, grad_scratch, lo, hi, kh, kw, sh, sw, ph, pw, dh, dw, ow)


PATHS = ("one-channel", "winograd", "winograd-per-sample", "fft", "stacked", "pointwise",
         "per-sample")


WINOGRAD_OUTPUTS = 128
"""The fewest output pixels of a whole batch (``samples * OH*OW``) that Winograd takes:
below it, the transforms of the weight and of its gradient (each the weight's size, and
16/9 of it) cost more than the products they spare."""


WINOGRAD_PER_SAMPLE = (8, 256, 8)
"""Where Winograd goes per sample rather than in blocks of samples: at least 8 channels in
and out, 256 output pixels per sample and 8 samples, or any number of samples below the
64 channels that blocks need (the alternative there is im2col, per sample too). On
smaller maps the weight, which each thread reads whole per sample, outweighs a sample's
products (128->256 at 8 x 8 and below); at batch 2 a block's 16 products keep both threads
as busy. Few filters are no obstacle: DenseNet's 48->12 layers at 32 x 32 and, at batch
2, the SimpleCNN's layers run faster this way than through im2col
(``benchmarks/RESULTS.md``)."""

WINOGRAD_PER_SAMPLE_WEIGHT = 48
"""The most ``channels * filters`` per output pixel of a sample that Winograd per sample
takes from 64 channels on: each thread reads the whole transformed weight (16 numbers per
channel pair) for every sample, and past this the weight no longer shares the cache with
the sample's tiles: 128->128 at 16 x 16 (64 per pixel) runs faster in blocks, 64->128 at
16 x 16 (32 per pixel) per sample (``benchmarks/RESULTS.md``)."""

FFT_FROM = ((49, 16), (25, 32))
"""``(taps, samples)``: a window of at least ``taps`` taps (7 x 7, 5 x 5) at stride 1 goes
through the DFT from ``samples`` samples on, with at least 16 channels in and out. What
does not shrink with the batch (the weight's spectrum, ``hf*wr / (kh*kw)`` times the
weight, built for every frequency's product, and its gradient's reduction to the taps)
outweighs what it spares below: at batch 2 every 7 x 7 layer of the study's grid is
slower this way than through im2col, at batch 8 those on 29 x 29 maps still are, and a
5 x 5 layer gains only from batch 32 (``benchmarks/RESULTS.md``)."""

POINTWISE_FILTERS_PER_PIXEL = 16
"""The most filters per output pixel of a sample that a 1 x 1 convolution takes a product
per sample for: with more, each sample's product is too thin (16 columns against 1000
rows, and the weight gradient rewritten per sample), and one stacked product wins."""


POINTWISE_LEAST_PIXELS = 64
"""The fewest output pixels per sample (8 x 8) that a 1 x 1 convolution at stride 1 takes
a product per sample on the NCHW planes for. With fewer pixels than filters it goes
``per-sample`` where a thread takes at least :data:`POINTWISE_SAMPLES_PER_TASK` whole
samples at once (:func:`samples_per_task`), else ``stacked``: on MobileNetV2's 4 x 4 maps
(160->960, 960->160, 960->320) the first wins at batch 32, the stacked product at batch 2
and mostly at 8 (``benchmarks/RESULTS.md``)."""

POINTWISE_SAMPLES_PER_TASK = 8


def path(channels: int, filters: int, pixels: int, win: Window, samples: int) -> str:
    """Which kernel convolves ``channels`` input and ``filters`` output channels with
    ``pixels = OH*OW`` outputs per sample, ``samples`` samples (forward and backward agree):

    - ``one-channel``: one input channel at stride 1, convolved directly
      (:mod:`.conv_one_channel`; at stride 2 its loops lose to im2col three times over);
    - ``winograd-per-sample``: 3 x 3 at stride 1 on samples large enough, in batches of
      8 or more unless channels are fewer than 64 (:data:`WINOGRAD_PER_SAMPLE`), and from
      64 channels only where the weight is small against a sample
      (:data:`WINOGRAD_PER_SAMPLE_WEIGHT`), each thread taking whole samples
      (:mod:`.conv_winograd`);
    - ``winograd``: 3 x 3 at stride 1 with at least 64 channels in and out and at least
      :data:`WINOGRAD_OUTPUTS` output pixels in the batch, in blocks of samples;
    - ``fft``: kernels of 5 x 5 and more at stride 1 without dilation, on enough samples
      (:data:`FFT_FROM`), through the discrete Fourier transform (:mod:`.conv_fft`);
    - ``pointwise``: 1 x 1 without padding, a product per sample on the NCHW planes
      (:mod:`.conv_pointwise`), unless a sample has fewer than ``filters /``
      :data:`POINTWISE_FILTERS_PER_PIXEL` output pixels, or fewer than
      :data:`POINTWISE_LEAST_PIXELS` and than the filters (then ``per-sample`` where a
      thread takes several samples at once, else ``stacked``);
    - ``stacked``: the weight has more rows than the columns one thread multiplies at once
      (``pixels`` times :func:`samples_per_task`, counted in float32, against
      ``filters``): all samples' columns in one product (:mod:`.conv_batched`);
    - ``per-sample``: im2col and a product per sample, or per few whole samples where
      they are small, in cache (this module).

    ``benchmarks/conv_paths.py`` times the paths on the layers of VGG, ResNet, MobileNet
    and the SimpleCNN at CIFAR size; its figures, which drew these lines, are in
    ``benchmarks/RESULTS.md``.
    """
    if channels == 1 and win.sh == win.sw == 1:
        return "one-channel"
    least_channels, least_pixels, least_samples = WINOGRAD_PER_SAMPLE
    if (conv_winograd.takes(win) and min(channels, filters) >= least_channels
            and pixels >= least_pixels
            and (min(channels, filters) < 64 or (
                samples >= least_samples
                and channels * filters <= WINOGRAD_PER_SAMPLE_WEIGHT * pixels))):
        return "winograd-per-sample"
    if (conv_winograd.takes(win) and min(channels, filters) >= 64
            and samples * pixels >= WINOGRAD_OUTPUTS):
        return "winograd"
    if (win.sh == win.sw == win.dh == win.dw == 1 and min(channels, filters) >= 16
            and any(win.kh * win.kw >= taps and samples >= least for taps, least in FFT_FROM)):
        return "fft"
    depth = channels * win.kh * win.kw
    group = samples_per_task(samples, pixels, depth, filters, 4)
    if (conv_pointwise.takes(win) and win.sh == win.sw == 1
            and pixels < min(POINTWISE_LEAST_PIXELS, filters)):
        return "per-sample" if group >= POINTWISE_SAMPLES_PER_TASK else "stacked"
    if conv_pointwise.takes(win) and pixels * POINTWISE_FILTERS_PER_PIXEL >= filters:
        return "pointwise"
    if pixels * group < filters:
        return "stacked"
    return "per-sample"


def _pixel_major_weight(weight) -> np.ndarray:
    """``W' (F, kh*kw*C)``: the weight with columns ordered (i, j, c)."""
    return np.ascontiguousarray(weight.transpose(0, 2, 3, 1)).reshape(weight.shape[0], -1)


def _thread_buffers(x, band: int, ow: int, depth: int) -> tuple:
    """Each thread's pixel-major columns for a band ``(band*ow, depth)`` and ``(H, W, C)``
    scratch."""
    threads, (c, h, w) = numba.get_num_threads(), x.shape[1:]
    return (POOL.empty((threads, band * ow, depth), x.dtype),
            POOL.empty((threads, h, w, c), x.dtype))


def conv2d_forward(x, weight, bias, win: Window):
    """``y[n] = W @ col_n + b`` by the kernel :func:`path` picks; saves nothing."""
    x = np.ascontiguousarray(x)
    n, c, h, w = x.shape
    f = weight.shape[0]
    oh, ow = win.out_shape(h, w)
    bias = np.zeros(f, x.dtype) if bias is None else bias
    y = POOL.empty((n, f, oh, ow), x.dtype)
    kind = path(c, f, oh * ow, win, n)
    if kind == "one-channel":
        conv_one_channel_forward(x, weight, bias, y, win)
    elif kind in ("winograd", "winograd-per-sample"):
        conv_winograd.forward(x, weight, bias, y, win, kind == "winograd-per-sample")
    elif kind == "fft":
        conv_fft.forward(x, weight, bias, y, win)
    elif kind == "stacked":
        conv_batched.forward(x, np.ascontiguousarray(weight).reshape(f, -1), bias,
                             y.reshape(n, f, oh * ow), geometry(win, oh, ow))
    elif kind == "pointwise":
        conv_pointwise.forward(x, weight, bias, y, win)
    else:
        wmat_t = np.ascontiguousarray(_pixel_major_weight(weight).T)
        band = band_rows(oh, ow, wmat_t.shape[0], x.itemsize)
        group = samples_per_task(n, oh * ow, wmat_t.shape[0], f, x.itemsize)
        cols, scratches = _thread_buffers(x, group * band, ow, wmat_t.shape[0])
        outs = POOL.empty((numba.get_num_threads(), group * band * ow, f), x.dtype)
        _conv_forward(x, wmat_t, bias, y.reshape(n, f, oh * ow), cols, scratches, outs, band,
                      group, *geometry(win, oh, ow))
    return y, None


def input_gradient_as_convolution(channels: int, filters: int, win: Window) -> bool:
    """Whether the input gradient is computed as the forward convolution of ``g`` with the
    flipped weight (:func:`_input_gradient_by_convolution`): at stride 1 without dilation,
    a window larger than 1 x 1 and fewer filters than input channels, where the columns'
    gradient would be a product with an inner size of only ``filters``."""
    return ((win.sh, win.sw, win.dh, win.dw) == (1, 1, 1, 1) and win.kh * win.kw > 1
            and win.ph < win.kh and win.pw < win.kw and filters < channels)


def _input_gradient_by_convolution(g, weight, win: Window):
    """``dx = conv(g, W~)`` with ``W~[c, f, i, j] = W[f, c, kh-1-i, kw-1-j]`` and padding
    ``k - 1 - p``: at stride 1 each input pixel gets, through each tap, the gradient of the
    one output the tap connects it to, so the adjoint is a "full" correlation with the
    flipped kernel, and its output has the input's size."""
    flipped = np.ascontiguousarray(weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
    full = Window(win.kh, win.kw, 1, 1, win.kh - 1 - win.ph, win.kw - 1 - win.pw)
    return conv2d_forward(g, flipped, None, full)[0]


def _input_gradient_buffer(x, need_x: bool) -> np.ndarray:
    """The input gradient's buffer from the pool, or (not needed) an empty array of the
    same rank, which the kernels never touch."""
    return POOL.empty(x.shape, x.dtype) if need_x else np.empty((x.shape[0], 0, 0, 0), x.dtype)


def conv2d_backward(g, saved, x, weight, win: Window, need_x=True, need_w=True, need_b=True):
    x, g = np.ascontiguousarray(x), np.ascontiguousarray(g)
    n, f, oh, ow = g.shape
    kind = path(x.shape[1], f, oh * ow, win, n)
    if need_x and kind != "fft" and input_gradient_as_convolution(x.shape[1], f, win):
        rest = conv2d_backward(g, saved, x, weight, win, False, need_w, need_b)
        return _input_gradient_by_convolution(g, weight, win), rest[1], rest[2]
    g3 = g.reshape(n, f, oh * ow)
    if kind == "one-channel" and (need_w or need_b):  # sums in float64, as its forward
        grad_w, grad_b = conv_one_channel_weight_bias_grads(g, x, weight, win)
        grad_x = None
        if need_x:
            grad_x = conv2d_backward(g, saved, x, weight, win, True, False, False)[0]
        return grad_x, (grad_w if need_w else None), (grad_b if need_b else None)
    if kind in ("winograd", "winograd-per-sample"):  # the bias's gradient from dM
        grad_x = _input_gradient_buffer(x, need_x)
        grad_w, grad_b = conv_winograd.backward(g, x, weight, win, grad_x, need_x, need_w,
                                                need_b, kind == "winograd-per-sample")
        return (grad_x if need_x else None), grad_w, grad_b
    grad_b = g3.sum(axis=(0, 2)) if need_b else None
    if kind == "pointwise":
        return (*conv_pointwise.backward(g, x, weight, win, need_x, need_w), grad_b)
    if kind == "fft":
        return (*conv_fft.backward(g, x, weight, win, need_x, need_w), grad_b)
    grad_x = _input_gradient_buffer(x, need_x)
    if kind == "stacked":
        grad_w = conv_batched.backward(g3, x, np.ascontiguousarray(weight).reshape(f, -1),
                                       grad_x, need_x, need_w, geometry(win, oh, ow))
        return (grad_x if need_x else None), (None if grad_w is None
                                              else grad_w.reshape(weight.shape)), grad_b
    wmat = _pixel_major_weight(weight)
    threads, depth = numba.get_num_threads(), wmat.shape[1]
    band = band_rows(oh, ow, depth, x.itemsize)
    group = samples_per_task(n, oh * ow, depth, f, x.itemsize)
    grad_ws = np.zeros((threads, f, depth), x.dtype)
    products = POOL.empty((threads, f, depth), x.dtype)
    cols, scratches = _thread_buffers(x, group * band, ow, depth)
    grad_scratches = POOL.empty(scratches.shape, x.dtype)
    gathered = group * oh * ow if group > 1 else (band * ow if band < oh else 0)
    g_bands = POOL.empty((threads, f * gathered), x.dtype)
    _conv_backward(x, g3, wmat, grad_x, grad_ws, products, cols, scratches, grad_scratches,
                   g_bands, need_x, need_w, band, group, *geometry(win, oh, ow))
    grad_w = None
    if need_w:
        c, kh, kw = weight.shape[1:]
        grad_w = np.ascontiguousarray(grad_ws.sum(axis=0).reshape(f, kh, kw, c)
                                      .transpose(0, 3, 1, 2))
    return (grad_x if need_x else None), grad_w, grad_b
