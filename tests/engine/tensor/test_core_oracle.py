"""Tensor core against PyTorch: dtype promotion, ``.data``, in-place ops on the tape (a residual
block's ``out += shortcut``), the version counter, index assignment and Python protocols."""
from operator import methodcaller

import numpy as np
import pytest
import torch

import minicnn
import minicnn.nn as mnn
import minicnn.nn.functional as MF
from tests.engine.torch_oracle import assert_matches, copy_parameters

pytestmark = pytest.mark.oracle

DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]


def _values(name: str, shape=(3,)):
    """Nonzero values valid in every dtype (division by them is defined)."""
    return np.ones(shape, dtype=name) if name == "bool" else np.full(shape, 2, dtype=name)


def _pair(name: str, shape=(3,)):
    array = _values(name, shape)
    return minicnn.tensor(array), torch.tensor(array)


def _name(dtype) -> str:
    return repr(dtype).split(".")[-1] if isinstance(dtype, minicnn.dtype) else str(dtype)[6:]


def _others():
    """Second operands: dimensioned and 0-dim tensors of every dtype, and Python numbers."""
    for name in DTYPES:
        yield f"tensor {name}", _pair(name)
        yield f"0-dim {name}", _pair(name, ())
    for number in (True, 3, 2.5):
        yield f"number {number!r}", (number, number)


OPS = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "truediv": lambda a, b: a / b,
       "reflected mul": lambda a, b: b * a, "eq": lambda a, b: a == b, "lt": lambda a, b: a < b}


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("first", DTYPES)
def test_result_dtype_of_binary_ops_is_torch_s(first, op):
    fn = OPS[op]
    ours, theirs = _pair(first)
    for label, (other_ours, other_theirs) in _others():
        expected = _name(fn(theirs, other_theirs).dtype)
        got = _name(fn(ours, other_ours).dtype)
        assert got == expected, f"{first} {op} {label}: minicnn {got}, torch {expected}"
        if op == "add":
            assert _name(minicnn.result_type(ours, other_ours)) == _name(
                torch.result_type(theirs, other_theirs)), f"result_type({first}, {label})"


@pytest.mark.parametrize("first", DTYPES)
def test_sum_dtype_and_mean_of_integers_as_torch(first):
    ours, theirs = _pair(first, (2, 3))
    assert _name(ours.sum().dtype) == _name(theirs.sum().dtype)
    assert _name(ours.sum(dim=1).dtype) == _name(theirs.sum(dim=1).dtype)
    assert ours.sum().item() == theirs.sum().item()
    if theirs.dtype.is_floating_point:
        assert _name(ours.mean().dtype) == _name(theirs.mean().dtype)
    else:
        with pytest.raises(RuntimeError):
            theirs.mean()
        with pytest.raises(RuntimeError, match="mean"):
            ours.mean()


def test_dtype_objects_compare_and_print_as_torch_s():
    x = minicnn.zeros(2)
    assert x.dtype == minicnn.float32 and x.dtype == minicnn.float and x.dtype != minicnn.float64
    assert repr(minicnn.float32) == "minicnn.float32" and repr(minicnn.long) == "minicnn.int64"
    assert minicnn.double.is_floating_point and not minicnn.int64.is_floating_point
    assert x.long().dtype == minicnn.long and x.int().dtype == minicnn.int32
    assert x.bool().dtype == minicnn.bool and x.half().dtype == minicnn.float16
    assert np.zeros(2, dtype=minicnn.float64).dtype == np.float64  # NumPy takes our dtypes
    assert minicnn.promote_types(minicnn.uint8, minicnn.int8) == minicnn.int16
    assert torch.promote_types(torch.uint8, torch.int8) == torch.int16


@pytest.mark.parametrize("python_type", [float, int, bool])
def test_python_types_as_dtype_mean_what_they_mean_in_torch(python_type):
    ours = (minicnn.zeros(2, dtype=python_type).dtype, minicnn.zeros(2).to(python_type).dtype,
            minicnn.tensor([1, 2], dtype=python_type).dtype)
    theirs = (torch.zeros(2, dtype=python_type).dtype, torch.zeros(2).to(python_type).dtype,
              torch.tensor([1, 2], dtype=python_type).dtype)
    assert [_name(d) for d in ours] == [_name(d) for d in theirs]


