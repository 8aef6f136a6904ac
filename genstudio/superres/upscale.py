"""``genstudio upscale CKPT in.png --out out.png``: ×4 super-resolution of one image file of any
size and mode.

* RGB goes through an RGB model as it is; a gray ("L") model takes each channel on its own.
* Grayscale ("L", "I;16", …) goes through a gray model as it is; an RGB model takes it repeated to
  three channels, and the result's luminance (BT.601) is kept.
* The alpha of RGBA / LA images is upscaled bicubically (a mask has no texture to invent) and put
  back. Palette and other modes are converted to RGB(A) first.
* Large images go through the model in overlapping tiles (:meth:`SRModel.upscale`), so memory stays
  bounded; the input is refused undecoded if its header declares more pixels than GenStudio opens
  (:mod:`genstudio.image_files`), and the output may not exceed that cap either.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from genstudio.image_files import MAX_PIXELS, open_image
from genstudio.superres.degrade import SCALE


def read_image(path: Path) -> Image.Image:
    """The decoded image, in L, LA, RGB or RGBA; ValueError in one line if it cannot be read."""
    try:
        with open_image(path) as img:
            img.load()
            if img.mode in ("L", "LA", "RGB", "RGBA"):
                return img.copy()
            if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
                a = np.asarray(img, np.float64)
                top = 65535.0 if a.max() > 255 else 255.0
                return Image.fromarray(np.clip(a / top * 255 + 0.5, 0, 255).astype(np.uint8), "L")
            has_alpha = "A" in img.getbands() or "transparency" in img.info
            return img.convert("RGBA" if has_alpha else "RGB")
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path.name} cannot be read as an image ({exc})") from None


def _to_tensor(a: np.ndarray) -> torch.Tensor:
    """(H, W, C) uint8 → (1, C, H, W) in [-1, 1]."""
    return torch.from_numpy(a).permute(2, 0, 1)[None].float().div(127.5).sub(1)


def _to_uint8(t: torch.Tensor) -> np.ndarray:
    """(1, C, H, W) in [-1, 1] → (H, W, C) uint8."""
    return ((t[0].permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()


def upscale_image(model, img: Image.Image, tile: int | None = None) -> Image.Image:
    """``img`` (L, LA, RGB or RGBA) ×4 by ``model``, in the same mode."""
    w, h = img.size
    if w * h * SCALE * SCALE > MAX_PIXELS:
        raise ValueError(f"the result would be {w * SCALE:,} × {h * SCALE:,} px, over the limit of "
                         f"{MAX_PIXELS / 1e6:g} megapixels")
    alpha = img.getchannel("A") if img.mode in ("LA", "RGBA") else None
    base = img.convert("L" if img.mode in ("L", "LA") else "RGB")
    x = _to_tensor(np.array(base).reshape(h, w, -1))  # (1, C, h, w), a writable copy
    kw = {} if tile is None else {"tile": tile}
    if model.channels == x.shape[1]:
        y = model.upscale(x, **kw)
    elif model.channels == 1:  # a gray model on colour: each channel alone
        y = torch.cat([model.upscale(x[:, i:i + 1], **kw) for i in range(3)], 1)
    else:  # a colour model on gray: repeat, upscale, keep the luminance
        rgb = model.upscale(x.repeat(1, 3, 1, 1), **kw)
        luma = torch.tensor((0.299, 0.587, 0.114)).view(1, 3, 1, 1)
        y = (rgb * luma).sum(1, keepdim=True)
    out = Image.fromarray(_to_uint8(y).squeeze(-1) if y.shape[1] == 1 else _to_uint8(y),
                          "L" if y.shape[1] == 1 else "RGB")
    if alpha is not None:
        out.putalpha(alpha.resize(out.size, Image.Resampling.BICUBIC))
    return out


def cmd_upscale(args: argparse.Namespace) -> int:
    from genstudio.atomic import atomic_write_bytes
    from genstudio.loading import load_model
    from genstudio.safe_text import safe_text

    import io

    model = load_model(args.checkpoint, args.device)
    if getattr(model, "kind", "") not in ("srresnet", "srgan"):
        raise ValueError(f"{args.checkpoint.name} holds a {model.kind} model; upscale needs an SRResNet or "
                         "SRGAN checkpoint")
    img = read_image(args.image)
    out = upscale_image(model, img, tile=args.tile)
    if args.out.suffix.lower() not in (".png", ".webp", ".tif", ".tiff", ".bmp"):
        raise ValueError(f"--out must be a lossless image file (.png, .webp, .tif, .bmp), not {args.out.name}")
    buf = io.BytesIO()
    out.save(buf, format={".tif": "TIFF", ".tiff": "TIFF"}.get(args.out.suffix.lower(), args.out.suffix[1:].upper()),
             **({"lossless": True} if args.out.suffix.lower() == ".webp" else {}))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out, buf.getvalue())
    print(safe_text(f"wrote {args.out} ({out.size[0]} × {out.size[1]} px, {out.mode}) from "
                    f"{img.size[0]} × {img.size[1]} px by {model.describe()}"))
    return 0
