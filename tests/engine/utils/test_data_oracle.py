"""minicnn.utils.data against torch.utils.data: collation, lengths, splits and errors."""
import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import minicnn
import minicnn.utils.data as mud

pytestmark = pytest.mark.oracle

Point = collections.namedtuple("Point", "x y")


def describe(batch):
    """A structure of plain values: containers by type name, tensors by dtype, shape and
    values, so that torch's and minicnn's batches compare with ``==``."""
    if isinstance(batch, (torch.Tensor, minicnn.Tensor)):
        values = batch.detach().numpy() if isinstance(batch, torch.Tensor) else batch.numpy()
        return ("tensor", str(batch.dtype).split(".")[-1], tuple(batch.shape),
                values.tolist())
    if isinstance(batch, dict):
        return ("dict", {k: describe(v) for k, v in batch.items()})
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [describe(b) for b in batch])
    return (type(batch).__name__, batch)


def samples(library, kind):
    """The same samples for both libraries; tensors are made by ``library``."""
    tensor = torch.tensor if library is tud else minicnn.tensor
    rng = np.random.default_rng(0)
    images = rng.standard_normal((3, 2, 2)).astype(np.float32)
    return {
        "tuples of array and int": [(images[i], i) for i in range(3)],
        "python floats": [0.5, 1.5, -2.0],
        "python ints": [1, 2, 3],
        "python bools": [True, False, True],
        "ints and a float": [1, 2.5],
        "numpy scalars": [np.float32(1.5), np.float32(2.5)],
        "numpy int64 arrays": [np.arange(3), np.arange(3, 6)],
        "float64 arrays": [images[0].astype(np.float64), images[1].astype(np.float64)],
        "dicts": [{"x": images[i], "y": float(i), "name": f"s{i}"} for i in range(3)],
        "lists": [[1, 2.0], [3, 4.0]],
        "nested": [({"a": [i, i + 1]}, (np.float32(i), "t")) for i in range(2)],
        "namedtuples": [Point(i, float(i)) for i in range(3)],
        "tensors": [tensor(images[i]) for i in range(3)],
        "strings": ["a", "b"],
    }[kind]


KINDS = ["tuples of array and int", "python floats", "python ints", "python bools",
         "ints and a float", "numpy scalars", "numpy int64 arrays", "float64 arrays", "dicts",
         "lists", "nested", "namedtuples", "tensors", "strings"]


@pytest.mark.parametrize("kind", KINDS)
def test_default_collate_matches_torch(kind):
    ours = mud.default_collate(samples(mud, kind))
    theirs = tud.default_collate(samples(tud, kind))
    assert describe(ours) == describe(theirs)


@pytest.mark.parametrize("kind", ["tuples of array and int", "dicts", "numpy scalars", "nested"])
def test_default_convert_matches_torch(kind):
    for sample in samples(mud, kind):
        assert describe(mud.default_convert(sample)) == describe(tud.default_convert(sample))


