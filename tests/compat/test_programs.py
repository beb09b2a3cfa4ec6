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
    for key in ("train_loss", "test_loss"):
        assert ours[key] == pytest.approx(theirs[key], rel=LOSS_RTOL), key
    for key in ("accuracy", "reloaded_accuracy"):
        assert abs(ours[key] - theirs[key]) <= 1 / test_size + 1e-12, key
    assert ours["reloaded_accuracy"] == ours["accuracy"]
    assert ours["lr"] == pytest.approx(theirs["lr"], rel=1e-12)


def _run(name, model_expression, tmp_path):
    runs = run_both(name, model_expression, tmp_path)
    print("\n" + report(name, runs))
    return runs["torch"][0], runs["minicnn"][0]


def test_mnist_style_cnn_with_adadelta_and_steplr(tmp_path):
    theirs, ours = _run("mnist_cnn", "Net()", tmp_path)
    _assert_classifier_agrees(ours, theirs, test_size=397)
