"""The ``cupy`` kernel set, for arrays on a CUDA GPU: the contract
(:mod:`minicnn.kernels.contract`) as CUDA kernels.

Each op family's module holds its CUDA templates next to their launch code: ``im2col``/
``col2im`` (:mod:`.window`), convolution as cuBLAS products (:mod:`.conv`), max pooling
(:mod:`.pool`), batch norm (:mod:`.norm`), ReLU (:mod:`.activation`); :mod:`.cuda` compiles
and launches them and lists them all (``SOURCES``). Depthwise convolution is the ``numpy``
set's (:mod:`minicnn.kernels.numpy.conv`: strided slices times per-channel weights, as CuPy
array expressions, no CUDA of its own). The fused batch norm -> ReLU -> max
pooling is this set's kernels composed; SGD's momentum step the array formula
(:mod:`minicnn.kernels.formulas`). Nothing leaves the device inside a step; CuPy's
memory pool serves every array. Importing this package needs no CUDA: CuPy is imported
when a kernel first runs.
"""
from ..composed import compose_avgpool2d, compose_batchnorm_clamp, compose_batchnorm_relu_maxpool
from ..formulas import sgd_step
from ..numpy.conv import depthwise_conv2d_backward, depthwise_conv2d_forward
from . import activation, norm, pool
from .activation import relu_backward, relu_forward
from .conv import conv2d_backward, conv2d_forward
from .norm import (
    batchnorm_apply,
    batchnorm_backward,
    batchnorm_inv_std,
    batchnorm_stats,
    batchnorm_update_running,
)
from .pool import maxpool2d_backward, maxpool2d_forward
from .window import col2im, im2col

avgpool2d_forward, avgpool2d_backward = compose_avgpool2d(im2col, col2im)
batchnorm_clamp_forward, batchnorm_clamp_backward = compose_batchnorm_clamp(norm)
batchnorm_relu_maxpool_forward, batchnorm_relu_maxpool_backward = \
    compose_batchnorm_relu_maxpool(norm, activation, pool)

__all__ = [  # the contract's functions (minicnn/kernels/contract.py), checked by a test
    "im2col", "col2im", "maxpool2d_forward", "maxpool2d_backward", "avgpool2d_forward",
    "avgpool2d_backward", "conv2d_forward",
    "conv2d_backward", "depthwise_conv2d_forward",
    "depthwise_conv2d_backward", "batchnorm_stats", "batchnorm_inv_std", "batchnorm_update_running",
    "batchnorm_apply", "batchnorm_backward", "relu_forward", "relu_backward",
    "batchnorm_clamp_forward", "batchnorm_clamp_backward",
    "batchnorm_relu_maxpool_forward", "batchnorm_relu_maxpool_backward", "sgd_step"
]
