"""Data sets: small, deterministic, in-memory tensors for training GANs and diffusion models.

Every data set lives in memory as one float32 tensor:

* 2-D point sets (``ring8``, ``grid25``, ``spiral``, ``moons``, and ``points:FILE.npy``, a set the
  person drew: :mod:`genstudio.data.drawn`): shape ``(N, 2)`` in data units (roughly [-2, 2]), so a
  mode-coverage metric can compare samples with ``centers`` directly;
* image sets (``digits``, ``shapes``, ``faces``, ``photos`` and ``folder:PATH``): shape ``(N, C, H, W)``
  with values in [-1, 1].

The loaders are Qt-free and need no network: ``digits`` is the 8x8 handwritten digits set shipped
inside scikit-learn, ``shapes`` and ``faces`` are drawn procedurally, ``photos`` are crops of scikit-learn's two sample photographs, and ``folder:PATH`` reads the
user's own images, skipping (and counting) anything it cannot use.

Example
-------
>>> data = load_dataset("digits", size=32)
>>> data.tensor.shape, data.channels
(torch.Size([1797, 1, 32, 32]), 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

BUILTIN = ("ring8", "grid25", "spiral", "moons", "digits", "shapes", "faces", "photos")
POINT_SETS = ("ring8", "grid25", "spiral", "moons")
FOLDER_PREFIX = "folder:"
DRAWN_PREFIX = "points:"  # a drawn 2-D set, points:FILE.npy (genstudio.data.drawn)

# ITU-R BT.601 luma weights, the same ones PIL uses for RGB -> "L"
_LUMA = (0.299, 0.587, 0.114)


class DataError(ValueError):
    """A data set cannot be loaded; the message is one line meant for the user."""


@dataclass(frozen=True, eq=False)  # eq=False: tensors have no single truth value; compare by identity
class Dataset:
    """One loaded data set.

    Attributes
    ----------
    name : str
        The name it was loaded by, e.g. ``"ring8"``, ``"digits"`` or ``"folder:/path"``.
    kind : str
        ``"points"`` or ``"images"``.
    tensor : torch.Tensor
        float32; points ``(N, 2)`` in data units, images ``(N, C, H, W)`` in [-1, 1].
    labels : torch.Tensor or None
        ``(N,)`` int64 class of each item where meaningful (mixture component, digit, shape).
    info : dict
        Free-form facts, e.g. ``{"skipped": 3, "skip_reasons": {...}}`` or ``{"factors": {...}}``.
    centers : torch.Tensor or None
        ``(K, 2)`` mode centres of a 2-D Gaussian mixture (ring8, grid25), else None.
    """

    name: str
    kind: str
    tensor: torch.Tensor
    labels: torch.Tensor | None
    info: dict = field(default_factory=dict)
    centers: torch.Tensor | None = None

    @property
    def channels(self) -> int:
        """Image channels C (1 or 3); 0 for point sets."""
        return int(self.tensor.shape[1]) if self.kind == "images" else 0

    @property
    def size(self) -> int:
        """Image side H (= W) in pixels; 0 for point sets."""
        return int(self.tensor.shape[-1]) if self.kind == "images" else 0

    @property
    def skipped(self) -> int:
        """Files left out because they could not be read as images (folders); 0 otherwise."""
        return int(self.info.get("skipped", 0))

    @property
    def notice(self) -> str:
        """One sentence for the user about files or items left out, or "" when nothing was.

        ``"3 files in /pics could not be read as images and were skipped (e.g. cat.jpg: truncated)"``;
        for captioned training also the images without a caption and the held-out items
        (:func:`genstudio.data.captions.caption_notice`).
        """
        from genstudio.data.captions import caption_notice

        n = self.skipped
        what = ""
        if n:
            where = self.info.get("root", self.name)
            what = ("1 file in {} could not be read as an image and was skipped" if n == 1 else
                    f"{n:,} files in {{}} could not be read as images and were skipped").format(where)
            example = self.info.get("skip_example")
            what = f"{what} (e.g. {example[0]}: {example[1]})" if example else what
        return "; ".join(text for text in (what, caption_notice(self)) if text)

    def __len__(self) -> int:
        return int(self.tensor.shape[0])


def dataset_names() -> tuple[str, ...]:
    """The built-in data set names, in menu order (folders are ``"folder:PATH"`` on top of these)."""
    return BUILTIN


def is_points(name: str) -> bool:
    """True for the 2-D point sets (ring8, grid25, spiral, moons, and drawn sets ``points:FILE``)."""
    key = name.strip().lower()
    return key in POINT_SETS or key.startswith(DRAWN_PREFIX)


def load_dataset(name: str, *, size: int = 32, channels: int = 0, num_points: int = 20000,
                 num_images: int = 0, seed: int = 0) -> Dataset:
    """Load a built-in data set or a folder of images.

    Parameters
    ----------
    name : str
        One of ``BUILTIN``, ``"folder:PATH"`` or ``"points:FILE.npy"`` (a drawing).
    size : int
        Image side in pixels (images only).
    channels : int
        0 keeps the set's own (digits 1, everything else 3); 1 or 3 converts
        (RGB -> gray by luminance, gray -> RGB by repetition). Ignored for points.
    num_points : int
        Number of points of a 2-D set (a drawing: samples around its drawn points).
    num_images : int
        Number of images; 0 means the set's default (all 1,797 digits, 10,000 shapes or faces,
        every usable image of a folder). Digits and folders cannot give more than they have.
    seed : int
        Fixes the points, the drawn images and any subset taken; the result is deterministic.

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        Unknown name, bad argument, or a folder without a usable image.
    """
    key = name.strip()
    lower = key.lower()
    if channels not in (0, 1, 3):
        raise DataError(f"channels must be 0 (the set's own), 1 or 3, not {channels!r}")
    if num_images < 0:
        raise DataError(f"num_images must be 0 (the set's default) or positive, not {num_images}")
    if lower in POINT_SETS:
        if num_points < 1:
            raise DataError(f"num_points must be positive, not {num_points}")
        from genstudio.data.toy2d import load_points

        return load_points(lower, num_points, seed)
    if lower.startswith(DRAWN_PREFIX):
        if num_points < 1:
            raise DataError(f"num_points must be positive, not {num_points}")
        from genstudio.data.drawn import load_drawn

        return load_drawn(key, num_points, seed)
    if lower not in BUILTIN and not lower.startswith(FOLDER_PREFIX):
        raise DataError(f"unknown data set {name!r}: choose from {', '.join(BUILTIN)}, folder:PATH "
                        f"or points:FILE.npy")
    if not 4 <= size <= 1024:
        raise DataError(f"image size must be between 4 and 1024 px, not {size!r}")
    if lower == "digits":
        from genstudio.data.digits import load_digits

        data = load_digits(size, num_images, seed)
    elif lower == "shapes":
        from genstudio.data.shapes import load_shapes

        data = load_shapes(size, num_images or 10_000, seed)
    elif lower == "faces":
        from genstudio.data.faces import load_faces

        data = load_faces(size, num_images or 10_000, seed)
    elif lower == "photos":
        from genstudio.data.photos import load_photos

        data = load_photos(size, num_images or 2000, seed)
    else:
        from genstudio.data.folder import load_folder

        data = load_folder(key[len(FOLDER_PREFIX):], size, gray=channels == 1, num_images=num_images,
                           seed=seed, name=key)
    if channels and data.channels != channels:
        data = Dataset(data.name, data.kind, convert_channels(data.tensor, channels), data.labels,
                       data.info, data.centers)
    return data


def convert_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """Convert ``(N, C, H, W)`` images between 1 and 3 channels.

    RGB -> gray takes the BT.601 luminance (weights sum to 1, so [-1, 1] stays [-1, 1]);
    gray -> RGB repeats the channel.
    """
    c = images.shape[1]
    if c == channels:
        return images
    if c == 3 and channels == 1:
        w = torch.tensor(_LUMA, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
        return (images * w).sum(dim=1, keepdim=True)  # (N, 1, H, W)
    if c == 1 and channels == 3:
        return images.repeat(1, 3, 1, 1)  # (N, 3, H, W)
    raise DataError(f"cannot convert {c}-channel images to {channels} channels")


def uint8_to_tensor(images) -> torch.Tensor:
    """``(N, H, W, C)`` uint8 numpy images -> ``(N, C, H, W)`` float32 in [-1, 1]."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2)  # (N, C, H, W) uint8 view
    return x.to(torch.float32).div_(127.5).sub_(1.0).contiguous()
