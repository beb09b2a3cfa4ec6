"""Reading and validating scan files: every bad file ends in a one-line reason."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.scans.bonescan import ScanError, read_scan
from experiments.scans.matfile import write_mat
from experiments.scans.pseudonyms import Pseudonyms
from tests.experiments.scan_files import labels, phantom_variables, with_changes

KEY = bytes(range(32))


def pseudonym(real_id: str) -> str:
    """The pseudonym of ``real_id`` under KEY, from the formula: P- and 10 base32 letters of
    HMAC-SHA256(key, 'patient' NUL id)."""
    import base64
    import hashlib
    import hmac
    digest = hmac.new(KEY, b"patient\0" + real_id.encode(), hashlib.sha256).digest()
    return "P-" + base64.b32encode(digest).decode()[:10]


def test_v73_and_v5_files_with_the_same_arrays_give_the_same_record(tmp_path):
    variables = phantom_variables(3)
    write_mat(str(tmp_path / "a.mat"), variables, "v5")
    write_mat(str(tmp_path / "b.mat"), variables, "v7.3")
    v5, v73 = (read_scan(str(tmp_path / n), Pseudonyms(KEY)) for n in ("a.mat", "b.mat"))
    assert (v5.mat_version, v73.mat_version) == ("v5", "v7.3")
    assert v5.counts.shape == (2, 1024, 256) and v5.counts.dtype == np.uint16
    assert np.array_equal(v5.counts, v73.counts)
    assert np.array_equal(v5.counts[0], variables["V"][:, :, 0])
    codes = variables["diaginfo"]["kneejointid"][0]
    assert v5.labels == v73.labels == tuple(int(c) - 2 for c in codes)
    assert v5.patient_id == v73.patient_id == pseudonym("0000004")
    assert v5.dropped == v73.dropped == ("birthdate", "patientname")
    assert v5.info == v73.info and v5.info["radioisotope"] == "Tc-99m MDP"


def test_a_two_dimensional_image_is_one_view_and_y_is_accepted(tmp_path):
    variables = phantom_variables(0)
    image = variables["V"][:, :, 0]
    write_mat(str(tmp_path / "y.mat"), with_changes(variables, V=None, Y=image))
    record = read_scan(str(tmp_path / "y.mat"))
    assert record.counts.shape == (1, 1024, 256) and np.array_equal(record.counts[0], image)


def test_unspecified_knees_map_to_minus_one(tmp_path):
    write_mat(str(tmp_path / "u.mat"), with_changes(phantom_variables(0), diaginfo=labels(-1, 6)))
    assert read_scan(str(tmp_path / "u.mat")).labels == (-1, 4)


def bad_variants():
    good = phantom_variables(1)
    image = good["V"]
    return {
        "no image": with_changes(good, V=None),
        "no labels": with_changes(good, diaginfo=None),
        "bad shape": with_changes(good, V=image[:512]),
        "bad dtype": with_changes(good, V=image.astype(np.float64) + 0.5),
        "bad counts": with_changes(good, V=image.astype(np.int32) - 100),
        "bad labels": with_changes(good, diaginfo=labels(2, 7)),
    }


@pytest.mark.parametrize("version", ["v5", "v7.3"])
@pytest.mark.parametrize("kind", list(bad_variants()))
def test_each_kind_of_bad_content_gets_its_reason(tmp_path, kind, version):
    path = str(tmp_path / "bad.mat")
    write_mat(path, bad_variants()[kind], version)
    with pytest.raises(ScanError) as info:
        read_scan(path)
    assert info.value.kind == kind and "\n" not in info.value.reason


def test_absurd_totals_and_non_mat_files_get_reasons(tmp_path):
    huge = np.full((1024, 256, 2), 60000, dtype=np.uint16)
    write_mat(str(tmp_path / "hot.mat"), with_changes(phantom_variables(0), V=huge))
    with pytest.raises(ScanError, match="total counts per view"):
        read_scan(str(tmp_path / "hot.mat"))
    (tmp_path / "notes.mat").write_text("these are my notes, not a MATLAB file" * 10)
    with pytest.raises(ScanError, match="no MATLAB header") as info:
        read_scan(str(tmp_path / "notes.mat"))
    assert info.value.kind == "not a .mat"


@pytest.mark.parametrize("version", ["v5", "v7.3"])
def test_a_truncated_file_is_unreadable_with_a_reason(tmp_path, version):
    path = tmp_path / "t.mat"
    write_mat(str(path), phantom_variables(0), version)
    path.write_bytes(path.read_bytes()[:300_000])
    with pytest.raises(ScanError) as info:
        read_scan(str(path))
    assert info.value.kind in ("unreadable", "not a .mat")


GOOD_FILES = {}


def good_bytes(version: str) -> bytes:
    if version not in GOOD_FILES:
        import os
        import tempfile
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "g.mat")
            write_mat(path, phantom_variables(2), version)
            GOOD_FILES[version] = open(path, "rb").read()
    return GOOD_FILES[version]


# positions in the headers and metadata (first and last few kB) and anywhere in the pixels
POSITIONS = st.one_of(st.integers(0, 4096), st.integers(0, 1_060_000),
                      st.integers(1_046_000, 1_060_000))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(version=st.sampled_from(["v5", "v7.3"]), cut=st.one_of(st.just(10**7), POSITIONS),
       flips=st.lists(st.tuples(POSITIONS, st.integers(1, 255)), max_size=8))
def test_corrupted_bytes_end_in_a_record_or_a_reason_never_another_exception(tmp_path, version,
                                                                             cut, flips):
    data = bytearray(good_bytes(version))
    for position, xor in flips:
        if position < len(data):
            data[position] ^= xor
    path = tmp_path / "fuzz.mat"
    path.write_bytes(bytes(data[:cut]))
    try:
        record = read_scan(str(path))
    except ScanError as err:
        assert err.reason and "\n" not in err.reason
    else:
        assert record.counts.shape[1:] == (1024, 256) and len(record.labels) == 2


def test_a_damaged_type_code_is_a_reason_not_a_crash_of_scipys_reader(tmp_path):
    """scipy's C reader segfaults on an unknown data type in a char array (found by the
    fuzz test above); the structure check names the field instead."""
    data = bytearray(good_bytes("v5"))
    at = data.rindex(b"Tc-99m MDP") - 8  # the tag of the radioisotope's characters
    assert data[at] == 16  # miUTF8
    data[at] = 0xEA
    (tmp_path / "bad.mat").write_bytes(bytes(data))
    with pytest.raises(ScanError, match=r"'info'\.radioisotope characters: data type 234") as info:
        read_scan(str(tmp_path / "bad.mat"))
    assert info.value.kind == "unreadable"


def test_a_compressed_v5_file_reads_like_an_uncompressed_one(tmp_path):
    import scipy.io
    variables = phantom_variables(4)
    scipy.io.savemat(str(tmp_path / "z.mat"), variables, do_compression=True)
    write_mat(str(tmp_path / "plain.mat"), variables, "v5")
    zipped, plain = read_scan(str(tmp_path / "z.mat")), read_scan(str(tmp_path / "plain.mat"))
    assert np.array_equal(zipped.counts, plain.counts) and zipped.labels == plain.labels
    assert zipped.info == plain.info


def test_a_v73_field_name_that_is_not_utf8_is_read_as_latin1(tmp_path):
    """h5py returns such a name as bytes (found by the fuzz test: it crashed the patient-id
    lookup)."""
    import h5py
    path = str(tmp_path / "odd.mat")
    write_mat(path, phantom_variables(0), "v7.3")
    with h5py.File(path, "r+") as f:
        f["info"].create_dataset(b"da\xa7asize", data=np.array([[2.0]]))
    record = read_scan(path, Pseudonyms(KEY))
    assert "da\xa7asize" in record.dropped and record.patient_id == pseudonym("0000001")
