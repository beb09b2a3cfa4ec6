"""The knee locator against the phantom's truth, the proposal's baseline, and the crops."""
import dataclasses

import numpy as np
import pytest

from experiments.crops.knee import cut_crops, locate_knees, proposal_window, scan_scale, window_at
from experiments.scans.phantom import draw_patient, patient_and_counts, render


def errors(count: int, seed: int = 11):
    ours, baseline = [], []
    for index in range(count):
        patient, counts = patient_and_counts(index, seed)
        ours.append(locate_knees(counts[..., 0]).centre - patient.knee_row)
        baseline.append(proposal_window(counts[..., 0]).centre - patient.knee_row)
    return np.abs(ours), np.abs(baseline)


def test_the_locator_finds_the_knees_and_beats_the_proposal():
    ours, baseline = errors(80)
    assert np.mean(ours <= 8) >= 0.98
    assert np.mean(baseline <= 8) < np.mean(ours <= 8) - 0.2  # the baseline is clearly worse


@pytest.mark.parametrize("index", range(4))
def test_a_hot_bladder_and_injection_site_do_not_fool_the_locator(index):
    patient = draw_patient(np.random.default_rng(100 + index), "hot")
    patient = dataclasses.replace(patient, bladder=9.0, injection=(0.8 + 0.05 * index, 1.0, 40.0))
    counts = render(patient, seed=index)
    hottest_row = int(np.argmax(counts[..., 0].max(axis=1)))
    assert abs(hottest_row - patient.knee_row) > 64  # the hottest spot is not at the knees
    window = locate_knees(counts[..., 0])
    assert abs(window.centre - patient.knee_row) <= 8 and not window.low_confidence


def test_a_scan_without_legs_is_low_confidence():
    patient, counts = patient_and_counts(0, 0)
    view = counts[..., 0].copy()
    view[int(patient.row(0.52)):] = 0  # legs cut off the image
    window = locate_knees(view)
    assert window.low_confidence and window.method == "fallback"


def test_window_stays_inside_the_scan():
    assert window_at(10) == 0 and window_at(1020) == 1024 - 128 and window_at(500) == 436


def test_crops_follow_the_column_halves_and_mirror_the_second_knee():
    counts = np.zeros((2, 1024, 256), dtype=np.uint16)
    counts[0, 300:428, :128] = 10
    counts[0, 300, 5] = 200  # marks: one near the left edge of each half
    counts[0, 300, 133] = 100
    crops = cut_crops(counts, 300, mirror=True)
    scale = scan_scale(counts[0])
    assert crops.shape == (2, 1, 128, 128) and crops.dtype == np.float32
    assert crops[0, 0, 0, 5] == pytest.approx(200 / scale)
    assert crops[1, 0, 0, 127 - 5] == pytest.approx(100 / scale)  # mirrored
    assert cut_crops(counts, 300, mirror=False)[1, 0, 0, 5] == pytest.approx(100 / scale)


def test_both_views_are_two_aligned_channels():
    patient, counts = patient_and_counts(1, 0)
    start = locate_knees(counts[..., 0]).start
    stacked = np.moveaxis(counts, -1, 0)
    crops = cut_crops(stacked, start, view="both")
    assert crops.shape == (2, 2, 128, 128)
    # the posterior view is flipped back, so each knee sits at the same columns in both
    for knee in range(2):
        anterior_col = np.argmax(crops[knee, 0].sum(axis=0))
        posterior_col = np.argmax(crops[knee, 1].sum(axis=0))
        assert abs(int(anterior_col) - int(posterior_col)) <= 4
    with pytest.raises(ValueError, match="needs 2 views"):
        cut_crops(stacked[:1], start, view="both")


def test_scale_is_per_scan_so_dose_does_not_matter():
    patient, counts = patient_and_counts(2, 0)
    view = counts[..., 0]
    a = cut_crops(view[None], 400)
    b = cut_crops((view[None].astype(np.uint32) * 2).astype(np.uint16), 400)
    assert np.allclose(a, b)
