"""Patient-level splits never put one patient on both sides; folds are seeded and cover
every knee once; split names and the --split option."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from experiments.splits import (
    fold_name,
    grouped_folds,
    named_split,
    parse_fold_name,
    proposal_holdout,
    split_option,
)


@st.composite
def knee_sets(draw):
    patients = draw(st.integers(6, 40))
    per_patient = draw(st.lists(st.integers(1, 2), min_size=patients, max_size=patients))
    ids = np.repeat([f"p{i:03d}" for i in range(patients)], per_patient)
    grades = np.array(draw(st.lists(st.integers(0, 4), min_size=len(ids), max_size=len(ids))))
    return ids, grades


@pytest.mark.filterwarnings("ignore:The least populated class:UserWarning")  # tiny random sets
@settings(max_examples=60, deadline=None)
@given(data=knee_sets(), folds=st.integers(2, 5), seed=st.integers(0, 1000),
       test_patients=st.integers(1, 5))
def test_no_patient_is_on_both_sides_of_any_split(data, folds, seed, test_patients):
    patients, grades = data
    train, test = proposal_holdout(patients, test_patients)
    assert not set(patients[train]) & set(patients[test])
    assert len(set(patients[test])) == test_patients and len(train) + len(test) == len(patients)
    assume(np.bincount(grades).max() >= folds)
    for train, test in grouped_folds(grades, patients, folds, seed):
        assert not set(patients[train]) & set(patients[test])
        assert len(train) + len(test) == len(patients)


def test_too_many_folds_is_a_clear_error():
    with pytest.raises(ValueError, match="5 folds need at least 5 patients"):
        grouped_folds(np.array([0, 1, 0, 1]), np.array(["a", "a", "b", "c"]), 5)


def test_folds_cover_every_knee_once_and_are_seeded():
    rng = np.random.default_rng(0)
    patients = np.repeat(np.arange(50).astype(str), 2)
    grades = rng.integers(0, 5, 100)
    folds = grouped_folds(grades, patients, 5, seed=1)
    assert sorted(np.concatenate([t for _, t in folds]).tolist()) == list(range(100))
    again = grouped_folds(grades, patients, 5, seed=1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))


def test_split_names_and_the_split_option_name_the_same_folds():
    patients = np.repeat(np.arange(30).astype(str), 2)
    grades = np.tile(np.arange(5), 12)
    assert fold_name(2, 7) == "fold2-seed7" and parse_fold_name("fold2-seed7") == (2, 7)
    by_name = named_split("fold2-seed7", grades, patients, 3)
    by_option = split_option("fold:2:3", grades, patients, 7)
    assert all(np.array_equal(a, b) for a, b in zip(by_name, by_option))
    train, test = named_split("proposal", grades, patients, 3)
    assert sorted(set(patients[test])) == sorted(str(i) for i in range(10, 30))
    with pytest.raises(ValueError, match="'fold:K:N'"):
        split_option("fold:2", grades, patients, 7)
    with pytest.raises(ValueError, match="fold<k>-seed<s>"):
        parse_fold_name("fold2")
