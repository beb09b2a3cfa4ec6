"""The fused BatchNorm2d -> ReLU -> MaxPool2d op (``minicnn/nn/fusion.py``): the same values,
gradients and running statistics as the three layers one by one and as torch; which runs
``Sequential`` fuses; ``layer_by_layer()`` turns fusion off in its own thread only."""
import contextlib
import threading

import numpy as np
import pytest
import torch

import minicnn
from minicnn import nn
from minicnn.nn.fusion import batch_norm_relu_max_pool2d, fusion_enabled, layer_by_layer
from tests.engine.torch_oracle import assert_matches, copy_parameters, run_both

FUSED, LAYERED = "BatchNormReLUMaxPoolFunction", "MaxPool2dFunction"


def block(lib, pool=2, ceil_mode=False):
    """Conv2d -> BatchNorm2d -> ReLU -> MaxPool2d of ``lib`` (minicnn or torch), float64. No
    conv bias: its true gradient through a training-mode batch norm is zero, and both engines
    give rounding noise."""
    return lib.nn.Sequential(lib.nn.Conv2d(2, 3, 3, padding=1, bias=False), lib.nn.BatchNorm2d(3),
                             lib.nn.ReLU(), lib.nn.MaxPool2d(pool, ceil_mode=ceil_mode)).double()


def last_op(out) -> str:
    """The name of the Function that produced ``out``."""
    return out.grad_fn.function.__name__


def run(model, x, fused: bool):
    with contextlib.nullcontext() if fused else layer_by_layer():
        out = model(x)
        out.sum().backward()
    return out, [p.grad.numpy() for p in model.parameters()], [b.numpy() for b in model.buffers()]


def check_against_layer_by_layer(build, x) -> tuple[str, str]:
    """Two models from ``build()`` (same seed), one fused and one layer by layer, on ``x``:
    the same outputs (bit for bit), gradients and running statistics. Returns the names of
    the ops that made the two outputs."""
    minicnn.manual_seed(0)
    fused = build()
    minicnn.manual_seed(0)
    layered = build()
    out, grads, buffers = run(fused, x, True)
    out_ref, grads_ref, buffers_ref = run(layered, x, False)
    np.testing.assert_array_equal(out.detach().numpy(), out_ref.detach().numpy())
    for ours, expected in zip(grads, grads_ref):
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)
    for ours, expected in zip(buffers, buffers_ref):
        np.testing.assert_array_equal(ours, expected)
    return last_op(out), last_op(out_ref)


def check_against_torch(ours, theirs, x, op: str) -> None:
    """The minicnn model (its output made by ``op``) against torch's on ``x``, float64:
    output, input and parameter gradients, and the running statistics after the step."""
    copy_parameters(ours, theirs)
    assert last_op(ours(minicnn.tensor(x))) == op
    copy_parameters(ours, theirs)  # the check above moved the running statistics
    run_both(ours, theirs, x, np.float64)
    for name, buffer in theirs.named_buffers():
        assert_matches(dict(ours.named_buffers())[name], buffer, np.float64, name)


