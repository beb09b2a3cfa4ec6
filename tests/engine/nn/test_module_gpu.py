"""Module hooks, gradient clipping and safetensors on a CUDA GPU (marked ``gpu``): the same
values as on the CPU. Skipped where CUDA and CuPy are absent."""
import numpy as np
import pytest

import minicnn
from minicnn import backend, nn

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not backend.cuda_available(),
                                 reason="no CUDA device with CuPy on this machine")]


def model_and_input():
    minicnn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 4)).double()
    return model, np.random.default_rng(0).standard_normal((2, 2, 4, 4))


def run(device):
    """Backward hooks' gradients, the clipped total norm and the input gradient on ``device``."""
    model, x = model_and_input()
    model.to(device)
    seen = []
    for layer in model:
        layer.register_full_backward_hook(
            lambda m, gi, go: seen.append([g.cpu().numpy() for g in gi + go if g is not None]))
    xt = minicnn.tensor(x, requires_grad=True, device=device)
    model(xt).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.1)
    return seen, total.cpu().item(), xt.grad.cpu().numpy(), model


def test_hooks_and_clipping_on_the_gpu_give_the_cpus_values():
    cpu, gpu = run("cpu"), run("cuda")
    for a, b in zip(cpu[0], gpu[0]):
        for u, v in zip(a, b):
            np.testing.assert_allclose(v, u, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gpu[1], cpu[1], rtol=1e-10)
    np.testing.assert_allclose(gpu[2], cpu[2], rtol=1e-10, atol=1e-12)


def test_a_gpu_model_saves_to_safetensors_and_loads_back(tmp_path):
    model = run("cuda")[3]
    minicnn.save(model.state_dict(), tmp_path / "model.safetensors")
    loaded = minicnn.load(tmp_path / "model.safetensors")
    for key, value in model.state_dict().items():
        assert np.array_equal(loaded[key].numpy(), value.cpu().numpy()), key
