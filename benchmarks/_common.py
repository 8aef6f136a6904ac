"""Small helpers the benchmarks share: the machine note, verdicts, interleaved timing.

Benchmarks compare GenStudio with a reference measured *in the same run*, interleaved round by
round, so that load from other processes on a shared machine hits both sides alike.
"""

from __future__ import annotations

import os
import platform
from typing import Callable

import numpy as np


def machine_note() -> str:
    """CPUs, torch threads and load averages (1, 5, 15 min), as ``uptime`` shows them."""
    import torch

    one, five, fifteen = os.getloadavg()
    return (f"machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
            f"torch {torch.__version__} on {torch.get_num_threads()} thread(s), "
            f"load average {one:.2f} {five:.2f} {fifteen:.2f}")


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def interleave(sides: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Call each side once per round (order alternating each round); their returned values by side.

    Each callable does one timed chunk of work and returns its seconds (or any figure).
    """
    out: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            out[name].append(sides[name]())
    return out


def median_ratio(numer: list[float], denom: list[float]) -> float:
    """Median over rounds of numer[i] / denom[i]."""
    return float(np.median(np.asarray(numer) / np.asarray(denom)))

