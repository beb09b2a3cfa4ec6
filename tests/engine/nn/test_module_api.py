"""Module's traversal, buffers, containers, reprs, errors and factory arguments, held to
PyTorch: the same model built in both engines gives the same names, reprs and error types."""
from collections import OrderedDict

import numpy as np
import pytest
import torch

import minicnn
from tests.engine.simple_cnn import simple_cnn

pytestmark = pytest.mark.oracle


def zoo(nn):
    """One of every layer and container minicnn has, nested as torch models are."""
    shared = nn.Linear(4, 4)
    return nn.Sequential(OrderedDict([
        ("features", nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                                   nn.MaxPool2d(2), nn.Conv2d(16, 8, (3, 5), stride=2, dilation=2,
                                                              bias=False),
                                   nn.BatchNorm2d(8, eps=1e-3, momentum=None, affine=False),
                                   nn.AvgPool2d(2, 1, 1), nn.ReLU(inplace=True))),
        ("heads", nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Linear(4, 3, bias=False)})),
        ("blocks", nn.ModuleList([nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.25))
                                  for _ in range(3)] + [shared, shared, nn.Softmax(dim=1)])),
        ("shape", nn.Sequential(nn.Flatten(), nn.Unflatten(1, (2, 2)), nn.Flatten(0, -1))),
        ("out", nn.LogSoftmax(dim=1)), ("loss", nn.CrossEntropyLoss()),
        ("empty", nn.ModuleList()), ("none", nn.Sequential())]))


def test_repr_is_torchs_for_every_layer_and_container():
    assert repr(zoo(minicnn.nn)) == repr(zoo(torch.nn))
    assert repr(simple_cnn()) == repr(simple_cnn(nn=torch.nn))


def test_traversal_names_and_order_are_torchs():
    ours, theirs = zoo(minicnn.nn), zoo(torch.nn)
    for method, kwargs in [("named_modules", {}), ("named_modules", {"prefix": "m"}),
                           ("named_modules", {"remove_duplicate": False}),
                           ("named_children", {}), ("named_parameters", {"prefix": "p"}),
                           ("named_parameters", {"remove_duplicate": False}),
                           ("named_parameters", {"recurse": False}), ("named_buffers", {})]:
        names = [name for name, _ in getattr(ours, method)(**kwargs)]
        assert names == [name for name, _ in getattr(theirs, method)(**kwargs)], method
    assert list(ours.state_dict()) == list(theirs.state_dict())  # the shared Linear twice
    kinds = [[type(m).__name__ for m in model.modules()] for model in (ours, theirs)]
    assert kinds[0] == kinds[1]


def test_apply_visits_children_before_parents_as_torch():
    orders = []
    for nn in (minicnn.nn, torch.nn):
        visited = []
        zoo(nn).apply(visited.append)
        orders.append([type(m).__name__ for m in visited])
    assert orders[0] == orders[1] and orders[0][-1] == "Sequential"


