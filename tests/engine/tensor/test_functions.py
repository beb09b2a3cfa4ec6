"""The tensor functions beside the oracle: torch's result objects (``sort(...).values``),
a method for every function that torch has as a method, and (marked ``gpu``) every oracle
call run on CuPy arrays gives the CPU's outputs and gradients."""
import numpy as np
import pytest

import minicnn
from minicnn import backend

requires_cuda = pytest.mark.skipif(not backend.cuda_available(),
                                   reason="no CUDA device with CuPy on this machine")

METHODS = ["split", "chunk", "flip", "repeat", "expand", "expand_as", "view_as", "reshape_as",
           "masked_fill", "gather", "index_select", "where", "clamp", "clip", "pow", "abs", "sign",
           "log1p", "expm1", "neg", "negative", "square", "maximum", "minimum", "norm", "var",
           "std", "prod", "cumsum", "sort", "argsort", "topk", "any", "all", "mm", "bmm"]


def test_sort_and_topk_return_named_values_and_indices():
    x = minicnn.tensor([[3.0, 1.0, 2.0]])
    result = minicnn.sort(x, descending=True)
    values, indices = result
    assert result.values.tolist() == values.tolist() == [[3.0, 2.0, 1.0]]
    assert result.indices.tolist() == indices.tolist() == [[0, 2, 1]]
    top = x.topk(2)
    assert (top.values.tolist(), top.indices.tolist()) == ([[3.0, 2.0]], [[0, 2]])


@pytest.mark.parametrize("name", METHODS)
def test_every_function_with_a_torch_method_is_a_method(name):
    assert callable(getattr(minicnn.Tensor, name)), name


def test_a_method_is_its_function_with_self_first():
    x = minicnn.tensor([[1.0, -2.0], [3.0, 0.5]])
    assert x.clamp(-1, 1).tolist() == minicnn.clamp(x, -1, 1).tolist() == [[1, -1], [1, 0.5]]
    assert x.norm(1, 1).tolist() == [3.0, 3.5]
    assert x.where(x > 0, 0.0).tolist() == [[1.0, 0.0], [3.0, 0.5]]


class _OnCuda:
    """``minicnn`` with ``tensor`` making CUDA tensors, for the oracle calls' index tensors."""

    def __getattr__(self, name):
        return getattr(minicnn, name)

    @staticmethod
    def tensor(*args, **kwargs):
        return minicnn.tensor(*args, **kwargs).to("cuda")


def _oracle_calls():
    pytest.importorskip("torch")
    from tests.engine.ops import test_elementwise_oracle, test_reductions_oracle, test_shape_oracle
    families = {"shape": test_shape_oracle, "elementwise": test_elementwise_oracle,
                "reductions": test_reductions_oracle}
    return {f"{family}: {name}": call for family, module in families.items()
            for name, call in module.CALLS.items()}


@pytest.mark.gpu
@requires_cuda
def test_every_oracle_call_on_the_gpu_matches_the_cpu():
    rng = np.random.default_rng(0)
    for name, (call, arrays) in _oracle_calls().items():
        cpu = [minicnn.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
        gpu = [minicnn.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
        out_cpu = call(minicnn, *cpu)
        out_gpu = call(_OnCuda(), *[t.to("cuda") for t in gpu])
        out_cpu, out_gpu = ([o] if isinstance(o, minicnn.Tensor) else list(o)
                            for o in (out_cpu, out_gpu))
        for o_cpu, o_gpu in zip(out_cpu, out_gpu):
            assert o_gpu.device == "cuda", name
            np.testing.assert_allclose(o_gpu.detach().cpu().numpy(), o_cpu.detach().numpy(),
                                       rtol=1e-12, atol=1e-12, err_msg=name)
        pairs = [(c, g) for c, g in zip(out_cpu, out_gpu) if c.requires_grad]
        if not pairs:
            continue
        weights = [rng.standard_normal(c.shape) for c, _ in pairs]
        sum((c * minicnn.tensor(w)).sum() for (c, _), w in zip(pairs, weights)).backward()
        sum((g * minicnn.tensor(w).to("cuda")).sum()
            for (_, g), w in zip(pairs, weights)).backward()
        for t_cpu, t_gpu in zip(cpu, gpu):
            if t_cpu.grad is not None:
                np.testing.assert_allclose(t_gpu.grad.numpy(), t_cpu.grad.numpy(), rtol=1e-12,
                                           atol=1e-12, err_msg=f"{name}: gradient")


@pytest.mark.gpu
@requires_cuda
def test_factories_make_cuda_tensors():
    x = minicnn.zeros(2, 3).to("cuda")
    for t in (minicnn.zeros_like(x), minicnn.ones_like(x), minicnn.full_like(x, 2.0),
              minicnn.randn_like(x), minicnn.rand_like(x), minicnn.eye(3, device="cuda"),
              minicnn.full((2,), 1.0, device="cuda"), minicnn.randint(3, (4,), device="cuda")):
        assert t.device == "cuda" and backend.is_cupy_array(t.array)
