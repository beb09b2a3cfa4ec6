"""minicnn.autograd: the tape, backward, Function, grad modes."""
import numpy as np
import pytest
import torch

import minicnn
from minicnn import Function


def test_gradient_of_a_small_expression():
    x = minicnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x + 3 * x).sum()  # dy/dx = 2x + 3
    y.backward()
    assert np.allclose(x.grad.numpy(), [5.0, 7.0, 9.0])


def test_gradients_accumulate_when_a_tensor_is_used_twice():
    x = minicnn.tensor([2.0], requires_grad=True)
    y = x * x * x  # x used three times: dy/dx = 3x^2 = 12
    y.backward()
    assert x.grad.item() == pytest.approx(12.0)
    (x * 2).backward()  # a second backward adds to .grad, as in torch
    assert x.grad.item() == pytest.approx(14.0)


def test_broadcast_gradients_are_summed_to_the_input_shape():
    a = minicnn.ones(3, 1, requires_grad=True)
    b = minicnn.ones(1, 4, requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and np.all(a.grad.numpy() == 4)
    assert b.grad.shape == (1, 4) and np.all(b.grad.numpy() == 3)


def test_no_grad_records_nothing():
    x = minicnn.ones(3, requires_grad=True)
    with minicnn.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert minicnn.is_grad_enabled()


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = minicnn.tensor([1.0], dtype=minicnn.float64, requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 5000)


def test_detach_cuts_the_tape():
    x = minicnn.ones(2, requires_grad=True)
    y = (x * 3).detach()
    assert not y.requires_grad and y.grad_fn is None


def test_backward_needs_an_explicit_gradient_for_non_scalars():
    x = minicnn.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="one-element"):
        (x * 2).backward()
    (x * 2).backward(minicnn.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 20.0]


def test_user_function_plugs_into_the_tape():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * grad_out

    x = minicnn.tensor([2.0, -1.0], dtype=minicnn.float64, requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn is not None and "Cube" in repr(y.grad_fn)
    y.sum().backward()
    assert x.grad.tolist() == [12.0, 3.0]
    assert minicnn.gradcheck(Cube.apply, (x,))


def test_backward_frees_the_saved_arrays_unless_the_graph_is_retained():
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]  # twice 2x
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


@pytest.mark.oracle
@pytest.mark.parametrize("engine", [torch, minicnn], ids=["torch", "minicnn"])
def test_set_grad_enabled_switches_at_once_and_restores_on_exit(engine):
    x = engine.ones(2, requires_grad=True)
    with engine.set_grad_enabled(False):
        assert not engine.is_grad_enabled()
        assert not (x * 2).requires_grad
        with engine.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not engine.is_grad_enabled()
    assert engine.is_grad_enabled()
    engine.set_grad_enabled(False)          # as a function: at once, until set back
    try:
        assert not (x * 2).requires_grad
    finally:
        engine.set_grad_enabled(True)
    assert (x * 2).requires_grad


@pytest.mark.oracle
@pytest.mark.parametrize("engine", [torch, minicnn], ids=["torch", "minicnn"])
def test_set_grad_enabled_takes_only_a_bool(engine):
    with pytest.raises(TypeError):
        engine.set_grad_enabled(1)
    assert engine.is_grad_enabled()


@pytest.mark.oracle
@pytest.mark.parametrize("engine", [torch, minicnn], ids=["torch", "minicnn"])
def test_inference_mode_records_nothing_and_false_changes_nothing(engine):
    x = engine.ones(2, requires_grad=True)
    with engine.inference_mode():
        assert not (x * 2).requires_grad
    with engine.inference_mode(False):
        assert (x * 2).requires_grad

    @engine.inference_mode()
    def predict(t):
        return t * 2
    assert not predict(x).requires_grad


def test_a_leaf_takes_a_gradient_nothing_else_holds_and_copies_one_that_is_held():
    owner = minicnn.zeros(2, 3, requires_grad=True)
    gradient = np.ones((2, 3))  # held by this variable only, as backward holds its own
    owner._accumulate_grad(gradient)
    assert owner.grad.array is gradient  # taken, not copied
    viewed = minicnn.zeros(2, 3, requires_grad=True)
    gradient = np.ones(6).reshape(2, 3)  # a kernel's product reshaped: all of its base
    viewed._accumulate_grad(gradient)
    assert viewed.grad.array is gradient
    held = minicnn.zeros(2, 3, requires_grad=True)
    gradient = np.ones((2, 3))
    elsewhere = [gradient]  # a second holder: .grad is a copy
    held._accumulate_grad(gradient)
    assert not np.shares_memory(held.grad.array, elsewhere[0])
    part = minicnn.zeros(3, requires_grad=True)
    gradient = np.ones((2, 3))[0]  # a view of part of an array: a copy
    part._accumulate_grad(gradient)
    assert not np.shares_memory(part.grad.array, gradient)
    frozen = minicnn.zeros(2, 3, requires_grad=True)
    gradient = np.ones((2, 3))
    gradient.flags.writeable = False  # .grad must take in-place updates: a copy
    frozen._accumulate_grad(gradient)
    assert frozen.grad.array is not gradient and frozen.grad.array.flags.writeable
    strided = minicnn.zeros(3, 2, requires_grad=True)
    gradient = np.ones((2, 3)).T.copy(order="F")  # owns its memory, not C-contiguous
    strided._accumulate_grad(gradient)
    assert strided.grad.array is not gradient and strided.grad.array.flags.c_contiguous


def test_leaves_never_share_a_gradient_array_with_each_other_or_the_caller():
    a = minicnn.ones(2, 3, requires_grad=True)
    b = minicnn.ones(2, 3, requires_grad=True)
    ((a + b) * 2).backward(minicnn.ones(2, 3))  # Add hands one array to both leaves
    assert not np.shares_memory(a.grad.array, b.grad.array)
    a.grad.array += 1
    assert np.all(b.grad.numpy() == 2) and np.all(a.grad.numpy() == 3)
    x = minicnn.ones(2, 3, requires_grad=True)
    seed = minicnn.full((2, 3), 5.0)
    (x + 0).backward(seed)  # Add passes the caller's gradient through unchanged
    assert not np.shares_memory(x.grad.array, seed.array)
    seed.array[...] = 0
    assert np.all(x.grad.numpy() == 5)
