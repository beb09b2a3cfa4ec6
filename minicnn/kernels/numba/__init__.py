"""The ``numba`` kernel set, the CPU default: the contract (:mod:`minicnn.kernels.contract`)
compiled with Numba.

What makes it fast, in order of weight:

- Convolution (:mod:`.conv`) spreads whole samples over the threads, each writing one
  sample's im2col columns into its own scratch buffer and multiplying them with
  single-threaded BLAS at once; a one-channel input (the first layer) is convolved
  directly (:mod:`.conv_one_channel`), and so is a depthwise convolution, one (sample,
  channel) plane per task (:mod:`.conv_depthwise`).
- Outputs and scratch buffers come from a caching allocator
  (:data:`minicnn.kernels.memory.POOL`): after the first step no large array is freshly
  mapped (and zero-filled by the kernel) again.
- Batch norm (:mod:`.norm`), ReLU (:mod:`.activation`) and pooling (:mod:`.pool`) are
  single loops instead of a chain of array expressions that each read and write the whole
  tensor; batch norm -> clamp (ReLU, ReLU6, Hardtanh) (:mod:`.norm_clamp`) and batch norm
  -> ReLU -> 2x2 max pooling (:mod:`.fused`) are one fused pass each way after the batch
  statistics; SGD's momentum step is one parallel pass (:mod:`.sgd`).
- ``@njit(cache=True)``: compiled once per machine and kept on disk; ``parallel=True``
  with ``prange`` over samples or channels, where the work is large enough.

Threads: Numba uses ``MINICNN_NUM_THREADS``; BLAS runs one thread per Numba thread
(see ``minicnn.backend.set_num_threads``). ``im2col``/``col2im`` are in :mod:`.window`;
the running-estimate update and the inverse deviation are the array formulas of
:mod:`minicnn.kernels.formulas`.
"""
from ..formulas import batchnorm_inv_std, batchnorm_update_running
from .activation import relu_backward, relu_forward
from .conv import conv2d_backward, conv2d_forward
from .conv_depthwise import depthwise_conv2d_backward, depthwise_conv2d_forward
from .fused import batchnorm_relu_maxpool_backward, batchnorm_relu_maxpool_forward
from .norm import batchnorm_apply, batchnorm_backward, batchnorm_stats
from .norm_clamp import batchnorm_clamp_backward, batchnorm_clamp_forward
from .pool import (
    avgpool2d_backward,
    avgpool2d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)
from .sgd import sgd_step
from .window import col2im, im2col

__all__ = [  # the contract's functions (minicnn/kernels/contract.py), checked by a test
    "im2col", "col2im", "maxpool2d_forward", "maxpool2d_backward", "avgpool2d_forward",
    "avgpool2d_backward", "conv2d_forward",
    "conv2d_backward", "depthwise_conv2d_forward",
    "depthwise_conv2d_backward", "batchnorm_stats", "batchnorm_inv_std", "batchnorm_update_running",
    "batchnorm_apply", "batchnorm_backward", "relu_forward", "relu_backward",
    "batchnorm_clamp_forward", "batchnorm_clamp_backward",
    "batchnorm_relu_maxpool_forward", "batchnorm_relu_maxpool_backward", "sgd_step"
]
