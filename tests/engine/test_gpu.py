"""minicnn on a CUDA GPU (marked ``gpu``): tensors, modules and optimizers on the device
give the CPU's results. Skipped, with the reason, where CUDA and CuPy are absent."""
import importlib

import numpy as np
import pytest

import minicnn
from minicnn import backend, nn, optim

requires_cuda = pytest.mark.skipif(not backend.cuda_available(),
                                   reason="no CUDA device with CuPy on this machine")


def test_the_gpu_kernel_module_imports_without_cuda():
    gpu = importlib.import_module("minicnn.kernels.cupy")
    for name in ("im2col", "col2im", "maxpool2d_forward", "maxpool2d_backward", "conv2d_forward",
                 "conv2d_backward", "batchnorm_stats", "batchnorm_apply", "batchnorm_backward",
                 "relu_forward", "relu_backward"):
        assert callable(getattr(gpu, name))


def test_asking_for_cuda_without_it_is_a_clear_error():
    if backend.cuda_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="CUDA|CuPy"):
        minicnn.zeros(2).to("cuda")


@pytest.mark.gpu
@requires_cuda
def test_tensors_move_and_differentiate_on_the_device():
    x = minicnn.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x.to("cuda")
    assert y.device == "cuda" and backend.is_cupy_array(y.array)
    (y.relu() * y).sum().backward()
    assert x.grad.device == "cpu" and x.grad.tolist() == [2.0, 0.0, 6.0]


@pytest.mark.gpu
@requires_cuda
def test_in_place_ops_index_assignment_and_promotion_on_the_device():
    """The CPU's values, dtypes and gradients for the tensor core's writes, run on CuPy."""
    results = []
    for device in ("cpu", "cuda"):
        a = minicnn.tensor(np.arange(12.0).reshape(3, 4) - 5, requires_grad=True)
        v = minicnn.tensor([1.0, 2.0, 3.0], requires_grad=True)
        out = a.to(device) * 2
        out += v.to(device)[:, None]
        out[out > 4] = 0.0
        out[minicnn.tensor([0, 2]).to(device), minicnn.tensor([1, 3]).to(device)] = v.to(device)[:2]
        out.mul_(3)
        (out * out).sum().backward()
        ints = minicnn.tensor([1, 2, 3]).to(device)
        values = out.tolist()
        out.data[0].zero_()  # writes through to out's array, off the tape
        results.append((values, out.tolist(), a.grad.tolist(), v.grad.tolist(),
                        repr((ints * 2.5).dtype), repr((ints / ints).dtype),
                        (ints > 1).sum().item()))
    assert results[0] == results[1]


def small_model():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2),
                         nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(8 * 4 * 4, 5))


@pytest.mark.gpu
@requires_cuda
@pytest.mark.parametrize("name,config", [
    ("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.01)), ("Adagrad", dict(lr=0.05)),
    ("AdamW", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adadelta", dict(weight_decay=0.01)), ("Adamax", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.01)), ("RAdam", dict(lr=0.01))])
def test_training_on_the_gpu_matches_the_cpu(name, config):
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((6, 1, 16, 16)).astype(np.float32), rng.integers(0, 5, 6))
               for _ in range(4)]
    losses = {}
    for device in ("cpu", "cuda"):
        minicnn.manual_seed(0)
        model = small_model().to(device)
        optimizer = getattr(optim, name)(model.parameters(), **config)
        losses[device] = []
        for x, y in batches:
            optimizer.zero_grad()
            loss = nn.CrossEntropyLoss()(model(minicnn.from_numpy(x).to(device)),
                                         minicnn.from_numpy(y).to(device))
            loss.backward()
            optimizer.step()
            losses[device].append(loss.item())
        assert all(backend.device_of(p.array) == device for p in model.parameters())
    np.testing.assert_allclose(losses["cuda"], losses["cpu"], rtol=1e-4)
