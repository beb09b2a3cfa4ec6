"""The exercises: every reference solution passes its check, and deliberately wrong ones fail
with a message that names the case they fail on."""
import re

import numpy as np
import pytest

from minicnn import exercises
from minicnn.exercises import solutions


@pytest.mark.parametrize("name", exercises.names())
def test_the_reference_solution_passes(name, capsys):
    assert exercises.check(name, exercises.solution(name)) is True
    out = capsys.readouterr().out
    assert "FAIL" not in out
    assert f"{name}: {len(exercises.cases(name))} of {len(exercises.cases(name))} cases pass" in out


def test_names_list_the_seven_exercises():
    assert exercises.names() == ["conv2d_forward", "conv2d_backward", "max_pool2d_backward",
                                 "batch_norm_backward", "softmax_cross_entropy",
                                 "sgd_momentum_step", "adam_step"]
    with pytest.raises(ValueError, match="unknown exercise 'conv3d'"):
        exercises.solution("conv3d")


def _first_failure(name, fn, capsys) -> str:
    """What check printed, with the lines it wrapped joined again."""
    assert exercises.check(name, fn) is False
    out = re.sub(r"\n {8}(?!hint:)", " ", capsys.readouterr().out)
    fails = [line for line in out.splitlines() if line.strip().startswith("FAIL")]
    assert fails, out
    return out


def test_wrong_stride_handling_fails_on_the_uneven_stride_case(capsys):
    def rows_stride_for_both(x, weight, bias, stride, padding, dilation):
        return solutions.conv2d_forward(x, weight, bias, (stride[0], stride[0]), padding, dilation)

    out = _first_failure("conv2d_forward", rows_stride_for_both, capsys)
    assert "ok    stride (2, 2)\n" in out
    assert "FAIL  stride (2, 1), padding (1, 0): y has shape (1, 2, 3, 2), expected (1, 2, 3, 3)" \
        in out
    assert "hint: rows take the first number of stride and padding" in out


def test_pooling_that_moves_windows_by_their_size_fails_on_overlapping_windows(capsys):
    def stride_is_kernel(grad_y, x, kernel_size, stride, padding, dilation):
        return solutions.max_pool2d_backward(grad_y, x, kernel_size, kernel_size, padding, dilation)

    out = _first_failure("max_pool2d_backward", stride_is_kernel, capsys)
    assert "ok    batch 1, 2x2 windows, stride (2, 2)" in out  # stride = kernel: no harm
    assert "FAIL  odd sizes: 7x5 input, 3x3 windows, stride (2, 2): your function raised" in out
    assert "hint: OH = (H - kh) // sh + 1" in out  # the first failing case's hint
    assert "FAIL  stride (1, 1): windows overlap: " in out


def test_a_transposed_weight_gradient_fails_naming_case_and_shape(capsys):
    def transposed(grad_y, x, weight, stride, padding, dilation):
        gx, gw, gb = solutions.conv2d_backward(grad_y, x, weight, stride, padding, dilation)
        return gx, gw.transpose(1, 0, 2, 3), gb

    out = _first_failure("conv2d_backward", transposed, capsys)
    assert "ok    batch 1, one channel, 3x3 kernel" in out  # F = C = 1: transposing is harmless
    assert ("FAIL  odd sizes: 2 samples, 3 -> 2 channels, 7x5 input, 3x2 kernel: grad_weight has "
            "shape (3, 2, 3, 2), expected (2, 3, 3, 2)") in out
    assert "a transposed weight gradient has shape (C, F, kh, kw)" in out


def test_batch_norm_backward_missing_a_term_fails_with_both_values(capsys):
    def without_variance_term(grad_y, x, gamma, eps):
        axes = (0,) + tuple(range(2, x.ndim))
        channel = (1, -1) + (1,) * (x.ndim - 2)
        inv_std = 1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
        xhat = (x - x.mean(axis=axes, keepdims=True)) * inv_std
        grad_x = gamma.reshape(channel) * inv_std * (grad_y - grad_y.mean(axis=axes, keepdims=True))
        return grad_x, (grad_y * xhat).sum(axis=axes), grad_y.sum(axis=axes)

    out = _first_failure("batch_norm_backward", without_variance_term, capsys)
    first = next(line for line in out.splitlines() if "FAIL" in line)
    assert first.startswith("  FAIL  batch 1, 2 channels, 3x3 images: grad_x[")
    assert ", expected " in first and "values differ" in first
    assert "FAIL  float64 finite differences: 4x3x2x3: grad_x[" in out


def test_an_exception_is_a_failed_case(capsys):
    def unfinished(logits, targets):
        raise NotImplementedError("TODO")

    out = _first_failure("softmax_cross_entropy", unfinished, capsys)
    assert "FAIL  batch 1, 3 classes: your function raised NotImplementedError: TODO" in out
    assert "softmax_cross_entropy: 0 of 5 cases pass" in out


def test_cross_entropy_without_the_max_shift_fails_on_large_logits(capsys):
    def unshifted(logits, targets):
        n = logits.shape[0]
        with np.errstate(all="ignore"):
            p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            loss = -np.log(p[np.arange(n), targets]).mean()
        grad = p.copy()
        grad[np.arange(n), targets] -= 1
        return loss, grad / n

    out = _first_failure("softmax_cross_entropy", unshifted, capsys)
    assert "ok    8 samples, 5 classes" in out
    assert "FAIL  large logits, around 1000: loss is nan, expected" in out


def test_adam_without_bias_correction_fails_on_the_first_step(capsys):
    def uncorrected(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay=0.0):
        m = betas[0] * exp_avg + (1 - betas[0]) * grad
        v = betas[1] * exp_avg_sq + (1 - betas[1]) * grad * grad
        return param - lr * m / (np.sqrt(v) + eps), m, v

    out = _first_failure("adam_step", uncorrected, capsys)
    assert "FAIL  default betas (0.9, 0.999), 3 steps: step 1: new_param[0] is" in out


def test_an_sgd_step_that_writes_into_its_argument_fails(capsys):
    def in_place(param, grad, velocity, lr, momentum, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        new_param, v = solutions.sgd_momentum_step(param, grad, velocity, lr, momentum,
                                                   dampening, weight_decay, nesterov)
        param[...] = new_param
        return param, v

    out = _first_failure("sgd_momentum_step", in_place, capsys)
    assert "FAIL  momentum 0.9, 3 steps: step 1: your function changed its argument param" in out


def test_sgd_damping_the_first_step_fails_the_dampening_case(capsys):
    def damped_from_zero(param, grad, velocity, lr, momentum, dampening=0.0, weight_decay=0.0,
                         nesterov=False):
        start = np.zeros_like(param) if velocity is None else velocity
        return solutions.sgd_momentum_step(param, grad, start, lr, momentum, dampening,
                                           weight_decay, nesterov)

    out = _first_failure("sgd_momentum_step", damped_from_zero, capsys)
    assert "ok    momentum 0.9, 3 steps" in out
    assert "FAIL  dampening 0.5: step 1: new_param[0, 0] is" in out
