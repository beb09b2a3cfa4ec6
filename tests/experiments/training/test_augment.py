"""Augmentation: count thinning keeps the level and adds noise, shifts move whole pixels,
rotations turn the image about the centre by the drawn angle."""
import numpy as np
import pytest

from experiments.training.augment import augment
from experiments.training.config import TrainConfig


def test_augmentation_thins_counts_rotates_and_shifts():
    rng = np.random.default_rng(0)
    counts = rng.poisson(40.0, size=(64, 1, 16, 16)).astype(np.float32)
    scales = np.full((64, 1), 50.0, np.float32)
    crops = counts / 50.0
    cfg = TrainConfig(max_shift=0, rotate_degrees=0, intensity_jitter=0, thin_to=0.25)
    thinned = augment(crops, np.random.default_rng(1), cfg, scales)
    assert np.isclose(thinned.mean(), crops.mean(), rtol=0.05)  # thinning keeps the expected level
    assert thinned.var() > crops.var() * 1.3  # ... and adds the noise of fewer counts
    # no scales: no thinning
    assert np.array_equal(augment(crops, np.random.default_rng(1), cfg, None), crops)
    spot = np.zeros((1, 1, 16, 16), np.float32)
    spot[0, 0, 8, 8] = 1.0
    moved = augment(spot, np.random.default_rng(3),
                    TrainConfig(max_shift=3, rotate_degrees=0, intensity_jitter=0))
    assert moved.sum() == 1.0 and moved[0, 0, 8, 8] in (0.0, 1.0)


def test_a_rotation_turns_a_spot_about_the_centre_by_the_drawn_angle():
    """A bright spot 5.5 pixels right of the centre (7.5, 7.5) of a 16 x 16 crop ends where a
    turn by the drawn angle (the first draw, since nothing is thinned) puts it: same distance
    from the centre, its bearing changed by that angle (in the image's row-down frame)."""
    spot = np.zeros((1, 1, 16, 16), np.float32)
    spot[0, 0, 8, 13] = 1.0
    angle = np.random.default_rng(4).uniform(-30, 30)
    turned = augment(spot, np.random.default_rng(4),
                     TrainConfig(max_shift=0, rotate_degrees=30, intensity_jitter=0))[0, 0]
    rows, cols = np.indices(turned.shape)
    y, x = (rows * turned).sum() / turned.sum() - 7.5, (cols * turned).sum() / turned.sum() - 7.5
    assert abs(angle) > 5  # the draw really turns the spot
    assert np.hypot(y, x) == pytest.approx(np.hypot(0.5, 5.5), abs=0.3)
    turn = np.degrees(np.arctan2(-y, x) - np.arctan2(-0.5, 5.5))
    assert turn == pytest.approx(angle, abs=3)
