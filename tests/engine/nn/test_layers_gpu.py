"""The losses, activations and newer layers on a CUDA GPU (marked ``gpu``) give the CPU's
values and input gradients (float64, rtol 1e-10). Skipped where CUDA and CuPy are absent."""
import numpy as np
import pytest

import minicnn
from minicnn import backend, nn
from minicnn.gradcheck.cases import off_kinks
from minicnn.nn import functional as F

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not backend.cuda_available(),
                                 reason="no CUDA device with CuPy on this machine")]

UNIT = np.random.default_rng(1).uniform(0.05, 0.95, (3, 4))
OPS = [
    ("sigmoid", F.sigmoid), ("tanh", F.tanh), ("leaky_relu", F.leaky_relu), ("relu6", F.relu6),
    ("elu", F.elu),
    ("gelu", F.gelu), ("gelu tanh", lambda x: F.gelu(x, approximate="tanh")), ("silu", F.silu),
    ("softplus", lambda x: F.softplus(x, 2.0, 1.0)),
    ("nll_loss", lambda x: F.nll_loss(x, minicnn.tensor([0, 3, 1]).to(x.device))),
    ("cross_entropy probs", lambda x: F.cross_entropy(x, (x.detach() * 0 + 0.25))),
    ("mse_loss", lambda x: F.mse_loss(x, x.detach() * 0.5)),
    ("l1_loss", lambda x: F.l1_loss(x, x.detach() * 0 + 0.01)),
    ("smooth_l1_loss", lambda x: F.smooth_l1_loss(x, x.detach() * 0, beta=0.5)),
    ("huber_loss", lambda x: F.huber_loss(x, x.detach() * 0, delta=0.5)),
    ("binary_cross_entropy", lambda x: F.binary_cross_entropy(
        x.sigmoid(), minicnn.tensor(UNIT).double().to(x.device))),
    ("binary_cross_entropy_with_logits", lambda x: F.binary_cross_entropy_with_logits(
        x, minicnn.tensor(UNIT).double().to(x.device),
        pos_weight=minicnn.tensor([1.0, 2.0, 3.0, 0.5]).double().to(x.device).array)),
    ("kl_div", lambda x: F.kl_div(F.log_softmax(x, 1), minicnn.tensor(UNIT).double().to(x.device),
                                  reduction="batchmean")),
]
IMAGE_OPS = [
    ("conv2d groups", lambda x, w: F.conv2d(x, w, None, padding=1, groups=2)),
    ("conv2d same, even kernel", lambda x, w: F.conv2d(x, w[:, :, :2], None, padding="same",
                                                       groups=2)),
    ("max_pool2d ceil", lambda x, w: F.max_pool2d(x, 3, 2, 1, ceil_mode=True)),
    ("avg_pool2d ceil", lambda x, w: F.avg_pool2d(x, 3, 2, 1, True, False)),
    ("adaptive_avg_pool2d", lambda x, w: F.adaptive_avg_pool2d(x, (3, 2))),
    ("adaptive_max_pool2d", lambda x, w: F.adaptive_max_pool2d(x, (3, 2))),
]


def run(fn, arrays, device):
    leaves = [minicnn.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*[t.to(device) for t in leaves])
    out.backward(minicnn.ones(*out.shape, dtype=out.dtype).to(device))
    return out.cpu().detach().numpy(), [t.grad.numpy() for t in leaves]


def same(cpu, gpu):
    np.testing.assert_allclose(gpu[0], cpu[0], rtol=1e-10, atol=1e-12)
    for a, b in zip(cpu[1], gpu[1]):
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,fn", OPS, ids=[o[0] for o in OPS])
def test_op_on_the_gpu_matches_the_cpu(name, fn):
    x = off_kinks(np.random.default_rng(0), (3, 4), gap=0.1)
    same(run(fn, [x], "cpu"), run(fn, [x], "cuda"))


@pytest.mark.parametrize("name,fn", IMAGE_OPS, ids=[o[0] for o in IMAGE_OPS])
def test_image_op_on_the_gpu_matches_the_cpu(name, fn):
    x = off_kinks(np.random.default_rng(0), (2, 4, 6, 7), gap=0.01)
    w = np.random.default_rng(1).standard_normal((4, 2, 3, 3))
    same(run(fn, [x, w], "cpu"), run(fn, [x, w], "cuda"))


def test_batchnorm1d_and_dropout2d_on_the_gpu():
    x = np.random.default_rng(2).standard_normal((5, 3, 4))
    layer = nn.BatchNorm1d(3).double()
    same(run(lambda t: layer(t), [x], "cpu"), run(lambda t: layer.to("cuda")(t), [x], "cuda"))
    minicnn.manual_seed(3)
    cpu = run(lambda t: F.dropout2d(t, 0.5), [x], "cpu")
    minicnn.manual_seed(3)
    same(cpu, run(lambda t: F.dropout2d(t, 0.5), [x], "cuda"))
