"""The collapse alarm (Qt-free): does a batch of samples cover the data's modes, in fair shares?

Mode collapse — G putting all its samples on a few modes of the data — is the textbook failure of the
plain GAN (Goodfellow et al. 2014; measured on ring8 by Metz et al., *Unrolled GANs*). The run loop
judges every preview (:func:`assess`) and sends the :class:`CollapseReport` with it, so the Monitor
can say "collapse: 3 of 8 modes" while the run goes.

* 2-D mixtures (ring8, grid25): each sample within ``5σ`` of a mode centre counts for that mode (the
  protocol of :func:`genstudio.metrics.mode_coverage`); a mode with under a quarter of its fair share
  of those samples is missing, one with over twice its share is over-represented.
* digits: the shipped digits classifier (:mod:`genstudio.quality`) reads each image's class; with the
  64 images of a preview a class may be absent by chance (1 % each), so the alarm needs two absent
  classes, or one class with over 35 % of the images (fair: 10 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CollapseReport", "mode_report", "class_report", "assess", "REMEDIES_HINT"]

#: What the Monitor suggests when the alarm fires (the options of genstudio.gan.remedies).
REMEDIES_HINT = ("try an unrolled D (Metz et al.), minibatch std (Karras et al.), spectral norm or an R1 "
                 "penalty on D (Miyato et al., Mescheder et al.); mid-run: more D steps or a lower G rate")
MISSING = 0.25  # a mode with under this fraction of its fair share of on-mode samples is missing
OVER = 2.0  # a mode with over this many times its fair share is over-represented
MIN_PER_MODE = 10  # on-mode samples per mode needed to judge at all
CLASS_OVER = 0.35  # a class with over this share of the images is over-represented (fair: 1 / 10)
CLASSES_MISSING = 2  # this many absent classes make a collapse


@dataclass(frozen=True)
class CollapseReport:
    """How a batch of samples spreads over the data's modes (or classes); numbers only.

    ``counts[k]`` samples fell on mode (class) k; ``missing`` / ``over`` hold mode indices;
    ``judged`` is False when too few samples sit on any mode to say anything (early training).
    """

    kind: str  # "modes" (2-D mixture) | "classes" (digits classifier)
    counts: tuple[int, ...]
    n: int  # samples looked at
    missing: tuple[int, ...]
    over: tuple[int, ...]
    collapsed: bool
    judged: bool = True
    on_mode: float | None = None  # share of the samples within 5σ of a mode (2-D only)

    @property
    def total(self) -> int:
        return len(self.counts)

    @property
    def covered(self) -> int:
        """Modes (classes) with a fair enough share: not missing."""
        return self.total - len(self.missing)

    @property
    def shares(self) -> np.ndarray:
        """Each mode's share of the samples counted (sums to 1; zeros when none was)."""
        c = np.asarray(self.counts, np.float64)
        return c / c.sum() if c.sum() else c

    @property
    def message(self) -> str:
        """One line: "collapse: 3 of 8 modes" / "8 of 8 modes covered" / "too early to judge"."""
        noun = "modes" if self.kind == "modes" else "digit classes"
        if not self.judged:
            return f"{100 * (self.on_mode or 0):.0f} % of samples on a mode: too early to judge the {noun}"
        on = f" · {100 * self.on_mode:.0f} % of samples on a mode" if self.on_mode is not None else ""
        if not self.collapsed:
            return f"{self.covered} of {self.total} {noun} covered{on}"
        if self.missing:
            return f"collapse: {self.covered} of {self.total} {noun}{on}"
        top = int(np.argmax(self.counts))
        return (f"collapse: {'mode' if self.kind == 'modes' else 'digit'} {top} has "
                f"{100 * self.shares[top]:.0f} % of the samples (fair: {100 / self.total:.0f} %)")


def mode_report(points: np.ndarray, centers: np.ndarray, radius: float = 0.1) -> CollapseReport:
    """The alarm on 2-D samples ``points`` (N, 2) for a mixture with mode ``centers`` (K, 2).

    A sample within ``radius`` of its nearest centre counts for that mode (ring8's σ is 0.02, so
    0.1 is 5σ); the rest are off every mode and only lower ``on_mode``.
    """
    p = np.asarray(points, np.float64)  # (N, 2)
    c = np.asarray(centers, np.float64)  # (K, 2)
    k = len(c)
    finite = np.isfinite(p).all(axis=1)
    d = np.linalg.norm(p[finite][:, None, :] - c[None, :, :], axis=2) if finite.any() else np.zeros((0, k))
    near = d.argmin(axis=1) if len(d) else np.zeros(0, int)  # (N',)
    on = d.min(axis=1) <= radius if len(d) else np.zeros(0, bool)
    counts = np.bincount(near[on], minlength=k)  # (K,)
    on_mode = float(on.sum() / max(len(p), 1))
    if counts.sum() < MIN_PER_MODE * k:
        return CollapseReport("modes", tuple(int(x) for x in counts), len(p), (), (), False, False, on_mode)
    fair = counts.sum() / k
    missing = tuple(int(i) for i in np.flatnonzero(counts < MISSING * fair))
    over = tuple(int(i) for i in np.flatnonzero(counts > OVER * fair))
    return CollapseReport("modes", tuple(int(x) for x in counts), len(p), missing, over,
                          bool(missing or over), True, on_mode)


def class_report(labels: np.ndarray, n_classes: int = 10) -> CollapseReport:
    """The alarm on the classes ``labels`` (N,) a classifier read from N generated images."""
    labels = np.asarray(labels, np.int64)
    counts = np.bincount(labels, minlength=n_classes)[:n_classes]
    n = len(labels)
    missing = tuple(int(i) for i in np.flatnonzero(counts == 0))
    over = tuple(int(i) for i in np.flatnonzero(counts > CLASS_OVER * n)) if n else ()
    collapsed = len(missing) >= CLASSES_MISSING or bool(over)
    return CollapseReport("classes", tuple(int(x) for x in counts), n, missing, over, collapsed, n > 0)


def assess(preview: Any, data: Any) -> CollapseReport | None:
    """The alarm on a run's preview (:class:`genstudio.trainer.Preview`) for its data set, or None
    where no modes are known (spiral, moons, drawn points, faces, shapes, a folder)."""
    if preview.kind == "points" and getattr(data, "centers", None) is not None:
        std = float(getattr(data, "info", {}).get("std", 0.02))
        return mode_report(preview.data, data.centers.cpu().numpy(), radius=5 * std)
    if preview.kind == "images" and getattr(data, "name", "") == "digits" and len(preview.data):
        import torch

        from genstudio.quality import load_classifier, prepare

        with torch.inference_mode():
            labels = load_classifier()(prepare(preview.data)).argmax(dim=1).numpy()  # (N,)
        return class_report(labels)
    return None
