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



def split_passthrough(argv: list[str]) -> tuple[list[str], list[str]]:
    """``argv`` before a ``--`` (this script's own arguments) and after it (passed to the command)."""
    if "--" not in argv:
        return argv, []
    i = argv.index("--")
    return argv[:i], argv[i + 1:]


def kernel_env(cap: str) -> dict[str, str]:
    """This process's environment, one thread, with PyTorch's CPU kernel set ``cap``
    (``ATEN_CPU_CAPABILITY``: "default", "avx2", …; "native" = what this CPU picks)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.pop("ATEN_CPU_CAPABILITY", None)
    if cap != "native":
        env["ATEN_CPU_CAPABILITY"] = cap
    return env
