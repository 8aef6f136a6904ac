"""A run's training time-lapse: its saved previews in step order, each with the losses logged at
its step, as pictures and as a GIF (Qt-free).

Every ``preview_every`` steps a run writes ``previews/step_N.png`` (the grid of samples from the
fixed noise batch, the same z at every step: the DCGAN reference's ``fixed_noise``) or, for 2-D
data, ``previews/step_N.npz`` (the generated points and, for a GAN, D's probability field
``heatmap`` over ``extent``). Those files are the time-lapse: nothing else is saved for it.
:func:`read_frames` lists them in step order with their losses; :func:`frame_picture` draws one as
a picture with its step written on it; :func:`export_gif` writes them all as an animated GIF
(``genstudio timelapse RUN --out run.gif``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genstudio.imaging import DEFAULT_EXPORT_SIZE, cloud_extent, resize_long_side, save_gif, scatter_image
from genstudio.runs.folder import RunDir
from genstudio.trainer import Preview

__all__ = ["Frame", "preview_files", "preview_file", "read_frames", "losses_at", "loss_names", "load_preview_file",
           "frame_picture", "export_gif"]

_SUFFIXES = (".png", ".npz")
#: At most this many GIF frames by default: 300 frames of 512 px are ~250 MB while being drawn and a
#: GIF of tens of MB; a longer run's previews are thinned evenly (first and last kept).
MAX_GIF_FRAMES = 300


@dataclass(frozen=True)
class Frame:
    """One saved preview: its step, its file and the losses logged at that step (or just before)."""

    step: int
    path: Path
    losses: dict[str, float] = field(default_factory=dict)


def preview_files(run_dir: str | os.PathLike) -> list[tuple[int, Path]]:
    """``(step, file)`` of every saved preview of a run folder, in step order ([] if none).

    Only ``step_<digits>.png`` / ``.npz`` count (a synced folder may hold other files).
    """
    folder = RunDir(run_dir).previews
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found: dict[int, Path] = {}
    for entry in entries:
        stem, suffix = os.path.splitext(entry.name)
        digits = stem[5:]
        if suffix in _SUFFIXES and stem.startswith("step_") and digits.isdigit():
            found.setdefault(int(digits), Path(entry.path))  # one file per step; a .png wins over nothing
    return sorted(found.items())


def preview_file(run_dir: str | os.PathLike, step: int) -> Path | None:
    """The saved preview of ``step`` (``previews/step_N.png`` or ``.npz``), None if there is none:
    one preview's file without listing the folder (a live run's newest, as it arrives)."""
    rd = RunDir(run_dir)
    for suffix in _SUFFIXES:
        path = rd.preview_file(step, suffix)
        if path.is_file():
            return path
    return None


def loss_names(kind: str | None, record: dict[str, Any]) -> list[str]:
    """The losses worth writing beside a frame: the metrics of the family's first plot
    (GAN: loss_D, loss_G; diffusion: loss), else every metric whose name starts with "loss"."""
    names: list[str] = []
    if kind:
        from genstudio.families import FAMILIES

        family = FAMILIES.get(kind)
        if family is not None and family.plots():
            first = family.plots()[0]
            names = [m.name for m in family.metrics if m.plot == first]
    if not names:
        names = [k for k in record if k.startswith("loss")]
    return [n for n in names if n in record]


def losses_at(records: list[dict[str, Any]], step: int, kind: str | None = None) -> dict[str, float]:
    """The losses of the newest record at or before ``step`` (records in step order); {} if none.

    A run logs every ``log_every`` steps and previews every ``preview_every``: the two meet at the
    preview's step when one divides the other, and otherwise the last log before it is the nearest.
    """
    steps = [r["step"] for r in records]
    i = int(np.searchsorted(steps, step, side="right")) - 1
    if i < 0:
        return {}
    record = records[i]
    out = {}
    for name in loss_names(kind, record):
        try:
            out[name] = float(record[name])
        except (TypeError, ValueError):
            continue
    return out


def read_frames(run_dir: str | os.PathLike) -> list[Frame]:
    """The run folder's previews in step order, each with the losses logged at its step."""
    rd = RunDir(run_dir)
    kind = _kind(rd)
    records = sorted(rd.read_metrics(), key=lambda r: r["step"])
    return [Frame(step, path, losses_at(records, step, kind)) for step, path in preview_files(rd.path)]


def load_preview_file(path: str | os.PathLike) -> Preview:
    """A saved preview as a :class:`Preview`: a PNG grid becomes kind "grid" ((H, W, 3) uint8),
    an ``.npz`` becomes kind "points" (with ``heatmap`` / ``extent`` when the file has them).

    Raises OSError / ValueError / KeyError for a file that is not (yet) a whole preview.
    """
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:  # data, never code
            extra: dict[str, Any] = {}
            if "heatmap" in z.files and "extent" in z.files:
                extra = {"heatmap": np.array(z["heatmap"]), "extent": tuple(float(v) for v in z["extent"])}
            return Preview(kind="points", data=np.array(z["points"]), extra=extra)
    from genstudio.image_files import open_image

    with open_image(path) as im:  # a run folder may come from anywhere: no bomb is decoded
        grid = np.asarray(im.convert("RGB")).copy()  # (H, W, 3) uint8
    return Preview(kind="grid", data=grid)


