"""Every scheduler's learning rates (and OneCycleLR's momentum) match torch's over 100
steps, also when saved with state_dict() half-way and resumed in a fresh scheduler."""
import math

import numpy as np
import pytest
import torch

import minicnn
from minicnn import optim
from minicnn.optim import lr_scheduler

pytestmark = pytest.mark.oracle

STEPS = 100


def warmup(epoch):
    return min(1.0, (epoch + 1) / 10) * 0.97 ** epoch


# name -> (optimizer name and options, scheduler factory given the lr_scheduler module)
SCHEDULES = {
    "StepLR": ("SGD", lambda s, o: s.StepLR(o, step_size=7, gamma=0.5)),
    "MultiStepLR": ("SGD", lambda s, o: s.MultiStepLR(o, milestones=[10, 30, 30, 75],
                                                      gamma=0.3)),
    "ExponentialLR": ("SGD", lambda s, o: s.ExponentialLR(o, gamma=0.95)),
    "CosineAnnealingLR": ("SGD", lambda s, o: s.CosineAnnealingLR(o, T_max=40, eta_min=1e-3)),
    "LambdaLR": ("SGD", lambda s, o: s.LambdaLR(o, lr_lambda=warmup)),
    "LambdaLR-per-group": ("SGD", lambda s, o: s.LambdaLR(
        o, lr_lambda=[warmup, lambda epoch: 1 / (1 + epoch)])),
    "LinearLR": ("SGD", lambda s, o: s.LinearLR(o, start_factor=0.1, end_factor=0.9,
                                                total_iters=30)),
    "LinearLR-defaults": ("SGD", lambda s, o: s.LinearLR(o)),
    "SequentialLR": ("SGD", lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, start_factor=0.2, total_iters=10),
            s.CosineAnnealingLR(o, T_max=30), s.ExponentialLR(o, gamma=0.9)],
        milestones=[10, 45])),
    "MultiplicativeLR": ("SGD", lambda s, o: s.MultiplicativeLR(
        o, lr_lambda=lambda epoch: 0.9 if epoch % 3 else 1.05)),
    "ConstantLR": ("SGD", lambda s, o: s.ConstantLR(o, factor=0.3, total_iters=12)),
    "PolynomialLR": ("SGD", lambda s, o: s.PolynomialLR(o, total_iters=60, power=2.5)),
    "CosineAnnealingWarmRestarts": ("SGD", lambda s, o: s.CosineAnnealingWarmRestarts(
        o, T_0=10, T_mult=2, eta_min=1e-3)),
    "ChainedScheduler": ("SGD", lambda s, o: s.ChainedScheduler(
        [s.ConstantLR(o, factor=0.5, total_iters=5), s.ExponentialLR(o, gamma=0.97)])),
    "SequentialLR-closed-forms": ("SGD", lambda s, o: s.SequentialLR(
        o, [s.ConstantLR(o, factor=0.5, total_iters=3), s.PolynomialLR(o, total_iters=20),
            s.StepLR(o, step_size=5), s.MultiStepLR(o, [3, 8])], milestones=[5, 30, 60])),
    "OneCycleLR-cos-SGD": ("SGD", lambda s, o: s.OneCycleLR(o, max_lr=[0.5, 0.1],
                                                           total_steps=STEPS)),
    "OneCycleLR-linear-three-phase": ("SGD", lambda s, o: s.OneCycleLR(
        o, max_lr=0.4, epochs=10, steps_per_epoch=10, pct_start=0.25,
        anneal_strategy="linear", three_phase=True, div_factor=10.0, final_div_factor=100.0)),
    "OneCycleLR-Adam-betas": ("Adam", lambda s, o: s.OneCycleLR(
        o, max_lr=0.01, total_steps=STEPS, base_momentum=0.8, max_momentum=0.9)),
    "OneCycleLR-no-momentum": ("Adam", lambda s, o: s.OneCycleLR(
        o, max_lr=0.01, total_steps=STEPS + 20, cycle_momentum=False)),
}

OPTIMIZERS = {"SGD": dict(lr=0.1, momentum=0.9), "Adam": dict(lr=0.01)}


