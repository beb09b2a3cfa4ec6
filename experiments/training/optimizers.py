"""The optimizer a training configuration names (``[train] optimizer``)."""
from __future__ import annotations

from minicnn import optim

OPTIMIZERS = ("sgd", "momentum", "adagrad", "adam")


def make_optimizer(config, parameters):
    """The optimizer of ``config`` (a :class:`.config.TrainConfig`: ``optimizer``, ``lr``,
    ``momentum``, ``weight_decay``) over ``parameters``; 'momentum' is SGD with momentum."""
    params = list(parameters)
    if config.optimizer == "sgd":
        return optim.SGD(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "momentum":
        return optim.SGD(params, lr=config.lr, momentum=config.momentum,
                         weight_decay=config.weight_decay)
    if config.optimizer == "adagrad":
        return optim.Adagrad(params, lr=config.lr, weight_decay=config.weight_decay)
    return optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
