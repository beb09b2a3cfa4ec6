"""minicnn.kernels.use: a student's kernel set (here the reference set, plugged in the way a
student plugs in theirs) serves the whole engine; its contract is checked first."""
import time
import types

import numpy as np
import pytest

import minicnn
from minicnn import backend, kernels, nn, optim
from minicnn.kernels import reference
from minicnn.kernels.contract import NAMES
from minicnn.profiler import profile
from tests.engine.simple_cnn import simple_cnn


def _counting(fn, name, calls):
    """``fn``, counting its calls in ``calls[name]``."""
    def counted(*args, **kwargs):
        calls[name] = calls.get(name, 0) + 1
        return fn(*args, **kwargs)
    return counted


def _student_module(names, calls):
    """A module named ``student_kernels`` whose functions are the reference set's, counted."""
    module = types.ModuleType("student_kernels")
    for name in names:
        setattr(module, name, _counting(getattr(reference, name), name, calls))
    return module


def _epoch(model, batches):
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for x, y in batches:
        opt.zero_grad()
        loss = loss_fn(model(minicnn.from_numpy(x)), minicnn.from_numpy(y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _batches(count=4, batch=8, image=16):
    rng = np.random.default_rng(0)
    return [(rng.standard_normal((batch, 1, image, image)).astype(np.float32),
             rng.integers(0, 5, size=batch)) for _ in range(count)]


@pytest.mark.slow
def test_simple_cnn_trains_an_epoch_on_a_plugged_in_set():
    calls = {}
    student = _student_module(list(NAMES), calls)
    batches = _batches()
    minicnn.manual_seed(0)
    theirs = _epoch(simple_cnn(image=16), batches)  # the default (Numba) kernels
    minicnn.manual_seed(0)
    model = simple_cnn(image=16)
    start = time.perf_counter()
    with kernels.use(student) as plugged:
        assert plugged.filled == [] and len(plugged.own) == len(NAMES)
        ours = _epoch(model, batches)
    seconds = time.perf_counter() - start
    print(f"one epoch (4 batches of 8 16x16 images) on the plugged-in set: {seconds:.1f} s")
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)
    assert calls["conv2d_forward"] == 3 * 4 and calls["conv2d_backward"] == 3 * 4
    assert calls["batchnorm_relu_maxpool_forward"] == 3 * 4
    assert backend.kernels_of(np.zeros(1)) is not plugged.kernels  # unplugged after the block


def test_a_partial_set_is_completed_from_its_own_parts_and_the_reference():
    calls = {}
    student = _student_module(["im2col", "col2im", "maxpool2d_forward", "maxpool2d_backward"],
                              calls)
    plugged = kernels.use(student)  # a plain call plugs it in until close()
    try:
        assert plugged.own == ["im2col", "col2im", "maxpool2d_forward", "maxpool2d_backward"]
        assert "conv2d_forward" in plugged.filled and "relu_forward" in plugged.filled
        x = minicnn.randn(2, 3, 6, 6).requires_grad_()
        conv = nn.Conv2d(3, 2, 3)
        with profile() as prof:
            nn.functional.max_pool2d(conv(x), 2).sum().backward()
        assert calls == {"im2col": 1, "col2im": 1, "maxpool2d_forward": 1,
                         "maxpool2d_backward": 1}  # the conv is built on the student's im2col
        assert {e.kernel_set for e in prof.events() if e.name.startswith("Conv2d")} == \
            {"student_kernels"}
    finally:
        plugged.close()
    assert backend.kernel_set_name(backend.kernels_of(np.zeros(1))) in ("numba", "numpy")


def test_a_set_without_depthwise_kernels_runs_depthwise_layers_on_its_convolution():
    calls = {}
    student = _student_module(["conv2d_forward", "conv2d_backward"], calls)
    with kernels.use(student) as plugged:
        assert "depthwise_conv2d_forward" in plugged.filled
        x = minicnn.randn(2, 3, 6, 6).requires_grad_()
        nn.Conv2d(3, 6, 3, groups=3, padding=1)(x).sum().backward()
    assert calls == {"conv2d_forward": 3, "conv2d_backward": 3}  # one call per channel


def test_a_set_without_the_clamp_runs_batch_norm_then_relu6_on_its_own_batch_norm():
    calls = {}
    student = _student_module(["batchnorm_apply", "batchnorm_backward"], calls)
    with kernels.use(student) as plugged:
        assert {"batchnorm_clamp_forward", "batchnorm_clamp_backward"} <= set(plugged.filled)
        x = minicnn.randn(2, 3, 4, 4).requires_grad_()
        out = nn.Sequential(nn.BatchNorm2d(3), nn.ReLU6())(x)
        assert out.grad_fn.function.__name__ == "BatchNormClampFunction"
        out.sum().backward()
    assert calls == {"batchnorm_apply": 1, "batchnorm_backward": 1}


def test_a_set_without_average_pooling_pools_on_its_own_im2col_and_col2im():
    calls = {}
    student = _student_module(["im2col", "col2im"], calls)
    with kernels.use(student) as plugged:
        assert {"avgpool2d_forward", "avgpool2d_backward"} <= set(plugged.filled)
        x = minicnn.randn(2, 3, 6, 6).requires_grad_()
        nn.AvgPool2d(2)(x).sum().backward()
    assert calls == {"im2col": 1, "col2im": 1}
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3, 6, 6), 0.25))


def test_the_contract_is_checked_before_anything_runs():
    bad_arity = types.ModuleType("student_kernels")
    bad_arity.im2col = lambda x: x
    with pytest.raises(TypeError, match=r"student_kernels.im2col\(x\) cannot take the 2 "):
        kernels.use(bad_arity)
    half_pair = types.ModuleType("student_kernels")
    half_pair.conv2d_forward = reference.conv2d_forward
    with pytest.raises(TypeError, match="defines conv2d_forward but not conv2d_backward"):
        kernels.use(half_pair)
    only_relu = types.ModuleType("student_kernels")
    only_relu.relu_forward = reference.relu_forward
    only_relu.relu_backward = reference.relu_backward
    with pytest.raises(TypeError, match=r"lacks \['im2col', 'col2im'"):
        kernels.use(only_relu, fill_from=None)
    not_function = types.ModuleType("student_kernels")
    not_function.relu_forward = 3
    with pytest.raises(TypeError, match="student_kernels.relu_forward is not a function"):
        kernels.use(not_function)
    assert backend.kernel_set_name(backend.kernels_of(np.zeros(1))) in ("numba", "numpy")
