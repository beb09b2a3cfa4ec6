"""One training run: resumable to the same result, honest splits, divergence recorded."""
import json

import numpy as np
import pytest

from experiments.training.config import RunConfig, TrainConfig, config_from_dict, load_config
from experiments.training.models import ModelConfig
from experiments.training.run import train_run

SMALL = ModelConfig(blocks=2, channels=(4, 8), input_size=16)


def toy_data(seed=0, patients=24):
    """Two knees per patient; the grade sets how bright a central blob is."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, 2 * patients)
    images = rng.normal(0, 0.3, (2 * patients, 1, 16, 16)).astype(np.float32)
    images[:, 0, 6:10, 6:10] += labels[:, None, None] * 0.8
    ids = np.repeat([f"p{i:02d}" for i in range(patients)], 2)
    test = np.flatnonzero(np.isin(ids, ids[-8:]))
    train = np.setdiff1d(np.arange(len(ids)), test)
    return images, labels, ids, train, test


def config(**train):
    settings = dict(epochs=3, batch_size=8, lr=0.05, optimizer="adam", bootstrap_rounds=20)
    settings.update(train)
    return RunConfig(SMALL, TrainConfig(**settings))


def test_a_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    images, labels, ids, train, test = toy_data()
    straight = train_run(config(), images, labels, ids, train, test, str(tmp_path / "a"),
                         progress=False)

    def kill(epoch, batch):
        if epoch == 1 and batch == 1:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        train_run(config(), images, labels, ids, train, test, str(tmp_path / "b"),
                  progress=False, on_batch=kill)
    assert not (tmp_path / "b" / "record.json").exists()
    resumed = train_run(config(), images, labels, ids, train, test, str(tmp_path / "b"),
                        progress=False)
    assert resumed["history"] == straight["history"]
    assert json.dumps(resumed["test"]) == json.dumps(straight["test"])  # NaN-safe equality
    assert resumed["best_epoch"] == straight["best_epoch"]
    assert json.loads((tmp_path / "b" / "record.json").read_text())["status"] == "finished"


def test_the_run_learns_and_keeps_test_patients_out(tmp_path):
    images, labels, ids, train, test = toy_data()
    record = train_run(config(epochs=8), images, labels, ids, train, test, str(tmp_path),
                       progress=False)
    sides = record["patients"]
    assert not set(sides["train"]) & set(sides["test"])
    assert not set(sides["validation"]) & set(sides["test"])
    assert not set(sides["train"]) & set(sides["validation"]) and sides["validation"]
    assert record["history"][-1]["train_loss"] < record["history"][0]["train_loss"]
    assert record["test"]["qwk"] > 0.3
    low, high = record["test_intervals"]["qwk"]
    assert low <= record["test"]["qwk"] <= high
    with pytest.raises(ValueError, match="both the training and the test side"):
        train_run(config(), images, labels, ids, np.arange(10), np.arange(5, 15),
                  str(tmp_path / "x"))


def test_a_diverging_run_is_recorded_with_a_clear_message(tmp_path):
    images, labels, ids, train, test = toy_data()
    record = train_run(config(optimizer="sgd", lr=100.0, augment=False), images, labels, ids, train,
                       test, str(tmp_path), progress=False)
    assert record["status"] == "diverged" and "lower the learning rate" in record["message"]
    assert "test" not in record


def test_configuration_files(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("[model]\nblocks = 2\nchannels = [8, 16]\n[train]\nepochs = 5\n"
                    "optimizer = 'momentum'\n")
    loaded = load_config(str(path))
    assert loaded.model.channels == (8, 16) and loaded.train.optimizer == "momentum"
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['epoch'\]"):
        config_from_dict({"train": {"epoch": 5}})
    with pytest.raises(ValueError, match=r"\[train\] optimizer = 'lbfgs': must be one of"):
        config_from_dict({"train": {"optimizer": "lbfgs"}})


def test_asking_for_cuda_without_it_is_a_clear_error(tmp_path, capsys):
    import minicnn
    from experiments import cli
    if minicnn.cuda.is_available():
        pytest.skip("this machine has CUDA")
    code = cli.main(["train", "--config", "experiments/configs/base.toml", "--data", str(tmp_path),
                     "--out", str(tmp_path / "o"), "--device", "cuda", "--quiet"])
    assert code == 2 and "no CUDA device" in capsys.readouterr().err


@pytest.mark.gpu
@pytest.mark.skipif(not __import__("minicnn").cuda.is_available(),
                    reason="no CUDA device with CuPy on this machine")
def test_a_run_on_the_gpu_matches_the_cpu(tmp_path):
    images, labels, ids, train, test = toy_data()
    cpu = train_run(config(augment=False), images, labels, ids, train, test,
                    str(tmp_path / "c"), progress=False)
    gpu = train_run(config(augment=False), images, labels, ids, train, test,
                    str(tmp_path / "g"), progress=False, device="cuda")
    np.testing.assert_allclose([h["train_loss"] for h in gpu["history"]],
                               [h["train_loss"] for h in cpu["history"]], rtol=1e-3)