def test_type_and_to_convert_as_torch():
    t = minicnn.tensor([1.5, 2.5])
    ref = torch.tensor([1.5, 2.5])
    assert t.type() == ref.type() == "torch.FloatTensor"
    assert t.long().type() == ref.long().type() == "torch.LongTensor"
    assert t.type(minicnn.float64).dtype == minicnn.float64
    assert t.type("torch.DoubleTensor").dtype == minicnn.float64
    assert t.type("torch.LongTensor").tolist() == ref.type("torch.LongTensor").tolist()
    other = minicnn.tensor([1, 2])
    assert t.to(other).dtype == minicnn.int64 and t.type_as(other).dtype == minicnn.int64
    assert t.to("cpu", minicnn.float64).dtype == minicnn.float64
    assert t.to(dtype=minicnn.float64, device="cpu").dtype == minicnn.float64
    assert t.to("cpu") is t and t.to("cpu", copy=True) is not t


def test_in_place_result_must_cast_to_the_tensor_s_dtype_as_torch():
    cases = [("int64", 2.5), ("int64", "float32"), ("bool", 2), ("int32", "int64"),
             ("float32", "float64"), ("uint8", 3)]
    for first, other in cases:
        ours, theirs = _pair(first)
        other_ours, other_theirs = (other, other) if not isinstance(other, str) else _pair(other)
        try:
            theirs.add_(other_theirs)
        except RuntimeError:
            with pytest.raises(RuntimeError, match="can't be cast"):
                ours.add_(other_ours)
            continue
        ours.add_(other_ours)
        assert _name(ours.dtype) == _name(theirs.dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_in_place_output_shape_may_not_broadcast_self():
    with pytest.raises(RuntimeError):
        torch.zeros(3).add_(torch.zeros(2, 3))
    with pytest.raises(RuntimeError, match=r"add_: output with shape \[3\]"):
        minicnn.zeros(3).add_(minicnn.zeros(2, 3))


def test_data_is_a_tensor_sharing_storage_outside_the_tape():
    p = mnn.Parameter(minicnn.tensor([1.0, 2.0]))
    view = p.data
    assert isinstance(view, minicnn.Tensor) and not view.requires_grad and view.grad_fn is None
    p.data.add_(minicnn.tensor([0.5, 0.5]), alpha=2)  # torch's update idiom, no no_grad needed
    assert p.tolist() == [2.0, 3.0] and view.tolist() == [2.0, 3.0]
    p.data = minicnn.tensor([7.0, 8.0])
    assert p.tolist() == [7.0, 8.0] and p.requires_grad
    outputs = minicnn.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]], requires_grad=True) * 1
    values, predicted = minicnn.max(outputs.data, 1)
    assert predicted.tolist() == [1, 0] and not values.requires_grad


def test_an_in_place_change_of_a_leaf_that_requires_grad_is_refused_as_torch():
    for lib in (torch, minicnn):
        w = lib.ones(3, requires_grad=True)
        for change in (methodcaller("add_", 1), methodcaller("mul_", 2), methodcaller("zero_"),
                       methodcaller("copy_", lib.zeros(3)), methodcaller("__setitem__", 0, 5.0)):
            with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
                change(w)
        with lib.no_grad():
            w.add_(1)
            w[0] = 5.0
        assert w.tolist() == [5.0, 2.0, 2.0] and w.requires_grad


def _exp_then_change(lib):
    x = lib.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()  # exp saves its output for backward
    with lib.no_grad():
        y.add_(1)
    return y


def _mul_then_change_operand(lib):
    w = lib.tensor([0.5, 1.0], requires_grad=True)
    x = lib.tensor([2.0, 3.0], requires_grad=True)
    y = w * x  # the gradient of x needs w
    with lib.no_grad():
        w.add_(1)
    return y


@pytest.mark.parametrize("make", [_exp_then_change, _mul_then_change_operand])
def test_changing_an_array_saved_for_backward_raises_at_backward_as_torch(make):
    for lib in (torch, minicnn):
        y = make(lib)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_changing_an_operand_that_backward_does_not_read_is_no_error_as_torch():
    grads = []
    for lib in (torch, minicnn):
        w = lib.tensor([0.5, 1.0], requires_grad=True)
        x = lib.tensor([2.0, 3.0])  # needs no grad, so w * x saves only x
        y = w * x
        with lib.no_grad():
            w.mul_(10)
        y.sum().backward()
        grads.append(w.grad.tolist())
    assert grads[0] == grads[1] == [2.0, 3.0]