def make_optimizer(library, name):
    """Two groups (the second with its own lr) over a parameter that is never updated
    (no gradient), so that only the schedule moves."""
    first, second = ((minicnn.nn.Parameter(np.zeros(2)), minicnn.nn.Parameter(np.zeros(3)))
                     if library is optim else
                     (torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))))
    groups = [{"params": [first]}, {"params": [second], "lr": OPTIMIZERS[name]["lr"] / 5}]
    return getattr(library, name)(groups, **OPTIMIZERS[name])


def hyperparameters(optimizer):
    """Each group's lr and, where present, momentum and beta1."""
    return [(g["lr"], g.get("momentum", 0.0), g.get("betas", (0.0,))[0])
            for g in optimizer.param_groups]


def run(library, schedules, name, steps, resume_at=None):
    """Rates after construction and after each of ``steps`` steps; at ``resume_at`` the
    optimizer and scheduler are saved and loaded into fresh ones that carry on."""
    optimizer_name, make = SCHEDULES[name]
    optimizer = make_optimizer(library, optimizer_name)
    scheduler = make(schedules, optimizer)
    seen = [hyperparameters(optimizer)]
    last = [scheduler.get_last_lr()]
    for step in range(steps):
        if step == resume_at:
            saved_optimizer, saved_scheduler = optimizer.state_dict(), scheduler.state_dict()
            optimizer = make_optimizer(library, optimizer_name)
            scheduler = make(schedules, optimizer)
            optimizer.load_state_dict(saved_optimizer)
            scheduler.load_state_dict(saved_scheduler)
        optimizer.step()
        scheduler.step()
        seen.append(hyperparameters(optimizer))
        last.append(scheduler.get_last_lr())
    return np.array(seen), np.array(last)


@pytest.mark.parametrize("resume_at", [None, STEPS // 2])
@pytest.mark.parametrize("name", SCHEDULES)
def test_a_hundred_steps_match_torch(name, resume_at):
    ours, our_last = run(optim, lr_scheduler, name, STEPS, resume_at)
    theirs, their_last = run(torch.optim, torch.optim.lr_scheduler, name, STEPS)
    assert np.ptp(theirs[:, :, 0]) > 0  # the schedule really moves the rate
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0)
    np.testing.assert_allclose(our_last, their_last, rtol=1e-13, atol=0)
    np.testing.assert_allclose(our_last, ours[:, :, 0], rtol=0, atol=0)


CLOSED_FORMS = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
                "ConstantLR", "PolynomialLR", "LambdaLR"]


@pytest.mark.parametrize("name", CLOSED_FORMS)
@pytest.mark.filterwarnings("ignore:.*(deprecated|EPOCH).*:UserWarning")
def test_stepping_to_a_given_epoch_uses_torch_s_closed_form(name):
    """``step(epoch)`` (deprecated in torch, still there) jumps to the closed form."""
    rates = []
    for library in (optim, torch.optim):
        optimizer = make_optimizer(library, "SGD")
        scheduler = SCHEDULES[name][1](library.lr_scheduler, optimizer)
        seen = []
        for epoch in (3, 12, 11, 12, 0, 7, 30, 45, 29, 60, 99):
            optimizer.step()
            scheduler.step(epoch)
            seen.append(scheduler.get_last_lr())
        rates.append(np.array(seen))
    np.testing.assert_allclose(rates[0], rates[1], rtol=1e-13, atol=0)


def test_warm_restarts_at_fractional_epochs_match_torch():
    """CosineAnnealingWarmRestarts stepped with ``epoch + i / iters``, as its docs show."""
    rates = []
    for library in (optim, torch.optim):
        optimizer = make_optimizer(library, "SGD")
        scheduler = library.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=3, T_mult=2)
        seen = []
        for epoch in range(12):
            for i in range(5):
                optimizer.step()
                scheduler.step(epoch + i / 5)
                seen.append(scheduler.get_last_lr())
        rates.append(np.array(seen))
    np.testing.assert_allclose(rates[0], rates[1], rtol=1e-13, atol=0)


