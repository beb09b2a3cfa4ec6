"""The phantom: seeded, in the real layout, with a clinical grade mix and label noise."""
import numpy as np

from experiments.scans.bonescan import read_scan
from experiments.scans.phantom import GRADE_MIX, draw_patient, patient_and_counts, write_phantom


def test_same_seed_same_scans_and_labels(tmp_path):
    a = write_phantom(str(tmp_path / "a"), 3, seed=4, progress=False)
    b = write_phantom(str(tmp_path / "b"), 3, seed=4, progress=False)
    for x, y in zip(a, b):
        rx, ry = read_scan(x), read_scan(y)
        assert np.array_equal(rx.counts, ry.counts) and rx.labels == ry.labels
    other = read_scan(write_phantom(str(tmp_path / "c"), 1, seed=5, progress=False)[0])
    assert not np.array_equal(other.counts, read_scan(a[0]).counts)


def test_layout_matches_the_real_files(tmp_path):
    path = write_phantom(str(tmp_path), 1, progress=False)[0]
    record = read_scan(path)
    assert record.file == "0000001.mat" and record.counts.shape == (2, 1024, 256)
    assert set(record.info) == {"format", "datasize", "colortype", "radioisotope", "knee_row",
                                "true_grades"}
    assert record.dropped == ("birthdate", "patientname") and record.patient_id is None
    import scipy.io
    info = scipy.io.loadmat(path, squeeze_me=True)["info"]  # the file holds what a hospital's holds
    assert str(info["patientid"]) == "0000001"
    assert str(info["patientname"]) == "PHANTOM^PATIENT 0000001"
    assert len(str(info["birthdate"])) == 8 and str(info["birthdate"]).startswith("19")
    totals = record.counts.reshape(2, -1).sum(axis=1)
    assert np.all((totals > 0.5e6) & (totals < 2.5e6))  # a realistic whole-body count


def test_grade_mix_label_noise_and_unspecified_knees():
    rng = np.random.default_rng(0)
    patients = [draw_patient(rng, str(i)) for i in range(1500)]
    truth = np.array([p.true_grades for p in patients]).ravel()
    codes = np.array([p.label_codes for p in patients]).ravel()
    specified = codes != -1
    mix = np.bincount(truth, minlength=5) / truth.size
    assert mix[0] > mix[2] > mix[4] and np.abs(mix - GRADE_MIX).max() < 0.06
    noise = np.mean(codes[specified] - 2 != truth[specified])
    assert 0.09 < noise < 0.15
    assert 0.01 < np.mean(~specified) < 0.06
    both = np.array([p.true_grades for p in patients])
    assert 0.5 < np.corrcoef(both[:, 0], both[:, 1])[0, 1] < 0.98  # correlated, not equal


def test_knee_uptake_grows_with_grade():
    uptake = {g: [] for g in range(5)}
    for index in range(60):
        patient, counts = patient_and_counts(index, 3)
        row, view = patient.knee_row, counts[..., 0].astype(float)
        for side, grade in enumerate(patient.true_grades):
            col = int(round(patient.col((-1, 1)[side] * 0.05)))
            shaft_row = int(patient.row(0.83))
            shaft = view[shaft_row - 5:shaft_row + 5, col - 5:col + 5].mean()
            uptake[grade].append(view[row - 5:row + 5, col - 8:col + 8].mean() / shaft)
    means = [np.mean(uptake[g]) for g in range(5) if uptake[g]]
    assert means == sorted(means) and means[-1] > 1.7 * means[0]
