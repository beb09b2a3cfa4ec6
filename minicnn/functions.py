"""The tensor functions of ``minicnn.ops`` and the factories of ``minicnn.creation``, under
torch's names, as ``minicnn.cat``, ``minicnn.norm``, ``minicnn.zeros_like`` and so on.

Each is also a ``Tensor`` method where torch has one (``minicnn/tensor/functions.py``).
"""
from .creation import (
    empty,
    empty_like,
    eye,
    full,
    full_like,
    linspace,
    ones_like,
    rand_like,
    randint,
    randn_like,
    randperm,
    zeros_like,
)
from .ops.elementwise import (
    abs,
    clamp,
    clip,
    expm1,
    log1p,
    maximum,
    minimum,
    neg,
    negative,
    pow,
    sign,
    square,
)
from .ops.products import bmm, mm
from .ops.reductions import all, any, argsort, cumsum, norm, prod, sort, std, topk, var
from .ops.shape import (
    cat,
    chunk,
    concat,
    concatenate,
    flip,
    gather,
    index_select,
    masked_fill,
    split,
    stack,
    where,
)

__all__ = ["abs", "all", "any", "argsort", "bmm", "cat", "chunk", "clamp", "clip", "concat",
           "concatenate", "cumsum", "empty", "empty_like", "expm1", "eye", "flip", "full",
           "full_like", "gather", "index_select", "linspace", "log1p", "masked_fill", "maximum",
           "minimum", "mm", "neg", "negative", "norm", "ones_like", "pow", "prod", "rand_like",
           "randint", "randn_like", "randperm", "sign", "sort", "split", "square", "stack", "std",
           "topk", "var", "where", "zeros_like"]
