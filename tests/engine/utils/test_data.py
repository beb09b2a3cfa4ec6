"""minicnn.utils.data without torch: seeded loaders, sampler statistics, lengths, Generator."""
import numpy as np
import pytest

import minicnn
import minicnn.utils.data
from minicnn.utils.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    random_split,
)


def batches(loader):
    return [[t.numpy().copy() for t in batch] for batch in loader]


def test_the_old_module_holds_the_same_objects():
    import minicnn.data
    for name in minicnn.utils.data.__all__:
        assert getattr(minicnn.data, name) is getattr(minicnn.utils.data, name), name


def test_a_seeded_generator_gives_the_same_batches_every_run():
    data = TensorDataset(np.arange(50).reshape(25, 2), np.arange(25))
    runs = []
    for _ in range(2):
        loader = DataLoader(data, batch_size=4, shuffle=True,
                            generator=minicnn.Generator().manual_seed(7))
        minicnn.manual_seed(123 + len(runs))  # the global seed plays no part
        runs.append([batches(loader) for _epoch in range(3)])
    for epoch_a, epoch_b in zip(*runs):
        for a, b in zip(epoch_a, epoch_b):
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[1], b[1])
    first, second = (np.concatenate([b[1] for b in epoch]) for epoch in runs[0][:2])
    assert sorted(first) == list(range(25)) and not np.array_equal(first, second)
    other = DataLoader(data, batch_size=25, shuffle=True,
                       generator=minicnn.Generator().manual_seed(8))
    assert not np.array_equal(next(iter(other))[1].numpy(), first)


def test_random_split_is_reproducible_with_a_seeded_generator():
    splits = [random_split(range(20), [0.5, 0.25, 0.25],
                           generator=minicnn.Generator().manual_seed(3)) for _ in range(2)]
    assert [list(s) for s in splits[0]] == [list(s) for s in splits[1]]
    assert sorted(i for s in splits[0] for i in s) == list(range(20))


def test_len_and_drop_last():
    data = TensorDataset(np.zeros((10, 3)))
    for batch_size, expected, dropped in ((1, 10, 10), (3, 4, 3), (5, 2, 2), (11, 1, 0)):
        loader = DataLoader(data, batch_size=batch_size)
        assert len(loader) == expected == len(batches(loader))
        loader = DataLoader(data, batch_size=batch_size, drop_last=True)
        assert len(loader) == dropped == len(batches(loader))
        assert all(b[0].shape == (batch_size, 3) for b in batches(loader))
    assert DataLoader(data).dataset is data


def test_weighted_draws_follow_the_weights():
    weights = np.array([1.0, 2.0, 3.0, 4.0, 0.0])
    n = 40_000
    sampler = WeightedRandomSampler(minicnn.tensor(weights), n,
                                    generator=minicnn.Generator().manual_seed(0))
    counts = np.bincount(list(sampler), minlength=5)
    p = weights / weights.sum()
    # each count is binomial(n, p): within 4 standard deviations (a 6e-5 chance to miss each)
    assert np.all(np.abs(counts - n * p) <= 4 * np.sqrt(n * p * (1 - p)))
    assert counts[4] == 0


def test_weighted_draws_without_replacement_take_the_heavy_index_first_more_often():
    """Two indices weighted 1:3, both drawn: index 1 comes first with probability 3/4."""
    sampler = WeightedRandomSampler([1.0, 3.0], 2, replacement=False,
                                    generator=minicnn.Generator().manual_seed(1))
    draws = np.array([list(sampler) for _ in range(4000)])
    assert np.all(np.sort(draws, axis=1) == [0, 1])
    assert abs((draws[:, 0] == 1).mean() - 0.75) <= 4 * np.sqrt(0.75 * 0.25 / 4000)


def test_random_sampler_with_more_samples_than_data_repeats_whole_permutations():
    sampler = RandomSampler(range(4), num_samples=10, generator=minicnn.Generator().manual_seed(0))
    drawn = list(sampler)
    assert len(sampler) == len(drawn) == 10
    assert sorted(drawn[:4]) == sorted(drawn[4:8]) == [0, 1, 2, 3]
    assert len(set(drawn[8:])) == 2
    with_replacement = RandomSampler(range(3), replacement=True, num_samples=300,
                                     generator=minicnn.Generator().manual_seed(0))
    assert len(list(with_replacement)) == 300 and set(with_replacement) == {0, 1, 2}


def test_subset_random_sampler_permutes_the_given_indices():
    sampler = SubsetRandomSampler([5, 7, 9], generator=minicnn.Generator().manual_seed(0))
    assert sorted(sampler) == [5, 7, 9] and len(sampler) == 3


def test_a_batch_sampler_drives_the_loader():
    data = TensorDataset(np.arange(7))
    loader = DataLoader(data, batch_sampler=BatchSampler(SequentialSampler(data), 3, False))
    assert [b[0].tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]] and len(loader) == 3


@pytest.mark.gpu
@pytest.mark.skipif(not minicnn.backend.cuda_available(),
                    reason="no CUDA device with CuPy on this machine")
def test_batches_of_device_tensors_stay_on_the_device():
    x = minicnn.tensor(np.arange(12.0).reshape(6, 2)).to("cuda")
    y = minicnn.tensor(np.arange(6)).to("cuda")
    fast = list(DataLoader(TensorDataset(x, y), batch_size=4))
    collated = list(DataLoader(TensorDataset(x, y), batch_size=4,
                               collate_fn=minicnn.utils.data.default_collate))
    slow = list(DataLoader(TensorDataset(x, y), batch_size=4, collate_fn=lambda b: [
        minicnn.utils.data.default_collate([s[0] for s in b]),
        minicnn.utils.data.default_collate([s[1] for s in b])]))
    for batches in (fast, collated, slow):
        assert [b[0].device for b in batches] == ["cuda", "cuda"]
        assert batches[1][0].cpu().tolist() == [[8.0, 9.0], [10.0, 11.0]]
        assert batches[0][1].cpu().tolist() == [0, 1, 2, 3]


def test_generator_seeds_as_torch_s():
    g = minicnn.Generator()
    assert g.initial_seed() == 67280421310721  # torch.Generator()'s
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    assert minicnn.Generator().manual_seed(-1).initial_seed() == 2 ** 64 - 1
    seed = g.seed()
    assert g.initial_seed() == seed
    a = minicnn.Generator().manual_seed(seed)
    assert list(RandomSampler(range(9), generator=a)) == list(RandomSampler(range(9), generator=g))
    state = a.get_state()
    first = list(RandomSampler(range(9), generator=a))
    a.set_state(state)
    assert list(RandomSampler(range(9), generator=a)) == first
    assert minicnn.manual_seed(4) is minicnn.default_generator
    assert minicnn.default_generator.initial_seed() == 4
