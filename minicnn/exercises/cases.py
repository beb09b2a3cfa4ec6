"""The graded cases of every exercise: inputs, the expected results and a hint for each.

Expected values come from the engine, not from ``solutions.py``: the reference kernels
(``minicnn/kernels/reference/``) for convolution and pooling, the kernel formulas
(``minicnn/kernels/formulas.py``) for batch norm, the engine's ``cross_entropy`` with its
tape, and ``minicnn.optim.SGD``/``Adam`` for the steps. Each gradient exercise also has a float64
finite-difference case: its expected gradients are central differences
``(L(v + h) - L(v - h)) / 2h`` of ``L = sum(grad_y * forward(...))`` (the loss itself for
cross-entropy), which holds the answer to the derivative of the forward, not to any code.
All arrays are float64 and small, drawn from a fixed seed.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from ..kernels import Window, formulas, reference
from ..kernels import numpy as numpy_kernels

FD_STEP = 1e-6


@dataclass
class Case:
    """One graded case. A one-call case has ``args`` and ``expected`` (one per output); a
    stepping case (the optimizers) has ``steps``: for each step the arguments the step adds
    and the expected outputs, the state arguments being the previous step's outputs."""

    name: str
    hint: str
    args: tuple = ()
    expected: tuple = ()
    steps: list = field(default_factory=list)
    rtol: float = 1e-7
    atol: float = 1e-9


def _rng():
    return np.random.default_rng(0)


def _window(kernel, stride, padding, dilation) -> Window:
    return Window(*kernel, *stride, *padding, *dilation)


def _central_differences(loss, values: list[np.ndarray]) -> list[np.ndarray]:
    """dL/dv for each array ``v`` in ``values`` (changed in place and restored)."""
    grads = []
    for v in values:
        g = np.zeros_like(v)
        for index in np.ndindex(v.shape):
            keep = v[index]
            v[index] = keep + FD_STEP
            up = loss()
            v[index] = keep - FD_STEP
            down = loss()
            v[index] = keep
            g[index] = (up - down) / (2 * FD_STEP)
        grads.append(g)
    return grads


# --- convolution -----------------------------------------------------------------------------

_CONV = [  # name, (N, C, F, H, W, kh, kw), stride, padding, dilation, bias, hint
    ("batch 1, one channel, 3x3 kernel", (1, 1, 1, 5, 5, 3, 3), (1, 1), (0, 0), (1, 1), True,
     "the plain sliding window: y[n, f, oy, ox] = bias[f] + the sum over c, i, j of "
     "weight[f, c, i, j] * x[n, c, oy + i, ox + j]"),
    ("odd sizes: 2 samples, 3 -> 2 channels, 7x5 input, 3x2 kernel", (2, 3, 2, 7, 5, 3, 2),
     (1, 1), (0, 0), (1, 1), True,
     "rows and columns differ in size: keep H and kh apart from W and kw, and C apart from F"),
    ("padding (1, 2)", (2, 2, 3, 5, 6, 3, 3), (1, 1), (1, 2), (1, 1), True,
     "padding adds ph zero rows above and below and pw zero columns left and right: "
     "OH = H + 2*ph - kh + 1"),
    ("stride (2, 2)", (2, 2, 3, 7, 7, 3, 3), (2, 2), (0, 0), (1, 1), True,
     "with a stride, output pixel (oy, ox) starts at input pixel (oy*sh, ox*sw): "
     "OH = (H - kh) // sh + 1"),
    ("stride (2, 1), padding (1, 0)", (1, 2, 2, 6, 5, 3, 3), (2, 1), (1, 0), (1, 1), True,
     "rows take the first number of stride and padding, columns the second"),
    ("dilation (2, 2)", (2, 1, 2, 7, 7, 3, 3), (1, 1), (0, 0), (2, 2), True,
     "dilation spaces the taps: tap (i, j) reads input (oy + i*dh, ox + j*dw), so the window "
     "spans dh*(kh - 1) + 1 rows"),
    ("stride (2, 2), padding (2, 2), dilation (1, 2), no bias", (2, 3, 4, 8, 9, 3, 3), (2, 2),
     (2, 2), (1, 2), False,
     "all three at once: tap (i, j) of output (oy, ox) reads input row oy*sh + i*dh - ph and "
     "column ox*sw + j*dw - pw (nothing where that falls in the padding); bias None adds nothing"),
    ("1x1 kernel, 3 samples, 4 -> 2 channels", (3, 4, 2, 3, 3, 1, 1), (1, 1), (0, 0), (1, 1),
     True, "a 1x1 convolution mixes the channels of each pixel on its own"),
]
_CONV_FD = ("float64 finite differences: stride (2, 1), padding (1, 1), dilation (1, 2)",
            (1, 2, 3, 6, 6, 3, 2), (2, 1), (1, 1), (1, 2), True,
            "the gradients are not the derivatives of the convolution: compare your formula, "
            "term by term, with the exercise page")


