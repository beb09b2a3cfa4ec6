"""The demo: a small minicnn CNN on scikit-learn's digits reaches at least 97% test accuracy."""
from examples import digits


def test_the_split_is_stratified_80_20():
    x_train, x_test, y_train, y_test = digits.digits_split(0)
    assert x_train.shape == (1437, 1, 8, 8) and x_test.shape == (360, 1, 8, 8)
    assert x_train.min() == 0.0 and x_train.max() == 1.0  # pixel values 0..16, divided by 16
    assert abs((y_test == 3).mean() - (y_train == 3).mean()) < 0.01


def test_the_demo_run_reaches_97_percent(capsys):
    assert digits.main(["--epochs", "15", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    accuracy = float(out.split("test accuracy ")[1].split("%")[0])
    assert accuracy >= 97.0
