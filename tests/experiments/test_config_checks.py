"""Bad configuration values stop `train` and `study` before any scan is read: exit code 2
and a message naming the file, the key and the allowed range."""
import re
import time

import pytest

from experiments import cli
from experiments.crops import archive

BASE_TRAIN = "[model]\nblocks = 3\nchannels = [16, 32, 64]\n[train]\nepochs = 2\n"

# (text replacing a line or added to the run config, the message expected after the file name)
RUN_CASES = [
    ("[model]\nkernel = 0", r"\[model\] kernel = 0: must be an integer >= 1"),
    ("[model]\nkernel = 2.5", r"\[model\] kernel = 2.5: must be an integer >= 1"),
    ("[model]\nkernel = 200", r"\[model\] kernel = 200: must be at most 130 in block 1"),
    ("[model]\nstride = 0", r"\[model\] stride = 0: must be an integer >= 1"),
    ("[model]\npadding = -1", r"\[model\] padding = -1: must be an integer >= 0"),
    ("[model]\npool_size = 0", r"\[model\] pool_size = 0: must be an integer >= 1"),
    ("[model]\nblocks = 0", r"\[model\] blocks = 0: must be an integer from 1 to 10"),
    ("[model]\nblocks = 8\nchannels = [1, 1, 1, 1, 1, 1, 1, 1]",
     r"\[model\] blocks = 8: block 8 leaves no pixels of a 128 x 128 input"),
    ("[model]\nchannels = [16, 0, 64]", r"\[model\] channels\[1\] = 0: must be an integer >= 1"),
    ("[model]\nchannels = [16]", r"\[model\] channels = \[16\]: 3 blocks need at least 3 channel"),
    ("[model]\npooling = 'median'",
     r"\[model\] pooling = 'median': must be one of \['max', 'avg'\]"),
    ("[model]\nkernal = 3", r"unknown key\(s\) \['kernal'\] in \[model\]"),
    ("[train]\nepochs = 0", r"\[train\] epochs = 0: must be an integer from 1 to 100000"),
    ("[train]\nbatch_size = 0", r"\[train\] batch_size = 0: must be an integer from 1 to 65536"),
    ("[train]\nlr = 0", r"\[train\] lr = 0: must be a finite number > 0"),
    ("[train]\nlr = 'fast'", r"\[train\] lr = 'fast': must be a finite number > 0"),
    ("[train]\noptimizer = 'lbfgs'", r"\[train\] optimizer = 'lbfgs': must be one of \['sgd', "
                                     r"'momentum', 'adagrad', 'adam'\]"),
    ("[train]\nmomentum = 1.0", r"\[train\] momentum = 1.0: must be a number in \[0, 1\)"),
]

STUDY = ("[study]\nfolds = 2\nseeds = [0]\n[base.model]\nblocks = 3\n[base.train]\nepochs = 2\n"
         "[[factor]]\nname = 'kernel'\nkey = 'model.kernel'\nvalues = [3, 5]\n")
STUDY_CASES = [
    (("folds = 2", "folds = 1"), r"\[study\] folds = 1: must be an integer from 2 to 100"),
    (("seeds = [0]", "seeds = []"),
     r"\[study\] seeds = \[\]: must be a non-empty list of distinct"),
    (("seeds = [0]", "seeds = [1, 1]"), r"\[study\] seeds = \[1, 1\]: must be a non-empty list"),
    (("seeds = [0]", "seeds = [0]\nworkers = 0"),
     r"\[study\] workers = 0: must be an integer from 1"),
    (("seeds = [0]", "seeds = [0]\nbootstrap_rounds = 10"),
     r"\[study\] bootstrap_rounds = 10: must be an integer from 100 to 1000000"),
    (("seeds = [0]", "seeds = [0]\nproposal_split = 'yes'"),
     r"\[study\] proposal_split = 'yes': must be true or false"),
    (("[study]", "[studdy]"), r"unknown table\(s\) \['studdy'\]"),
    (("epochs = 2", "epochs = -3"),
     r"the study's base: \[base.train\] epochs = -3: must be an integer"),
    (("values = [3, 5]", "values = [3, 0]"),
     r"factor 'kernel' value 0 \(model.kernel\): \[model\] kernel = 0: must be an integer >= 1"),
    (("values = [3, 5]", "values = []"),
     r"\[\[factor\]\] factor 'kernel': values = \[\]: must be a non-empty list"),
    (("key = 'model.kernel'", "key = 'model.kernal'"),
     r"factor 'kernel': key = 'model.kernal': must start with 'model.' or 'train.' and name "
     r"a known"),
    (("key = 'model.kernel'", "key = 'optim.lr'"), r"key = 'optim.lr': must start with 'model.'"),
    (("name = 'kernel'", "name = 'base'"),
     r"\[\[factor\]\] name = 'base': a factor needs a non-empty name of its own"),
]


