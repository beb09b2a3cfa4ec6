"""Shape and indexing functions (cat, stack, split, chunk, flip, repeat, expand, view_as,
masked_fill, where, gather, index_select) against torch: values, dtypes and input gradients,
float32 to rtol 1e-4 and float64 to rtol 1e-10. Also split-then-cat gives the input back."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minicnn
from tests.engine.function_oracle import DTYPES, compare

pytestmark = pytest.mark.oracle


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


CALLS = {
    "cat dim 0": (lambda lib, a, b: lib.cat([a, b]), [normal(2, 3), normal(4, 3, seed=1)]),
    "cat dim -1 tuple": (lambda lib, a, b: lib.cat((a, b, a), -1), [normal(2, 3), normal(2, 1)]),
    "concat": (lambda lib, a, b: lib.concat([a, b], 1), [normal(2, 3), normal(2, 2)]),
    "cat skips 1-d empty tensors": (lambda lib, a, b: lib.cat([a, b, a], 1),
                                    [normal(2, 3), np.zeros(0)]),
    "cat of 1-d empty tensors": (lambda lib, a: lib.cat([a, a]), [np.zeros(0)]),
    "stack 0-d": (lambda lib, a, b: lib.stack([a, b]), [np.array(1.5), np.array(-2.0)]),
    "stack dim 1": (lambda lib, a, b: lib.stack([a, b], 1), [normal(2, 3), normal(2, 3, seed=1)]),
    "stack dim -1": (lambda lib, a, b: lib.stack([a, b, a], -1), [normal(4), normal(4, seed=1)]),
    "split int": (lambda lib, a: lib.split(a, 2), [normal(5, 3)]),
    "split empty": (lambda lib, a: lib.split(a, 2, 1), [normal(2, 0)]),
    "split larger than the dim": (lambda lib, a: a.split(7), [normal(5)]),
    "split method list": (lambda lib, a: a.split([1, 3, 0], dim=1), [normal(2, 4)]),
    "chunk": (lambda lib, a: lib.chunk(a, 4, 1), [normal(2, 5)]),
    "chunk method": (lambda lib, a: a.chunk(2), [normal(3, 2)]),
    "flip": (lambda lib, a: lib.flip(a, (0, 2)), [normal(2, 3, 4)]),
    "flip method list": (lambda lib, a: a.flip([-1]), [normal(2, 3)]),
    "repeat": (lambda lib, a: a.repeat(2, 1, 3), [normal(2, 3)]),
    "repeat tuple": (lambda lib, a: a.repeat((3, 2)), [normal(4)]),
    "expand": (lambda lib, a: a.expand(2, -1, 4), [normal(3, 1)]),
    "expand_as": (lambda lib, a, b: a.expand_as(b) * b, [normal(1, 3), normal(4, 3)]),
    "view_as": (lambda lib, a, b: a.view_as(b) * b, [normal(2, 6), normal(3, 4)]),
    "reshape_as": (lambda lib, a, b: a.reshape_as(b) * b, [normal(12), normal(3, 4)]),
    "masked_fill": (lambda lib, a: a.masked_fill(a > 0, -1.5), [normal(3, 4)]),
    "masked_fill broadcast mask": (
        lambda lib, a: lib.masked_fill(a, lib.tensor([True, False, True]), 2.0), [normal(2, 3)]),
    "masked_fill 0-d value": (lambda lib, a, v: a.masked_fill(a < 0, v), [normal(3, 4),
                                                                          np.array(0.5)]),
    "where": (lambda lib, a, b: lib.where(a > b, a, b), [normal(3, 4), normal(4, seed=1)]),
    "where numbers": (lambda lib, a: lib.where(a > 0, a, 0.0), [normal(3, 4)]),
    "where two numbers": (lambda lib, a: lib.where(a > 0, 1.0, -1.0), [normal(3, 4)]),
    "where method": (lambda lib, a, b: a.where(a > 0, b), [normal(3, 4), normal(3, 4, seed=1)]),
    "where condition only": (lambda lib, a: lib.where(a > 0), [normal(3, 4)]),
    "gather dim 1": (lambda lib, a: lib.gather(a, 1, lib.tensor([[0, 0, 3], [2, 1, 1]])),
                     [normal(2, 4)]),
    "gather dim 0 smaller index": (lambda lib, a: a.gather(0, lib.tensor([[2, 0], [1, 1]])),
                                   [normal(3, 4)]),
    "gather 3-d": (lambda lib, a: a.gather(-1, lib.tensor([[[1], [0]], [[2], [2]]])),
                   [normal(2, 2, 3)]),
    "index_select": (lambda lib, a: lib.index_select(a, 1, lib.tensor([3, 0, 3])),
                     [normal(2, 4)]),
    "index_select int32": (
        lambda lib, a: a.index_select(0, lib.tensor([1, 1], dtype=lib.int32)), [normal(2, 4)]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", CALLS)
def test_matches_torch(name, dtype):
    call, arrays = CALLS[name]
    compare(call, arrays, dtype)


@pytest.mark.parametrize("name,call,arrays", [
    ("cat int64 with float32", lambda lib, a, b: lib.cat([a, b]),
     [np.arange(3), np.ones(2, np.float32)]),
    ("cat of an empty accumulator", lambda lib, a: lib.cat([lib.tensor([]), a]),
     [np.ones((2, 3), np.int64)]),
    ("cat float32 with float64", lambda lib, a, b: lib.cat([a, b]),
     [np.ones(2, np.float32), np.ones(2)]),
    ("stack bool with int32", lambda lib, a, b: lib.stack([a, b]),
     [np.array([True, False]), np.array([3, 4], np.int32)]),
    ("where int64 and 0.5", lambda lib, a: lib.where(a > 1, a, 0.5), [np.arange(4)]),
    ("where int64 and 2", lambda lib, a: lib.where(a > 1, a, 2), [np.arange(4)]),
    ("where two floats", lambda lib, a: lib.where(a > 1, 1.5, 0.5), [np.arange(4)]),
    ("masked_fill int64 keeps int64", lambda lib, a: a.masked_fill(a > 1, 7), [np.arange(4)]),
    ("masked_fill float32 keeps float32 with a float64 value",
     lambda lib, a, v: a.masked_fill(a > 0, v), [np.ones(3, np.float32), np.array(2.0)]),
    ("repeat bool", lambda lib, a: a.repeat(2), [np.array([True, False])]),
    ("flip int", lambda lib, a: a.flip(0), [np.arange(4)]),
])
def test_result_dtypes_follow_torch(name, call, arrays):
    compare(call, arrays, grad=False)


def test_flip_copies_while_split_and_expand_view():
    x = minicnn.arange(6.0).reshape(2, 3)
    flipped, (first, _) = x.flip(0), x.split(1)
    x.array[0, 0] = 100.0
    assert flipped.tolist() == [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]]
    assert first.tolist() == [[100.0, 1.0, 2.0]]
    assert x[:1].expand(2, 3).tolist() == [[100.0, 1.0, 2.0]] * 2


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=3), data=st.data())
def test_split_then_cat_gives_the_input_back(shape, data):
    dim = data.draw(st.integers(0, len(shape) - 1))
    size = shape[dim]
    cuts = sorted(data.draw(st.lists(st.integers(0, size), max_size=3)))
    sizes = np.diff([0] + cuts + [size]).tolist()
    x = minicnn.tensor(np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape))
    pieces = minicnn.split(x, sizes, dim)
    assert [p.shape[dim] for p in pieces] == sizes
    np.testing.assert_array_equal(minicnn.cat(list(pieces), dim).numpy(), x.numpy())
    if size:
        step = data.draw(st.integers(1, size))
        np.testing.assert_array_equal(minicnn.cat(list(x.split(step, dim)), dim).numpy(),
                                      x.numpy())