def test_initial_lr_and_last_epoch_are_torch_s():
    ours, theirs = make_optimizer(optim, "SGD"), make_optimizer(torch.optim, "SGD")
    a, b = lr_scheduler.StepLR(ours, 3), torch.optim.lr_scheduler.StepLR(theirs, 3)
    for _ in range(4):
        ours.step(), theirs.step(), a.step(), b.step()
    assert a.last_epoch == b.last_epoch == 4
    assert [g["initial_lr"] for g in ours.param_groups] == [
        g["initial_lr"] for g in theirs.param_groups] == [0.1, 0.02]
    assert a.base_lrs == b.base_lrs


LOSSES = np.concatenate([np.linspace(1.0, 0.5, 20), np.full(15, 0.5), 0.5 - 1e-5 * np.arange(10),
                         np.linspace(0.5, 0.3, 15), np.full(40, 0.31)])
PLATEAUS = [
    dict(),
    dict(patience=2, factor=0.5),
    dict(patience=3, factor=0.5, cooldown=4, min_lr=[0.01, 0.005]),
    dict(patience=1, factor=0.3, threshold=0.01, threshold_mode="abs", min_lr=1e-3),
    dict(mode="max", patience=2, factor=0.5, eps=1e-3),
    dict(mode="max", patience=0, threshold_mode="abs", threshold=0.0),
]


@pytest.mark.parametrize("options", PLATEAUS, ids=[str(p) for p in PLATEAUS])
def test_reduce_on_plateau_follows_torch_on_a_fixed_loss_sequence(options):
    assert len(LOSSES) == STEPS
    rates = []
    for library in (optim, torch.optim):
        optimizer = make_optimizer(library, "SGD")
        scheduler = library.lr_scheduler.ReduceLROnPlateau(optimizer, **options)
        seen = []
        for step, loss in enumerate(LOSSES):
            if step == STEPS // 2:
                saved = scheduler.state_dict()
                scheduler = library.lr_scheduler.ReduceLROnPlateau(optimizer, **options)
                scheduler.load_state_dict(saved)
            optimizer.step()
            scheduler.step(loss)
            seen.append(scheduler.get_last_lr())
        rates.append(np.array(seen))
        assert scheduler.last_epoch == STEPS
    assert len(np.unique(rates[1][:, 0])) > 1  # the rate really dropped
    np.testing.assert_allclose(rates[0], rates[1], rtol=1e-13, atol=0)


def test_lambda_lr_state_keeps_a_callable_object_s_attributes():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    optimizer = make_optimizer(optim, "SGD")
    scheduler = lr_scheduler.LambdaLR(optimizer, [Decay(0.5), lambda epoch: 1.0])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"rate": 0.5}, None]
    fresh = lr_scheduler.LambdaLR(make_optimizer(optim, "SGD"), [Decay(0.9), lambda e: 1.0])
    fresh.load_state_dict(state)
    assert fresh.lr_lambdas[0].rate == 0.5


def test_a_scheduler_stepped_before_the_optimizer_warns_as_torch():
    for library in (optim, torch.optim):
        scheduler = library.lr_scheduler.StepLR(make_optimizer(library, "SGD"), 2)
        with pytest.warns(UserWarning, match="before `?optimizer.step\\(\\)"):
            scheduler.step()


