"""The ``cupy`` set's batch normalisation.

Per channel c of x ``(N, C, M)``: one block per (n, c) plane sums its M values in double
(two passes over the plane: its sum, then squared deviations from the plane's mean, each
a shared-memory tree), and one thread per channel combines the N planes (Chan et al.'s
pairwise formula: ``var = (sum of plane M2 + M * sum (plane mean - mean)^2) / (N M)``).
Normalising and the input gradient are one elementwise kernel each; the running-estimate
update and the inverse deviation one thread per channel. Arrays are made contiguous
before a kernel (raw pointers ignore strides).
"""
from __future__ import annotations

import numpy as np

from ...backend import cupy_module
from .. import formulas
from .cuda import THREADS, launch, optional, raw_source

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

BN_PLANE_STATS = raw_source("bn_plane_stats", _BLOCK_SUM + r"""
extern "C" __global__ void bn_plane_stats(const T* x, double* sums, double* m2, const i64 M) {
    __shared__ double shared[$threads];
    const T* plane = x + (i64)blockIdx.x * M;
    double s = 0, q = 0;
    for (i64 m = threadIdx.x; m < M; m += blockDim.x) s += plane[m];
    s = block_sum(s, shared);
    const double mu = s / M;
    for (i64 m = threadIdx.x; m < M; m += blockDim.x) {
        const double d = plane[m] - mu; q += d * d;
    }
    q = block_sum(q, shared);
    if (threadIdx.x == 0) { sums[blockIdx.x] = s; m2[blockIdx.x] = q; }
}
""", per_plane=True, threads=THREADS)

BN_PLANE_GRAD_SUMS = raw_source("bn_plane_grad_sums", _BLOCK_SUM + r"""
extern "C" __global__ void bn_plane_grad_sums(const T* g, const T* x, const T* mean,
        double* sum_g, double* sum_g_dev, const int C, const i64 M) {
    __shared__ double shared[$threads];
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
""", per_plane=True, threads=THREADS)

BN_COMBINE_STATS = raw_source("bn_combine_stats", r"""
extern "C" __global__ void bn_combine_stats(const double* sums, const double* m2, T* mean,
        T* var, const i64 total, const int N, const int C, const i64 M) {
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
""")

BN_COMBINE_GRAD_SUMS = raw_source("bn_combine_grad_sums", r"""
extern "C" __global__ void bn_combine_grad_sums(const double* sum_g_planes,
        const double* sum_g_dev_planes, const T* inv_std, T* sum_g, T* sum_gx,
        const i64 total, const int N, const int C) {
    i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= total) return;
    double a = 0, b = 0;
    for (int n = 0; n < N; ++n) {
        a += sum_g_planes[n * C + c]; b += sum_g_dev_planes[n * C + c];
    }
    sum_g[c] = a;
    sum_gx[c] = b * inv_std[c];
}
""")

BN_UPDATE_RUNNING = raw_source("bn_update_running", r"""
extern "C" __global__ void bn_update_running(const T* mean, const T* var, T* running_mean,
        T* running_var, const i64 total, const T momentum, const T unbias) {
    i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= total) return;
    running_mean[c] = running_mean[c] * ((T)1 - momentum) + momentum * mean[c];
    running_var[c] = running_var[c] * ((T)1 - momentum) + momentum * var[c] * unbias;
}
""")

BN_INV_STD = raw_source("bn_inv_std", r"""
extern "C" __global__ void bn_inv_std(const T* var, T* inv_std, const i64 total, const T eps) {
    i64 c = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= total) return;
    inv_std[c] = (T)1 / sqrt(var[c] + eps);
}
""")

# weight and bias may be absent (has_weight / has_bias 0; any pointer is passed).
BN_APPLY = raw_source("bn_apply", r"""
extern "C" __global__ void bn_apply(const T* x, const T* mean, const T* inv_std,
        const T* weight, const T* bias, T* y, const i64 total, const int C, const i64 M,
        const int has_weight, const int has_bias) {
    i64 idx = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= total) return;
    const int c = (idx / M) % C;
    const T scale = has_weight ? inv_std[c] * weight[c] : inv_std[c];
    y[idx] = (x[idx] - mean[c]) * scale + (has_bias ? bias[c] : (T)0);
}
""")