@pytest.fixture
def no_scans(monkeypatch):
    """Any attempt to read scans fails the test: the error must come before."""
    def refuse(*args, **kwargs):
        raise AssertionError("a scan folder was read before the configuration was checked")
    monkeypatch.setattr(archive, "load_or_build", refuse)
    monkeypatch.setattr(archive, "scan_files", refuse)


def _exit_and_message(argv, capsys):
    start = time.perf_counter()
    code = cli.main(argv)
    seconds = time.perf_counter() - start
    return code, capsys.readouterr().err, seconds


def _edit(text: str, change: str) -> str:
    """The run config with ``change`` ('[table]\\nkey = value...') applied to its table."""
    table, _, lines = change.partition("\n")
    keys = {line.split("=")[0].strip() for line in lines.splitlines()}
    out, current = [], None
    for line in text.splitlines():
        if line.startswith("["):
            current = line
        elif current == table and line.split("=")[0].strip() in keys:
            continue
        out.append(line)
        if line == table:
            out += lines.splitlines()
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("change,message", RUN_CASES,
                         ids=[c[0].replace("\n", " ") for c in RUN_CASES])
def test_a_bad_run_config_value_stops_train_before_work(change, message, tmp_path, capsys,
                                                        no_scans):
    path = tmp_path / "bad.toml"
    path.write_text(_edit(BASE_TRAIN, change))
    code, err, seconds = _exit_and_message(["train", "--config", str(path), "--data", str(tmp_path),
                                            "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 2 and seconds < 5
    assert str(path) in err
    assert re.search(message, err), err


@pytest.mark.parametrize("change,message", STUDY_CASES,
                         ids=[c[0][1].replace("\n", " ") for c in STUDY_CASES])
def test_a_bad_study_value_stops_study_before_work(change, message, tmp_path, capsys, no_scans):
    path = tmp_path / "bad-study.toml"
    old, new = change
    assert old in STUDY
    path.write_text(STUDY.replace(old, new, 1))
    code, err, seconds = _exit_and_message(["study", "--config", str(path), "--data", str(tmp_path),
                                            "--out", str(tmp_path / "out"), "--quiet"], capsys)
    assert code == 2 and seconds < 5
    assert str(path) in err
    assert re.search(message, err), err
    assert not (tmp_path / "out").exists()  # nothing written either


@pytest.mark.parametrize("command", ["train", "study"])
def test_a_toml_syntax_error_names_the_file(command, tmp_path, capsys, no_scans):
    path = tmp_path / "broken.toml"
    path.write_text("[model]\nkernel = \n")
    code, err, _ = _exit_and_message([command, "--config", str(path), "--data", str(tmp_path),
                                      "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and f"{path}: not valid TOML" in err


def test_crops_of_a_folder_without_scans_fails(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("no scans here")
    code, err, _ = _exit_and_message(["crops", str(tmp_path), "--out", str(tmp_path / "c.npz"),
                                      "--quiet"], capsys)
    assert code == 2 and "holds no .mat file" in err and str(tmp_path) in err
    assert not (tmp_path / "c.npz").exists()
