"""The kernel contract: every set agrees with the plain-loop reference on random and chosen
geometries (batch 1, odd sizes, stride larger than the kernel), in float32 (rtol 1e-4) and
float64 (rtol 1e-10), with the same max-pooling tie rule; batch norm and ReLU agree with
the formulas written out here. The CuPy set runs the same checks on a GPU (marked
``gpu``)."""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from minicnn import backend
from minicnn.gradcheck.cases import off_kinks
from minicnn.kernels import Window, reference

RTOL = {np.float32: 1e-4, np.float64: 1e-10}
CPU_SETS = [name for name in backend.kernel_set_names(cpu_only=True) if name != "reference"]
GPU = pytest.param("cupy", marks=pytest.mark.gpu)
SETS = CPU_SETS + [GPU]


def kernel_set(name):
    if name == "cupy" and not backend.cuda_available():
        pytest.skip("no CUDA device with CuPy on this machine")
    return backend.kernel_set(name)


def on(name, array):
    return backend.to_device(array, "cuda" if name == "cupy" else "cpu")


def host(array):
    return None if array is None else np.asarray(backend.to_device(array, "cpu"))


def close(ours, expected, dtype, what="", scale=None):
    """``ours`` agrees with ``expected`` to ``RTOL`` relative to ``scale``: by default the
    largest expected value; for a sum whose terms cancel, the largest sum of their absolute
    values (which bounds the rounding of any order of summation)."""
    ours, expected = host(ours), np.asarray(expected)
    assert ours.shape == expected.shape, what
    scale = float(np.abs(expected).max(initial=0.0)) if scale is None else scale
    np.testing.assert_allclose(ours, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * scale,
                               err_msg=what)


@st.composite
def geometries(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    win = Window(kh, kw, draw(st.integers(1, 4)), draw(st.integers(1, 4)), ph, pw, dh, dw)
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 9))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 9))
    return draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w, win


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SETS)
@settings(max_examples=40, deadline=None)
@given(geometry=geometries(), seed=st.integers(0, 2**16), filters=st.integers(1, 4))
def test_kernel_set_matches_reference(name, dtype, geometry, seed, filters):
    check_window_kernels(kernel_set(name), name, dtype, geometry, seed, filters)


