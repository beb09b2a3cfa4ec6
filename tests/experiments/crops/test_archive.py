"""Folder -> crops: good files give crops, every bad file one reason, the cache is keyed by
content."""
import numpy as np
import pytest

from experiments.crops import archive
from experiments.crops.archive import BuildOptions, load_or_build
from experiments.scans.matfile import write_mat
from experiments.scans.pseudonyms import Pseudonyms
from tests.experiments.scan_files import labels, phantom_variables, with_changes, write_good
from tests.experiments.scans.test_bonescan import KEY, bad_variants, pseudonym


@pytest.fixture
def mixed_folder(tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    for index in range(3):
        write_good(folder, index, "v5" if index != 1 else "v7.3")
    for number, (kind, variables) in enumerate(bad_variants().items()):
        write_mat(str(folder / f"bad_{number}_{kind.replace(' ', '_')}.mat"), variables)
    (folder / "bad_text.mat").write_text("not a mat file" * 50)
    good = (folder / "0000001.mat").read_bytes()
    (folder / "bad_truncated.mat").write_bytes(good[:200_000])
    write_mat(str(folder / "unspecified.mat"),
              with_changes(phantom_variables(5), diaginfo=labels(-1, 3)))
    (folder / "readme.txt").write_text("not a scan, not a .mat: ignored")
    return folder


def test_good_files_give_crops_and_each_bad_file_one_reason(mixed_folder):
    data = archive.build_dataset(str(mixed_folder), BuildOptions(exclude=()), progress=False)
    summary = data.summary
    assert summary.loaded == 4  # three good scans and the one with an unspecified knee
    assert len(data.labels) == 3 * 2 + 1 and data.images.shape == (7, 1, 128, 128)
    assert summary.unspecified_knees == 1
    skipped = {name: kind for name, kind, _ in summary.skipped}
    assert len(skipped) == len(bad_variants()) + 2
    assert all(name.startswith("bad_") for name in skipped)
    assert skipped["bad_text.mat"] == "not a .mat" and skipped["bad_truncated.mat"] == "unreadable"
    for number, kind in enumerate(bad_variants()):
        assert skipped[f"bad_{number}_{kind.replace(' ', '_')}.mat"] == kind
    assert set(data.files) == {"0000001.mat", "0000002.mat", "0000003.mat", "unspecified.mat"}
    assert set(data.sides[data.files == "unspecified.mat"]) == {1}
    assert "skipped 8 files" in summary.text()


def test_labels_patients_and_sides_line_up(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    write_good(folder, 0)
    codes = phantom_variables(0)["diaginfo"]["kneejointid"][0]
    data = archive.build_dataset(str(folder), BuildOptions(exclude=()), progress=False,
                                 pseudonyms=Pseudonyms(KEY))
    expected = [int(c) - 2 for c in codes if c != -1]
    assert data.labels.tolist() == expected and set(data.patients) == {pseudonym("0000001")}


def test_the_exclusion_list_and_manual_rows_apply(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    write_good(folder, 0)
    write_good(folder, 1)
    options = BuildOptions(exclude=("0000001.mat",), overrides=(("0000002.mat", 300),))
    data = archive.build_dataset(str(folder), options, progress=False)
    assert data.summary.excluded == ["0000001.mat"] and data.summary.manual == ["0000002.mat"]
    assert set(data.rows) == {300 - 64}


def test_the_cache_serves_the_second_build_and_notices_a_change(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    for index in range(2):
        write_good(folder, index)
    out = str(tmp_path / "crops.npz")
    first, cached = load_or_build(str(folder), out, progress=False)
    assert not cached
    second, cached = load_or_build(str(folder), out, progress=False)
    assert cached and np.array_equal(first.images, second.images)
    assert second.summary.loaded == first.summary.loaded
    write_mat(str(folder / "0000002.mat"),
              with_changes(phantom_variables(1), diaginfo=labels(6, 6)))
    third, cached = load_or_build(str(folder), out, progress=False)
    assert not cached and third.labels[-2:].tolist() == [4, 4]
    _, cached = load_or_build(str(folder), out, BuildOptions(view="both"), progress=False)
    assert not cached  # other options, other key


def test_a_damaged_cache_is_rebuilt(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    write_good(folder, 0)
    out = tmp_path / "crops.npz"
    out.write_bytes(b"garbage")
    data, cached = load_or_build(str(folder), str(out), BuildOptions(exclude=()), progress=False)
    assert not cached and len(data.labels) > 0
    assert archive.load_dataset(str(out)).cache_key == data.cache_key


def test_override_table_parsing(tmp_path):
    table = tmp_path / "rows.csv"
    table.write_text("file,row\n# checked by hand\n0000007.mat, 512\n")
    assert archive.read_overrides(str(table)) == (("0000007.mat", 512),)
    table.write_text("0000007.mat;512\n")
    with pytest.raises(ValueError, match="line 1"):
        archive.read_overrides(str(table))
