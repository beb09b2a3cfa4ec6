"""Grad-CAM points at the evidence the network uses."""
import numpy as np

import minicnn
from experiments.inspection.predict import grad_cam
from experiments.training.models import ModelConfig, build_model


def test_grad_cam_points_at_the_evidence():
    """A model whose only evidence is a bright spot: the map is hottest there."""
    minicnn.manual_seed(0)
    model = build_model(ModelConfig(blocks=1, channels=(1,), input_size=16))
    with minicnn.no_grad():
        model.block1[0].weight.fill_(0.0)
        model.block1[0].weight.array[0, 0, 1, 1] = 1.0  # identity filter
        model.block1[0].bias.fill_(0.0)
        model.fc.weight.fill_(0.0)
        model.fc.weight.array[3] = 1.0  # grade 3 = total activation
        model.fc.bias.fill_(0.0)
    model.eval()
    crops = np.zeros((1, 1, 16, 16), np.float32)
    crops[0, 0, 4:6, 10:12] = 5.0
    probabilities, maps = grad_cam(model, crops)
    assert probabilities[0].argmax() == 3
    hot = np.unravel_index(maps[0].argmax(), maps[0].shape)
    assert 2 <= hot[0] <= 7 and 8 <= hot[1] <= 13