def caption(step: int, losses: dict[str, float]) -> str:
    """"step 1,200 · loss_D 0.612 · loss_G 1.93": what is written on a frame."""
    return " · ".join([f"step {step:,}", *(f"{k} {v:.3g}" for k, v in losses.items())])


def frame_picture(preview: Preview, step: int, losses: dict[str, float] | None = None, *,
                  size: int | None = DEFAULT_EXPORT_SIZE, real: np.ndarray | None = None,
                  extent: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """One frame as uint8 (H, W, 3) with its step (and losses) written above it.

    A grid is scaled so its long side is ``size`` (nearest neighbour: model pixels stay crisp
    squares; None keeps it native) under a caption strip; points are a ``size`` square scatter plot
    over ``extent`` with D's field behind them when the preview has one, ``real`` points faint.
    """
    text = caption(step, losses or {})
    if preview.kind == "points":
        heat = preview.extra.get("heatmap") if preview.extra else None
        field_ = (np.asarray(heat), tuple(preview.extra["extent"])) if heat is not None else None
        box = extent or (field_[1] if field_ else cloud_extent(real, preview.data))
        return scatter_image(preview.data, box, size or DEFAULT_EXPORT_SIZE, real=real, title=text, field=field_)
    if preview.kind == "images":
        from genstudio.imaging import make_grid

        grid = make_grid(preview.data)
    else:
        grid = np.asarray(preview.data, np.uint8)
    return _with_caption(resize_long_side(grid, size), text)


def _with_caption(picture: np.ndarray, text: str) -> np.ndarray:
    """``picture`` (H, W, 3) under a dark strip holding ``text`` (shortened to fit)."""
    from PIL import Image, ImageDraw, ImageFont

    h, w = picture.shape[:2]
    font_px = max(10, min(w // 32, 18))
    try:
        font = ImageFont.load_default(font_px)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        font = ImageFont.load_default()
    strip = font_px + 10
    canvas = Image.new("RGB", (w, h + strip), (22, 24, 28))
    canvas.paste(Image.fromarray(np.ascontiguousarray(picture[..., :3] if picture.ndim == 3 else picture)).convert("RGB"),
                 (0, strip))
    draw = ImageDraw.Draw(canvas)
    while text and draw.textlength(text, font=font) > w - 8:  # a narrow grid keeps the step, drops losses
        text = text.rsplit(" · ", 1)[0] if " · " in text else text[:-1]
    draw.text((4, strip // 2), text, fill=(215, 218, 225), font=font, anchor="lm")
    return np.asarray(canvas)


def export_gif(run_dir: str | os.PathLike, out: str | os.PathLike, *, fps: float = 8.0,
               size: int | None = DEFAULT_EXPORT_SIZE, hold_last_s: float = 1.0,
               max_frames: int | None = MAX_GIF_FRAMES) -> tuple[Path, int]:
    """Write a run's previews as a looping GIF, the step written on each frame; ``(file, frames)``.

    One GIF frame per saved preview (beyond ``max_frames``, evenly chosen ones, first and last kept);
    the last is held ``hold_last_s`` longer. 2-D runs are drawn over one fixed box (D's field's, or
    one around the data and the last points), so the points move and the axes stay.

    Raises
    ------
    ValueError
        If the folder has no previews (or one cannot be read: the message names it).
    """
    rd = RunDir(run_dir)
    frames = read_frames(rd.path)
    if not frames:
        raise ValueError(f"{rd.path} has no saved previews (previews/step_*.png or .npz)")
    if max_frames is not None and len(frames) > max_frames:
        keep = np.unique(np.rint(np.linspace(0, len(frames) - 1, max(2, max_frames))).astype(int))
        frames = [frames[i] for i in keep]
    previews = [_load(f.path) for f in frames]
    real = extent = None
    if previews[-1].kind == "points":
        real = _real_points(rd)
        last = previews[-1]
        extent = tuple(last.extra["extent"]) if last.extra.get("heatmap") is not None \
            else cloud_extent(real, last.data)
    pictures = [frame_picture(p, f.step, f.losses, size=size, real=real, extent=extent)
                for f, p in zip(frames, previews)]
    pictures = _same_size(pictures)
    pictures += [pictures[-1]] * max(0, int(round(hold_last_s * fps)))
    return save_gif(out, pictures, fps=fps), len(frames)


def _load(path: Path) -> Preview:
    try:
        return load_preview_file(path)
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{path.name} cannot be read as a preview: {exc}") from None


def _same_size(pictures: list[np.ndarray]) -> list[np.ndarray]:
    """Pad every picture to the largest (a GIF's frames share one size; grids do not change size
    within a run, but a run resumed at another size might)."""
    h = max(p.shape[0] for p in pictures)
    w = max(p.shape[1] for p in pictures)
    out = []
    for p in pictures:
        if p.shape[:2] != (h, w):
            padded = np.full((h, w, 3), (22, 24, 28), np.uint8)
            padded[:p.shape[0], :p.shape[1]] = p[..., :3]
            p = padded
        out.append(p)
    return out


def _kind(rd: RunDir) -> str | None:
    try:
        return rd.read_config().kind
    except (OSError, ValueError, TypeError):
        return None


def _real_points(rd: RunDir) -> np.ndarray | None:
    """The run's real 2-D data (faint behind the points); None if its config or data cannot be read."""
    try:
        data = rd.read_config().data
        from genstudio.scrub import real_points

        return real_points(data)
    except (OSError, ValueError, TypeError):
        return None