CHOSEN = [  # (N, C, H, W, window): batch 1, odd sizes, stride larger than the kernel
    (1, 1, 5, 7, Window(3, 3, 1, 1, 1, 1)), (1, 3, 9, 7, Window(2, 2, 3, 3)),
    (2, 2, 11, 5, Window(1, 3, 4, 2, 0, 1)), (1, 4, 7, 9, Window(3, 2, 5, 4, 1, 1, 1, 2)),
    (3, 1, 6, 6, Window(2, 2, 2, 2)), (2, 3, 7, 5, Window(2, 2, 2, 2)),
    (2, 5, 1, 9, Window(1, 2, 1, 3))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("geometry", CHOSEN, ids=str)
def test_kernel_set_matches_reference_on_chosen_geometries(name, dtype, geometry):
    check_window_kernels(kernel_set(name), name, dtype, geometry, 11, 3)


def conv_gradient_magnitudes(g, x, weight, win):
    """The largest sum of absolute terms in each of the reference's convolution gradients
    (the gradients of ``|g|``, ``|x|`` and ``|weight|``), in float64."""
    x, weight, g = (np.abs(a).astype(np.float64) for a in (x, weight, g))
    saved = reference.conv2d_forward(x, weight, None, win)[1]
    return [float(part.max(initial=0.0))
            for part in reference.conv2d_backward(g, saved, x, weight, win, True, True, True)]


def average_pooling_by_hand(x, g, win, divisor):
    """Average pooling of ``x`` and the gradient of ``g`` at its output, window by window
    in float64: each window's in-bounds pixels summed over its divisor (``kh*kw`` when
    None), and that window's ``g`` over its divisor added back to each of them."""
    n, c, h, w = x.shape
    oh, ow = g.shape[2:]
    y, grad_x = np.zeros(g.shape), np.zeros(x.shape)
    for oy in range(oh):
        for ox in range(ow):
            d = win.kh * win.kw if divisor is None else float(divisor[oy, ox])
            for i in range(win.kh):
                for j in range(win.kw):
                    yy, xx = oy * win.sh + i * win.dh - win.ph, ox * win.sw + j * win.dw - win.pw
                    if 0 <= yy < h and 0 <= xx < w:
                        y[:, :, oy, ox] += x[:, :, yy, xx] / d
                        grad_x[:, :, yy, xx] += g[:, :, oy, ox] / d
    return y, grad_x


def check_window_kernels(kernels, name, dtype, geometry, seed, filters):
    """im2col, col2im, max and average pooling and convolution of ``kernels`` against the
    reference, average pooling against the sums written out here."""
    n, c, h, w, win = geometry
    rng = np.random.default_rng(seed)
    x = off_kinks(rng, (n, c, h, w)).astype(dtype)
    xd = on(name, x)

    col = kernels.im2col(xd, win)
    assert np.array_equal(host(col), reference.im2col(x, win))
    close(kernels.col2im(col, win, h, w), reference.col2im(reference.im2col(x, win), win, h, w),
          dtype, "col2im")

    y, argmax = kernels.maxpool2d_forward(xd, win)
    y_ref, argmax_ref = reference.maxpool2d_forward(x, win)
    assert np.array_equal(host(y), y_ref) and np.array_equal(host(argmax), argmax_ref)
    g = rng.standard_normal(y_ref.shape).astype(dtype)
    close(kernels.maxpool2d_backward(on(name, g), argmax, win, h, w),
          reference.maxpool2d_backward(g, argmax_ref, win, h, w), dtype, "maxpool backward")

    for divisor in (None, rng.integers(1, 10, y_ref.shape[2:]).astype(dtype)):
        y_hand, grad_hand = average_pooling_by_hand(x, g, win, divisor)
        y_abs, grad_abs = average_pooling_by_hand(np.abs(x), np.abs(g), win, divisor)
        on_device = None if divisor is None else on(name, divisor)
        close(kernels.avgpool2d_forward(xd, win, on_device), y_hand, dtype, "avgpool forward",
              scale=y_abs.max(initial=0.0))
        close(kernels.avgpool2d_backward(on(name, g), win, h, w, on_device), grad_hand, dtype,
              "avgpool backward", scale=grad_abs.max(initial=0.0))

    weight = rng.standard_normal((filters, c, win.kh, win.kw)).astype(dtype)
    bias = rng.standard_normal(filters).astype(dtype)
    y, saved = kernels.conv2d_forward(xd, on(name, weight), on(name, bias), win)
    y_ref, saved_ref = reference.conv2d_forward(x, weight, bias, win)
    close(y, y_ref, dtype, "conv forward")
    g = rng.standard_normal(y_ref.shape).astype(dtype)
    ours = kernels.conv2d_backward(on(name, g), saved, xd, on(name, weight), win, True, True, True)
    expected = reference.conv2d_backward(g, saved_ref, x, weight, win, True, True, True)
    magnitudes = conv_gradient_magnitudes(g, x, weight, win)
    for part, a, b, m in zip(("input", "weight", "bias"), ours, expected, magnitudes):
        close(a, b, dtype, f"conv gradient of the {part}", scale=m)
    only_w = kernels.conv2d_backward(on(name, g), saved, xd, on(name, weight), win,
                                     False, True, False)
    assert only_w[0] is None and only_w[2] is None


def batchnorm_and_relu_by_hand(x, g, weight, bias, running, momentum, eps):
    """Every output of the batch-norm and ReLU kernels, per channel in float64, written out
    from the formulas of torch's ``BatchNorm2d`` and ``ReLU`` documentation: a dict."""
    c = x.shape[1]
    xs = np.moveaxis(x, 1, 0).reshape(c, -1).astype(np.float64)  # (C, m)
    gs = np.moveaxis(g, 1, 0).reshape(c, -1).astype(np.float64)
    m = xs.shape[1]
    mean = xs.sum(axis=1) / m
    var = ((xs - mean[:, None]) ** 2).sum(axis=1) / m
    inv_std = 1 / np.sqrt(var + eps)
    xhat = (xs - mean[:, None]) * inv_std[:, None]
    unbias = m / (m - 1) if m > 1 else 1.0
    w = weight.astype(np.float64)[:, None]
    grad_b, grad_w = gs.sum(axis=1), (gs * xhat).sum(axis=1)
    back = lambda a: np.moveaxis(a.reshape((c, x.shape[0]) + x.shape[2:]), 0, 1)  # noqa: E731
    return {
        "mean": mean, "var": var, "inv_std": inv_std,
        "running_mean": (1 - momentum) * running[0] + momentum * mean,
        "running_var": (1 - momentum) * running[1] + momentum * var * unbias,
        "y": back(xhat * w + bias.astype(np.float64)[:, None]),
        "grad_x_batch": back(w * inv_std[:, None] / m
                             * (m * gs - grad_b[:, None] - xhat * grad_w[:, None])),
        "grad_x_fixed": back(gs * w * inv_std[:, None]), "grad_w": grad_w, "grad_b": grad_b,
        "relu": np.where(x > 0, x, 0), "relu_grad": np.where(x > 0, g, 0)}


NORM_SHAPES = [(3, 4, 5, 6), (1, 3, 5, 7), (5, 3), (2, 1, 1, 3), (1, 2, 1, 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["reference"] + SETS)
@pytest.mark.parametrize("shape", NORM_SHAPES, ids=str)
def test_batchnorm_and_relu_match_the_formulas(name, dtype, shape):
    """The ``reference`` and ``numpy`` sets share these functions
    (``minicnn/kernels/formulas.py``), so their two parametrisations check the same code."""
    kernels = kernel_set(name)
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    c = shape[1]
    weight, bias = rng.uniform(0.5, 1.5, c).astype(dtype), rng.standard_normal(c).astype(dtype)
    running = [rng.standard_normal(c).astype(dtype), rng.uniform(0.5, 1.5, c).astype(dtype)]
    want = batchnorm_and_relu_by_hand(x, g, weight, bias, running, 0.1, 1e-5)

    mean, var = kernels.batchnorm_stats(on(name, x))
    close(mean, want["mean"], dtype, "mean")
    close(var, want["var"], dtype, "var")
    on_set = [on(name, r) for r in running]
    assert kernels.batchnorm_update_running(*on_set, mean, var, 0.1, x.size // c) is None
    close(on_set[0], want["running_mean"], dtype, "running mean")
    close(on_set[1], want["running_var"], dtype, "running var")
    inv_std = kernels.batchnorm_inv_std(var, 1e-5)
    close(inv_std, want["inv_std"], dtype, "inverse deviation")

    args = [on(name, a) for a in (want["mean"].astype(dtype), want["inv_std"].astype(dtype),
                                  weight)]
    close(kernels.batchnorm_apply(on(name, x), *args, on(name, bias)), want["y"], dtype,
          "batchnorm apply")
    for batch_stats, grad_x in ((True, want["grad_x_batch"]), (False, want["grad_x_fixed"])):
        ours = kernels.batchnorm_backward(on(name, g), on(name, x), *args, batch_stats)
        for part, a, b in zip(("input", "weight", "bias"), ours,
                              (grad_x, want["grad_w"], want["grad_b"])):
            close(a, b, dtype, f"batchnorm gradient of the {part} (batch_stats={batch_stats})")
    y = kernels.relu_forward(on(name, x))
    close(y, want["relu"], dtype, "relu")
    close(kernels.relu_backward(on(name, g), y), want["relu_grad"], dtype, "relu backward")


@pytest.mark.oracle
def test_the_formulas_written_out_here_are_torchs():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, g = rng.standard_normal((3, 4, 5, 6)), rng.standard_normal((3, 4, 5, 6))
    weight, bias = rng.uniform(0.5, 1.5, 4), rng.standard_normal(4)
    running = [rng.standard_normal(4), rng.uniform(0.5, 1.5, 4)]
    want = batchnorm_and_relu_by_hand(x, g, weight, bias, running, 0.1, 1e-5)
    layer = torch.nn.BatchNorm2d(4, eps=1e-5, momentum=0.1).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(weight))
        layer.bias.copy_(torch.from_numpy(bias))
        layer.running_mean.copy_(torch.from_numpy(running[0]))
        layer.running_var.copy_(torch.from_numpy(running[1]))
    xt = torch.from_numpy(x).requires_grad_()
    y = layer(xt)
    y.backward(torch.from_numpy(g))
    np.testing.assert_allclose(y.detach().numpy(), want["y"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), want["grad_x_batch"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.weight.grad.numpy(), want["grad_w"], rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), want["grad_b"], rtol=1e-12)
    np.testing.assert_allclose(layer.running_mean.numpy(), want["running_mean"], rtol=1e-12)
    np.testing.assert_allclose(layer.running_var.numpy(), want["running_var"], rtol=1e-12)
    xt = torch.from_numpy(x).requires_grad_()
    torch.relu(xt).backward(torch.from_numpy(g))
    np.testing.assert_array_equal(torch.relu(xt).detach().numpy(), want["relu"])
    np.testing.assert_array_equal(xt.grad.numpy(), want["relu_grad"])


@st.composite
def pool_geometries(draw):
    """Half the time the 2x2 stride-2 window (the Numba set's fused path), odd sizes too."""
    if draw(st.booleans()):
        return draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(2, 9)), \
            draw(st.integers(2, 9)), Window(2, 2, 2, 2)
    return draw(geometries())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SETS)