IN_PLACE = {
    "add_ alpha": lambda out, v: out.add_(v, alpha=-0.5),
    "sub_": lambda out, v: out.sub_(v),
    "mul_": lambda out, v: out.mul_(v),
    "div_": lambda out, v: out.div_(v * v + 1),
    "+=": lambda out, v: out.__iadd__(v),
    "-=": lambda out, v: out.__isub__(v),
    "*=": lambda out, v: out.__imul__(v),
    "/=": lambda out, v: out.__itruediv__(v * v + 1),
    "copy_": lambda out, v: out.copy_(v),
    "fill_": lambda out, v: out.fill_(v.sum()),
    "zero_": lambda out, v: out.zero_(),
    "clamp_": lambda out, v: out.clamp_(-1.0, 1.5),
    "clamp_ by tensors": lambda out, v: out.clamp_(min=v - 1, max=v + 1),
    "x[rows, cols] = v": lambda out, v: out.__setitem__(
        (type(v)([0, 2]).long(), type(v)([1, 3]).long()), v[:2]),
    "x[mask] = 0": lambda out, v: out.__setitem__(out > 0.3, 0.0),
    "x[:, 0] = v": lambda out, v: out.__setitem__((slice(None), 0), v[:3]),
}


def _in_place_chain(lib, op, a, v, dtype):
    a = lib.tensor(a, dtype=dtype, requires_grad=True)
    v = lib.tensor(v, dtype=dtype, requires_grad=True)
    out = a * 2
    result = IN_PLACE[op](out, v)
    assert result is out or op.startswith("x[")  # in-place methods return the tensor itself
    loss = ((out * lib.tensor(np.arange(12.0).reshape(3, 4), dtype=dtype)) ** 2).sum()
    loss.backward()
    return out, a.grad, v.grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", IN_PLACE)