def check_functional_against_torch(ours_fn, theirs_fn, arrays, rng, op: str) -> None:
    """``ours_fn(x, mean, var, w, b)`` (its output made by ``op``) against
    ``theirs_fn`` on torch tensors, ``arrays = (x, w, b, mean, var)`` in one dtype: output,
    the gradients of x, w and b, and the running statistics they moved."""
    x, w, b, mean, var = arrays
    dtype = x.dtype.type
    ours = [minicnn.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    stats_ours = [minicnn.tensor(a.copy()) for a in (mean, var)]
    stats_theirs = [torch.tensor(a.copy()) for a in (mean, var)]
    y = ours_fn(ours[0], *stats_ours, ours[1], ours[2])
    expected = theirs_fn(theirs[0], *stats_theirs, theirs[1], theirs[2])
    assert last_op(y) == op and y.dtype == x.dtype
    assert_matches(y, expected, dtype, "output")
    g = rng.standard_normal(expected.shape).astype(dtype)
    y.backward(minicnn.tensor(g))
    expected.backward(torch.tensor(g))
    for name, a, t in zip(("input", "weight", "bias"), ours, theirs):
        assert_matches(a.grad, t.grad, dtype, f"gradient of the {name}")
    for name, a, t in zip(("running_mean", "running_var"), stats_ours, stats_theirs):
        assert_matches(a, t, dtype, name)


@pytest.mark.parametrize("pool", [2, 3])
@pytest.mark.parametrize("training", [True, False])
def test_fused_equals_layer_by_layer(pool, training):
    """The fused op (Numba's one-pass kernels for 2x2 windows, the composition otherwise)
    against the three layers one by one: outputs, every gradient and the running statistics."""
    x = minicnn.Tensor(np.random.default_rng(1).standard_normal((4, 2, 7, 9)))
    ops = check_against_layer_by_layer(lambda: block(minicnn, pool).train(training), x)
    assert ops == (FUSED, LAYERED)


@pytest.mark.oracle
@pytest.mark.parametrize("pool", [2, 3])
@pytest.mark.parametrize("training", [True, False])
def test_fused_equals_torch(pool, training):
    """The fused run against torch's three layers: output, input and parameter gradients, and
    the running statistics after the step."""
    torch.manual_seed(0)
    theirs = block(torch, pool).train(training)
    x = np.random.default_rng(2).standard_normal((3, 2, 8, 10))
    check_against_torch(block(minicnn, pool).train(training), theirs, x, FUSED)


@pytest.mark.oracle
@pytest.mark.parametrize("training", [True, False])
def test_the_functional_form_equals_torchs_three_functions(training):
    """``nn.fusion.batch_norm_relu_max_pool2d`` with a 3x3 window, stride 2 and padding 1 against
    torch's ``max_pool2d(relu(batch_norm(...)))``: output, gradients, running statistics."""
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal(3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)

    def ours(x, mean, var, w, b):
        return batch_norm_relu_max_pool2d(x, mean, var, w, b, training, 0.1, 1e-5,
                                          kernel_size=3, stride=2, padding=1)

    def theirs(x, mean, var, w, b):
        return torch.nn.functional.max_pool2d(torch.relu(torch.nn.functional.batch_norm(
            x, mean, var, w, b, training, 0.1, 1e-5)), 3, 2, 1)

    check_functional_against_torch(ours, theirs, (x, w, b, mean, var), rng, FUSED)


@pytest.mark.oracle
def test_a_ceil_mode_pool_is_not_fused_and_matches_torch():
    """The fused op does not take ceil_mode: such a run is computed layer by layer, and agrees
    with torch."""
    torch.manual_seed(0)
    theirs, ours = block(torch, ceil_mode=True), block(minicnn, ceil_mode=True)
    copy_parameters(ours, theirs)
    x = np.random.default_rng(6).standard_normal((2, 2, 7, 9))
    assert last_op(ours(minicnn.tensor(x))) == LAYERED
    copy_parameters(ours, theirs)
    run_both(ours, theirs, x, np.float64)


def test_a_replaced_forward_keeps_the_layers_separate():
    """A layer whose forward was replaced on the instance (as summary does) must run."""
    model = block(minicnn)
    calls = []
    object.__setattr__(model[2], "forward",
                       lambda x: calls.append(x.shape) or nn.functional.relu(x))
    out = model(minicnn.zeros((1, 2, 4, 4), dtype=np.float64))
    assert calls == [(1, 3, 4, 4)] and last_op(out) == LAYERED


@pytest.mark.parametrize("position", [1, 2, 3])
def test_a_hook_on_any_layer_of_the_run_stops_fusion_until_removed(position):
    model = block(minicnn)
    x = minicnn.zeros((1, 2, 4, 4), dtype=np.float64)
    handle = model[position].register_forward_hook(lambda m, args, out: None)
    assert last_op(model(x)) == LAYERED
    handle.remove()
    assert last_op(model(x)) == FUSED


def test_other_orders_and_types_are_not_fused():
    x = minicnn.zeros((1, 3, 4, 4), dtype=np.float64)
    swapped = nn.Sequential(nn.BatchNorm2d(3), nn.MaxPool2d(2), nn.ReLU()).double()
    average = nn.Sequential(nn.BatchNorm2d(3), nn.ReLU(), nn.AvgPool2d(2)).double()
    assert last_op(swapped(x)) == "ReLUFunction"
    assert last_op(average(x)) == "AvgPool2dFunction"


def test_layer_by_layer_nests_and_restores_after_an_exception():
    assert fusion_enabled()
    with pytest.raises(RuntimeError, match="inside"):
        with layer_by_layer():
            with layer_by_layer():
                assert not fusion_enabled()
            assert not fusion_enabled()
            raise RuntimeError("inside")
    assert fusion_enabled()
    assert last_op(block(minicnn)(minicnn.zeros((1, 2, 4, 4), dtype=np.float64))) == FUSED


def test_layer_by_layer_in_one_thread_leaves_fusion_on_in_another():
    """The switch is per thread (a context variable): a thread that runs while the main
    thread is inside ``layer_by_layer()`` still fuses, and the main thread does not."""
    model, x = block(minicnn), minicnn.zeros((1, 2, 4, 4), dtype=np.float64)
    seen = {}
    entered, done = threading.Event(), threading.Event()

    def other():
        entered.wait()
        seen["other"] = last_op(model(x))
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with layer_by_layer():
        entered.set()
        assert done.wait(30)
        seen["main"] = last_op(model(x))
    thread.join()
    assert seen == {"other": FUSED, "main": LAYERED}
