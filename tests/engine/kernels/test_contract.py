"""Every kernel set provides every function of the contract (``minicnn/kernels/contract.py``)
with the contract's signature, and a plugged-in set is held to the same."""
import inspect
import types

import pytest

from minicnn import backend, kernels
from minicnn.kernels import contract


def test_the_contract_lists_its_functions_with_the_arguments_the_ops_pass():
    assert contract.NAMES[:2] == ("im2col", "col2im") and len(contract.NAMES) == 22
    assert contract.positional_count("im2col") == 2  # pad_value is keyword-only
    assert contract.positional_count("conv2d_backward") == 8
    assert contract.positional_count("batchnorm_update_running") == 6
    assert contract.positional_count("batchnorm_relu_maxpool_backward") == 12
    assert contract.positional_count("batchnorm_clamp_backward") == 13
    assert contract.positional_count("avgpool2d_backward") == 5


@pytest.mark.parametrize("name", backend.kernel_set_names())
def test_every_set_provides_every_function_with_the_contracts_signature(name):
    kernel_set = backend.kernel_set(name)
    assert isinstance(kernel_set, contract.KernelSet)
    assert sorted(kernel_set.__all__) == sorted(contract.NAMES)
    for function in contract.NAMES:
        ours = inspect.signature(getattr(kernel_set, function))
        wanted = contract.signature(function)
        assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == \
            [(p.name, p.kind, p.default) for p in wanted.parameters.values()], \
            f"{name}.{function}{ours} is not the contract's {function}{wanted}"


def test_a_plugged_in_set_provides_every_function_callable_as_the_ops_call_it():
    student = types.ModuleType("student_kernels")
    student.relu_forward = lambda x: x
    student.relu_backward = lambda g, y: g
    with kernels.use(student) as plugged:
        for function in contract.NAMES:
            signature = inspect.signature(getattr(plugged.kernels, function))
            signature.bind(*([None] * contract.positional_count(function)))
    broken = types.ModuleType("student_kernels")
    broken.batchnorm_update_running = lambda running_mean, running_var, mean, var: None
    with pytest.raises(TypeError, match="cannot take the 6 positional arguments"):
        kernels.use(broken)
