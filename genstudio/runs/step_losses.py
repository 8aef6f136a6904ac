"""The metrics of the steps since the last logged one (Qt-free): summed on the device, averaged over
every rank when logged, and judged by a :class:`~genstudio.runs.faults.LossGuard`, also before a
checkpoint between two logged steps.

Summing on the device and reading only when logging avoids a GPU sync every step.
"""

from __future__ import annotations

from typing import Any

import torch

from genstudio.runs import distributed
from genstudio.runs.faults import LossGuard

__all__ = ["StepLosses", "across_ranks", "mean_metrics"]


class StepLosses:
    """The metrics of the steps since the last logged one (summed on the device, read only when
    logged or judged), and the :class:`LossGuard` that judges them."""

    def __init__(self) -> None:
        self.guard = LossGuard()
        self.clear()

    def clear(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, torch.Tensor] = {}

    def add(self, metrics: dict[str, torch.Tensor]) -> None:
        sums, counts = self.sums, self.counts
        for k, v in metrics.items():
            finite = torch.isfinite(v)
            sums[k] = sums.get(k, 0) + torch.where(finite, v, torch.zeros_like(v))
            counts[k] = counts.get(k, 0) + finite.to(v.dtype)
            if k.startswith("loss"):  # a NaN/inf loss must not be averaged away
                sums[k] = sums[k] + torch.where(finite, torch.zeros_like(v), v)

    def take(self) -> dict[str, Any]:
        """The means over every rank of the metrics since the last call (one all-reduce)."""
        values = mean_metrics(*across_ranks(self.sums, self.counts))
        self.clear()
        return values

    def pending_fault(self, step: int, collective: bool = True) -> str | None:
        """What diverged in the steps not yet logged, or None. Without ``collective`` (when the
        ranks may not all be here) a multi-process run judges nothing."""
        if not self.sums:
            return None
        if collective:
            sums, counts = across_ranks(self.sums, self.counts)
        elif distributed.env_info().enabled:
            return None
        else:
            sums, counts = self.sums, self.counts
        return self.guard.judge(mean_metrics(sums, counts), step)


def across_ranks(sums: dict[str, torch.Tensor], counts: dict[str, torch.Tensor]
                  ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Sums and counts over all ranks (one all-reduce), so logged metrics are means over every rank."""
    keys = list(sums)
    total = distributed.sum_across_ranks([sums[k] for k in keys] + [counts[k] for k in keys])
    return dict(zip(keys, total[:len(keys)])), dict(zip(keys, total[len(keys):]))


def mean_metrics(sums: dict[str, torch.Tensor], counts: dict[str, torch.Tensor]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, s in sums.items():
        c = counts[k]
        mean = (s / c.clamp(min=1)).where(c > 0, torch.full_like(s, float("nan")))
        if "loss" in k:
            mean = torch.where(torch.isfinite(s), mean, s)  # keep NaN/inf visible for divergence checks
        arr = mean.detach().float().cpu().numpy()
        out[k] = float(arr) if arr.ndim == 0 else [float(x) for x in arr]
    return out
