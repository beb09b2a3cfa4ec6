"""Elementwise functions (clamp/clip, maximum/minimum, pow, abs, neg, square, sign, log1p,
expm1) against torch: values, dtypes and input gradients, float32 to rtol 1e-4 and float64
to rtol 1e-10. Inputs stay off the kinks (clamp bounds, ties, zero) where the gradient jumps."""
import numpy as np
import pytest

from minicnn.gradcheck.cases import off_kinks
from tests.engine.function_oracle import DTYPES, compare

pytestmark = pytest.mark.oracle


def kinkless(*shape, seed=0):
    return off_kinks(np.random.default_rng(seed), shape, gap=0.1)


def positive(*shape, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape)


CALLS = {
    "clamp numbers": (lambda lib, a: lib.clamp(a, -0.35, 0.45), [kinkless(3, 4)]),
    "clamp min only": (lambda lib, a: a.clamp(min=0.05), [kinkless(3, 4)]),
    "clamp max only": (lambda lib, a: a.clamp(max=-0.05), [kinkless(3, 4)]),
    "clip": (lambda lib, a: lib.clip(a, -0.25, 0.25), [kinkless(3, 4)]),
    "clamp tensor bounds": (lambda lib, a, lo, hi: lib.clamp(a, lo, hi),
                            [kinkless(3, 4), kinkless(4, seed=1) - 0.62, kinkless(3, 1) + 0.37]),
    "clamp min above max": (lambda lib, a, lo, hi: a.clamp(lo, hi),
                            [kinkless(3, 4), np.full(4, 0.33), np.array([[0.13], [0.63], [0.43]])]),
    "maximum": (lambda lib, a, b: lib.maximum(a, b), [kinkless(3, 4), kinkless(3, 4, seed=1)]),
    "minimum broadcast": (lambda lib, a, b: a.minimum(b), [kinkless(3, 4), kinkless(4, seed=1)]),
    "maximum ties share": (lambda lib, a, b: lib.maximum(a, b),
                           [np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])]),
    "pow tensor number": (lambda lib, a: lib.pow(a, 3), [kinkless(3, 4)]),
    "pow method": (lambda lib, a: a.pow(-1.5), [positive(3, 4)]),
    "pow number tensor": (lambda lib, a: lib.pow(1.7, a), [kinkless(3, 4)]),
    "pow tensors": (lambda lib, a, b: lib.pow(a, b), [positive(3, 4), kinkless(4)]),
    "pow zero base": (lambda lib, a, b: lib.pow(a, b),
                      [np.array([0.0, 0.0, 2.0]), np.array([0.0, 2.0, 0.0])]),
    "abs": (lambda lib, a: lib.abs(a), [kinkless(3, 4)]),
    "neg": (lambda lib, a: lib.neg(a), [kinkless(3, 4)]),
    "negative method": (lambda lib, a: a.negative(), [kinkless(3, 4)]),
    "square": (lambda lib, a: lib.square(a), [kinkless(3, 4)]),
    "sign": (lambda lib, a: lib.sign(a) * a, [np.array([-1.5, 0.0, 2.0])]),
    "log1p": (lambda lib, a: lib.log1p(a), [positive(3, 4) - 0.9]),
    "log1p tiny": (lambda lib, a: a.log1p(), [np.array([1e-10, -1e-12, 3e-8])]),
    "expm1": (lambda lib, a: lib.expm1(a), [kinkless(3, 4)]),
    "expm1 tiny": (lambda lib, a: a.expm1(), [np.array([1e-10, -1e-12, 3e-8])]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", CALLS)
def test_matches_torch(name, dtype):
    call, arrays = CALLS[name]
    compare(call, arrays, dtype)


@pytest.mark.parametrize("name,call,arrays", [
    ("clamp int64 by a float", lambda lib, a: a.clamp(min=0.5), [np.arange(4)]),
    ("clamp int64 by ints", lambda lib, a: a.clamp(1, 2), [np.arange(4)]),
    ("clamp float32 by a float64 tensor", lambda lib, a, b: a.clamp(b),
     [np.ones(3, np.float32), np.zeros(3)]),
    ("pow int64 ** 2", lambda lib, a: a.pow(2), [np.arange(4)]),
    ("pow 2.5 ** int64", lambda lib, a: lib.pow(2.5, a), [np.arange(4)]),
    ("pow 2 ** int64", lambda lib, a: lib.pow(2, a), [np.arange(4)]),
    ("pow int64 ** 0.5", lambda lib, a: a.pow(0.5), [np.arange(4)]),
    ("square int32", lambda lib, a: a.square(), [np.arange(4, dtype=np.int32)]),
    ("sign int64", lambda lib, a: a.sign(), [np.arange(-2, 2)]),
    ("sign bool", lambda lib, a: a.sign(), [np.array([True, False])]),
    ("log1p int64", lambda lib, a: a.log1p(), [np.arange(4)]),
    ("expm1 int32", lambda lib, a: a.expm1(), [np.arange(4, dtype=np.int32)]),
    ("maximum int64 float32", lambda lib, a, b: lib.maximum(a, b),
     [np.arange(3), np.ones(3, np.float32)]),
    ("abs int64", lambda lib, a: a.abs(), [np.arange(-2, 2)]),
])
def test_result_dtypes_follow_torch(name, call, arrays):
    compare(call, arrays, grad=False)
