"""Every loss matches PyTorch, as a function and as a module, for each reduction: the value
and the gradients of the input and (where torch gives one) of the target; float32 to rtol
1e-4, float64 to rtol 1e-10."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import minicnn
from minicnn import nn
from minicnn.nn import functional as F
from tests.engine.torch_oracle import assert_matches, pair_of_inputs

pytestmark = pytest.mark.oracle
DTYPES = [np.float32, np.float64]
REDUCTIONS = ["mean", "sum", "none"]


def compare(ours_fn, theirs_fn, x, t, dtype, target_grad=True):
    """Both engines on the same input and target; compare the loss and the gradients."""
    x_ours, x_theirs = pair_of_inputs(x.astype(dtype))
    if target_grad:
        t_ours, t_theirs = pair_of_inputs(t.astype(dtype))
    else:
        t_ours, t_theirs = minicnn.tensor(t), torch.tensor(t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y_ours, y_theirs = ours_fn(x_ours, t_ours), theirs_fn(x_theirs, t_theirs)
    assert_matches(y_ours, y_theirs, dtype, "loss")
    g = np.random.default_rng(5).standard_normal(y_theirs.shape).astype(dtype)
    y_ours.backward(minicnn.tensor(g))
    y_theirs.backward(torch.tensor(g))
    assert_matches(x_ours.grad, x_theirs.grad, dtype, "input gradient")
    if target_grad:
        assert_matches(t_ours.grad, t_theirs.grad, dtype, "target gradient")


def normal(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def unit(shape, seed):
    return np.random.default_rng(seed).uniform(0.02, 0.98, shape)


WEIGHT = np.array([0.5, 2.0, 1.0, 1.5, 0.3])


def both(name, **kw):
    """The minicnn and torch functions of ``name`` with the keywords given."""
    ours, theirs = getattr(F, name), getattr(TF, name)
    conv = {k: (v if not isinstance(v, np.ndarray) else (v, torch.tensor(v)))
            for k, v in kw.items()}

    def pick(i):
        return {k: (v[i] if isinstance(v, tuple) else v) for k, v in conv.items()}
    return (lambda x, t: ours(x, t, **pick(0))), (lambda x, t: theirs(x, t, **pick(1)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw", [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.3}),
    ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}), ("huber_loss", {"delta": 0.4}),
])
def test_regression_losses(name, kw, reduction, dtype):
    ours, theirs = both(name, reduction=reduction, **kw)
    compare(ours, theirs, normal((4, 5), 0), normal((4, 5), 1), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_regression_losses_with_weight(name, dtype):
    w = np.random.default_rng(3).uniform(0, 2, (4, 5)).astype(dtype)
    ours, theirs = both(name, weight=w)
    compare(ours, theirs, normal((4, 5), 0), normal((4, 5), 1), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_broadcast_target_warns_and_broadcasts_as_torch(dtype):
    ours, theirs = both("mse_loss")
    compare(ours, theirs, normal((4, 5), 0), normal((5,), 1), dtype)
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(minicnn.zeros(4, 1), minicnn.zeros(4))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(weighted, reduction, dtype):
    kw = {"weight": WEIGHT.astype(dtype)} if weighted else {}
    ours, theirs = both("binary_cross_entropy", reduction=reduction, **kw)
    compare(ours, theirs, unit((3, 5), 0), unit((3, 5), 1), dtype)


def test_binary_cross_entropy_clamps_its_logs_at_minus_100():
    x, t = np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0])
    ours, theirs = both("binary_cross_entropy", reduction="none")
    compare(ours, theirs, x, t, np.float64, target_grad=False)
    assert F.binary_cross_entropy(minicnn.tensor(x), minicnn.tensor(t), reduction="none").tolist() \
        == [100.0, 100.0, 0.0, 0.0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_binary_cross_entropy_with_logits(pos_weighted, weighted, reduction, dtype):
    kw = {"weight": WEIGHT.astype(dtype)} if weighted else {}
    if pos_weighted:
        kw["pos_weight"] = np.array([1.0, 3.0, 0.5, 2.0, 1.2], dtype=dtype)
    x = normal((3, 5), 0) * 10  # large logits: the stable form matters
    ours, theirs = both("binary_cross_entropy_with_logits", reduction=reduction, **kw)
    compare(ours, theirs, x, unit((3, 5), 1), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(log_target, reduction, dtype):
    x = TF.log_softmax(torch.tensor(normal((3, 5), 0)), 1).numpy()
    t = TF.softmax(torch.tensor(normal((3, 5), 1)), 1).numpy()
    t = np.log(t) if log_target else t
    ours, theirs = both("kl_div", reduction=reduction, log_target=log_target)
    compare(ours, theirs, x, t, dtype)


def test_kl_div_counts_a_zero_target_as_zero():
    x, t = np.log(np.array([[0.2, 0.8]])), np.array([[0.0, 1.0]])
    ours, theirs = both("kl_div", reduction="sum")
    compare(ours, theirs, x, t, np.float64, target_grad=False)


CLASS_CASES = [
    ({}, (5, 4), [0, 2, 1, 3, 2]),
    ({"weight": WEIGHT[:4]}, (5, 4), [0, 2, 1, 3, 2]),
    ({"ignore_index": 2}, (5, 4), [0, 2, 1, 3, 2]),
    ({"weight": WEIGHT[:4], "ignore_index": 1}, (5, 4), [0, 2, 1, 3, 1]),
    ({"weight": WEIGHT[:3]}, (2, 3, 4), [[0, 2, 1, 1], [2, 2, 0, 1]]),  # (N, C, d)
    ({}, (4,), 3),  # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kw,shape,target", CLASS_CASES)
def test_nll_loss(kw, shape, target, reduction, dtype):
    logp = TF.log_softmax(torch.tensor(normal(shape, 0)), 0 if len(shape) == 1 else 1).numpy()
    kw = {k: (v.astype(dtype) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    ours, theirs = both("nll_loss", reduction=reduction, **kw)
    compare(ours, theirs, logp, np.array(target), dtype, target_grad=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("kw,shape,target", CLASS_CASES)
def test_cross_entropy_with_class_indices(kw, shape, target, smoothing, reduction, dtype):
    kw = {k: (v.astype(dtype) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    ours, theirs = both("cross_entropy", reduction=reduction, label_smoothing=smoothing, **kw)
    compare(ours, theirs, normal(shape, 0), np.array(target), dtype, target_grad=False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(3, 5), (2, 5, 3)])
def test_cross_entropy_with_class_probabilities(shape, weighted, reduction, dtype):
    kw = {"weight": WEIGHT.astype(dtype)} if weighted else {}
    probs = TF.softmax(torch.tensor(normal(shape, 1)), 1).numpy().astype(dtype)
    ours, theirs = both("cross_entropy", reduction=reduction, label_smoothing=0.1, **kw)
    compare(ours, theirs, normal(shape, 0), probs, dtype, target_grad=False)


def test_legacy_size_average_and_reduce_are_read_as_torch():
    for size_average, reduce in [(False, None), (None, False), (True, True)]:
        ours, theirs = both("mse_loss", size_average=size_average, reduce=reduce)
        compare(ours, theirs, normal((3, 2), 0), normal((3, 2), 1), np.float64)


MODULE_CASES = [
    (lambda: nn.NLLLoss(weight=minicnn.tensor(WEIGHT[:4]), reduction="sum"),
     lambda: torch.nn.NLLLoss(weight=torch.tensor(WEIGHT[:4]), reduction="sum"), "index"),
    (lambda: nn.CrossEntropyLoss(label_smoothing=0.2, ignore_index=0),
     lambda: torch.nn.CrossEntropyLoss(label_smoothing=0.2, ignore_index=0), "index"),
    (nn.MSELoss, torch.nn.MSELoss, "real"),
    (lambda: nn.L1Loss(reduction="none"), lambda: torch.nn.L1Loss(reduction="none"), "real"),
    (lambda: nn.SmoothL1Loss(beta=0.5), lambda: torch.nn.SmoothL1Loss(beta=0.5), "real"),
    (lambda: nn.HuberLoss(delta=0.5), lambda: torch.nn.HuberLoss(delta=0.5), "real"),
    (lambda: nn.BCELoss(weight=minicnn.tensor(WEIGHT[:4])),
     lambda: torch.nn.BCELoss(weight=torch.tensor(WEIGHT[:4])), "unit"),
    (lambda: nn.BCEWithLogitsLoss(pos_weight=minicnn.tensor(WEIGHT[:4])),
     lambda: torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(WEIGHT[:4])), "logits"),
    (lambda: nn.KLDivLoss(reduction="batchmean", log_target=True),
     lambda: torch.nn.KLDivLoss(reduction="batchmean", log_target=True), "real"),
]


@pytest.mark.parametrize("make_ours,make_theirs,kind", MODULE_CASES)
def test_loss_modules(make_ours, make_theirs, kind):
    x = normal((5, 4), 0)
    t = {"index": np.array([0, 2, 1, 3, 0]), "real": normal((5, 4), 1), "unit": unit((5, 4), 1),
         "logits": unit((5, 4), 1)}[kind]
    if kind == "unit":
        x = unit((5, 4), 0)
    compare(make_ours(), make_theirs(), x, t, np.float64, target_grad=kind != "index")