@settings(max_examples=40, deadline=None)
@given(geometry=pool_geometries(), seed=st.integers(0, 2**16), batch_stats=st.booleans())
def test_fused_batchnorm_relu_maxpool_matches_reference(name, dtype, geometry, seed, batch_stats):
    """Against the reference composition; and its output is bit for bit the set's own
    batch norm, ReLU and max pooling one after the other."""
    kernels = kernel_set(name)
    n, c, h, w, win = geometry
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, c, h, w)) * 2 + 0.5).astype(dtype)
    mean, var = reference.batchnorm_stats(x)
    inv_std = (1 / np.sqrt(var + 1e-5)).astype(dtype)
    weight, bias = rng.uniform(0.5, 1.5, c).astype(dtype), rng.standard_normal(c).astype(dtype)
    args = [on(name, a) for a in (mean, inv_std, weight)]
    xd = on(name, x)
    y, saved = kernels.batchnorm_relu_maxpool_forward(xd, *args, on(name, bias), win)
    y_ref, saved_ref = reference.batchnorm_relu_maxpool_forward(x, mean, inv_std, weight, bias, win)
    close(y, y_ref, dtype, "fused forward")
    normalised = kernels.batchnorm_apply(xd, *args, on(name, bias))
    chain = kernels.maxpool2d_forward(kernels.relu_forward(normalised), win)[0]
    assert np.array_equal(host(y), host(chain))
    g = rng.standard_normal(y_ref.shape).astype(dtype)
    ours = kernels.batchnorm_relu_maxpool_backward(on(name, g), y, saved, xd, *args, batch_stats,
                                                   win)
    expected = reference.batchnorm_relu_maxpool_backward(g, y_ref, saved_ref, x, mean, inv_std,
                                                         weight,
                                                         batch_stats, win)
    for part, a, b in zip(("input", "weight", "bias"), ours, expected):
        close(a, b, dtype, f"fused gradient of the {part}")
    only_x = kernels.batchnorm_relu_maxpool_backward(on(name, g), y, saved, xd, *args,
                                                     batch_stats, win,
                                                     True, False, False)
    assert only_x[1] is None and only_x[2] is None
    close(only_x[0], expected[0], dtype, "fused gradient of the input alone")


