"""The maths and files behind the diffusion timestep scrubber (Qt-free: numpy, torch, Pillow).

The scrubber lets a person move along t and *see* the two processes of Ho et al. (2020):

* **forward** — :class:`ForwardProcess` holds one x_0 and one fixed ε and returns
  x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε for any t (microseconds for a 32 px image, so nothing is
  precomputed); :func:`predict` gives the model's ε̂ and x̂_0 at that t, :func:`error_curve_steps`
  the error ‖ε − ε̂‖² over a subsample of t, and :func:`schedule_curves` the schedule's signal
  √ᾱ_t, noise √(1−ᾱ_t) and log SNR = log(ᾱ_t / (1−ᾱ_t)) (Kingma et al. 2021, "Variational
  Diffusion Models").
* **reverse** — sampling itself is :mod:`genstudio.sampling` (the spec, the sampler registry,
  ``sampling_run`` and ``branch_start``); here :func:`mean_abs_difference` compares two endings and
  :func:`export_gif` / :func:`export_frames` write a recorded trajectory as pictures.

For 2-D point models the same functions work on (N, 2) clouds; :func:`eps_field` evaluates ε̂ on a
grid for the arrow field and :func:`points_image` rasterises a cloud for export.

The formulas themselves (noising, x̂_0 from ε̂) are written once, in :mod:`genstudio.diffusion.schedule`
(``q_sample``, ``predict_x0``); this module applies them to numpy arrays on the CPU.

Error convention: "‖ε − ε̂‖²" is reported per element (the mean of (ε − ε̂)² over pixels, or over
points and coordinates), i.e. the training loss of Ho et al. eq. 14 at that t, comparable across
image sizes.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from PIL import Image

from genstudio.diffusion.schedule import NoiseSchedule, predict_x0, q_sample
from genstudio.diffusion.trajectory import Trajectory
from genstudio.imaging import DEFAULT_EXPORT_SIZE, make_grid, resize_long_side, save_gif, save_png, scatter_image

__all__ = [
    "ScheduleCurves", "schedule_curves", "ForwardProcess", "predict", "even_timesteps",
    "error_curve_steps", "error_curve", "mean_abs_difference", "eps_field",
    "points_image", "trajectory_frames", "export_gif", "export_frames", "load_image_file",
    "dataset_items", "field_arrows", "fit_image",
    "EPS_DISPLAY_RANGE",
]

#: ε and ε̂ are shown mapped from [−2.5, 2.5] (±2.5σ) to the grey range, so noise is not saturated.
EPS_DISPLAY_RANGE = 2.5


# ---------------------------------------------------------------------------- schedules
@dataclass(frozen=True)
class ScheduleCurves:
    """A schedule as plain float64 arrays over t = 0 … T−1 (each (T,))."""

    t: np.ndarray
    signal: np.ndarray  # √ᾱ_t, the weight of x_0 in x_t
    noise: np.ndarray  # √(1−ᾱ_t), the weight of ε in x_t
    log_snr: np.ndarray  # log(ᾱ_t / (1−ᾱ_t))


def schedule_curves(schedule: NoiseSchedule) -> ScheduleCurves:
    """√ᾱ_t, √(1−ᾱ_t) and log SNR of ``schedule`` (computed from its float64 ᾱ)."""
    ac = np.asarray(schedule.alphas_cumprod_f64, dtype=np.float64)  # (T,)
    return ScheduleCurves(np.arange(ac.shape[0]), np.sqrt(ac), np.sqrt(1.0 - ac),
                          np.log(ac) - np.log1p(-ac))


# ---------------------------------------------------------------------------- forward process
class ForwardProcess:
    """x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε for one batch x_0 and one fixed ε (Ho et al. eq. 4), numpy in and out.

    Parameters
    ----------
    x0 : np.ndarray
        (B, ...) float: one image as (1, C, H, W) in [−1, 1], or a point cloud (N, 2).
    schedule : NoiseSchedule
    seed : int
        Draws ε ~ N(0, I) of x_0's shape (see :meth:`new_noise`).
    """

    def __init__(self, x0: np.ndarray, schedule: NoiseSchedule, seed: int = 0):
        self.x0 = np.ascontiguousarray(x0, dtype=np.float32)  # (B, ...)
        self.set_schedule(schedule)
        self.new_noise(seed)

    def set_schedule(self, schedule: NoiseSchedule) -> None:
        """Use another schedule (ε is kept)."""
        self._schedule = _on_cpu(schedule)

    @property
    def num_steps(self) -> int:
        return self._schedule.num_steps

    def new_noise(self, seed: int) -> None:
        """Draw a new fixed ε from ``seed`` (numpy's PCG64)."""
        self.seed = int(seed)
        self.eps = np.random.default_rng(self.seed).standard_normal(self.x0.shape).astype(np.float32)

    def frame(self, t: int) -> np.ndarray:
        """x_t as float32 (B, ...) (:func:`~genstudio.diffusion.schedule.q_sample`)."""
        return q_sample(torch.from_numpy(self.x0), int(t), torch.from_numpy(self.eps), self._schedule).numpy()

    def coefficients(self, t: int) -> tuple[float, float]:
        """(√ᾱ_t, √(1−ᾱ_t)) as x_t uses them."""
        s = self._schedule
        return float(s.sqrt_alphas_cumprod[t]), float(s.sqrt_one_minus_alphas_cumprod[t])


def _on_cpu(schedule: NoiseSchedule) -> NoiseSchedule:
    """``schedule`` itself on the CPU, else a CPU copy (a model's schedule stays where it is)."""
    if schedule.device.type == "cpu" and schedule.betas.dtype == torch.float32:
        return schedule
    return NoiseSchedule.from_meta(schedule.to_meta())


def predict(model: Any, x_t: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray]:
    """The model's ε̂(x_t, t) and x̂_0 for a batch x_t (B, ...): two float32 arrays (B, ...).

    ``model`` is a :class:`~genstudio.diffusion.model.DiffusionModel` (needs ``.eps`` and ``.schedule``).
    """
    xt = torch.from_numpy(np.ascontiguousarray(x_t, dtype=np.float32))  # (B, ...)
    tt = torch.full((xt.shape[0],), int(t), dtype=torch.long)  # (B,)
    eps = model.eps(xt, tt).float().cpu()  # (B, ...)
    return eps.numpy(), predict_x0(xt, int(t), eps, _on_cpu(model.schedule)).numpy()


def even_timesteps(num_steps: int, count: int = 100) -> np.ndarray:
    """Up to ``count`` evenly spaced timesteps from 0 to T−1 inclusive, int64, ascending, unique."""
    count = max(2, min(int(count), num_steps))
    return np.unique(np.rint(np.linspace(0, num_steps - 1, count)).astype(np.int64))


def error_curve_steps(model: Any, x0: np.ndarray, eps: np.ndarray, timesteps: np.ndarray, *,
                      max_elements: int = 1 << 15) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per-element ‖ε − ε̂(x_t, t)‖² at each of ``timesteps`` for one x_0 and one fixed ε.

    A generator: evaluates a chunk of timesteps per network call (at most ``max_elements`` values
    per batch) and yields ``(ts, errors)`` for that chunk (two (k,) arrays); every yield is a
    progress and cancellation point.
    """
    x0 = np.ascontiguousarray(x0, dtype=np.float32)  # (B, ...)
    eps = np.ascontiguousarray(eps, dtype=np.float32)
    schedule = _on_cpu(model.schedule)
    per_t = x0.size
    chunk = max(1, max_elements // max(1, per_t))
    ts_all = np.asarray(timesteps, dtype=np.int64)
    for i in range(0, len(ts_all), chunk):
        ts = ts_all[i:i + chunk]  # (k,)
        tt = torch.from_numpy(np.repeat(ts, x0.shape[0]))  # (k·B,)
        reps = (len(ts),) + (1,) * (x0.ndim - 1)
        x_t = q_sample(torch.from_numpy(np.tile(x0, reps)), tt, torch.from_numpy(np.tile(eps, reps)), schedule)  # (k·B, ...)
        eps_hat = model.eps(x_t, tt).float().cpu().numpy()  # (k·B, ...)
        diff = eps_hat.reshape(len(ts), -1) - eps.reshape(1, -1)  # (k, B·D)
        yield ts, np.mean(diff.astype(np.float64) ** 2, axis=1)


def error_curve(model: Any, x0: np.ndarray, eps: np.ndarray, timesteps: np.ndarray) -> np.ndarray:
    """All of :func:`error_curve_steps` at once: errors (len(timesteps),) float64."""
    parts = [err for _, err in error_curve_steps(model, x0, eps, timesteps)]
    return np.concatenate(parts) if parts else np.empty(0)


# ---------------------------------------------------------------------------- reverse process
def mean_abs_difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |a − b| over all elements (in data units: [−1, 1] for images)."""
    return float(np.mean(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


# ---------------------------------------------------------------------------- 2-D fields and pictures
def eps_field(model: Any, t: int, extent: tuple[float, float, float, float], n: int = 20
              ) -> tuple[np.ndarray, np.ndarray]:
    """ε̂(x, t) on an n×n grid over ``extent`` = (xmin, xmax, ymin, ymax): origins and ε̂, (n², 2) each."""
    xmin, xmax, ymin, ymax = extent
    gx, gy = np.meshgrid(np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n))
    origins = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)  # (n², 2)
    eps, _ = predict(model, origins, t)
    return origins, eps


def field_arrows(eps: np.ndarray, spacing: float) -> np.ndarray:
    """Arrows along −ε̂ (the denoising direction), the longest one 0.9 × ``spacing`` long: (K, 2)."""
    v = -np.asarray(eps, np.float64)
    longest = float(np.max(np.linalg.norm(v, axis=1))) if v.size else 0.0
    return v * (0.9 * spacing / longest) if longest > 0 else v


def points_image(points: np.ndarray, extent: tuple[float, float, float, float], size: int = 256,
                 colour: tuple[int, int, int] = (235, 90, 235)) -> np.ndarray:
    """Rasterise a 2-D cloud (N, 2) into a uint8 (size, size, 3) picture (y up), 2×2 px dots."""
    xmin, xmax, ymin, ymax = extent
    img = np.full((size, size, 3), 22, np.uint8)
    p = np.asarray(points, np.float64)
    p = p[np.isfinite(p).all(axis=1)]
    col = np.rint((p[:, 0] - xmin) / (xmax - xmin) * (size - 2)).astype(np.int64)
    row = np.rint((ymax - p[:, 1]) / (ymax - ymin) * (size - 2)).astype(np.int64)
    ok = (col >= 0) & (col < size - 1) & (row >= 0) & (row < size - 1)
    for dr in (0, 1):
        for dc in (0, 1):
            img[row[ok] + dr, col[ok] + dc] = colour
    return img


def _frame_picture(batch: np.ndarray, extent: tuple[float, float, float, float] | None, nrow: int | None,
                   size: int | None = None, smooth: bool = False, real: np.ndarray | None = None,
                   title: str = "") -> np.ndarray:
    """One frame: a grid of images scaled to ``size`` (long side), or a scatter plot of (N, 2) points."""
    if batch.ndim == 2:  # (N, 2) points: drawn at the export size ("native" has no meaning here)
        return scatter_image(batch, extent or (-3.0, 3.0, -3.0, 3.0), size or DEFAULT_EXPORT_SIZE, real=real,
                             title=title)
    return resize_long_side(make_grid(batch, nrow=nrow, pad=1), size, smooth)


def trajectory_frames(trajectory: Trajectory, *, what: str = "x_t", max_frames: int | None = None,
                      nrow: int | None = None, extent: tuple[float, float, float, float] | None = None,
                      size: int | None = None, smooth: bool = False, real: np.ndarray | None = None,
                      ) -> list[tuple[int, np.ndarray]]:
    """``(t, picture)`` for recorded steps in sampling order, then ``(−1, final)``.

    ``what`` is "x_t" or "x0" (x̂_0). With ``max_frames``, evenly chosen steps (the first and last
    kept). Pictures are uint8 grids (H, W, 3) with the long side ``size`` pixels (None: native,
    1 pixel per model pixel; ``smooth`` resamples with Lanczos instead of nearest). Point clouds are
    drawn as scatter plots over ``extent`` (``size`` square, default 512), ``real`` points faint
    behind them.
    """
    arrays = {"x_t": trajectory.x_t, "x0": trajectory.x0}
    if what not in arrays:
        raise ValueError(f"what must be 'x_t' or 'x0', not {what!r}")
    k_all = np.arange(len(trajectory))
    if max_frames is not None and len(k_all) > max_frames - 1:
        k_all = np.unique(np.rint(np.linspace(0, len(k_all) - 1, max(2, max_frames - 1))).astype(int))
    label = "x_t" if what == "x_t" else "predicted x_0"

    def picture(batch: np.ndarray, title: str) -> np.ndarray:
        return _frame_picture(batch, extent, nrow, size, smooth, real, title)

    frames = [(int(trajectory.timesteps[k]),
               picture(arrays[what][k].astype(np.float32), f"{label}, t = {int(trajectory.timesteps[k])}"))
              for k in k_all]
    frames.append((-1, picture(trajectory.final, "final samples")))
    return frames


def export_gif(path: str | os.PathLike, trajectory: Trajectory, *, fps: float = 15.0, max_frames: int = 150,
               what: str = "x_t", hold_final_s: float = 1.0, extent=None, size: int | None = None,
               smooth: bool = False, real: np.ndarray | None = None) -> Path:
    """The reverse process as a looping GIF (at most ``max_frames`` steps, the final held a while).

    ``size``, ``smooth`` and ``real`` as in :func:`trajectory_frames`.
    """
    frames = [pic for _, pic in trajectory_frames(trajectory, what=what, max_frames=max_frames, extent=extent,
                                                  size=size, smooth=smooth, real=real)]
    frames += [frames[-1]] * max(0, int(round(hold_final_s * fps)) - 1)
    return save_gif(path, frames, fps=fps)


def export_frames(folder: str | os.PathLike, trajectory: Trajectory, *, what: str = "x_t",
                  max_frames: int | None = None, extent=None, size: int | None = None, smooth: bool = False,
                  real: np.ndarray | None = None) -> list[Path]:
    """One PNG per recorded step, ``step_0000_t0999.png`` …, and ``final.png``, in ``folder``.

    ``size``, ``smooth`` and ``real`` as in :func:`trajectory_frames`.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    frames = trajectory_frames(trajectory, what=what, max_frames=max_frames, extent=extent, size=size,
                               smooth=smooth, real=real)
    for i, (t, pic) in enumerate(frames):
        name = "final.png" if t < 0 else f"step_{i:04d}_t{t:04d}.png"
        paths.append(save_png(folder / name, pic, {"genstudio": "scrubber", "what": what, "t": str(t)}))
    return paths


# ---------------------------------------------------------------------------- input images
def load_image_file(path: str | os.PathLike, size: int = 32, channels: int = 3) -> np.ndarray:
    """A picture file as one image (C, size, size) float32 in [−1, 1]: centre-cropped square, resized.

    Raises ``ValueError`` with a one-line reason if the file is not a readable image.
    """
    from genstudio.image_files import open_image
    from genstudio.safe_text import safe_text

    try:
        with open_image(path) as im:  # refuses a decompression bomb from its header, undecoded
            im = im.convert("L" if channels == 1 else "RGB")
            w, h = im.size
            s = min(w, h)
            im = im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
            im = im.resize((size, size), Image.Resampling.LANCZOS)
            a = np.asarray(im, dtype=np.float32)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ValueError(safe_text(f"{Path(path).name} is not an image this app can read ({exc})")) from None
    a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)  # (C, H, W)
    return a / 127.5 - 1.0


def fit_image(x: np.ndarray, size: int, channels: int) -> np.ndarray:
    """One image (C, H, W) in [−1, 1] converted to ``channels`` (BT.601 luma / repeat) and resized
    (bilinear, after a centre crop to a square) to ``size``: float32 (channels, size, size)."""
    a = np.asarray(x, np.float32)
    if a.ndim != 3 or a.shape[0] not in (1, 3):
        raise ValueError(f"expected one image (C, H, W) with C = 1 or 3, got shape {a.shape}")
    if a.shape[0] == 3 and channels == 1:
        a = np.tensordot(np.array([0.299, 0.587, 0.114], np.float32), a, axes=1)[None]  # (1, H, W)
    elif a.shape[0] == 1 and channels == 3:
        a = np.repeat(a, 3, axis=0)
    _, h, w = a.shape
    if (h, w) != (size, size):
        s = min(h, w)
        a = a[:, (h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        a = np.stack([np.asarray(Image.fromarray(c).resize((size, size), Image.Resampling.BILINEAR))
                      for c in a])  # float32 mode "F" per channel
    return np.ascontiguousarray(a, dtype=np.float32)


def real_points(data: str, count: int = 1000) -> np.ndarray | None:
    """(count, 2) points of the built-in 2-D set a model was trained on, to draw behind its samples;
    None for any other data (a folder, images)."""
    from genstudio.data import is_points

    return dataset_items(data, count=count) if data and is_points(data) else None


@functools.lru_cache(maxsize=8)
def dataset_items(name: str, size: int = 32, channels: int = 3, count: int = 256) -> np.ndarray:
    """The first ``count`` items of a built-in set, cached: images (count, C, H, W) or points (count, 2)."""
    from genstudio.data import is_points, load_dataset

    if is_points(name):
        return load_dataset(name, num_points=count, seed=0).tensor.numpy().copy()
    data = load_dataset(name, size=size, channels=channels, num_images=count, seed=0)
    return data.tensor.numpy().copy()