class Pairs:
    """A map-style dataset of (image, label, weight) with Python numbers."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"image": np.full((1, 2), i, dtype=np.float32), "label": i % 3, "weight": i / 2}


@pytest.mark.parametrize("options", [dict(batch_size=3), dict(batch_size=3, drop_last=True),
                                     dict(batch_size=None), dict(batch_size=7)])
def test_a_loader_over_a_map_style_dataset_matches_torch(options):
    ours = [describe(b) for b in mud.DataLoader(Pairs(), **options)]
    theirs = [describe(b) for b in tud.DataLoader(Pairs(), **options)]
    assert ours == theirs
    assert len(mud.DataLoader(Pairs(), **options)) == len(tud.DataLoader(Pairs(), **options))


def test_a_loader_over_a_tensor_dataset_matches_torch():
    x = np.arange(24, dtype=np.float64).reshape(8, 3)
    y = np.arange(8)
    ours = mud.DataLoader(mud.TensorDataset(minicnn.tensor(x), minicnn.tensor(y)), batch_size=3)
    theirs = tud.DataLoader(tud.TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=3)
    assert [describe(b) for b in ours] == [describe(b) for b in theirs]
    subset = [describe(b) for b in mud.DataLoader(mud.Subset(ours.dataset, [4, 0, 6]),
                                                  batch_size=2)]
    assert subset == [describe(b) for b in tud.DataLoader(tud.Subset(theirs.dataset, [4, 0, 6]),
                                                          batch_size=2)]
    nested = mud.Subset(mud.Subset(ours.dataset, [7, 4, 0, 6]), [3, 1])
    their_nested = tud.Subset(tud.Subset(theirs.dataset, [7, 4, 0, 6]), [3, 1])
    assert ([describe(b) for b in mud.DataLoader(nested, batch_size=2)]
            == [describe(b) for b in tud.DataLoader(their_nested, batch_size=2)])


class Stream(tud.IterableDataset):
    def __iter__(self):
        return iter([(i, float(i)) for i in range(5)])

    def __len__(self):
        return 5


class OurStream(mud.IterableDataset):
    __iter__, __len__ = Stream.__iter__, Stream.__len__


@pytest.mark.parametrize("options", [dict(batch_size=2), dict(batch_size=2, drop_last=True),
                                     dict(batch_size=None)])
def test_a_loader_over_an_iterable_dataset_matches_torch(options):
    ours, theirs = mud.DataLoader(OurStream(), **options), tud.DataLoader(Stream(), **options)
    assert [describe(b) for b in ours] == [describe(b) for b in theirs]
    assert len(ours) == len(theirs)


SPLITS = [(10, [0.3, 0.3, 0.4]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.7]),
          (100, [0.333] * 2 + [0.334]), (5, [0.2] * 5), (13, [0.25] * 4), (10, [3, 7]), (4, [0, 4])]


@pytest.mark.parametrize("n,lengths", SPLITS)
def test_random_split_sizes_equal_torch_s(n, lengths):
    ours = mud.random_split(range(n), lengths, generator=minicnn.Generator().manual_seed(0))
    theirs = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == list(range(n))


def test_random_split_warns_of_an_empty_split_as_torch():
    for library in (tud, mud):
        with pytest.warns(UserWarning, match="(?i)length of split at index 1 is 0"):
            library.random_split(range(1), [0.5, 0.5])


def test_concat_and_subset_index_as_torch():
    for library in (tud, mud):
        both = library.ConcatDataset([range(3), range(10, 14)]) + library.Subset(range(20, 30),
                                                                                   [9, 0])
        assert isinstance(both, library.ConcatDataset)
    ours = mud.ConcatDataset([range(3), range(10, 14), mud.Subset(range(20, 30), [9, 0])])
    theirs = tud.ConcatDataset([range(3), range(10, 14), tud.Subset(range(20, 30), [9, 0])])
    assert ours.cumulative_sizes == theirs.cumulative_sizes and len(ours) == len(theirs)
    assert [ours[i] for i in range(-9, 9)] == [theirs[i] for i in range(-9, 9)]


@pytest.mark.parametrize("n,batch_size,drop_last,num_samples",
                         [(10, 3, False, None), (10, 3, True, None), (10, 4, False, 25),
                          (10, 4, True, 25), (1, 5, False, None)])
def test_lengths_equal_torch_s(n, batch_size, drop_last, num_samples):
    ours = mud.DataLoader(range(n), batch_size=batch_size, drop_last=drop_last,
                          sampler=mud.RandomSampler(range(n), num_samples=num_samples))
    theirs = tud.DataLoader(range(n), batch_size=batch_size, drop_last=drop_last,
                            sampler=tud.RandomSampler(range(n), num_samples=num_samples))
    assert len(ours) == len(theirs) == len(list(ours)) == len(list(theirs))
    assert [len(b) for b in ours] == [len(b) for b in theirs]


def test_batch_sampler_lists_equal_torch_s():
    for drop_last in (False, True):
        ours = list(mud.BatchSampler(mud.SequentialSampler(range(8)), 3, drop_last))
        assert ours == list(tud.BatchSampler(tud.SequentialSampler(range(8)), 3, drop_last))


class Objects:
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return object()


BAD = [
    ("sampler with shuffle", ValueError, "DataLoader: sampler option is mutually exclusive",
     lambda lib: lib.DataLoader(range(4), shuffle=True, sampler=lib.SequentialSampler(range(4)))),
    ("batch_sampler with batch_size", ValueError, "DataLoader: batch_sampler option",
     lambda lib: lib.DataLoader(range(4), batch_size=2,
                                batch_sampler=lib.BatchSampler(range(4), 2, False))),
    ("batch_size None with drop_last", ValueError, "DataLoader: batch_size=None",
     lambda lib: lib.DataLoader(range(4), batch_size=None, drop_last=True)),
    ("negative num_workers", ValueError, "DataLoader: num_workers.*-1",
     lambda lib: lib.DataLoader(range(4), num_workers=-1)),
    ("batch_size 0", ValueError, "BatchSampler: batch_size should be a positive integer.*0",
     lambda lib: lib.DataLoader(range(4), batch_size=0)),
    ("drop_last not a bool", ValueError, "BatchSampler: drop_last should be a boolean.*'no'",
     lambda lib: lib.BatchSampler(range(4), 2, "no")),
    ("shuffle on an iterable dataset", ValueError, "IterableDataset.*shuffle=True",
     lambda lib: lib.DataLoader((OurStream if lib is mud else Stream)(), shuffle=True)),
    ("replacement not a bool", TypeError, "RandomSampler: replacement should be.*'yes'",
     lambda lib: lib.RandomSampler(range(4), replacement="yes")),
    ("num_samples 0", ValueError, "RandomSampler: num_samples should be.*0",
     lambda lib: lib.RandomSampler(range(4), num_samples=0)),
    ("2-d weights", ValueError, r"WeightedRandomSampler: weights should be a 1d.*\(2, 2\)",
     lambda lib: lib.WeightedRandomSampler([[1.0, 2.0], [3.0, 4.0]], 2)),
    ("weighted num_samples -1", ValueError, "WeightedRandomSampler: num_samples.*-1",
     lambda lib: lib.WeightedRandomSampler([1.0, 2.0], -1)),
    ("lengths that do not sum", ValueError, r"random_split: sum of input lengths \[3, 4\]",
     lambda lib: lib.random_split(range(10), [3, 4])),
    ("a fraction above 1", ValueError, "random_split: fraction at index 0.*1.5",
     lambda lib: lib.random_split(range(10), [1.5, -0.5])),
    ("a list index past a ConcatDataset", ValueError, "ConcatDataset: absolute value.*-5",
     lambda lib: lib.ConcatDataset([range(2), range(2)])[-5]),
    ("objects to collate", TypeError, "default_collate: batch must contain.*object",
     lambda lib: next(iter(lib.DataLoader(Objects(), batch_size=2)))),
    ("lists of unequal sizes", RuntimeError, "default_collate: each element in list",
     lambda lib: lib.default_collate([[1, 2], [3]])),
    ("string arrays", TypeError, "default_collate: batch must contain.*<U1",
     lambda lib: lib.default_collate([np.array(["a"]), np.array(["b"])])),
]


@pytest.mark.parametrize("what,error,message,make", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises_torch_s_error(what, error, message, make):
    with pytest.raises(error):
        make(tud)
    with pytest.raises(error, match=message):
        make(mud)


def test_tensors_of_unequal_shapes_do_not_stack_as_in_torch():
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        tud.default_collate([torch.zeros(2), torch.zeros(3)])
    with pytest.raises(RuntimeError, match=r"default_collate: stack expects each tensor to be "
                                           r"equal size, but got \[2\] at entry 0 and \[3\]"):
        mud.default_collate([minicnn.zeros(2), minicnn.zeros(3)])


def test_generator_seed_errors_are_torch_s():
    for seed, error in ((1.5, RuntimeError), (True, RuntimeError), (2 ** 64, ValueError)):
        with pytest.raises(error):
            torch.Generator().manual_seed(seed)
        with pytest.raises(error, match="Generator.manual_seed"):
            minicnn.Generator().manual_seed(seed)
    assert minicnn.Generator().manual_seed(-1).initial_seed() == torch.Generator().manual_seed(
        -1).initial_seed()