def _conv_inputs(rng, dims, stride, padding, dilation, with_bias):
    n, c, f, h, w, kh, kw = dims
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((f, c, kh, kw))
    bias = rng.standard_normal(f) if with_bias else None
    win = _window((kh, kw), stride, padding, dilation)
    return x, weight, bias, win


def conv2d_forward_cases() -> list[Case]:
    rng, cases = _rng(), []
    for name, dims, stride, padding, dilation, with_bias, hint in _CONV:
        x, weight, bias, win = _conv_inputs(rng, dims, stride, padding, dilation, with_bias)
        y, _ = reference.conv2d_forward(x, weight, bias, win)
        cases.append(Case(name, hint, (x, weight, bias, stride, padding, dilation), (y,)))
    return cases


def conv2d_backward_cases() -> list[Case]:
    rng, cases = _rng(), []
    for name, dims, stride, padding, dilation, with_bias, hint in _CONV:
        x, weight, bias, win = _conv_inputs(rng, dims, stride, padding, dilation, with_bias)
        y, col = reference.conv2d_forward(x, weight, bias, win)
        g = rng.standard_normal(y.shape)
        expected = reference.conv2d_backward(g, col, x, weight, win, True, True, True)
        cases.append(Case(name, hint, (g, x, weight, stride, padding, dilation), expected))
    name, dims, stride, padding, dilation, _, hint = _CONV_FD
    x, weight, bias, win = _conv_inputs(rng, dims, stride, padding, dilation, True)
    g = rng.standard_normal(numpy_kernels.conv2d_forward(x, weight, bias, win)[0].shape)
    expected = _central_differences(
        lambda: float((g * numpy_kernels.conv2d_forward(x, weight, bias, win)[0]).sum()),
        [x, weight, bias])
    cases.append(Case(name, hint, (g, x, weight, stride, padding, dilation), tuple(expected),
                      rtol=1e-5, atol=1e-6))
    return cases


# --- max pooling -----------------------------------------------------------------------------

_POOL = [  # name, (N, C, H, W), kernel, stride, padding, dilation, hint
    ("batch 1, 2x2 windows, stride (2, 2)", (1, 1, 4, 4), (2, 2), (2, 2), (0, 0), (1, 1),
     "each window passes its gradient to the one pixel that held its maximum; every other "
     "pixel gets 0"),
    ("odd sizes: 7x5 input, 3x3 windows, stride (2, 2)", (2, 3, 7, 5), (3, 3), (2, 2), (0, 0),
     (1, 1), "OH = (H - kh) // sh + 1: the last rows and columns that fit no window get 0"),
    ("stride (1, 1): windows overlap", (2, 2, 5, 5), (2, 2), (1, 1), (0, 0), (1, 1),
     "with a stride smaller than the window, one pixel can be the maximum of several windows: "
     "add their gradients up, and move each window by the stride, not by its size"),
    ("kernel (2, 3), stride (1, 2)", (1, 2, 5, 7), (2, 3), (1, 2), (0, 0), (1, 1),
     "rows take the first number of kernel_size and stride, columns the second"),
    ("padding (1, 1)", (2, 2, 5, 5), (3, 3), (2, 2), (1, 1), (1, 1),
     "padding is -inf, so a padded pixel never wins; drop the padding from the gradient"),
    ("dilation (2, 2)", (1, 2, 7, 7), (2, 2), (1, 1), (0, 0), (2, 2),
     "dilation spaces the taps: tap (i, j) reads input (oy*sh + i*dh, ox*sw + j*dw)"),
    ("ties: equal values in a window", (2, 2, 4, 6), (2, 2), (2, 2), (0, 0), (1, 1),
     "on ties the first maximum in row-major (i, j) order of the window takes the gradient "
     "(np.argmax does this)"),
]
_POOL_FD = ("float64 finite differences: 3x3 windows, stride (2, 2), padding (1, 1)",
            (2, 2, 6, 5), (3, 3), (2, 2), (1, 1), (1, 1),
            "the gradient is not the derivative of max pooling: the winner of each window takes "
            "all of its gradient")


def _pool_input(rng, dims, ties: bool):
    if ties:
        return rng.integers(0, 3, size=dims).astype(np.float64)
    return rng.permutation(int(np.prod(dims))).reshape(dims) / 10.0  # distinct values


