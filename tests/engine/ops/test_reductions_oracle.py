"""Reductions, scans and products (norm, var, std, prod, cumsum, sort, argsort, topk, any,
all, mm, bmm) against torch: values, dtypes and input gradients, float32 to rtol 1e-4 and
float64 to rtol 1e-10."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minicnn.gradcheck.cases import off_kinks
from tests.engine.function_oracle import DTYPES, compare

pytestmark = pytest.mark.oracle
INF = float("inf")


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def distinct(*shape, seed=0):
    """Values 0.1 apart, none 0, no two magnitudes equal (no ties for sort or the inf-norm)."""
    return off_kinks(np.random.default_rng(seed), shape, gap=0.1) + 0.02


def with_zeros(count, *shape):
    values = np.random.default_rng(0).uniform(0.5, 1.5, shape)
    values.reshape(-1)[:count] = 0.0
    return values


CALLS = {
    "norm default": (lambda lib, a: lib.norm(a), [normal(3, 4)]),
    "norm fro dim pair": (lambda lib, a: a.norm("fro", dim=(0, 2)), [normal(2, 3, 4)]),
    "norm p=1 dim": (lambda lib, a: lib.norm(a, 1, 1), [distinct(3, 4)]),
    "norm p=3 keepdim": (lambda lib, a: a.norm(p=3, dim=0, keepdim=True), [normal(3, 4)]),
    "norm p=0.5": (lambda lib, a: lib.norm(a, 0.5, -1), [distinct(3, 4)]),
    "norm p=-2": (lambda lib, a: lib.norm(a, -2), [distinct(3, 4)]),
    "norm inf": (lambda lib, a: lib.norm(a, INF, 1), [distinct(3, 4)]),
    "norm -inf keepdim": (lambda lib, a: a.norm(-INF, 0, True), [distinct(3, 4)]),
    "norm p=0": (lambda lib, a: lib.norm(a, 0, 1), [with_zeros(3, 2, 4)]),
    "norm of zeros": (lambda lib, a: lib.norm(a, dim=1), [np.zeros((2, 3))]),
    "norm inf ties": (lambda lib, a: lib.norm(a, INF), [np.array([1.0, -2.0, 2.0, 0.5])]),
    "var default": (lambda lib, a: lib.var(a), [normal(3, 4)]),
    "var dim unbiased keepdim": (lambda lib, a: lib.var(a, 1, False, True), [normal(3, 4)]),
    "var unbiased only": (lambda lib, a: lib.var(a, False), [normal(3, 4)]),
    "var correction 2 dims": (lambda lib, a: a.var((0, 2), correction=2), [normal(2, 3, 4)]),
    "std default": (lambda lib, a: lib.std(a), [normal(3, 4)]),
    "std dim correction 0": (lambda lib, a: a.std(0, correction=0), [normal(3, 4)]),
    "std of a constant": (lambda lib, a: lib.std(a, 1), [np.ones((2, 3))]),
    "prod all": (lambda lib, a: lib.prod(a), [normal(2, 3)]),
    "prod dim keepdim": (lambda lib, a: a.prod(1, keepdim=True), [normal(3, 4)]),
    "prod one zero": (lambda lib, a: lib.prod(a, 1), [with_zeros(1, 3, 4)]),
    "prod two zeros": (lambda lib, a: lib.prod(a, 1), [with_zeros(2, 2, 4)]),
    "prod all one zero": (lambda lib, a: a.prod(), [with_zeros(1, 2, 3)]),
    "cumsum": (lambda lib, a: lib.cumsum(a, 1), [normal(3, 4)]),
    "cumsum method negative dim": (lambda lib, a: a.cumsum(-3), [normal(2, 3, 2)]),
    "sort": (lambda lib, a: lib.sort(a), [distinct(3, 4)]),
    "sort descending dim 0": (lambda lib, a: a.sort(0, True), [distinct(3, 4)]),
    "sort keywords": (lambda lib, a: lib.sort(a, dim=1, descending=True, stable=True),
                      [distinct(2, 5)]),
    "sort ties are stable": (lambda lib, a: lib.sort(a, stable=True),
                             [np.array([2.0, 1.0, 2.0, 1.0, 3.0])]),
    "sort descending ties are stable": (lambda lib, a: lib.sort(a, descending=True, stable=True),
                                        [np.array([2.0, 1.0, 2.0, 1.0, 3.0])]),
    "sort nan": (lambda lib, a: lib.sort(a, descending=True)[1],
                 [np.array([1.0, np.nan, -1.0, 3.0])]),
    "argsort": (lambda lib, a: lib.argsort(a, 0), [distinct(3, 4)]),
    "argsort descending": (lambda lib, a: a.argsort(descending=True), [distinct(3, 4)]),
    "topk": (lambda lib, a: lib.topk(a, 2), [distinct(3, 4)]),
    "topk smallest dim 0": (lambda lib, a: a.topk(2, 0, largest=False), [distinct(3, 4)]),
    "topk k=0": (lambda lib, a: lib.topk(a, 0), [distinct(3, 4)]),
    "mm": (lambda lib, a, b: lib.mm(a, b), [normal(3, 4), normal(4, 2, seed=1)]),
    "mm method": (lambda lib, a, b: a.mm(b), [normal(1, 4), normal(4, 5, seed=1)]),
    "bmm": (lambda lib, a, b: lib.bmm(a, b), [normal(2, 3, 4), normal(2, 4, 5, seed=1)]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", CALLS)
def test_matches_torch(name, dtype):
    call, arrays = CALLS[name]
    compare(call, arrays, dtype)


@pytest.mark.parametrize("name,call,arrays", [
    ("prod int32 gives int64", lambda lib, a: a.prod(), [np.arange(1, 5, dtype=np.int32)]),
    ("prod bool gives int64", lambda lib, a: lib.prod(a, 0), [np.array([True, True])]),
    ("prod dtype", lambda lib, a: a.prod(dtype=lib.float64), [np.arange(1, 5)]),
    ("cumsum int32 gives int64", lambda lib, a: a.cumsum(0), [np.arange(4, dtype=np.int32)]),
    ("cumsum bool gives int64", lambda lib, a: a.cumsum(0), [np.array([True, False, True])]),
    ("cumsum dtype", lambda lib, a: lib.cumsum(a, 0, dtype=lib.float32), [np.arange(4)]),
    ("sort int", lambda lib, a: lib.sort(a, descending=True), [np.array([3, 1, 2])]),
    ("topk int", lambda lib, a: lib.topk(a, 2), [np.array([3, 1, 2])]),
    ("argsort bool", lambda lib, a: lib.argsort(a, stable=True), [np.array([True, False, True])]),
    ("any", lambda lib, a: lib.any(a), [np.array([[0.0, 0.0], [0.0, 1.0]])]),
    ("any dim", lambda lib, a: a.any(1), [np.array([[0.0, 0.0], [0.0, 1.0]])]),
    ("any dims tuple keepdim", lambda lib, a: lib.any(a, (0, 1), keepdim=True),
     [np.zeros((2, 3, 2))]),
    ("all", lambda lib, a: lib.all(a), [np.array([[1, 2], [3, 0]])]),
    ("all dim keepdim", lambda lib, a: a.all(0, keepdim=True), [np.array([[1, 2], [3, 0]])]),
    ("all bool", lambda lib, a: a.all(), [np.array([True, True])]),
    ("norm dtype", lambda lib, a: lib.norm(a, dtype=lib.float64), [np.ones(3, np.float32)]),
    ("mm int64", lambda lib, a, b: lib.mm(a, b), [np.ones((2, 3), np.int64), np.ones((3, 2),
                                                                                    np.int64)]),
])
def test_result_dtypes_follow_torch(name, call, arrays):
    compare(call, arrays, grad=False)


REDUCE = {
    "norm 2": lambda lib, a, dim, keep: lib.norm(a, 2, dim, keep),
    "norm 1": lambda lib, a, dim, keep: lib.norm(a, 1, dim, keep),
    "norm 3": lambda lib, a, dim, keep: lib.norm(a, 3, dim, keep),
    "norm inf": lambda lib, a, dim, keep: lib.norm(a, INF, dim, keep),
    "var": lambda lib, a, dim, keep: lib.var(a, dim, keepdim=keep),
    "std correction 0": lambda lib, a, dim, keep: lib.std(a, dim, keepdim=keep, correction=0),
    "prod": lambda lib, a, dim, keep: lib.prod(a, dim[0], keep),
    "cumsum": lambda lib, a, dim, keep: lib.cumsum(a, dim[0]),
    "sort": lambda lib, a, dim, keep: lib.sort(a, dim[0], keep),
    "topk": lambda lib, a, dim, keep: lib.topk(a, 1 + keep, dim[0], largest=keep),
    "any": lambda lib, a, dim, keep: lib.any(a > 0, dim, keep),
}


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(2, 4), min_size=1, max_size=3), data=st.data(),
       name=st.sampled_from(sorted(REDUCE)), keep=st.booleans(), seed=st.integers(0, 2**16))
def test_reductions_over_random_shapes_and_dims_match_torch(shape, data, name, keep, seed):
    dims = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1,
                              max_size=len(shape), unique_by=lambda d: d % len(shape)))
    compare(lambda lib, a: REDUCE[name](lib, a, tuple(dims), keep),
            [distinct(*shape, seed=seed)], np.float64, seed)
