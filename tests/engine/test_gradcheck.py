"""Every registered op, layer and loss passes the float64 gradient check, and the
checker itself catches wrong gradients."""
import warnings

import numpy as np
import pytest

import minicnn
from minicnn import Function, GradcheckError
from minicnn.gradcheck import __main__ as gradcheck_cli
from minicnn.gradcheck import check_gradients
from minicnn.gradcheck.cases import CASES, Case, leaf


@pytest.mark.parametrize("case", CASES, ids=[f"{c.op}:{c.config}" for c in CASES])
def test_case_passes_gradcheck(case):
    fn, inputs = case.build()
    assert minicnn.gradcheck(fn, inputs, fast=case.fast)


class WrongSquare(Function):
    """x**2 with a backward that is off by a factor 1.01: the checker must notice."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2.02 * x * g


@pytest.mark.parametrize("fast", [False, True])
def test_a_wrong_backward_is_caught_with_input_and_values(fast):
    x = leaf(np.linspace(1.0, 2.0, 6).reshape(2, 3))
    with pytest.raises(GradcheckError, match="input 0") as info:
        minicnn.gradcheck(WrongSquare.apply, (x,), fast=fast)
    assert "analytical" in str(info.value) and "numerical" in str(info.value)


def test_a_backward_that_ignores_its_output_gradient_is_caught():
    class Leaky(Function):
        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, g):
            return g if g.any() else g + 1.0  # right Jacobian, but non-zero when g is zero

    report = check_gradients(Leaky.apply, (leaf(np.ones(3)),))
    assert report.failure == ("gradcheck: a zero output gradient gave a non-zero gradient "
                              "(max 1) for input 0")


def test_float32_inputs_get_a_warning():
    x = minicnn.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_gradients(lambda t: t * t, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)
    assert any("float32" in str(w.message) for w in caught)


def test_cli_prints_a_table_and_fails_on_a_bad_case(monkeypatch, capsys):
    good = CASES[0]
    bad = Case("wrong_square", "(2,3)", lambda: (WrongSquare.apply, (leaf(np.ones((2, 3))),)))
    monkeypatch.setattr(gradcheck_cli, "CASES", [good, bad])
    assert gradcheck_cli.main() == 1
    out = capsys.readouterr().out
    assert "max abs err" in out and "FAIL" in out and "1 passed, 1 failed" in out
    monkeypatch.setattr(gradcheck_cli, "CASES", [good])
    assert gradcheck_cli.main() == 0
