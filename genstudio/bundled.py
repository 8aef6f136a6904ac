"""The small trained models GenStudio ships, so every view has something to show on first launch.

They live in the repository's top-level ``checkpoints/`` folder, which is installed as the
package ``genstudio.bundled_models``; ``$GENSTUDIO_CHECKPOINTS`` points elsewhere (an empty string
turns bundled models off, which the tests use). ``checkpoints/README.md`` holds the commands
that made each file.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

__all__ = ["BUNDLED", "bundled_dir", "bundled_path", "available"]

#: What each view opens on, in order of preference (file stems in the bundled folder).
BUNDLED: dict[str, tuple[str, ...]] = {
    "latent": ("dcgan_faces", "dcgan_digits", "gan_ring8"),
    "scrubber": ("ddpm_digits", "ddpm_shapes", "ddpm_ring8"),
    "superres": ("srresnet_faces", "srgan_faces"),  # the view compares all of them
    "autoencoder": ("ae_faces",),
}


def bundled_dir() -> Path | None:
    """The folder of bundled checkpoints, or None when there is none (or they are turned off)."""
    override = os.environ.get("GENSTUDIO_CHECKPOINTS")
    if override is not None:
        return Path(override).expanduser() if override else None
    try:
        folder = Path(str(resources.files("genstudio.bundled_models")))
    except ModuleNotFoundError:
        return None
    return folder if folder.is_dir() else None


def bundled_path(stem: str) -> Path | None:
    """``<bundled folder>/<stem>.safetensors`` if it exists."""
    folder = bundled_dir()
    if folder is None:
        return None
    path = folder / f"{stem}.safetensors"
    return path if path.is_file() else None


def available() -> list[Path]:
    """Every bundled checkpoint, sorted by name."""
    folder = bundled_dir()
    return sorted(folder.glob("*.safetensors")) if folder is not None else []
