"""DataLoader batching, shuffling and dropping."""
import numpy as np
import pytest

import minicnn
from minicnn.data import DataLoader, Dataset, TensorDataset


def test_batches_cover_the_data_in_order():
    data = TensorDataset(np.arange(10).reshape(10, 1), np.arange(10) * 2)
    batches = list(DataLoader(data, batch_size=4))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    assert np.array_equal(np.concatenate([y.numpy() for _, y in batches]), np.arange(10) * 2)
    assert isinstance(batches[0][0], minicnn.Tensor) and batches[0][0].shape == (4, 1)
    assert len(DataLoader(data, batch_size=4)) == 3
    assert len(DataLoader(data, batch_size=4, drop_last=True)) == 2
    assert [len(y) for _, y in DataLoader(data, batch_size=4, drop_last=True)] == [4, 4]


def test_shuffle_is_seeded_and_changes_every_epoch():
    data = TensorDataset(np.arange(20))
    minicnn.manual_seed(5)
    loader = DataLoader(data, batch_size=20, shuffle=True)
    first, second = [next(iter(loader))[0].numpy().copy() for _ in range(2)]
    assert sorted(first) == list(range(20)) and not np.array_equal(first, second)
    minicnn.manual_seed(5)
    assert np.array_equal(next(iter(loader))[0].numpy(), first)


def test_a_map_style_dataset_is_stacked_field_by_field():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full((2, 2), i, dtype=np.float32), i * i

    images, labels = next(iter(DataLoader(Squares(), batch_size=3)))
    assert images.shape == (3, 2, 2) and labels.tolist() == [0, 1, 4]


def test_tensors_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="first dimension"):
        TensorDataset(np.zeros(3), np.zeros(4))
