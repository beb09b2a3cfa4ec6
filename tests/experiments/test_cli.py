"""minicnn-knee from the command line: phantom, crops, preview, train, predict."""
import numpy as np
import pytest

from experiments import cli
from experiments.crops.archive import load_dataset


def test_phantom_crops_preview(tmp_path, capsys):
    scans, out, png = tmp_path / "scans", tmp_path / "crops.npz", tmp_path / "preview.png"
    assert cli.main(["phantom", "--out", str(scans), "--patients", "4", "--seed", "1",
                     "--quiet"]) == 0
    assert sorted(p.name for p in scans.iterdir()) == [f"{i:07d}.mat" for i in range(1, 5)]
    (scans / "0000005.mat").write_bytes(b"broken")
    assert cli.main(["crops", str(scans), "--out", str(out), "--exclude", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "loaded 4 scans" in text and "built" in text
    assert "skipped 1 files: {'not a .mat': 1}" in text
    skipped = (tmp_path / "crops.skipped.tsv").read_text().splitlines()
    assert skipped[1].startswith("0000005.mat\tnot a .mat\t")
    data = load_dataset(str(out))
    assert data.images.dtype == np.float32 and data.images.shape[1:] == (1, 128, 128)
    assert cli.main(["crops", str(scans), "--out", str(out), "--exclude", "--quiet"]) == 0
    assert "read from the cache" in capsys.readouterr().out
    assert cli.main(["preview", str(scans), "--out", str(png), "--count", "3"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["crops", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 12-patient phantom and a 2-epoch run on fold 1 of 3, made through the CLI."""
    folder = tmp_path_factory.mktemp("trained")
    scans, out, config = folder / "scans", folder / "run", folder / "run.toml"
    assert cli.main(["phantom", "--out", str(scans), "--patients", "12", "--quiet"]) == 0
    config.write_text("[model]\nblocks = 2\nchannels = [4, 8]\n[train]\nepochs = 2\n"
                      "batch_size = 8\n"
                      "optimizer = 'adam'\nlr = 0.01\nbootstrap_rounds = 20\n")
    args = ["train", "--config", str(config), "--data", str(scans), "--out", str(out), "--quiet"]
    code = cli.main(args + ["--split", "fold:1:3"])
    return {"scans": scans, "out": out, "args": args, "code": code}


def test_train_on_a_small_phantom(trained, capsys):
    assert trained["code"] == 0
    assert (trained["out"] / "record.json").exists()
    assert (trained["out"] / "checkpoint.npz").exists()
    # resumes: nothing left to train
    assert cli.main(trained["args"] + ["--split", "fold:1:3"]) == 0
    text = capsys.readouterr().out
    assert "finished 2 epochs" in text and "test qwk" in text and "95% CI" in text
    assert cli.main(trained["args"] + ["--split", "fold:4:3"]) == 2
    assert "K must be between 1 and 3" in capsys.readouterr().err


def test_predict_grades_both_knees_and_reports_bad_files(trained, tmp_path, capsys):
    checkpoint = str(trained["out"] / "checkpoint.npz")
    png = tmp_path / "cam.png"
    scan = str(trained["scans"] / "0000003.mat")
    assert cli.main(["predict", checkpoint, scan, "--out", str(png)]) == 0
    text = capsys.readouterr().out
    assert "knee 1 (columns 0-127): KL" in text and "knee 2 (columns 128-255): KL" in text
    assert png.read_bytes()[:4] == b"\x89PNG"
    (tmp_path / "bad.mat").write_bytes(b"MATLAB 5.0" + b"\0" * 200)
    assert cli.main(["predict", checkpoint, str(tmp_path / "bad.mat")]) == 1
    assert "unreadable" in capsys.readouterr().err


def test_explain_writes_the_pictures(trained, tmp_path, capsys):
    out = tmp_path / "explain"
    checkpoint = str(trained["out"] / "checkpoint.npz")
    scan = str(trained["scans"] / "0000004.mat")
    assert cli.main(["explain", checkpoint, scan, "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["features-block1.png", "features-block2.png", "filters-block1.png",
                     "gradcam.png"]
    assert all((out / n).read_bytes()[:4] == b"\x89PNG" and (out / n).stat().st_size > 5000
               for n in names)
    (tmp_path / "bad.mat").write_text("no")
    assert cli.main(["explain", checkpoint, str(tmp_path / "bad.mat"), "--out", str(out)]) == 1