def test_in_place_ops_on_the_tape_match_torch(op, dtype, rng):
    a, v = rng.standard_normal((3, 4)), rng.standard_normal(4)
    theirs = _in_place_chain(torch, op, a, v, getattr(torch, np.dtype(dtype).name))
    ours = _in_place_chain(minicnn, op, a, v, dtype)
    for what, mine, ref in zip(("out", "a.grad", "v.grad"), ours, theirs):
        if ref is None:
            assert mine is None or not np.any(mine.numpy()), f"{op}: {what}"
        else:
            assert_matches(mine, ref, dtype, f"{op}: {what}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_getitem_with_long_and_bool_tensor_indices_matches_torch(dtype, rng):
    array = rng.standard_normal((4, 3))
    rows, mask = np.array([3, 0, 3]), array > 0
    results = []
    for lib in (torch, minicnn):
        x = lib.tensor(array, dtype=getattr(lib, np.dtype(dtype).name), requires_grad=True)
        y = x[lib.tensor(rows)] * 3 + x[lib.tensor(mask)].sum()
        (y ** 2).sum().backward()
        results.append((y, x.grad))
    for mine, ref in zip(results[1], results[0]):
        assert_matches(mine, ref, dtype)


def _residual_block(nn, F, identity: bool):
    """A ResNet basic block written as model zoos write it, for either library."""

    class BasicBlock(nn.Module):
        def __init__(self, planes_in=2, planes=2 if identity else 3):
            super().__init__()
            self.conv1 = nn.Conv2d(planes_in, planes, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.shortcut = nn.Sequential()
            if not identity:
                self.shortcut = nn.Sequential(nn.Conv2d(planes_in, planes, 1, bias=False),
                                              nn.BatchNorm2d(planes))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += self.shortcut(x)
            out = F.relu(out)
            return out

    return BasicBlock()


@pytest.mark.parametrize("identity", [True, False], ids=["identity shortcut", "conv shortcut"])
def test_residual_block_with_in_place_shortcut_add_matches_torch_in_float64(identity, rng):
    theirs = _residual_block(torch.nn, torch.nn.functional, identity).double()
    ours = _residual_block(mnn, MF, identity).double()
    copy_parameters(ours, theirs)
    x = rng.standard_normal((2, 2, 5, 5))
    weights = rng.standard_normal((2, 2 if identity else 3, 5, 5))
    x_ours, x_theirs = (minicnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True))
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    loss_ours = (out_ours * minicnn.tensor(weights)).sum()
    loss_theirs = (out_theirs * torch.tensor(weights)).sum()
    loss_ours.backward()
    loss_theirs.backward()
    assert_matches(out_ours, out_theirs, np.float64, "output")
    assert_matches(x_ours.grad, x_theirs.grad, np.float64, "input grad")
    named = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_matches(p.grad, named[name].grad, np.float64, name)


def test_python_protocols_behave_as_torch_s():
    for lib in (torch, minicnn):
        loss, index = lib.tensor(0.123456), lib.tensor(2)
        assert f"{loss:.4f}" == "0.1235" and ["a", "b", "c"][index] == "c"
        assert float(lib.tensor([2.5])) == 2.5 and int(lib.tensor([[3]])) == 3
        rows = list(lib.tensor([[1, 2], [3, 4]]))
        assert len(rows) == 2 and rows[1].tolist() == [3, 4] and len(lib.zeros(5, 2)) == 5
        assert bool(lib.tensor([1])) and not lib.tensor(0.0)
        with pytest.raises(RuntimeError, match="ambiguous"):
            bool(lib.tensor([1, 2]))
        with pytest.raises(TypeError):
            ["a", "b"][lib.tensor(1.0)]
        with pytest.raises(TypeError):
            len(lib.tensor(1.0))
        with pytest.raises(TypeError):
            f"{lib.tensor([1.0, 2.0]):.2f}"
        with pytest.raises(RuntimeError):
            lib.tensor([1.0, 2.0]).item()
        assert (lib.tensor([1, 2]) == None) is False  # noqa: E711 - Python's fallback
        assert (lib.tensor([1, 2]) == [1, 2]) is False


def test_repr_matches_torch_s_layout():
    for values in ([1.0, 2.0], [1.0, 2.5], [[1, 2], [3, 4]], [True, False]):
        assert repr(minicnn.tensor(values)) == repr(torch.tensor(values))
    assert repr(minicnn.tensor([1.5], requires_grad=True)) == "tensor([1.5000], requires_grad=True)"


BAD_INPUT = {
    "add of shapes that do not broadcast": (
        lambda lib: lib.zeros(2, 3) + lib.zeros(2), RuntimeError,
        r"add: the size of tensor a \(3\) must match the size of tensor b \(2\) .* \(2, 3\)"),
    "comparison of shapes that do not broadcast": (
        lambda lib: lib.zeros(2, 3) < lib.zeros(4), RuntimeError, r"lt: .* \(2, 3\) and \(4,\)"),
    "x[index] = value of a wrong shape": (
        lambda lib: lib.zeros(3).__setitem__(slice(None), lib.zeros(2)), RuntimeError,
        r"x\[index\] = value: .* value of shape \(2,\) .* shape \(3,\)"),
    "x[index] out of range": (
        lambda lib: lib.zeros(3).__setitem__(5, 1.0), IndexError, "5"),
    "fill_ with a 1-d value": (
        lambda lib: lib.zeros(3).fill_(lib.zeros(2)), RuntimeError, "0-dimension value"),
    "copy_ from a source that does not broadcast": (
        lambda lib: (lib.zeros(3) * 1).copy_(lib.ones(2)), RuntimeError, r"copy_: .* \(2,\)"),
    "int tensor as an index with two elements": (
        lambda lib: [1, 2, 3][lib.tensor([0, 1])], TypeError, "single element"),
    "mean of an int tensor": (
        lambda lib: lib.tensor([1, 2]).mean(), RuntimeError, "mean.*floating point"),
    "in-place float into int": (
        lambda lib: lib.tensor([1, 2]).mul_(0.5), RuntimeError, "mul_: result type .*float32"),
}


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_gets_torch_s_error_type_naming_the_op_and_shapes(case):
    make, error, match = BAD_INPUT[case]
    with pytest.raises(error):
        make(torch)
    with pytest.raises(error, match=match):
        make(minicnn)