def test_a_non_persistent_buffer_is_converted_but_not_saved():
    class Scaled(minicnn.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("scale", minicnn.ones(3), persistent=False)
            self.register_buffer("shift", minicnn.zeros(3))

    model = Scaled()
    assert list(model.state_dict()) == ["shift"]
    assert [name for name, _ in model.named_buffers()] == ["scale", "shift"]
    model.double()
    assert model.scale.dtype == np.float64
    model.register_buffer("scale", model.scale)  # re-registered persistent: saved again
    assert list(model.state_dict()) == ["scale", "shift"]


def test_requires_grad_freezes_and_unfreezes():
    model = simple_cnn()
    assert model.conv_layer1.requires_grad_(False) is model.conv_layer1
    frozen = [name for name, p in model.named_parameters() if not p.requires_grad]
    assert frozen == ["conv_layer1.0.weight", "conv_layer1.0.bias", "conv_layer1.1.weight",
                      "conv_layer1.1.bias"]
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


def member_errors(nn, tensor):
    """The exception type of each bad registration, in a fixed order."""
    module = nn.Module()
    module.existing = 1
    attempts = [lambda: module.register_buffer("a.b", tensor),
                lambda: module.register_buffer("", tensor),
                lambda: module.register_buffer(3, tensor), lambda: module.register_buffer("x", [1]),
                lambda: module.register_buffer("existing", tensor),
                lambda: module.register_parameter("p.q", None),
                lambda: module.register_parameter("p", tensor),
                lambda: module.add_module("m.n", nn.ReLU()),
                lambda: module.add_module(1, nn.ReLU()),
                lambda: module.add_module("m", "not a module"),
                lambda: nn.ModuleDict({1: nn.ReLU()}), lambda: nn.ModuleDict({"a": 3}),
                lambda: nn.ModuleDict()["missing"], lambda: nn.ModuleList()[3],
                lambda: nn.Sequential(nn.ReLU())[1], lambda: nn.Unflatten(1, (2, 2.0)),
                lambda: module.get_submodule("nothing"), lambda: nn.Module().train("yes"),
                lambda: nn.Linear(2, 2).to(dtype=np.int64 if nn is minicnn.nn else torch.int64)]
    kinds = []
    for attempt in attempts:
        with pytest.raises(Exception) as caught:
            attempt()
        kinds.append(caught.type)
    return kinds


def test_bad_registrations_raise_torchs_error_types():
    ours = member_errors(minicnn.nn, minicnn.zeros(1))
    theirs = member_errors(torch.nn, torch.zeros(1))
    assert ours == theirs


def test_errors_name_the_module_and_the_key():
    with pytest.raises(KeyError, match=r'Module: buffer name can.*t contain ".", got: a.b'):
        minicnn.nn.Module().register_buffer("a.b", minicnn.zeros(1))
    with pytest.raises(TypeError, match="module name should be a string, got int 1"):
        minicnn.nn.ModuleDict({1: minicnn.nn.ReLU()})
    with pytest.raises(IndexError, match="ModuleList: index 3 is out of range for length 0"):
        minicnn.nn.ModuleList()[3]


def test_module_dict_behaves_as_torchs():
    nn = minicnn.nn
    heads = nn.ModuleDict([("a", nn.Linear(2, 1)), ("b", nn.ReLU())])
    heads["c"] = nn.Linear(1, 1)
    heads.update({"d": nn.ReLU()})
    assert list(heads) == ["a", "b", "c", "d"] and "c" in heads and len(heads) == 4
    assert isinstance(heads.pop("b"), nn.ReLU) and list(heads.keys()) == ["a", "c", "d"]
    assert [name for name, _ in heads.named_parameters()] == ["a.weight", "a.bias", "c.weight",
                                                              "c.bias"]
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []


def test_parameter_list_registers_and_wraps_tensors():
    params = minicnn.nn.ParameterList([minicnn.nn.Parameter(minicnn.zeros(2)), minicnn.ones(3)])
    params.append(minicnn.zeros(1))
    assert [name for name, _ in params.named_parameters()] == ["0", "1", "2"]
    assert isinstance(params[1], minicnn.nn.Parameter) and params[-1].shape == (1,)
    assert repr(params) == ("ParameterList(\n"
                            "    (0): Parameter containing: [minicnn.float32 of size 2]\n"
                            "    (1): Parameter containing: [minicnn.float32 of size 3]\n"
                            "    (2): Parameter containing: [minicnn.float32 of size 1]\n)")


@pytest.mark.parametrize("dim,sizes", [(1, (2, 3)), (-1, (3, -1)), (0, (1, 2))])
def test_unflatten_is_torchs(dim, sizes):
    x = np.arange(12.0).reshape(2, 6)
    expected = torch.nn.Unflatten(dim, sizes)(torch.from_numpy(x)).numpy()
    ours = minicnn.nn.Unflatten(dim, sizes)(minicnn.tensor(x))
    assert ours.shape == expected.shape and np.array_equal(ours.numpy(), expected)
    assert minicnn.tensor(x).unflatten(dim, sizes).shape == expected.shape


def test_unflatten_with_sizes_that_do_not_fit_raises_torchs_error():
    with pytest.raises(RuntimeError, match=r"sizes \[4, -1\] don't multiply up to the size of "
                                           r"dim 1 \(6\)"):
        minicnn.zeros(2, 6).unflatten(1, (4, -1))
    with pytest.raises(RuntimeError):
        torch.zeros(2, 6).unflatten(1, (4, -1))


def test_unflatten_is_differentiable():
    x = minicnn.tensor(np.arange(6.0).reshape(1, 6), requires_grad=True)
    (minicnn.nn.Unflatten(1, (2, 3))(x) * minicnn.tensor([[1.0, 2.0, 3.0]])).sum().backward()
    assert np.array_equal(x.grad.numpy(), [[1, 2, 3, 1, 2, 3]])


@pytest.mark.parametrize("make", [lambda nn, **kw: nn.Linear(3, 2, **kw),
                                  lambda nn, **kw: nn.Conv2d(1, 2, 3, **kw),
                                  lambda nn, **kw: nn.BatchNorm2d(2, **kw)])
def test_layers_take_torchs_device_and_dtype_arguments(make):
    for dtype, torch_dtype in ((minicnn.float64, torch.float64), (None, None)):
        ours = make(minicnn.nn, device="cpu", dtype=dtype)
        theirs = make(torch.nn, device="cpu", dtype=torch_dtype)
        for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
            assert str(a.dtype) == str(b.dtype).replace("torch.", "minicnn."), name
            assert a.device.type == b.device.type == "cpu"
    assert minicnn.nn.Linear(3, 2, True, "cpu", minicnn.float64).weight.dtype == np.float64


def test_module_to_a_tensor_takes_its_dtype():
    model = minicnn.nn.Linear(2, 2).to(minicnn.zeros(1, dtype=minicnn.float64))
    assert model.weight.dtype == np.float64