BAD = [
    ("not an optimizer", TypeError, "StepLR",
     lambda s, o: s.StepLR("sgd", step_size=2)),
    ("OneCycleLR on a list", TypeError, "OneCycleLR",
     lambda s, o: s.OneCycleLR([1], max_lr=0.1, total_steps=10)),
    ("ReduceLROnPlateau on None", TypeError, "ReduceLROnPlateau",
     lambda s, o: s.ReduceLROnPlateau(None)),
    ("factor 1", ValueError, "ReduceLROnPlateau.*1.5",
     lambda s, o: s.ReduceLROnPlateau(o, factor=1.5)),
    ("unknown mode", ValueError, "ReduceLROnPlateau.*'low'",
     lambda s, o: s.ReduceLROnPlateau(o, mode="low")),
    ("start_factor 0", ValueError, "LinearLR.*start_factor.*0",
     lambda s, o: s.LinearLR(o, start_factor=0)),
    ("end_factor 2", ValueError, "LinearLR.*end_factor.*2",
     lambda s, o: s.LinearLR(o, end_factor=2.0)),
    ("no total_steps", ValueError, "OneCycleLR.*total_steps",
     lambda s, o: s.OneCycleLR(o, max_lr=0.1)),
    ("total_steps 0", ValueError, "OneCycleLR.*total_steps.*0",
     lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=0)),
    ("max_lr per group of the wrong length", ValueError, "OneCycleLR.*max_lr.*3",
     lambda s, o: s.OneCycleLR(o, max_lr=[0.1, 0.2, 0.3], total_steps=10)),
    ("pct_start 2", ValueError, "OneCycleLR.*pct_start.*2",
     lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=2.0)),
    ("anneal_strategy", ValueError, "OneCycleLR.*'exp'",
     lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=10, anneal_strategy="exp")),
    ("LambdaLR lambdas of the wrong length", ValueError, "LambdaLR.*2.*3",
     lambda s, o: s.LambdaLR(o, [warmup] * 3)),
    ("SequentialLR milestones", ValueError, "SequentialLR.*2 schedulers.*2 milestones",
     lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2), s.StepLR(o, 3)], milestones=[1, 2])),
    ("SequentialLR no schedulers", ValueError, "SequentialLR",
     lambda s, o: s.SequentialLR(o, [], milestones=[])),
    ("MultiplicativeLR lr_lambda not callable", TypeError, "MultiplicativeLR.*float",
     lambda s, o: s.MultiplicativeLR(o, 0.5)),
    ("ConstantLR factor 2", ValueError, "ConstantLR.*factor.*2",
     lambda s, o: s.ConstantLR(o, factor=2.0)),
    ("warm restarts T_0 0", ValueError, "CosineAnnealingWarmRestarts.*T_0.*0",
     lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=0)),
    ("warm restarts T_mult 1.5", ValueError, "CosineAnnealingWarmRestarts.*T_mult.*1.5",
     lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5)),
    ("ChainedScheduler of nothing", ValueError, "ChainedScheduler",
     lambda s, o: s.ChainedScheduler([])),
    ("ChainedScheduler over ReduceLROnPlateau", ValueError, "ChainedScheduler.*ReduceLROnPlateau",
     lambda s, o: s.ChainedScheduler([s.StepLR(o, 2), s.ReduceLROnPlateau(o)])),
    ("resume without initial_lr", KeyError, "StepLR.*initial_lr",
     lambda s, o: s.StepLR(o, 2, last_epoch=3)),
]


@pytest.mark.parametrize("what,error,message,make", BAD, ids=[b[0] for b in BAD])
def test_bad_arguments_raise_torch_s_error(what, error, message, make):
    with pytest.raises(error):
        make(torch.optim.lr_scheduler, make_optimizer(torch.optim, "SGD"))
    with pytest.raises(error, match=message):
        make(lr_scheduler, make_optimizer(optim, "SGD"))


def test_one_cycle_stepped_past_its_total_raises_value_error():
    scheduler = lr_scheduler.OneCycleLR(make_optimizer(optim, "SGD"), 0.1, total_steps=3)
    for _ in range(3):
        scheduler.optimizer.step()
        scheduler.step()
    with pytest.raises(ValueError, match="OneCycleLR: tried to step 4 times; total_steps is 3"):
        scheduler.step()


def test_cosine_closed_form_is_the_half_cosine():
    """Hand-worked: T_max 4, from 1 to 0: (1 + cos(pi t / 4)) / 2 at t = 0..4."""
    p = minicnn.nn.Parameter(np.zeros(1))
    optimizer = optim.SGD([p], lr=1.0)
    scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=4)
    rates = [scheduler.get_last_lr()[0]]
    for _ in range(4):
        optimizer.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
    np.testing.assert_allclose(rates, [1, (1 + math.sqrt(0.5)) / 2, 0.5,
                                       (1 - math.sqrt(0.5)) / 2, 0], atol=1e-15)
