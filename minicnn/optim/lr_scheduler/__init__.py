"""Learning-rate schedulers, shaped like ``torch.optim.lr_scheduler``.

A scheduler is made on an optimizer, sets each group's ``lr`` at construction (epoch 0) and
at every ``step()`` after (call it after ``optimizer.step()``, as in torch). Each group
keeps its starting rate under ``'initial_lr'`` (``base_lrs``); ``last_epoch`` counts the
steps; ``get_last_lr()`` is the list of the groups' current rates; ``state_dict()`` /
``load_state_dict()`` save and restore everything but the optimizer.

The numbers follow torch's exactly, because ``step()`` uses the same recursive forms
(``lr_t`` from ``lr_{t-1}``) as torch, in the same floating-point order; the closed forms
(in terms of ``base_lr`` and ``t = last_epoch``) are what they compute:

=====================  ============================================================
StepLR                 ``base_lr * gamma ** (t // step_size)``
MultiStepLR            ``base_lr * gamma ** (number of milestones <= t)``
ExponentialLR          ``base_lr * gamma ** t``
CosineAnnealingLR      ``eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2``
LambdaLR               ``base_lr * lr_lambda(t)``
MultiplicativeLR       ``lr_{t-1} * lr_lambda(t)``
ConstantLR             ``base_lr * factor`` before ``total_iters``, ``base_lr`` after
PolynomialLR           ``base_lr * (1 - min(t, total_iters) / total_iters) ** power``
CosineAnnealingWR      the cosine above, restarted after ``T_0``, ``T_0 * T_mult``, ... epochs
LinearLR               ``base_lr * (s + (e - s) * min(t, total_iters) / total_iters)``
SequentialLR           the ``i``-th scheduler between the ``i``-th and ``i+1``-th milestones,
                       restarted at its milestone
ChainedScheduler       every scheduler stepped in turn (their factors multiply)
OneCycleLR             from ``max_lr / div_factor`` up to ``max_lr`` over ``pct_start`` of
                       ``total_steps``, then down to ``initial_lr / final_div_factor``
                       (cosine or linear); momentum (or Adam's beta1) the opposite way
ReduceLROnPlateau      ``lr <- max(lr * factor, min_lr)`` after ``patience`` steps without
                       improvement of the metric passed to ``step(metric)``
=====================  ============================================================
"""
from .composite import ChainedScheduler, SequentialLR
from .cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts
from .multiplicative import (
    ConstantLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from .one_cycle import OneCycleLR
from .plateau import ReduceLROnPlateau
from .scheduler import LRScheduler

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ExponentialLR",
           "ConstantLR", "LinearLR", "PolynomialLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "SequentialLR", "ChainedScheduler", "OneCycleLR",
           "ReduceLROnPlateau"]
