"""The ``cupy`` set's ReLU: one elementwise kernel each way."""
from __future__ import annotations

from .cuda import elementwise, elementwise_source

RELU = elementwise_source("relu", "T x", "T y", "y = x > (T)0 ? x : (T)0;")
RELU_GRAD = elementwise_source("relu_grad", "T g, T y", "T out", "out = y > (T)0 ? g : (T)0;")


def relu_forward(x):
    return elementwise(RELU)(x)


def relu_backward(g, y):
    return elementwise(RELU_GRAD)(g, y)
