"""Checkpoints: .npz without pickle, exact resume, and clear errors that change nothing."""
import zipfile

import numpy as np
import pytest

import minicnn
from minicnn import nn, optim


def small_model():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))


def train_steps(model, optimizer, batches):
    losses = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = nn.CrossEntropyLoss()(model(minicnn.tensor(x, dtype=minicnn.float32)),
                                     minicnn.tensor(y))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def batches(count, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((6, 1, 8, 8)), rng.integers(0, 3, 6)) for _ in range(count)]


def test_state_dict_round_trip_keeps_names_values_and_types(tmp_path):
    model = small_model()
    path = tmp_path / "model.npz"
    minicnn.save(model.state_dict(), path)
    loaded = minicnn.load(path)
    assert list(loaded) == list(model.state_dict())
    for key, value in model.state_dict().items():
        assert isinstance(loaded[key], minicnn.Tensor)
        assert loaded[key].dtype == value.dtype
        assert np.array_equal(loaded[key].numpy(), value.numpy())
    with np.load(path, allow_pickle=False) as archive:  # readable without pickle
        assert "__minicnn__" in archive.files


@pytest.mark.parametrize("name,config", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                         ("Adam", dict(lr=0.01, amsgrad=True)),
                                         ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
                                         ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5))])
def test_a_run_resumes_exactly_from_a_checkpoint(tmp_path, name, config):
    data = batches(10)
    minicnn.manual_seed(1)
    model = small_model()
    optimizer = getattr(optim, name)(model.parameters(), **config)
    straight = train_steps(model, optimizer, data)

    minicnn.manual_seed(1)
    model = small_model()
    optimizer = getattr(optim, name)(model.parameters(), **config)
    first = train_steps(model, optimizer, data[:4])
    minicnn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()},
                 tmp_path / "run.npz")

    minicnn.manual_seed(99)  # different initial weights: everything must come from the file
    resumed_model = small_model()
    resumed_optimizer = getattr(optim, name)(resumed_model.parameters(), **config)
    checkpoint = minicnn.load(tmp_path / "run.npz")
    resumed_model.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    assert resumed_optimizer.param_groups[0]["lr"] == config["lr"]
    rest = train_steps(resumed_model, resumed_optimizer, data[4:])
    assert first + rest == straight


def test_saving_replaces_the_file_atomically(tmp_path):
    path = tmp_path / "ckpt.npz"
    minicnn.save({"a": np.arange(3)}, path)
    with pytest.raises(TypeError, match="cannot save a object"):
        minicnn.save({"a": object()}, path)
    assert np.array_equal(minicnn.load(path)["a"], np.arange(3))  # the good file is still there
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]  # no temporary left behind


@pytest.mark.parametrize("content", [b"not a zip file at all", b"PK\x03\x04 truncated"])
def test_a_corrupt_checkpoint_raises_and_leaves_the_model_unchanged(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    model = small_model()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="not a readable minicnn checkpoint"):
        model.load_state_dict(minicnn.load(path))
    assert all(np.array_equal(before[k], v.numpy()) for k, v in model.state_dict().items())


def test_an_npz_from_elsewhere_is_refused(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(ValueError, match="not a minicnn checkpoint"):
        minicnn.load(tmp_path / "other.npz")
    with zipfile.ZipFile(tmp_path / "pickled.npz", "w") as archive:
        archive.writestr("__minicnn__.npy",
                         b"\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': "
                         b"False, 'shape': (), }" + b" " * 60 + b"\n" + b"\x80\x04N.")
    with pytest.raises(ValueError, match="not a readable minicnn checkpoint"):
        minicnn.load(tmp_path / "pickled.npz")


def test_a_mismatched_state_dict_raises_and_changes_nothing():
    model = small_model()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    state = {k: np.ones_like(v.numpy()) for k, v in model.state_dict().items()}
    state["5.weight"] = np.ones((3, 10), dtype=np.float32)  # wrong shape, listed after good keys
    with pytest.raises(RuntimeError, match=r"'5.weight': the checkpoint has shape \(3, 10\), "
                                           r"the model \(3, 64\)"):
        model.load_state_dict(state)
    del state["5.weight"]
    state["extra"] = np.zeros(1)
    with pytest.raises(RuntimeError, match="missing key '5.weight'.*unexpected key 'extra'"):
        model.load_state_dict(state)
    assert all(np.array_equal(before[k], v.numpy()) for k, v in model.state_dict().items())
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["5.weight"] and result.unexpected_keys == ["extra"]
    assert np.all(model[0].weight.array == 1)


def test_a_mismatched_optimizer_state_raises_and_changes_nothing():
    params = [nn.Parameter(np.zeros((2, 2)))]
    optimizer = optim.Adam(params, lr=0.1)
    params[0].grad = minicnn.tensor(np.ones((2, 2)))
    optimizer.step()
    saved = optimizer.state_dict()
    saved["state"][0]["exp_avg"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"exp_avg.*shape \(3, 3\)"):
        optimizer.load_state_dict(saved)
    assert optimizer.state[params[0]]["step"] == 1


@pytest.mark.oracle
def test_load_takes_torchs_keywords(tmp_path):
    """``torch.load(PATH, weights_only=True)`` and ``map_location=...`` as the tutorials call
    them; torch's own load with the same keywords is the reference for the values."""
    import torch
    reference = torch.nn.Linear(3, 2).state_dict()
    minicnn.save({k: minicnn.tensor(v.numpy()) for k, v in reference.items()}, tmp_path / "m.pth")
    torch.save(reference, tmp_path / "t.pth")
    theirs = torch.load(tmp_path / "t.pth", map_location="cpu", weights_only=True)
    for kwargs in ({"weights_only": True}, {"weights_only": False}, {"map_location": "cpu"},
                   {"map_location": minicnn.device("cpu"), "mmap": True}):
        ours = minicnn.load(tmp_path / "m.pth", **kwargs)
        assert list(ours) == list(theirs)
        for key in ours:
            assert ours[key].device == minicnn.device("cpu")
            np.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy())


def test_load_refuses_a_remapping_function(tmp_path):
    minicnn.save({"w": minicnn.ones(2)}, tmp_path / "m.pth")
    with pytest.raises(TypeError, match="map_location"):
        minicnn.load(tmp_path / "m.pth", map_location=lambda storage, location: storage)
