"""A toy study: a two-block network on 16 x 16 crops of 30 toy patients, two epochs."""
from tests.experiments.training.test_run import toy_data

BASE = {"model": {"blocks": 2, "channels": [4, 8], "input_size": 16},
        "train": {"epochs": 2, "batch_size": 8, "lr": 0.05, "optimizer": "adam",
                  "bootstrap_rounds": 10}}


def toy_crops(tmp_path):
    """A crops archive of the toy data, as the study reads it."""
    from experiments.crops.archive import KneeDataset, Summary, save_dataset
    images, labels, ids, _, _ = toy_data(patients=30)
    path = str(tmp_path / "crops.npz")
    save_dataset(KneeDataset(images, labels, ids, ids, labels * 0, labels * 0, Summary()), path)
    return path
