"""Forward, forward pre- and full backward hooks, held to PyTorch: the same model and hooks in
both engines see the same tensors and, where a hook returns a value, give the same results.
A hook on a layer of a fused BatchNorm2d -> ReLU -> MaxPool2d run still fires."""
import numpy as np
import pytest
import torch

import minicnn
from tests.engine.torch_oracle import assert_matches, small_cnn_pair

pytestmark = pytest.mark.oracle

F64 = np.float64


def fused(out) -> bool:
    """True when the output of ``small_cnn_pair()``'s model came through the fused op: its
    Linear's input is a reshape of the pooled output."""
    node = out.grad_fn
    while node.function.__name__ != "Reshape":
        node = node.parents[0]
    return node.parents[0].function.__name__ == "BatchNormReLUMaxPoolFunction"


def as_arrays(grads):
    return [None if g is None else g.detach().numpy().copy() for g in grads]


def record_backward(model, log):
    """A full backward hook on every module (the container too) appending
    ``(name, grad_input, grad_output)`` as arrays."""
    def hook_for(name):
        return lambda module, grad_in, grad_out: log.append(
            (name, as_arrays(grad_in), as_arrays(grad_out)))
    return [m.register_full_backward_hook(hook_for(name)) for name, m in model.named_modules()]


def assert_same_logs(ours, theirs):
    assert [entry[0] for entry in ours] == [entry[0] for entry in theirs]
    for (name, gi, go), (_, tgi, tgo) in zip(ours, theirs):
        for kind, a, b in (("grad_input", gi, tgi), ("grad_output", go, tgo)):
            assert len(a) == len(b), f"{name} {kind}"
            for k, (u, v) in enumerate(zip(a, b)):
                assert (u is None) == (v is None), f"{name} {kind}[{k}]"
                if u is not None:
                    assert_matches(u, v, F64, f"{name} {kind}[{k}]")


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_full_backward_hooks_see_torchs_gradients(input_requires_grad):
    ours, theirs, x = small_cnn_pair()
    logs = [], []
    record_backward(ours, logs[0])
    record_backward(theirs, logs[1])
    xs = (minicnn.tensor(x, requires_grad=input_requires_grad),
          torch.tensor(x, requires_grad=input_requires_grad))
    weights = np.random.default_rng(1).standard_normal((2, 4))
    (ours(xs[0]) * minicnn.tensor(weights)).sum().backward()
    (theirs(xs[1]) * torch.from_numpy(weights)).sum().backward()
    assert_same_logs(*logs)
    assert len(logs[0]) == 7  # the Sequential and its six layers, BatchNorm2d and ReLU included


def test_a_backward_hook_that_returns_grad_input_replaces_it():
    ours, theirs, x = small_cnn_pair()
    for model in (ours, theirs):
        model[2].register_full_backward_hook(lambda m, gi, go: (gi[0] * 3.0,))
    xs = (minicnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True))
    ours(xs[0]).sum().backward()
    theirs(xs[1]).sum().backward()
    assert_matches(xs[0].grad, xs[1].grad, F64, "input gradient after a tripled ReLU gradient")
    assert_matches(ours[0].weight.grad, theirs[0].weight.grad, F64, "conv weight gradient")
    untouched, _, _ = small_cnn_pair()
    x0 = minicnn.tensor(x, requires_grad=True)
    untouched(x0).sum().backward()
    assert not np.allclose(x0.grad.numpy(), xs[0].grad.numpy())  # the hook changed something


class Gate:
    """``forward(a, b, scale) = a * b + a * scale``: two tensor inputs, one number."""

    @staticmethod
    def build(nn):
        class GateModule(nn.Module):
            def forward(self, a, b, scale):
                return a * b + a * scale
        return GateModule()


