"""Factory functions: torch's dtypes, shapes and values (torch is the oracle where the values
are deterministic); random draws have the asked range, are seeded by manual_seed, and the
``*_like`` forms take their input's shape, dtype and device."""
import numpy as np
import pytest

import minicnn
from tests.engine.function_oracle import assert_same_output


@pytest.mark.oracle
@pytest.mark.parametrize("name,call", [
    ("zeros_like", lambda lib, x: lib.zeros_like(x)),
    ("zeros_like dtype", lambda lib, x: lib.zeros_like(x, dtype=lib.int64)),
    ("ones_like", lambda lib, x: lib.ones_like(x)),
    ("ones_like of ints", lambda lib, x: lib.ones_like(x.long())),
    ("empty_like shape and dtype", lambda lib, x: lib.empty_like(x.double()).shape),
    ("full int", lambda lib, x: lib.full((2, 3), 7)),
    ("full float", lambda lib, x: lib.full([2], 1.5)),
    ("full bool", lambda lib, x: lib.full((2,), True)),
    ("full dtype", lambda lib, x: lib.full((2,), 3, dtype=lib.float64)),
    ("full_like", lambda lib, x: lib.full_like(x, 2.5)),
    ("full_like int truncates", lambda lib, x: lib.full_like(x.long(), 2.5)),
    ("empty shape and dtype", lambda lib, x: (lib.empty(2, 3).shape, lib.empty((4,)).dtype)),
    ("linspace", lambda lib, x: lib.linspace(0, 1, 5)),
    ("linspace reversed", lambda lib, x: lib.linspace(3, -2.5, 12)),
    ("linspace one step", lambda lib, x: lib.linspace(2, 5, 1)),
    ("linspace float64", lambda lib, x: lib.linspace(-1, 1, 7, dtype=lib.float64)),
    ("eye", lambda lib, x: lib.eye(3)),
    ("eye rectangular", lambda lib, x: lib.eye(2, 4)),
    ("eye int", lambda lib, x: lib.eye(3, dtype=lib.int64)),
    ("arange ints", lambda lib, x: lib.arange(5)),
    ("arange int range", lambda lib, x: lib.arange(2, 9, 3)),
    ("arange float end", lambda lib, x: lib.arange(1, 5.0)),
    ("arange float step", lambda lib, x: lib.arange(0, 1, 0.25)),
    ("arange dtype", lambda lib, x: lib.arange(4, dtype=lib.float64)),
    ("randint dtype", lambda lib, x: lib.randint(3, (2, 2)).dtype),
    ("randint float dtype", lambda lib, x: lib.randint(0, 3, (2,), dtype=lib.float32).dtype),
    ("randperm dtype", lambda lib, x: lib.randperm(4).dtype),
    ("randn_like dtype", lambda lib, x: lib.randn_like(x.double()).dtype),
    ("rand_like dtype", lambda lib, x: (lib.rand_like(x).dtype, lib.rand_like(x).shape)),
])
def test_factories_match_torch(name, call):
    import torch
    x_ours, x_theirs = minicnn.ones(2, 3), torch.ones(2, 3)
    ours, theirs = call(minicnn, x_ours), call(torch, x_theirs)
    if isinstance(theirs, torch.Tensor):
        assert_same_output(ours, theirs, name)
    else:
        assert _same_dtype_or_shape(ours, theirs), f"{name}: {ours} != torch {theirs}"


def _same_dtype_or_shape(ours, theirs) -> bool:
    """``ours`` and ``theirs`` (a dtype, a shape, or a tuple of them) name the same things."""
    import torch
    if isinstance(theirs, torch.dtype):
        return ours == torch.empty(0, dtype=theirs).numpy().dtype
    if isinstance(theirs, torch.Size):
        return tuple(ours) == tuple(theirs)
    return all(_same_dtype_or_shape(o, t) for o, t in zip(ours, theirs))


def test_like_factories_keep_shape_dtype_and_grad_flag():
    x = minicnn.zeros(2, 3, dtype=minicnn.float64)
    for make in (minicnn.zeros_like, minicnn.ones_like, minicnn.randn_like, minicnn.rand_like,
                 minicnn.empty_like):
        y = make(x, requires_grad=True)
        assert (y.shape, y.dtype, y.requires_grad, y.is_leaf) == ((2, 3), np.float64, True, True)
    assert minicnn.full_like(x, 1, dtype=minicnn.int64).tolist() == [[1, 1, 1]] * 2


def test_random_factories_draw_the_asked_range_reproducibly():
    minicnn.manual_seed(3)
    first = [minicnn.randint(2, 6, (1000,)), minicnn.randperm(50), minicnn.rand_like(
        minicnn.zeros(1000)), minicnn.randn_like(minicnn.zeros(4000))]
    minicnn.manual_seed(3)
    again = [minicnn.randint(2, 6, (1000,)), minicnn.randperm(50), minicnn.rand_like(
        minicnn.zeros(1000)), minicnn.randn_like(minicnn.zeros(4000))]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    ints, perm, uniform, normal = (t.numpy() for t in first)
    assert sorted(set(ints.tolist())) == [2, 3, 4, 5]
    assert sorted(perm.tolist()) == list(range(50))
    assert uniform.min() >= 0.0 and uniform.max() < 1.0 and abs(uniform.mean() - 0.5) < 0.05
    assert abs(normal.mean()) < 0.06 and abs(normal.std() - 1.0) < 0.06
    assert minicnn.randint(5, size=(3,)).shape == (3,)
