"""Every kernel set agrees with the plain-loop reference on random window geometries."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import importlib

from minicnn import backend
from minicnn.gradcheck.cases import off_kinks
from minicnn.kernels import Window, reference

FAST_SETS = [name for name in backend.kernel_set_names() if name != "reference"]


@st.composite
def geometries(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    win = Window(kh, kw, draw(st.integers(1, 4)), draw(st.integers(1, 4)), ph, pw, dh, dw)
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 9))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 9))
    return draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w, win


@pytest.mark.parametrize("name", FAST_SETS)
@settings(max_examples=60, deadline=None)
@given(geometry=geometries(), seed=st.integers(0, 2**16))
def test_kernel_set_matches_reference(name, geometry, seed):
    kernels = importlib.import_module(f"minicnn.kernels.{name}")
    n, c, h, w, win = geometry
    rng = np.random.default_rng(seed)
    x = off_kinks(rng, (n, c, h, w))
    col = kernels.im2col(x, win)
    assert np.array_equal(col, reference.im2col(x, win))
    assert np.allclose(kernels.col2im(col, win, h, w), reference.col2im(col, win, h, w), rtol=1e-12)
    y, argmax = kernels.maxpool2d_forward(x, win)
    y_ref, argmax_ref = reference.maxpool2d_forward(x, win)
    assert np.array_equal(y, y_ref) and np.array_equal(argmax, argmax_ref)
    g = rng.standard_normal(y.shape)
    assert np.allclose(kernels.maxpool2d_backward(g, argmax, win, h, w),
                       reference.maxpool2d_backward(g, argmax_ref, win, h, w), rtol=1e-12)


@pytest.mark.parametrize("name", backend.kernel_set_names())
def test_max_pool_ties_go_to_the_first_maximum_in_row_major_order(name):
    kernels = importlib.import_module(f"minicnn.kernels.{name}")
    x = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])
    _, argmax = kernels.maxpool2d_forward(x, Window(2, 2, 2, 2))
    assert argmax.item() == 1


def test_col2im_is_the_adjoint_of_im2col():
    """<im2col(x), c> == <x, col2im(c)> for every x, c: the defining property of backward."""
    rng = np.random.default_rng(0)
    win = Window(3, 2, 2, 1, 1, 1, 1, 2)
    x = rng.standard_normal((2, 3, 7, 6))
    c = rng.standard_normal(reference.im2col(x, win).shape)
    assert np.isclose(np.sum(reference.im2col(x, win) * c), np.sum(x * reference.col2im(c, win, 7, 6)))


def test_use_kernels_switches_the_set_for_a_block():
    x = np.zeros((1, 1, 2, 2))
    with backend.use_kernels("reference"):
        assert backend.kernels_of(x) is reference
    assert backend.kernels_of(x) is not reference
    with pytest.raises(ValueError, match="unknown kernel set"):
        with backend.use_kernels("nope"):
            pass