BN_GRAD_INPUT = raw_source("bn_grad_input", r"""
extern "C" __global__ void bn_grad_input(const T* g, const T* x, const T* mean,
        const T* inv_std, const T* weight, const T* sum_g, const T* sum_gx, T* out,
        const i64 total, const int C, const i64 M, const T count, const int has_weight,
        const int batch_stats) {
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
""")


def _planes(x) -> tuple:
    """``x`` contiguous, and its ``(N, C, M)`` sizes as kernel arguments."""
    cp = cupy_module()
    x = cp.ascontiguousarray(x)
    return x, x.shape[0], x.shape[1], x.size // (x.shape[0] * x.shape[1])


def _same_contiguous(*arrays) -> bool:
    """True when the arrays share one dtype and are C-contiguous (what the kernels take)."""
    return len({a.dtype for a in arrays}) == 1 and all(a.flags.c_contiguous for a in arrays)


def batchnorm_stats(x):
    """Per-channel mean and biased variance: plane sums and squared deviations (one block
    per plane), then one thread per channel combines them; all in double."""
    cp = cupy_module()
    x, n, c, m = _planes(x)
    sums, m2 = cp.empty(n * c, cp.float64), cp.empty(n * c, cp.float64)
    launch(BN_PLANE_STATS, x.dtype, n * c, x, sums, m2, np.int64(m))
    mean, var = cp.empty(c, x.dtype), cp.empty(c, x.dtype)
    launch(BN_COMBINE_STATS, x.dtype, c, sums, m2, mean, var, np.int64(c), np.int32(n),
           np.int32(c), np.int64(m))
    return mean, var


def batchnorm_inv_std(var, eps):
    """``1 / sqrt(var + eps)``, one thread per channel; a strided ``var`` takes the array
    formula."""
    if not _same_contiguous(var):
        return formulas.batchnorm_inv_std(var, eps)
    inv_std = cupy_module().empty_like(var)
    launch(BN_INV_STD, var.dtype, var.size, var, inv_std, np.int64(var.size),
           var.dtype.type(eps))
    return inv_std


def batchnorm_update_running(running_mean, running_var, mean, var, momentum, count):
    """The running estimates moved in place, one thread per channel; arrays of mixed dtypes
    or strides take the array formula."""
    if not _same_contiguous(var, mean, running_mean, running_var):
        formulas.batchnorm_update_running(running_mean, running_var, mean, var, momentum,
                                          count)
        return
    scalar = var.dtype.type
    launch(BN_UPDATE_RUNNING, var.dtype, var.size, mean, var, running_mean, running_var,
           np.int64(var.size), scalar(momentum), scalar(count / max(count - 1, 1)))


def batchnorm_apply(x, mean, inv_std, weight, bias):
    cp = cupy_module()
    x, n, c, m = _planes(x)
    mean, inv_std = mean.astype(x.dtype, copy=False), inv_std.astype(x.dtype, copy=False)
    (weight, has_weight), (bias, has_bias) = optional(weight, mean), optional(bias, mean)
    y = cp.empty_like(x)
    launch(BN_APPLY, x.dtype, x.size, x, mean, inv_std, weight, bias, y, np.int64(x.size),
           np.int32(c), np.int64(m), has_weight, has_bias)
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
    launch(BN_PLANE_GRAD_SUMS, x.dtype, n * c, g, x, mean, planes_g, planes_g_dev,
           np.int32(c), np.int64(m))
    sum_g, sum_gx = cp.empty(c, x.dtype), cp.empty(c, x.dtype)
    launch(BN_COMBINE_GRAD_SUMS, x.dtype, c, planes_g, planes_g_dev, inv_std, sum_g, sum_gx,
           np.int64(c), np.int32(n), np.int32(c))
    grad_x = None
    if need_x:
        weight, has_weight = optional(weight, mean)
        grad_x = cp.empty_like(x)
        launch(BN_GRAD_INPUT, x.dtype, x.size, g, x, mean, inv_std, weight, sum_g, sum_gx,
               grad_x, np.int64(x.size), np.int32(c), np.int64(m), x.dtype.type(n * m),
               has_weight, np.int32(batch_stats))
    return grad_x, (sum_gx if need_w else None), (sum_g if need_b else None)
