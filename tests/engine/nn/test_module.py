"""Module: registration, traversal, modes, device and dtype, state dicts, printing."""
from collections import OrderedDict

import numpy as np
import pytest

import minicnn
from minicnn import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.norm = nn.BatchNorm2d(2)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.not_a_parameter = np.zeros(3)

    def forward(self, x):
        return self.head(self.norm(self.conv(x)).relu()) * self.scale


def test_parameters_and_submodules_are_registered_by_attribute():
    block = Block()
    names = [name for name, _ in block.named_parameters()]
    assert names == ["scale", "conv.weight", "conv.bias", "norm.weight", "norm.bias",
                     "head.1.weight", "head.1.bias"]
    assert [name for name, _ in block.named_buffers()] == [
        "norm.running_mean", "norm.running_var", "norm.num_batches_tracked"]
    assert [type(m).__name__ for m in block.children()] == ["Conv2d", "BatchNorm2d", "Sequential"]
    assert len(list(block.modules())) == 6
    assert sum(p.numel() for p in block.parameters()) == 1 + 2 * 9 + 2 + 2 + 2 + 32 * 3 + 3


def test_a_shared_parameter_is_listed_once():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    model.append(model[0])
    assert len(list(model.parameters())) == 2


def test_train_eval_reaches_every_submodule():
    block = Block()
    block.eval()
    assert not any(m.training for m in block.modules())
    block.train()
    assert all(m.training for m in block.modules())


def test_eval_mode_uses_the_running_statistics():
    norm = nn.BatchNorm2d(1)
    x = minicnn.tensor(np.arange(8.0, dtype=np.float32).reshape(2, 1, 2, 2))
    norm.eval()
    assert np.allclose(norm(x).array, x.array / np.sqrt(1 + 1e-5))  # running mean 0, var 1
    norm.train()
    norm(x)
    assert norm.running_mean.item() == pytest.approx(0.1 * 3.5)


def test_zero_grad_and_requires_grad():
    block = Block()
    block(minicnn.randn(2, 1, 4, 4)).sum().backward()
    assert all(p.grad is not None for p in block.parameters())
    block.zero_grad()
    assert all(p.grad is None for p in block.parameters())
    block.requires_grad_(False)
    assert not any(p.requires_grad for p in block.parameters())


def test_double_and_float_convert_parameters_and_buffers_in_place():
    block = Block()
    weight = block.conv.weight
    block.double()
    assert block.conv.weight is weight and weight.dtype == np.float64
    assert block.norm.running_mean.dtype == np.float64
    assert block.norm.num_batches_tracked.dtype == np.int64  # integers keep their type
    y = block(minicnn.randn(1, 1, 4, 4, dtype=minicnn.float64))
    assert y.dtype == np.float64
    assert block.float().conv.weight.dtype == np.float32


def test_state_dict_shares_memory_and_loads_back():
    block = Block()
    state = block.state_dict()
    assert list(state)[:3] == ["scale", "conv.weight", "conv.bias"]
    state["conv.bias"].array[...] = 5  # a view, as in torch
    assert np.all(block.conv.bias.array == 5)
    other = Block()
    other.load_state_dict({k: v.numpy().copy() for k, v in block.state_dict().items()})
    assert np.array_equal(other.conv.weight.array, block.conv.weight.array)


def test_assigning_a_wrong_type_to_a_registered_name_raises():
    block = Block()
    with pytest.raises(TypeError, match="cannot assign a ndarray where a Parameter is registered"):
        block.scale = np.ones(1)
    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) before assigning"):
        class Broken(nn.Module):
            def __init__(self):
                self.layer = nn.Linear(1, 1)
        Broken()


def test_sequential_with_names_indexing_and_slicing():
    model = nn.Sequential(OrderedDict(conv=nn.Conv2d(1, 1, 1), act=nn.ReLU()))
    assert [n for n, _ in model.named_children()] == ["conv", "act"]
    assert isinstance(model[0], nn.Conv2d) and isinstance(model[-1], nn.ReLU)
    assert len(model[1:]) == 1 and len(model) == 2


def test_repr_nests_like_torch():
    text = repr(nn.Sequential(nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU()))
    assert text == ("Sequential(\n"
                    "  (0): Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
                    "  (1): ReLU()\n"
                    ")")


def test_dropout_scales_in_training_and_is_the_identity_in_eval():
    drop = nn.Dropout(0.25)
    x = minicnn.ones(200, 50)
    y = drop(x).numpy()
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02
    drop.eval()
    assert drop(x) is x


def test_module_list_registers_its_members():
    layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 1)])
    assert len(list(layers.parameters())) == 4 and isinstance(layers[1], nn.Linear)