def max_pool2d_backward_cases() -> list[Case]:
    rng, cases = _rng(), []
    for name, dims, kernel, stride, padding, dilation, hint in _POOL:
        x = _pool_input(rng, dims, ties=name.startswith("ties"))
        win = _window(kernel, stride, padding, dilation)
        y, argmax = reference.maxpool2d_forward(x, win)
        g = rng.standard_normal(y.shape)
        expected = reference.maxpool2d_backward(g, argmax, win, *dims[2:])
        cases.append(Case(name, hint, (g, x, kernel, stride, padding, dilation), (expected,)))
    name, dims, kernel, stride, padding, dilation, hint = _POOL_FD
    x = _pool_input(rng, dims, ties=False)
    win = _window(kernel, stride, padding, dilation)
    g = rng.standard_normal(numpy_kernels.maxpool2d_forward(x, win)[0].shape)
    (expected,) = _central_differences(
        lambda: float((g * numpy_kernels.maxpool2d_forward(x, win)[0]).sum()), [x])
    cases.append(Case(name, hint, (g, x, kernel, stride, padding, dilation), (expected,),
                      rtol=1e-5, atol=1e-6))
    return cases


# --- batch norm ------------------------------------------------------------------------------

_NORM = [  # name, shape, mean and scale of x, eps, hint
    ("batch 1, 2 channels, 3x3 images", (1, 2, 3, 3), 0.0, 1.0, 1e-5,
     "the statistics are over every axis but the channel axis 1: N*H*W values per channel"),
    ("(N, C) input: 5 samples, 3 features", (5, 3), 0.0, 1.0, 1e-5,
     "for 2-d input the statistics are over axis 0 only"),
    ("odd sizes: 3x2x5x7", (3, 2, 5, 7), 0.0, 1.0, 1e-5,
     "means over axes (0, 2, 3), kept per channel"),
    ("x with mean 5 and spread 3", (4, 3, 2, 2), 5.0, 3.0, 1e-5,
     "the mean and the variance depend on x too: dL/dx needs both terms subtracted, "
     "mean(g) and xhat * mean(g * xhat)"),
    ("large eps 0.5", (2, 2, 3, 3), 0.0, 1.0, 0.5,
     "divide by sqrt(var + eps), with var the biased variance (divided by the count, not "
     "count - 1)"),
]
_NORM_FD = ("float64 finite differences: 4x3x2x3", (4, 3, 2, 3), 1.0, 2.0, 1e-5,
            "your gradients are not the derivatives of batch norm: every x moves the mean and "
            "the variance, so dL/dx has three terms (the exercise page derives them)")


def _batch_norm_forward(x, gamma, beta, eps):
    mean, var = formulas.batchnorm_stats(x)
    return formulas.batchnorm_apply(x, mean, formulas.batchnorm_inv_std(var, eps), gamma, beta)


def _batch_norm_loss(g, x, gamma, beta, eps) -> float:
    """``L = sum(g * y)`` of the forward ``y``: its gradients are the backward of ``g``."""
    return float((g * _batch_norm_forward(x, gamma, beta, eps)).sum())


def batch_norm_backward_cases() -> list[Case]:
    rng, cases = _rng(), []
    for name, shape, centre, spread, eps, hint in _NORM + [_NORM_FD]:
        x = centre + spread * rng.standard_normal(shape)
        gamma = rng.uniform(0.5, 2.0, shape[1])
        beta = rng.standard_normal(shape[1])
        g = rng.standard_normal(shape)
        if name.startswith("float64"):
            expected = tuple(_central_differences(
                functools.partial(_batch_norm_loss, g, x, gamma, beta, eps), [x, gamma, beta]))
            cases.append(Case(name, hint, (g, x, gamma, eps), expected, rtol=1e-5, atol=1e-6))
            continue
        mean, var = formulas.batchnorm_stats(x)
        inv_std = formulas.batchnorm_inv_std(var, eps)
        expected = formulas.batchnorm_backward(g, x, mean, inv_std, gamma, True)
        cases.append(Case(name, hint, (g, x, gamma, eps), expected))
    return cases


# --- softmax cross-entropy -------------------------------------------------------------------

_ENTROPY = [  # name, N, C, offset of the logits, hint
    ("batch 1, 3 classes", 1, 3, 0.0,
     "loss = -log softmax(logits)[n, target[n]] averaged over the batch"),
    ("8 samples, 5 classes", 8, 5, 0.0,
     "the gradient is (softmax - onehot(target)) / N: the mean divides it by N too"),
    ("large logits, around 1000", 4, 3, 1000.0,
     "exp(1000) overflows: subtract each row's maximum before exp (it changes nothing else)"),
    ("one class: the loss is 0", 3, 1, 0.0,
     "with one class softmax is 1, so the loss and the gradient are 0"),
]
_ENTROPY_FD = ("float64 finite differences: 4 samples, 6 classes", 4, 6, 0.0,
               "your gradient is not the derivative of your loss's formula")


