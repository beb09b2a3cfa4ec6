"""Schedulers made of schedulers: SequentialLR and ChainedScheduler."""
from __future__ import annotations

from bisect import bisect_right

from .plateau import ReduceLROnPlateau
from .scheduler import LRScheduler, check_optimizer, group_lrs


def _check_schedulers(owner, schedulers, optimizer) -> None:
    name = type(owner).__name__
    if len(schedulers) < 1:
        raise ValueError(f"{name}: expects at least one scheduler, got none")
    for i, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{name}: the scheduler at index {i} ({type(scheduler).__name__}) "
                            f"has no `optimizer`")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{name}: does not support ReduceLROnPlateau (its step needs a "
                             f"metric), got one at index {i}")
        if scheduler.optimizer is not optimizer:
            raise ValueError(f"{name}: every scheduler must belong to the same optimizer; the "
                             f"{type(scheduler).__name__} at index {i} has another")


class _Composite(LRScheduler):
    """Saves and restores the state of its ``_schedulers`` with its own."""

    def state_dict(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        saved = state_dict.pop("_schedulers")
        self.__dict__.update(state_dict)
        for scheduler, state in zip(self._schedulers, saved):
            scheduler.load_state_dict(state)


class SequentialLR(_Composite):
    """Run ``schedulers[i]`` from ``milestones[i-1]`` to ``milestones[i]``; each one after
    the first restarts (its closed form at epoch 0) at its milestone."""

    def __init__(self, optimizer, schedulers: list, milestones: list, last_epoch: int = -1):
        check_optimizer(self, optimizer)
        _check_schedulers(self, schedulers, optimizer)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: expects one milestone fewer than schedulers, got "
                             f"{len(schedulers)} schedulers and {len(milestones)} milestones")
        self._schedulers, self._milestones = list(schedulers), list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:  # undo the step each made at its construction
            scheduler.last_epoch -= 1
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Step every scheduler in ``schedulers`` at each ``step()``, in order (their factors
    multiply)."""

    def __init__(self, schedulers: list, optimizer=None):
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler: expects at least one scheduler, got none")
        optimizer = optimizer or schedulers[0].optimizer
        _check_schedulers(self, schedulers, optimizer)
        self._schedulers, self.optimizer = list(schedulers), optimizer
        self._last_lr = group_lrs(optimizer)

    def step(self) -> None:
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = group_lrs(self.optimizer)