BOUNDS = [(0.0, np.inf), (0.0, 6.0), (-0.5, 0.8)]  # ReLU, ReLU6, a Hardtanh


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SETS)
@settings(max_examples=40, deadline=None)
@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 7),
                       st.integers(1, 7)),
       bounds=st.sampled_from(BOUNDS), seed=st.integers(0, 2**16), batch_stats=st.booleans())
@example(shape=(1, 1, 1, 2), bounds=BOUNDS[0], seed=0, batch_stats=True)  # terms cancel
def test_batchnorm_clamp_matches_the_reference_batch_norm_then_the_clamp(name, dtype, shape,
                                                                         bounds, seed,
                                                                         batch_stats):
    """Against the reference set's batch norm, then ``minimum(maximum(z, low), high)``, and
    backward through the reference batch norm with ``g`` where ``low < z < high``: output
    bit for bit the set's own batch norm then the clamp; gradients to rounding, one at a
    time too."""
    kernels, (low, high) = kernel_set(name), bounds
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    n, c = shape[:2]
    mean, var = reference.batchnorm_stats(x)
    inv_std = (1 / np.sqrt(var + 1e-5)).astype(dtype)
    weight, bias = rng.uniform(0.5, 1.5, c).astype(dtype), rng.standard_normal(c).astype(dtype)
    z = reference.batchnorm_apply(x, mean, inv_std, weight, bias)
    args = [on(name, a) for a in (mean, inv_std, weight)]
    xd = on(name, x)
    y = kernels.batchnorm_clamp_forward(xd, *args, on(name, bias), low, high)
    own_z = host(kernels.batchnorm_apply(xd, *args, on(name, bias)))
    assert y.dtype == dtype
    assert np.array_equal(host(y), np.minimum(np.maximum(own_z, low), high).astype(dtype))
    a, m, b = (np.abs(v).reshape(1, c, 1, 1) for v in (weight * inv_std, mean, bias))
    terms = np.abs(x) * a + m * a + b  # of x * scale + shift, which cancel where x ~ mean
    close(y, np.minimum(np.maximum(z, low), high), dtype, "clamp forward", float(terms.max()))
    g = rng.standard_normal(shape).astype(dtype)
    grad_z = np.where((z > low) & (z < high), g, 0).astype(np.float64)
    wide = [a.astype(np.float64) for a in (x, mean, inv_std, weight)]
    expected = reference.batchnorm_backward(grad_z, *wide, batch_stats)
    scales = _batchnorm_gradient_magnitudes(grad_z, *wide)
    ours = kernels.batchnorm_clamp_backward(on(name, g), y, xd, *args, on(name, bias),
                                            batch_stats, low, high)
    for part, a, b, scale in zip(("input", "weight", "bias"), ours, expected, scales):
        close(a, b, dtype, f"clamp gradient of the {part}", scale)
    for k, part in enumerate(("input", "weight", "bias")):
        alone = kernels.batchnorm_clamp_backward(on(name, g), y, xd, *args, on(name, bias),
                                                 batch_stats, low, high,
                                                 *(j == k for j in range(3)))
        assert all(alone[j] is None for j in range(3) if j != k)
        close(alone[k], expected[k], dtype, f"clamp gradient of the {part} alone", scales[k])


