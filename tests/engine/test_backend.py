"""``minicnn.backend``: which array module, device and kernel set serve an array, and how a
block of code or the environment chooses the set."""
import numpy as np
import pytest

import minicnn
from minicnn import backend
from minicnn.kernels import numba as numba_kernels
from minicnn.kernels import numpy as numpy_kernels
from minicnn.kernels import reference


def test_a_numpy_array_is_served_by_numpy_on_the_cpu_with_the_numba_set():
    x = np.zeros((1, 1, 2, 2), dtype=np.float32)
    assert backend.xp_of(x) is np and backend.device_of(x) == "cpu"
    assert backend.kernels_of(x) is numba_kernels
    assert backend.kernel_set_name(backend.kernels_of(x)) == "numba"


def test_use_kernels_switches_the_set_for_a_block_and_restores_it():
    x = np.zeros((1, 1, 2, 2))
    with backend.use_kernels("reference"):
        assert backend.kernels_of(x) is reference
        with backend.use_kernels("numpy"):
            assert backend.kernels_of(x) is numpy_kernels
        assert backend.kernels_of(x) is reference
    assert backend.kernels_of(x) is numba_kernels
    with pytest.raises(ValueError, match="unknown kernel set 'nope'; known: "
                                         r"\['cupy', 'numba', 'numpy', 'reference'\]"):
        with backend.use_kernels("nope"):
            pass
    assert backend.kernels_of(x) is numba_kernels


def test_the_set_is_restored_after_an_error_inside_the_block():
    with pytest.raises(RuntimeError):
        with backend.use_kernels("reference"):
            raise RuntimeError("inside")
    assert backend.kernels_of(np.zeros(1)) is numba_kernels


def test_the_environment_chooses_the_cpu_default(monkeypatch):
    monkeypatch.setenv("MINICNN_KERNELS", "NumPy ")
    assert backend._cpu_default() == "numpy"
    monkeypatch.setenv("MINICNN_KERNELS", "fortran")
    with pytest.raises(ValueError, match="MINICNN_KERNELS must be 'numpy' or 'numba', got "
                                         "'fortran'"):
        backend._cpu_default()


def test_kernel_set_names_and_the_cpu_only_ones():
    assert backend.kernel_set_names() == ["cupy", "numba", "numpy", "reference"]
    assert backend.kernel_set_names(cpu_only=True) == ["numba", "numpy", "reference"]


def test_set_num_threads_rejects_zero_and_to_device_an_unknown_device():
    with pytest.raises(ValueError, match="need at least 1 thread, got 0"):
        backend.set_num_threads(0)
    x = np.ones(2)
    assert backend.to_device(x, "cpu") is x
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        backend.to_device(x, "tpu")


def test_a_layer_computes_the_same_on_every_cpu_set():
    """The switch reaches the ops: a convolution under each CPU set gives the reference's
    values (float64, so the sets agree to rounding)."""
    minicnn.manual_seed(0)
    conv = minicnn.nn.Conv2d(2, 3, 3, padding=1).double()
    x = minicnn.randn(2, 2, 5, 4, dtype=minicnn.float64)
    with backend.use_kernels("reference"):
        expected = conv(x).detach().numpy()
    for name in backend.kernel_set_names(cpu_only=True):
        with backend.use_kernels(name):
            np.testing.assert_allclose(conv(x).detach().numpy(), expected, rtol=1e-12,
                                       atol=1e-12, err_msg=name)