def _engine_cross_entropy(logits, targets):
    import minicnn
    from minicnn.nn import functional as F
    t = minicnn.from_numpy(logits.copy()).requires_grad_()
    loss = F.cross_entropy(t, minicnn.from_numpy(targets))
    loss.backward()
    return float(loss.item()), t.grad.array


def softmax_cross_entropy_cases() -> list[Case]:
    rng, cases = _rng(), []
    for name, n, classes, offset, hint in _ENTROPY + [_ENTROPY_FD]:
        logits = offset + 3 * rng.standard_normal((n, classes))
        targets = rng.integers(0, classes, size=n)
        loss, grad = _engine_cross_entropy(logits, targets)
        if name.startswith("float64"):
            (grad,) = _central_differences(
                lambda logits=logits, targets=targets: _engine_cross_entropy(logits, targets)[0],
                [logits])
            cases.append(Case(name, hint, (logits, targets), (loss, grad), rtol=1e-5, atol=1e-7))
            continue
        cases.append(Case(name, hint, (logits, targets), (loss, grad)))
    return cases


# --- optimizer steps -------------------------------------------------------------------------

def _optimizer_steps(make_optimizer, state_names, shape, rng, count=3):
    """Run the engine's optimizer ``count`` steps on a float64 parameter of ``shape``; per
    step the gradient and the expected ``(param, *state)``."""
    import minicnn
    from minicnn.nn import Parameter
    start = rng.standard_normal(shape)
    p = Parameter(start.copy())
    opt = make_optimizer([p])
    steps = []
    for _ in range(count):
        grad = rng.standard_normal(shape)
        p.grad = minicnn.from_numpy(grad.copy())
        opt.step()
        state = opt.state[p]
        steps.append((grad, (p.array.copy(), *(state[k].copy() for k in state_names))))
    return start, steps


_SGD = [  # name, shape, settings, hint
    ("momentum 0.9, 3 steps", (4,), dict(lr=0.1, momentum=0.9),
     "v = momentum * v + g, then param - lr * v; on the first step v is the gradient itself"),
    ("dampening 0.5", (2, 3), dict(lr=0.05, momentum=0.8, dampening=0.5),
     "dampening scales the gradient added to v, (1 - dampening) * g, from the second step on; "
     "the first v is g itself, undamped"),
    ("weight decay 0.01", (3, 1, 2, 2), dict(lr=0.1, momentum=0.9, weight_decay=0.01),
     "weight decay adds weight_decay * param to the gradient before anything else"),
    ("nesterov", (5,), dict(lr=0.1, momentum=0.9, nesterov=True),
     "nesterov steps by g + momentum * v instead of v"),
]
_ADAM = [
    ("default betas (0.9, 0.999), 3 steps", (4,), dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8),
     "m and v are running means of g and g**2, each divided by (1 - beta**step) before use; "
     "step counts from 1"),
    ("betas (0.5, 0.6)", (2, 3), dict(lr=0.1, betas=(0.5, 0.6), eps=1e-8),
     "the bias corrections 1 - beta1**step and 1 - beta2**step matter most in the first steps"),
    ("weight decay 0.1", (3, 2), dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1),
     "weight decay adds weight_decay * param to the gradient before the moments"),
    ("eps 0.1", (4,), dict(lr=0.01, betas=(0.9, 0.999), eps=0.1),
     "eps is added to sqrt(v_hat), outside the square root"),
]


def sgd_momentum_step_cases() -> list[Case]:
    from minicnn.optim import SGD
    rng, cases = _rng(), []
    for name, shape, settings, hint in _SGD:
        start, steps = _optimizer_steps(functools.partial(SGD, **settings), ["momentum_buffer"],
                                        shape, rng)
        extra = dict(settings)
        lr, momentum = extra.pop("lr"), extra.pop("momentum")
        cases.append(Case(name, hint, args=(start, None), steps=[
            ((grad,), (lr, momentum), extra, expected) for grad, expected in steps]))
    return cases


def adam_step_cases() -> list[Case]:
    from minicnn.optim import Adam
    rng, cases = _rng(), []
    for name, shape, settings, hint in _ADAM:
        start, steps = _optimizer_steps(functools.partial(Adam, **settings),
                                        ["exp_avg", "exp_avg_sq"], shape, rng)
        extra = dict(settings)
        lr, betas, eps = extra.pop("lr"), extra.pop("betas"), extra.pop("eps")
        zeros = np.zeros(shape)
        cases.append(Case(name, hint, args=(start, zeros, zeros), steps=[
            ((grad,), (t + 1, lr, betas, eps), extra, expected)
            for t, (grad, expected) in enumerate(steps)]))
    return cases