def _batchnorm_gradient_magnitudes(g, x, mean, inv_std, weight) -> tuple:
    """Bounds on the terms of batch norm's gradients (input, weight, bias), the scale their
    rounding is relative to: with few values per channel the terms cancel, and the
    gradient itself can be far smaller than them."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    xhat = (x - mean.reshape(shape)) * inv_std.reshape(shape)
    per_channel = np.abs(weight * inv_std)
    terms = (np.abs(g).max(axis=axes) + np.abs(g).mean(axis=axes)
             + np.abs(xhat).max(axis=axes) * np.abs(g * xhat).mean(axis=axes))
    return (float((per_channel * terms).max()), float(np.abs(g * xhat).sum(axis=axes).max()),
            float(np.abs(g).sum(axis=axes).max()))


@pytest.mark.parametrize("name", ["reference"] + SETS)
def test_max_pool_ties_go_to_the_first_maximum_in_row_major_order(name):
    kernels = kernel_set(name)
    x = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])
    _, argmax = kernels.maxpool2d_forward(on(name, x), Window(2, 2, 2, 2))
    assert int(host(argmax).item()) == 1


def test_col2im_is_the_adjoint_of_im2col():
    """<im2col(x), c> == <x, col2im(c)> for every x, c: the defining property of backward."""
    rng = np.random.default_rng(0)
    win = Window(3, 2, 2, 1, 1, 1, 1, 2)
    x = rng.standard_normal((2, 3, 7, 6))
    c = rng.standard_normal(reference.im2col(x, win).shape)
    assert np.isclose(np.sum(reference.im2col(x, win) * c),
                      np.sum(x * reference.col2im(c, win, 7, 6)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SETS)
def test_the_common_2x2_pooling_on_odd_sizes(name, dtype):
    """Kernel 2, stride 2 leaves the last row and column of an odd-sized input uncovered:
    their gradient must be zero (the Numba set has a fast path for this window)."""
    kernels = kernel_set(name)
    rng = np.random.default_rng(5)
    x = off_kinks(rng, (2, 3, 5, 7)).astype(dtype)
    win = Window(2, 2, 2, 2)
    y, argmax = kernels.maxpool2d_forward(on(name, x), win)
    y_ref, argmax_ref = reference.maxpool2d_forward(x, win)
    assert np.array_equal(host(y), y_ref) and np.array_equal(host(argmax), argmax_ref)
    g = rng.standard_normal(y_ref.shape).astype(dtype)
    grad = host(kernels.maxpool2d_backward(on(name, g), argmax, win, 5, 7))
    assert np.array_equal(grad, reference.maxpool2d_backward(g, argmax_ref, win, 5, 7))
    assert not grad[:, :, 4, :].any() and not grad[:, :, :, 6].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("padding", [(0, 0), (1, 1), (2, 1)])
@pytest.mark.parametrize("height", [6, 7])
def test_the_common_3x3_convolution_of_one_channel(name, dtype, padding, height):
    """A one-channel input with a 3x3 window and stride 1 (the first layer of the study's
    networks; the Numba set has an unrolled direct kernel for it, whose weight gradient
    takes two output rows at a time: an odd height leaves one alone) against the
    reference."""
    kernels = kernel_set(name)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 1, height, 9)).astype(dtype)
    weight = rng.standard_normal((4, 1, 3, 3)).astype(dtype)
    bias = rng.standard_normal(4).astype(dtype)
    win = Window(3, 3, 1, 1, *padding)
    y, saved = kernels.conv2d_forward(on(name, x), on(name, weight), on(name, bias), win)
    y_ref, saved_ref = reference.conv2d_forward(x, weight, bias, win)
    close(y, y_ref, dtype, "conv forward")
    g = rng.standard_normal(y_ref.shape).astype(dtype)
    ours = kernels.conv2d_backward(on(name, g), saved, on(name, x), on(name, weight), win,
                                   True, True, True)
    expected = reference.conv2d_backward(g, saved_ref, x, weight, win, True, True, True)
    for part, a, b in zip(("input", "weight", "bias"), ours, expected):
        close(a, b, dtype, f"conv gradient of the {part}")


def test_thread_count_follows_the_environment(monkeypatch):
    monkeypatch.setenv("MINICNN_NUM_THREADS", "1")
    assert backend.num_threads() == 1
    monkeypatch.delenv("MINICNN_NUM_THREADS")
    assert backend.num_threads() >= 1
    with pytest.raises(ValueError, match="at least 1 thread"):
        backend.set_num_threads(0)


def test_a_private_kernel_cache_only_before_the_kernels_load():
    import subprocess
    import sys
    code = ("import minicnn, numba; d = minicnn.backend.use_private_kernel_cache(); "
            "import numpy as np; minicnn.nn.ReLU()(minicnn.ones(2)); import os; "
            "print(d is not None and numba.config.CACHE_DIR == d and any(os.scandir(d)))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "True"
    backend.kernels_of(np.zeros(1))  # this process loads the kernels (if no test did yet) ...
    assert backend.use_private_kernel_cache() is None  # ... so its cache stays where it is


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SETS)
@settings(max_examples=40, deadline=None)
@given(geometry=geometries(), seed=st.integers(0, 2**16), multiplier=st.integers(1, 3))
def test_depthwise_convolution_matches_reference(name, dtype, geometry, seed, multiplier):
    check_depthwise(kernel_set(name), name, dtype, geometry, seed, multiplier)


DEPTHWISE_CHOSEN = CHOSEN + [  # stride 2 with padding and dilation; more channels than taps
    (2, 7, 9, 8, Window(3, 3, 2, 2, 1, 1, 2, 2)), (1, 12, 5, 5, Window(3, 3, 1, 1, 1, 1))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("multiplier", [1, 2])
@pytest.mark.parametrize("geometry", DEPTHWISE_CHOSEN, ids=str)
def test_depthwise_convolution_matches_reference_on_chosen_geometries(name, dtype, geometry,
                                                                      multiplier):
    check_depthwise(kernel_set(name), name, dtype, geometry, 13, multiplier)


def check_depthwise(kernels, name, dtype, geometry, seed, multiplier):
    """Depthwise forward and every gradient of ``kernels`` against the reference, weight
    ``(C*multiplier, 1, kh, kw)``; an unwanted gradient is None."""
    n, c, h, w, win = geometry
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    weight = rng.standard_normal((c * multiplier, 1, win.kh, win.kw)).astype(dtype)
    bias = rng.standard_normal(c * multiplier).astype(dtype)
    xd, wd = on(name, x), on(name, weight)
    y, saved = kernels.depthwise_conv2d_forward(xd, wd, on(name, bias), win)
    y_ref, saved_ref = reference.depthwise_conv2d_forward(x, weight, bias, win)
    close(y, y_ref, dtype, "depthwise forward")
    close(kernels.depthwise_conv2d_forward(xd, wd, None, win)[0],
          y_ref - bias.reshape(1, -1, 1, 1), dtype, "depthwise forward without bias")
    g = on(name, rng.standard_normal(y_ref.shape).astype(dtype))
    ours = kernels.depthwise_conv2d_backward(g, saved, xd, wd, win, True, True, True)
    expected = reference.depthwise_conv2d_backward(host(g), saved_ref, x, weight, win,
                                                   True, True, True)
    for part, a, b in zip(("input", "weight", "bias"), ours, expected):
        close(a, b, dtype, f"depthwise gradient of the {part}")
    for needs in ((True, False, False), (False, True, False), (False, False, True)):
        alone = kernels.depthwise_conv2d_backward(g, saved, xd, wd, win, *needs)
        for part, wanted, a, b in zip(("input", "weight", "bias"), needs, alone, expected):
            if wanted:
                close(a, b, dtype, f"depthwise gradient of the {part} alone")
            else:
                assert a is None, part


@pytest.mark.parametrize("geometry", DEPTHWISE_CHOSEN, ids=str)
def test_reference_depthwise_is_the_per_channel_convolution(geometry):
    """The reference's loops against its ordinary convolution (im2col and a tensordot)
    called once per input channel on that channel's ``m`` filters."""
    n, c, h, w, win = geometry
    rng = np.random.default_rng(17)
    x, weight = rng.standard_normal((n, c, h, w)), rng.standard_normal((2 * c, 1, win.kh, win.kw))
    bias = rng.standard_normal(2 * c)
    y = reference.depthwise_conv2d_forward(x, weight, bias, win)[0]
    g = rng.standard_normal(y.shape)
    grads = reference.depthwise_conv2d_backward(g, None, x, weight, win)
    for ch in range(c):
        f = slice(2 * ch, 2 * ch + 2)
        y_c, col = reference.conv2d_forward(x[:, ch:ch + 1], weight[f], bias[f], win)
        np.testing.assert_allclose(y[:, f], y_c, rtol=1e-12, atol=1e-12)
        gx, gw, gb = reference.conv2d_backward(g[:, f], col, x[:, ch:ch + 1], weight[f], win)
        np.testing.assert_allclose(grads[0][:, ch:ch + 1], gx, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(grads[1][f], gw, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(grads[2][f], gb, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("shape", [(7,), (64, 3, 3, 3), (5, 0)])
@pytest.mark.parametrize("dampening", [0.0, 0.25])
def test_sgd_step_gives_the_formulas_bits(name, dtype, shape, dampening):
    """Every set's in-place SGD step, with a momentum buffer and without, gives the
    reference's numbers bit for bit, both arrays updated; a transposed (non-contiguous)
    parameter too."""
    kernels = kernel_set(name)
    rng = np.random.default_rng(3)
    param, grad, buf = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
    expected_param, expected_buf = param.copy(), buf.copy()
    reference.sgd_step(expected_param, grad, expected_buf, 0.05, 0.9, dampening)
    plain = param.copy()
    reference.sgd_step(plain, grad, None, 0.05, 0, dampening)
    assert buf.size == 0 or not np.array_equal(expected_buf, buf)  # the step moved it
    mine = [on(name, a.copy()) for a in (param, grad, buf)]
    kernels.sgd_step(*mine, 0.05, 0.9, dampening)
    assert host(mine[0]).dtype == dtype
    assert np.array_equal(host(mine[0]), expected_param)
    assert np.array_equal(host(mine[2]), expected_buf)
    alone = on(name, param.copy())
    kernels.sgd_step(alone, mine[1], None, 0.05, 0, dampening)
    assert np.array_equal(host(alone), plain)
    assert np.array_equal(plain, param - dtype(0.05) * grad)
    if len(shape) > 1:
        p, b = on(name, param.copy()).T, on(name, buf.copy()).T
        kernels.sgd_step(p, on(name, grad.T.copy()), b, 0.05, 0.9, dampening)
        assert np.array_equal(host(p), expected_param.T)
        assert np.array_equal(host(b), expected_buf.T)
