"""Checks of configuration values, so that a bad value stops the command before any work.

Each check raises :class:`BadValue` (a ValueError) naming the key, the value and the allowed
range; ``config_from_dict`` and ``load_study`` put the file and the table in front. TOML
integers must be integers (not ``true``, not ``3.0``) where a count is meant.
"""
from __future__ import annotations

import math
import tomllib


class BadValue(ValueError):
    """A configuration value outside its allowed range: ``key = value: rule``."""

    def __init__(self, key: str, value, rule: str):
        super().__init__(f"{key} = {value!r}: {rule}")


def integer(key: str, value, low: int, high: int | None = None) -> None:
    """``value`` is an int (not a bool) in ``[low, high]``."""
    rule = f"must be an integer >= {low}" if high is None else \
        f"must be an integer from {low} to {high}"
    if isinstance(value, bool) or not isinstance(value, int) or value < low or \
            (high is not None and value > high):
        raise BadValue(key, value, rule)


def number(key: str, value, low: float, high: float, low_open: bool = False,
           high_open: bool = False) -> None:
    """``value`` is a finite int or float in the interval, open at the ends asked."""
    rule = f"must be a number in {'(' if low_open else '['}{low:g}, " \
           f"{high:g}{')' if high_open else ']'}" if math.isfinite(high) else \
        f"must be a finite number {'>' if low_open else '>='} {low:g}"
    ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
          and (value > low if low_open else value >= low)
          and (value < high if high_open else value <= high))
    if not ok:
        raise BadValue(key, value, rule)


def choice(key: str, value, allowed: tuple) -> None:
    if value not in allowed:
        raise BadValue(key, value, f"must be one of {list(allowed)}")


def boolean(key: str, value) -> None:
    if not isinstance(value, bool):
        raise BadValue(key, value, "must be true or false")


def read_toml(path: str) -> dict:
    """The TOML file at ``path``; a syntax error names the file (ValueError)."""
    with open(path, "rb") as f:
        try:
            return tomllib.load(f)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path}: not valid TOML: {err}") from None
