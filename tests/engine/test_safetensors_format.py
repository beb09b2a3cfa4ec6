"""Checkpoints the ecosystem reads: ``.safetensors`` round trips between minicnn and PyTorch
with the same eval outputs, any file name for minicnn's own container, and torch pickles
refused with the conversion recipe, without unpickling anything."""
import pickle

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import minicnn
from tests.engine.simple_cnn import simple_cnn

pytestmark = pytest.mark.oracle


def batches(count=2, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((4, 1, 128, 128)).astype(np.float32), rng.integers(0, 5, 4))
            for _ in range(count)]


def train(engine, model, data):
    """A few Adam steps, so the weights and running statistics are no longer the initial ones."""
    optimizer = engine.optim.Adam(model.parameters(), lr=1e-3)
    for images, labels in data:
        optimizer.zero_grad()
        loss = engine.nn.CrossEntropyLoss()(model(engine.from_numpy(images)),
                                            engine.from_numpy(labels))
        loss.backward()
        optimizer.step()
    return model.eval()


def assert_same_eval_outputs(ours, theirs, images):
    with torch.no_grad():
        expected = theirs(torch.from_numpy(images)).numpy()
    with minicnn.no_grad():
        got = ours(minicnn.from_numpy(images)).numpy()
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * scale)


def test_a_minicnn_trained_simplecnn_loads_into_torch_with_the_same_outputs(tmp_path):
    minicnn.manual_seed(0)
    ours = train(minicnn, simple_cnn(), batches())
    path = tmp_path / "model.safetensors"
    minicnn.save(ours.state_dict(), path)
    theirs = simple_cnn(nn=torch.nn).eval()
    theirs.load_state_dict(load_file(path))  # strict: every key, shape and dtype as torch's
    assert theirs.conv_layer1[1].num_batches_tracked.item() == 2
    assert_same_eval_outputs(ours, theirs, batches(1, seed=5)[0][0])


def test_a_torch_trained_simplecnn_loads_into_minicnn_with_the_same_outputs(tmp_path):
    torch.manual_seed(0)
    theirs = train(torch, simple_cnn(nn=torch.nn), batches())
    path = tmp_path / "torch.safetensors"
    save_file(theirs.state_dict(), path)
    ours = simple_cnn().eval()
    state = minicnn.load(path)
    assert all(isinstance(v, minicnn.Tensor) for v in state.values())
    ours.load_state_dict(state)
    assert ours.conv_layer1[1].num_batches_tracked.item() == 2
    assert_same_eval_outputs(ours, theirs, batches(1, seed=5)[0][0])


@pytest.mark.parametrize("name", ["model.pth", "model.pt", "weights.bin", "checkpoint"])
def test_minicnns_container_works_under_any_name(tmp_path, name):
    model = minicnn.nn.Linear(3, 2)
    minicnn.save({"model": model.state_dict(), "epoch": 7}, tmp_path / name)
    loaded = minicnn.load(tmp_path / name)
    assert loaded["epoch"] == 7
    assert np.array_equal(loaded["model"]["weight"].numpy(), model.weight.detach().numpy())
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no suffix added, no temporary left


def test_a_safetensors_file_is_recognised_by_its_content_whatever_its_name(tmp_path):
    save_file({"w": torch.arange(6.0).reshape(2, 3)}, tmp_path / "weights.pth")
    assert np.array_equal(minicnn.load(tmp_path / "weights.pth")["w"].numpy(),
                          np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("zipped", [True, False])
def test_a_torch_pickle_gets_the_conversion_recipe_and_is_never_unpickled(tmp_path, monkeypatch,
                                                                          zipped):
    path = tmp_path / "model.pth"
    torch.save(torch.nn.Linear(3, 2).state_dict(), path, _use_new_zipfile_serialization=zipped)

    def refuse(*args, **kwargs):
        raise AssertionError("something was unpickled")

    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    with pytest.raises(ValueError) as caught:
        minicnn.load(path)
    message = str(caught.value)
    assert str(path) in message and "torch.save" in message
    assert ('from safetensors.torch import save_file; save_file(model.state_dict(), '
            '"model.safetensors")') in message


def test_safetensors_holds_only_tensors_and_says_so(tmp_path):
    path = tmp_path / "run.safetensors"
    model = minicnn.nn.Linear(3, 2)
    optimizer = minicnn.optim.SGD(model.parameters(), lr=0.1)
    minicnn.save(model.state_dict(), path)
    with pytest.raises(TypeError, match=r"run.safetensors: entry 'epoch' is a int, but a "
                                        r"\.safetensors file holds only tensors"):
        minicnn.save({**model.state_dict(), "epoch": 3}, path)
    with pytest.raises(TypeError, match="entry 'state' is a dict"):
        minicnn.save(optimizer.state_dict(), path)
    with pytest.raises(TypeError, match="key 0 is a int; safetensors keys are strings"):
        minicnn.save({0: model.weight}, path)
    with pytest.raises(TypeError, match="holds a dict of tensors .* not a list"):
        minicnn.save([model.weight], path)
    assert list(minicnn.load(path)) and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_corrupt_safetensors_file_raises_naming_it(tmp_path):
    path = tmp_path / "bad.safetensors"
    save_file({"w": torch.zeros(4)}, path)
    path.write_bytes(path.read_bytes()[:-8])  # the data cut short
    with pytest.raises(ValueError, match="bad.safetensors is not a readable safetensors file"):
        minicnn.load(path)
    save_file({"w": torch.zeros(4, dtype=torch.bfloat16)}, path)
    with pytest.raises(ValueError, match="bfloat16"):
        minicnn.load(path)
