"""Opening the user's image files without decoding a decompression bomb.

A PNG of a few hundred kB can declare 1 × 64,000,000 pixels and take gigabytes and seconds to
decode. ``Image.open`` is lazy: it reads only the header, which says the size. :func:`open_image`
refuses an image over :data:`MAX_PIXELS` pixels (or with a side over :data:`MAX_SIDE`) from that
header, before anything is decoded. Every path that opens a user's image goes through it: image
folders (``folder:PATH``), the scrubber's "image from a file" and drops, a run folder's previews.

Importing this module also lowers Pillow's own guard, ``Image.MAX_IMAGE_PIXELS``, to the same cap
(Pillow warns above it and refuses above twice it), so any other ``Image.open`` is bounded too.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from typing import Iterator

from PIL import Image

MAX_PIXELS = 40_000_000  # a 40-megapixel photo (120 MB as RGB) is the largest anyone trains or picks from
MAX_SIDE = 20_000  # a 1 × 40,000,000 strip has few pixels but is no picture; it would also be cut to 1 × 1

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class ImageTooLarge(ValueError):
    """An image whose header declares more pixels than GenStudio decodes; it was not decoded."""


def check_size(width: int, height: int, name: str = "the image") -> None:
    """Raise :class:`ImageTooLarge` for a ``width`` × ``height`` over the caps."""
    cap = min(MAX_PIXELS, Image.MAX_IMAGE_PIXELS or MAX_PIXELS)  # Pillow's, if someone set it lower
    if width * height > cap or max(width, height) > MAX_SIDE:
        raise ImageTooLarge(f"{name} is {width:,} × {height:,} px, over the limit of {cap / 1e6:g} "
                            f"megapixels and {MAX_SIDE:,} px a side: not decoded")


@contextlib.contextmanager
def open_image(path: str | os.PathLike) -> Iterator[Image.Image]:
    """``Image.open(path)``, refused (:class:`ImageTooLarge`) if its header declares too many pixels.

    Nothing is decoded before the check; the caller then ``load()``s or ``convert()``s as usual.
    Other failures are Pillow's own (``OSError`` / ``UnidentifiedImageError`` and the like).
    """
    name = os.path.basename(os.fspath(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # check_size says it, with the size
        try:
            img = Image.open(path)
        except Image.DecompressionBombError:  # over twice the cap: Pillow refuses it itself
            raise ImageTooLarge(f"{name} declares over {2 * MAX_PIXELS // 10**6} megapixels: not decoded") from None
    with img:
        check_size(*img.size, name=name)
        yield img
