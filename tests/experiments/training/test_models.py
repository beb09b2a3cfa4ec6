"""The model family: its default is the proposal's SimpleCNN, its Linear size follows the
blocks, and impossible configurations are refused."""
import pytest

import minicnn
from experiments.training.models import ModelConfig, build_model, proposal_simple_cnn


def test_the_default_family_member_is_simplecnn():
    ours = build_model()
    assert sum(p.numel() for p in ours.parameters()) == 105_445
    assert sum(p.numel() for p in proposal_simple_cnn(minicnn.nn).parameters()) == 105_445
    assert ours(minicnn.zeros(2, 1, 128, 128)).shape == (2, 5)


@pytest.mark.parametrize("config,features", [
    (ModelConfig(blocks=1), 16 * 64 * 64),
    (ModelConfig(blocks=2, kernel=5, padding=2, pooling="avg"), 32 * 32 * 32),
    (ModelConfig(blocks=3, stride=2, padding=1), 64 * 2 * 2),
])
def test_family_members_have_the_right_linear_size(config, features):
    model = build_model(config)
    assert model.fc.in_features == features
    assert model(minicnn.zeros(1, 1, 128, 128)).shape == (1, 5)


def test_impossible_configurations_are_refused():
    with pytest.raises(ValueError, match="kernel = 7: must be at most 4 in block 2"):
        build_model(ModelConfig(blocks=3, kernel=7, stride=3, padding=0, input_size=32))
    with pytest.raises(ValueError, match="block 3 leaves no pixels"):
        build_model(ModelConfig(blocks=3, kernel=3, stride=2, padding=1, input_size=32))
    with pytest.raises(ValueError, match="pooling"):
        build_model(ModelConfig(pooling="median"))
