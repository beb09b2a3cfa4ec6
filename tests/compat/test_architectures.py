"""Standard CIFAR-size architectures, written in plain torch.nn in ``programs/zoo.py``, built
by torch and by minicnn (the same text with its imports rewritten) from the same weights:
in float64, the outputs, the cross-entropy loss, every parameter's gradient and the batch
norms' running statistics agree, in training mode (batch statistics) and in eval mode."""
import numpy as np
import pytest
import torch

import minicnn
from tests.compat.program_runner import PROGRAMS
from tests.compat.rewrite import to_minicnn

pytestmark = pytest.mark.oracle

# Float64 throughout: the two engines sum in different orders, which costs about 1e-16
# relative per operation, so 1e-6 leaves nine orders of magnitude for the depth of these
# networks while catching any wrong formula (which is off by far more).
RTOL = 1e-6
INPUT = (2, 3, 16, 16)


def _zoo(source):
    namespace = {"__name__": "zoo"}
    exec(compile(source, "zoo.py", "exec"), namespace)  # noqa: S102 - our own program
    return namespace


@pytest.fixture(scope="module")
def zoos():
    source = (PROGRAMS / "zoo.py").read_text()
    return _zoo(source), _zoo(to_minicnn(source))


def _assert_close(ours, theirs, what, scale=None):
    """Elementwise ``|ours - theirs| <= RTOL * (|theirs| + scale)``; ``scale`` is the largest
    magnitude of ``theirs`` unless given."""
    theirs = theirs.detach().numpy()
    ours = ours.detach().numpy()
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != torch {theirs.shape}"
    scale = float(np.abs(theirs).max(initial=0.0)) if scale is None else scale
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def _assert_gradients_close(ours, theirs):
    """Every parameter's gradient. A parameter whose true gradient is zero (a conv bias
    feeding a training-mode batch norm, which subtracts it again with the batch mean) gets
    rounding noise in both engines, so its tolerance is measured against the largest gradient
    of the whole network; every other one against its own largest element."""
    grads = {name: p.grad for name, p in theirs.named_parameters()}
    ours_params = dict(ours.named_parameters())
    assert ours_params.keys() == grads.keys()
    for name in [name for name, grad in grads.items() if grad is None]:   # unused in forward
        assert ours_params[name].grad is None, f"{name}: a gradient where torch has none"
        del grads[name]
    largest = max(float(g.abs().max()) for g in grads.values())
    for name, grad in grads.items():
        own = float(grad.abs().max())
        scale = own if own > 1e-9 * largest else largest
        assert ours_params[name].grad is not None, f"{name}: no gradient in minicnn"
        _assert_close(ours_params[name].grad, grad, f"gradient of {name}", scale)


def _step(model, x, labels, engine):
    model.zero_grad()
    out = model(x)
    loss = engine.nn.functional.cross_entropy(out, labels)
    loss.backward()
    return out, loss


ARCHITECTURES = {
    "vgg": 'VGG("VGGtiny")',
    "resnet": "ResNetTiny()",
    "preact_resnet": "PreActResNetTiny()",
    "senet": "SENetTiny()",
    "mobilenet_v2": "MobileNetV2()",
    "densenet": "DenseNetTiny()",
    "googlenet": "GoogLeNet()",
    "shufflenet": "ShuffleNet()",
}


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_architecture_matches_torch_in_float64(zoos, name):
    torch_zoo, minicnn_zoo = zoos
    torch.manual_seed(0)
    theirs = eval(ARCHITECTURES[name], torch_zoo).double()  # noqa: S307 - our expression
    ours = eval(ARCHITECTURES[name], minicnn_zoo).double()  # noqa: S307
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert repr(ours) == repr(theirs)

    rng = np.random.default_rng(0)
    array = rng.standard_normal(INPUT)
    labels = np.array([3, 7])
    for mode in ("train", "eval"):
        theirs.train(mode == "train")
        ours.train(mode == "train")
        x_theirs = torch.tensor(array, requires_grad=True)
        x_ours = minicnn.tensor(array, requires_grad=True)
        out_t, loss_t = _step(theirs, x_theirs, torch.tensor(labels), torch)
        out_o, loss_o = _step(ours, x_ours, minicnn.tensor(labels), minicnn)
        _assert_close(out_o, out_t, f"{mode} output")
        assert loss_o.item() == pytest.approx(loss_t.item(), rel=RTOL), f"{mode} loss"
        _assert_close(x_ours.grad, x_theirs.grad, f"{mode} input gradient")
        _assert_gradients_close(ours, theirs)
        _assert_buffers_close(ours, theirs, mode)


def _assert_buffers_close(ours, theirs, mode):
    """The batch norms' running statistics and counters. A running mean is measured against
    the spread of its data (the square root of the running variance) as well as its own
    size: a channel whose true mean is zero (a bias-free 1x1 convolution of a batch norm's
    output) has a mean of rounding noise at that spread in both engines."""
    ours_buffers = dict(ours.named_buffers())
    theirs_buffers = dict(theirs.named_buffers())
    assert ours_buffers.keys() == theirs_buffers.keys()
    for key, buffer in theirs_buffers.items():
        if not buffer.is_floating_point():
            assert int(ours_buffers[key].item()) == int(buffer.item()), key
            continue
        scale = float(buffer.abs().max())
        if key.endswith("running_mean"):
            variance = theirs_buffers[key.replace("running_mean", "running_var")]
            scale += float(variance.max()) ** 0.5
        _assert_close(ours_buffers[key], buffer, f"{mode} buffer {key}", scale)
