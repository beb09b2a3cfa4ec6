"""The study file: its conditions, its splits, every value checked."""
import os

import pytest

from experiments.study.grid import Factor, Study, load_study
from tests.experiments.study.toy_study import BASE


def test_conditions_are_the_base_and_one_change_at_a_time():
    study = Study(base=BASE, factors=(Factor("lr", "train.lr", (0.05, 0.1)),
                                      Factor("blocks", "model.blocks", (1, 2))))
    labels = [label for _, label, _ in study.conditions()]
    assert labels == ["base", "lr = 0.1", "blocks = 1"]
    assert study.conditions()[1][2].train.lr == 0.1 and study.conditions()[1][2].model.blocks == 2
    assert study.splits() == ["fold1-seed0", "fold2-seed0", "fold3-seed0", "fold4-seed0",
                              "fold5-seed0", "proposal"]


def test_study_files_are_checked(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[study]\nfolds = 2\nbogus = 1\n")
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['bogus'\]"):
        load_study(str(path))
    path.write_text("[[factor]]\nname = 'x'\nkey = 'optim.lr'\nvalues = [1]\n")
    with pytest.raises(ValueError, match="must start with 'model.' or 'train.'"):
        load_study(str(path))
    path.write_text("[[factor]]\nname = 'x'\nkey = 'train.optimizer'\nvalues = ['lbfgs']\n")
    with pytest.raises(ValueError, match="optimizer = 'lbfgs': must be one of"):
        load_study(str(path))


def test_the_shipped_study_files_load():
    for name in ("demo", "proposal"):
        study = load_study(os.path.join("experiments", "configs", f"{name}.toml"))
        assert study.conditions()[0][1] == "base" and len(study.conditions()) > 3
