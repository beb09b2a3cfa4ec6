"""The ``numpy`` kernel set (``MINICNN_KERNELS=numpy``): the contract
(:mod:`minicnn.kernels.contract`) with array slicing, for NumPy or CuPy arrays.

``im2col``/``col2im`` copy one strided slice per kernel offset (:mod:`.window`); max
pooling is an argmax over those columns (:mod:`.pool`); convolution is a tensordot on them
(:func:`~minicnn.kernels.composed.compose_conv2d`), and depthwise convolution a sum over
the kernel offsets of strided slices times per-channel weights (:mod:`.conv`). Batch norm,
ReLU and the SGD step are the array formulas of :mod:`minicnn.kernels.formulas` (the same
functions as the ``reference`` set's), and the fused batch norm -> ReLU -> max pooling is
those composed.
"""
from .. import formulas
from ..composed import (
    compose_avgpool2d,
    compose_batchnorm_clamp,
    compose_batchnorm_relu_maxpool,
    compose_conv2d,
)
from ..formulas import (
    batchnorm_apply,
    batchnorm_backward,
    batchnorm_inv_std,
    batchnorm_stats,
    batchnorm_update_running,
    relu_backward,
    relu_forward,
    sgd_step,
)
from . import pool
from .conv import depthwise_conv2d_backward, depthwise_conv2d_forward
from .pool import maxpool2d_backward, maxpool2d_forward
from .window import col2im, im2col

avgpool2d_forward, avgpool2d_backward = compose_avgpool2d(im2col, col2im)
conv2d_forward, conv2d_backward = compose_conv2d(im2col, col2im)
batchnorm_clamp_forward, batchnorm_clamp_backward = compose_batchnorm_clamp(formulas)
batchnorm_relu_maxpool_forward, batchnorm_relu_maxpool_backward = \
    compose_batchnorm_relu_maxpool(norm=formulas, relu=formulas, pool=pool)

__all__ = [  # the contract's functions (minicnn/kernels/contract.py), checked by a test
    "im2col", "col2im", "maxpool2d_forward", "maxpool2d_backward", "avgpool2d_forward",
    "avgpool2d_backward", "conv2d_forward",
    "conv2d_backward", "depthwise_conv2d_forward",
    "depthwise_conv2d_backward", "batchnorm_stats", "batchnorm_inv_std", "batchnorm_update_running",
    "batchnorm_apply", "batchnorm_backward", "relu_forward", "relu_backward",
    "batchnorm_clamp_forward", "batchnorm_clamp_backward",
    "batchnorm_relu_maxpool_forward", "batchnorm_relu_maxpool_backward", "sgd_step"
]