def test_backward_hook_of_a_module_with_two_inputs_one_without_grad():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    logs = [], []
    results = []
    for nn, make, log in ((minicnn.nn, minicnn.tensor, logs[0]), (torch.nn, torch.tensor, logs[1])):
        gate = Gate.build(nn)
        record_backward(gate, log)
        ta, tb = make(a, requires_grad=True), make(b)
        (gate(ta, tb, 2.0) ** 2).sum().backward()
        results.append(ta.grad)
    assert_same_logs(*logs)
    grad_input = logs[0][0][1]  # as torch: zeros for b (no grad needed), None for the number
    assert len(grad_input) == 3 and not grad_input[1].any() and grad_input[2] is None
    assert_matches(results[0], results[1], F64, "dL/da")


def test_forward_hooks_and_pre_hooks_replace_as_torch():
    ours, theirs, x = small_cnn_pair()
    outputs = []
    for model, make in ((ours, minicnn.tensor), (theirs, torch.tensor)):
        model[1].register_forward_hook(lambda m, args, out: out * 0.5)  # a fused layer
        model[0].register_forward_pre_hook(lambda m, args: args[0] + 1.0)
        model[5].register_forward_hook(lambda m, args, kwargs, out: out - 2.0, with_kwargs=True)
        model[5].register_forward_pre_hook(lambda m, args, kwargs: ((args[0] * 2.0,), kwargs),
                                           with_kwargs=True, prepend=True)
        xt = make(x, requires_grad=True)
        out = model(xt)
        out.sum().backward()
        outputs.append((out, xt.grad))
    assert_matches(outputs[0][0], outputs[1][0], F64, "output")
    assert_matches(outputs[0][1], outputs[1][1], F64, "input gradient")
    plain, _, _ = small_cnn_pair()
    unhooked = plain(minicnn.tensor(x)).detach().numpy()
    assert not np.allclose(unhooked, outputs[0][0].detach().numpy())


def test_feature_maps_of_batchnorm_and_relu_are_torchs():
    ours, theirs, x = small_cnn_pair()
    features = {}, {}
    for model, store in zip((ours, theirs), features):
        for k in (1, 2):
            model[k].register_forward_hook(
                lambda m, args, out, k=k, store=store: store.__setitem__(k, out.detach().numpy()))
    ours(minicnn.tensor(x))
    theirs(torch.tensor(x))
    assert sorted(features[0]) == [1, 2]
    for k in (1, 2):
        assert_matches(features[0][k], features[1][k], F64, f"layer {k} output")


def test_hooks_run_in_order_and_handles_remove_them():
    calls = []
    ours, _, x = small_cnn_pair()
    first = ours[2].register_forward_hook(lambda m, a, o: calls.append("first"))
    ours[2].register_forward_hook(lambda m, a, o: calls.append("prepended"), prepend=True)
    out = ours(minicnn.tensor(x))
    assert calls == ["prepended", "first"] and not fused(out)  # hooked: not fused
    first.remove()
    with ours[2].register_full_backward_hook(lambda m, gi, go: calls.append("backward")):
        ours(minicnn.tensor(x, requires_grad=True)).sum().backward()
    assert calls == ["prepended", "first", "prepended", "backward"]
    for handle_owner in list(ours[2]._forward_hooks):
        ours[2]._forward_hooks.pop(handle_owner)
    assert fused(ours(minicnn.tensor(x)))  # no hooks left: the run is fused again


def test_an_always_call_hook_runs_when_forward_raises():
    seen = []
    layer = minicnn.nn.Linear(3, 2)
    layer.register_forward_hook(lambda m, a, o: seen.append(o), always_call=True)
    with pytest.raises(ValueError, match="Linear"):
        layer(minicnn.zeros(1, 4))
    assert seen == [None]


def test_a_backward_hook_returning_the_wrong_count_raises():
    layer = minicnn.nn.Linear(3, 2)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="Linear backward hook returned 2 grad_input entries, "
                                           "expected 1"):
        layer(minicnn.zeros(1, 3, requires_grad=True)).sum().backward()
