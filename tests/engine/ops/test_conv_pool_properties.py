"""Property tests: conv2d and pooling gradients over random N, C, H, W, kernel, stride,
padding and dilation (batch 1, odd sizes, stride larger than the kernel, kernel equal to
the input), with pooling inputs kept off the kinks of max."""
import numpy as np
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import minicnn
from minicnn.gradcheck.cases import leaf, off_kinks
from minicnn.nn import functional as F


@st.composite
def conv_problems(draw):
    n, c, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 7))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 7))
    return (n, c, h, w), (f, c, kh, kw), dict(stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw))


@settings(max_examples=40, deadline=None)
@given(problem=conv_problems(), seed=st.integers(0, 2**16), bias=st.booleans())
@example(problem=((1, 1, 5, 5), (2, 1, 3, 3), dict(stride=1, padding=1, dilation=1)), seed=0,
         bias=True)
@example(problem=((1, 3, 7, 5), (2, 3, 2, 2), dict(stride=(3, 4), padding=0, dilation=1)), seed=1,
         bias=False)  # batch 1, odd sizes, stride larger than the kernel
@example(problem=((2, 2, 3, 4), (1, 2, 3, 4), dict(stride=1, padding=0, dilation=1)), seed=2,
         bias=True)  # kernel equal to the input
@example(problem=((1, 1, 7, 7), (1, 1, 3, 2), dict(stride=2, padding=(2, 1), dilation=(3, 2))),
         seed=3, bias=True)  # dilation with padding
def test_conv2d_gradients(problem, seed, bias):
    x_shape, w_shape, kw = problem
    rng = np.random.default_rng(seed)
    x, w = leaf(rng.standard_normal(x_shape)), leaf(rng.standard_normal(w_shape))
    if bias:
        b = leaf(rng.standard_normal(w_shape[0]))
        assert minicnn.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (x, w, b))
    else:
        assert minicnn.gradcheck(lambda x, w: F.conv2d(x, w, None, **kw), (x, w))


@st.composite
def pool_problems(draw):
    k = draw(st.integers(1, 4))
    p = draw(st.integers(0, k // 2))
    d = draw(st.integers(1, 2))
    h = draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 8))
    w = draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), 8))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    return shape, dict(kernel_size=k, stride=draw(st.integers(1, 5)), padding=p), d


@settings(max_examples=40, deadline=None)
@given(problem=pool_problems(), seed=st.integers(0, 2**16))
@example(problem=((1, 1, 5, 7), dict(kernel_size=2, stride=3, padding=0), 1),
         seed=0)  # stride > kernel
@example(problem=((1, 2, 3, 3), dict(kernel_size=3, stride=1, padding=0), 1),
         seed=1)  # kernel = input
@example(problem=((2, 1, 6, 6), dict(kernel_size=3, stride=1, padding=1), 2), seed=2)  # overlapping
def test_pooling_gradients(problem, seed):
    shape, kw, dilation = problem
    x = leaf(off_kinks(np.random.default_rng(seed), shape))
    # A dilated window can lie wholly in the padding: its maximum is -inf, as in torch,
    # and has no finite difference.
    assume(np.isfinite(F.max_pool2d(x, dilation=dilation, **kw).array).all())
    assert minicnn.gradcheck(lambda t: F.max_pool2d(t, dilation=dilation, **kw), (x,))
    assert minicnn.gradcheck(lambda t: F.avg_pool2d(t, **kw), (x,))


def test_kernel_equal_to_the_input_gives_one_output_pixel():
    x = leaf(np.random.default_rng(0).standard_normal((1, 2, 5, 5)))
    w = leaf(np.random.default_rng(1).standard_normal((3, 2, 5, 5)))
    y = F.conv2d(x, w)
    assert y.shape == (1, 3, 1, 1)
    assert np.allclose(y.array[0, :, 0, 0], np.tensordot(w.array, x.array[0], axes=3))
