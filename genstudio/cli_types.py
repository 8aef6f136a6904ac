"""The ``genstudio`` command's argument types: each turns a flag's text into a value, or into one clear
line that argparse prints with the usage (exit 2)."""

from __future__ import annotations

import argparse
import math

from genstudio.config import ConfigError, parse_lr


def _seconds(text: str) -> float:
    try:
        value = float(text.removesuffix("s"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text} is not a budget: give 0 < seconds ≤ 86400")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 8192:
        raise argparse.ArgumentTypeError(f"must lie in [0, 8192], not {value}")
    return value


def _guidances(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"guidance scales are numbers separated by commas, e.g. 0,1,3,7, "
                                         f"not {text!r}") from None
    if not values or any(v != v or v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"guidance scales must be numbers ≥ 0, e.g. 0,1,3,7, not {text!r}")
    return values


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be a whole number, not {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError("seed must lie in [0, 2**63)")
    return value


def _rate(text: str) -> float:
    try:
        return parse_lr(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _eta(text: str) -> float:
    value = float(text) if _is_float(text) else math.nan
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"eta must lie in [0, 1], not {text}")
    return value


def _guidance(text: str) -> float:
    from genstudio.diffusion.guidance import check_guidance

    try:
        return check_guidance(float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc) if _is_float(text) else f"guidance must be a number, not {text!r}") \
            from None


def _is_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _fps(text: str) -> float:
    value = float(text) if _is_float(text) else math.nan
    if not 0.1 <= value <= 50:  # a GIF stores whole hundredths of a second a frame: 50 fps is 2
        raise argparse.ArgumentTypeError(f"frames a second must lie in [0.1, 50], not {text}")
    return value
