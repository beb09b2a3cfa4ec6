"""PyTorch programs written the way the official examples and tutorials are, run once with
torch and once with only their imports rewritten to minicnn, from the same initial weights;
the metrics must agree (see each test for the tolerance and why)."""
import pytest

from tests.compat.program_runner import report, run_both

pytestmark = pytest.mark.oracle


# Tolerances. Both engines compute in float32 from the same weights on the same batches in the
# same order, so they differ only by rounding (about 6e-8 relative per operation), which
# training carries along but, over these few hundred steps, does not blow up: losses agree to
# 1e-4 relative (the float32 oracle tolerance of tests/engine; measured differences are about
# 1e-6). A test sample's predicted class could flip only where two logits tie to within that
# rounding, so accuracies may differ by at most one test sample.
LOSS_RTOL = 1e-4


def _assert_classifier_agrees(ours, theirs, test_size):
    assert ours.keys() == theirs.keys()
    for key in ("train_loss", "test_loss"):
        if key in theirs:
            assert ours[key] == pytest.approx(theirs[key], rel=LOSS_RTOL), key
    for key in ("accuracy", "reloaded_accuracy"):
        if key in theirs:
            assert abs(ours[key] - theirs[key]) <= 1 / test_size + 1e-12, key
    if "reloaded_accuracy" in theirs:
        assert ours["reloaded_accuracy"] == ours["accuracy"]
    if "lr" in theirs:     # the schedulers' closed forms, in float64 in both
        assert ours["lr"] == pytest.approx(theirs["lr"], rel=1e-12)


def _run(name, model_expression, tmp_path):
    runs = run_both(name, model_expression, tmp_path)
    print("\n" + report(name, runs))
    return runs["torch"][0], runs["minicnn"][0]


def test_mnist_style_cnn_with_adadelta_and_steplr(tmp_path):
    theirs, ours = _run("mnist_cnn", "Net()", tmp_path)
    _assert_classifier_agrees(ours, theirs, test_size=397)


def test_blitz_style_cifar_cnn_with_sgd_momentum_and_onecycle(tmp_path):
    theirs, ours = _run("cifar_blitz", "Net()", tmp_path)
    _assert_classifier_agrees(ours, theirs, test_size=597)
    # the worst class has 30 to 70 test samples: one flipped sample moves it by at most 1/30
    assert abs(ours["worst_class_accuracy"] - theirs["worst_class_accuracy"]) <= 1 / 30


def test_quickstart_style_mlp(tmp_path):
    theirs, ours = _run("quickstart_mlp", "NeuralNetwork()", tmp_path)
    _assert_classifier_agrees(ours, theirs, test_size=297)
    assert ours["first_prediction"] == theirs["first_prediction"]


def test_regression_style_polynomial_fit(tmp_path):
    theirs, ours = _run("regression_poly", "torch.nn.Linear(4, 1)", tmp_path)
    # The stopping step is where the loss first drops below 1e-3; the losses agree to about
    # 1e-6 relative, so the step could move only if one lands within that of the threshold.
    assert abs(ours["batches"] - theirs["batches"]) <= 1
    for key in ("loss", "weight_error", "bias"):
        assert ours[key] == pytest.approx(theirs[key], rel=LOSS_RTOL), key
