"""The checks every setting and constructor argument goes through, in one place.

Each names the setting, what it must be and the value it got; `check_int` and
`check_number` also say what to change. A value of the wrong type raises
`SettingTypeError`, which is both a `TypeError` (what Python raises for a wrong argument
type, and what `efftheory.sample` has always raised) and a `ValueError` (what the command
line reports as a bad setting rather than a traceback).
"""

import math

import numpy as np


class SettingTypeError(TypeError, ValueError):
    """A setting of the wrong type (a string or a bool where a number belongs, say)."""


def check_int(name: str, value: object, minimum: int, fix: str) -> None:
    """Raise unless `value` is an integer (not a bool) of at least `minimum`; `fix` says
    what to pass instead."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise SettingTypeError(f"{name} must be an integer, got {value!r}; {fix}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}; {fix}.")


def check_number(name: str, value: object, fix: str = "") -> None:
    """Raise unless `value` is a finite real number (not a bool)."""
    advice = f"; {fix}" if fix else ""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise SettingTypeError(f"{name} must be a finite number, got {value!r}{advice}.")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}{advice}.")


def check_bool(name: str, value: object) -> None:
    """Raise unless `value` is True or False."""
    if not isinstance(value, bool | np.bool_):
        raise SettingTypeError(f"{name} must be true or false, got {value!r}.")


def positive_int(value, name: str) -> int:
    """`value` as an int, or a ValueError unless it is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def positive_float(value, name: str) -> float:
    """`value` as a float, or a ValueError unless it is a positive finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}.")
    return float(value)
