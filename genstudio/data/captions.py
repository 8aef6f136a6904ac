"""Captions for text-to-image training, made from what each data set already knows (no downloads).

* ``digits``: the label, four ways: ``"a handwritten 7"``, ``"7"``, ``"seven"``, ``"the digit seven"``;
* ``shapes``: the fill's colour named from its hue (:func:`colour_name`), the shape, where its centre
  lies (:func:`position_name`) and a light or dark background: ``"a red star on the left on a dark
  background"``, with shorter variants (``"a red star on the left"``, ``"a red star"``, ``"a star"``);
* ``faces``: smile or frown, hair style and colour, skin tone, eye colour:
  ``"a smiling face with long red hair, light skin and blue eyes"`` and shorter variants;
* ``folder:PATH``: ``name.txt`` beside ``name.png`` (one caption a line, the common convention of
  training tools) or a ``captions.jsonl`` in the folder (``{"file": "cats/a.png", "text": "..."}``
  per line, ``file`` relative to the folder).

:func:`captions_for` gives every item all the captions that describe it (a trainer picks one per
item per step). :func:`captioned` prepares a data set for captioned training: it removes items whose
full caption holds a held-out phrase (by default no blue triangles and no yellow crosses among the
shapes, so a model can be asked for a combination it never saw) and, for a folder, images without a
caption; both are counted in ``Dataset.info`` and said by :func:`caption_notice`, never silently.
"""

from __future__ import annotations

import colorsys
import json
from pathlib import Path

import numpy as np
import torch

from genstudio.data import DataError, Dataset

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
#: Phrases held out of captioned training by default, per data set (an item whose full caption holds
#: one is removed). Chosen so the prompts used to measure shapes models stay in training.
HOLD_OUT = {"shapes": ("blue triangle", "yellow cross")}
#: Colour names by hue, degrees: (name, upper bound); red wraps around 360.
HUES = (("red", 15), ("orange", 40), ("yellow", 70), ("green", 165), ("cyan", 195), ("blue", 255),
        ("purple", 290), ("pink", 345), ("red", 361))
COLOURS = ("red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink", "brown", "black",
           "white", "gray")
POSITIONS = ("left", "right", "top", "bottom", "centre")
POSITION_PHRASES = {"left": "on the left", "right": "on the right", "top": "at the top",
                    "bottom": "at the bottom", "centre": "in the centre"}
CENTRE_ZONE = 0.1  # a shape whose centre lies within this (fraction of the side) of the middle is "in the centre"
SMILE = 0.3  # mouth_curve above this is a smile, below -SMILE a frown, between: neither is said


def colour_name(rgb) -> str:
    """The plain word a person would use for an RGB colour (0..255): hue names, brown, black, white, gray.

    >>> colour_name((230, 30, 40)), colour_name((120, 70, 20)), colour_name((20, 20, 30))
    ('red', 'brown', 'black')
    """
    h, s, v = colorsys.rgb_to_hsv(*(float(c) / 255.0 for c in rgb))
    if v < 0.25:
        return "black"
    if s < 0.2:
        return "white" if v > 0.8 else "gray"
    deg = h * 360.0
    name = next(n for n, upper in HUES if deg < upper)
    if name in ("orange", "yellow") and v < 0.6 and deg < 50:  # dark orange reads as brown
        return "brown"
    return name


def position_name(x: float, y: float) -> str:
    """Where a centre at (x, y) (fractions of the side, y down) lies: left, right, top, bottom or centre.

    Within ``CENTRE_ZONE`` of the middle on both axes it is the centre; otherwise the axis farther
    from the middle decides.
    """
    dx, dy = x - 0.5, y - 0.5
    if max(abs(dx), abs(dy)) < CENTRE_ZONE:
        return "centre"
    if abs(dx) >= abs(dy):
        return "left" if dx < 0 else "right"
    return "top" if dy < 0 else "bottom"


def _luma(rgb) -> float:
    return (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) / 255.0


def digit_captions(label: int) -> tuple[str, ...]:
    """``7`` → ``("a handwritten 7", "7", "seven", "the digit seven")``."""
    return (f"a handwritten {label}", str(label), DIGIT_WORDS[label], f"the digit {DIGIT_WORDS[label]}")


def shape_captions(shape: str, colour: str, position: str, background: str) -> tuple[str, ...]:
    """The captions of one shapes image, longest first; ``background`` is ``"light"`` or ``"dark"``."""
    where = POSITION_PHRASES[position]
    return (f"a {colour} {shape} {where} on a {background} background", f"a {colour} {shape} {where}",
            f"a {colour} {shape}", f"a {shape} {where}", f"a {shape}")


def face_captions(smile: str, hair_style: str, hair_colour: str, skin: str, eyes: str) -> tuple[str, ...]:
    """The captions of one face, longest first. ``smile`` is ``"smiling"``, ``"frowning"`` or ``""``."""
    face = f"a {smile} face" if smile else "a face"
    hair = f"with {hair_style} {hair_colour} hair" if hair_style != "bald" else ""
    if hair_style == "bald":
        face = f"a bald {smile} face" if smile else "a bald face"
    rest = f"{skin} skin and {eyes} eyes"
    full = f"{face} {hair}, {rest}" if hair else f"{face} with {rest}"
    out = [full, f"{face} {hair}".strip(), face]
    if smile:
        out.append(f"a {smile} face")
    return tuple(dict.fromkeys(out))  # drop repeats, keep order


def _shapes(data: Dataset) -> list[tuple[str, ...]]:
    from genstudio.data.shapes import SHAPES

    f = data.info["factors"]
    return [shape_captions(SHAPES[int(s)], colour_name(c), position_name(float(x), float(y)),
                           "light" if _luma(b) > 0.5 else "dark")
            for s, c, x, y, b in zip(f["shape"], f["colour"], f["x"], f["y"], f["background"])]


def _faces(data: Dataset) -> list[tuple[str, ...]]:
    from genstudio.data.faces import HAIR_NAMES, HAIR_STYLES, IRIS_NAMES, SKIN_NAMES

    f = data.info["factors"]
    out = []
    for i in range(len(data)):
        m = float(f["mouth_curve"][i])
        smile = "smiling" if m > SMILE else "frowning" if m < -SMILE else ""
        out.append(face_captions(smile, HAIR_STYLES[f["hair_style"][i]], HAIR_NAMES[f["hair_colour"][i]],
                                 SKIN_NAMES[f["skin"][i]], IRIS_NAMES[f["eye_colour"][i]]))
    return out


def read_folder_captions(root: str | Path, paths: list[str]) -> list[tuple[str, ...]]:
    """The captions of each image ``paths[i]`` (relative to ``root``): ``()`` where it has none.

    ``name.txt`` beside ``name.png`` gives one caption per non-empty line; a ``captions.jsonl`` in
    ``root`` gives ``{"file": ..., "text": ...}`` objects (several lines may name one file). Both
    may be used; a bad line in ``captions.jsonl`` is a DataError naming the line.
    """
    root = Path(root)
    by_file: dict[str, list[str]] = {}
    jsonl = root / "captions.jsonl"
    if jsonl.is_file():
        for number, line in enumerate(jsonl.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                file, text = str(obj["file"]), str(obj["text"]).strip()
            except (ValueError, KeyError, TypeError):
                raise DataError(f"{jsonl} line {number} is not a {{\"file\": ..., \"text\": ...}} object") from None
            if text:
                by_file.setdefault(Path(file).as_posix(), []).append(text)
    out = []
    for rel in paths:
        texts = list(by_file.get(Path(rel).as_posix(), []))
        txt = (root / rel).with_suffix(".txt")
        if txt.is_file():
            texts += [t.strip() for t in txt.read_text(encoding="utf-8", errors="replace").splitlines() if t.strip()]
        out.append(tuple(dict.fromkeys(texts)))
    return out


def _folder(data: Dataset) -> list[tuple[str, ...]]:
    if "paths" not in data.info:
        raise DataError(f"{data.name} does not record its files, so its captions cannot be found")
    return read_folder_captions(data.info["root"], data.info["paths"])


def captions_for(data: Dataset) -> list[tuple[str, ...]]:
    """For each item of ``data``, all the captions that describe it (longest first).

    Raises
    ------
    DataError
        The data set has no captions (point sets), or no image of a folder has one.
    """
    if "captions" in data.info:  # made by captioned(): already filtered
        return list(data.info["captions"])
    name = data.name.lower()
    if data.kind != "images":
        raise DataError(f"{data.name} has no captions: text-to-image needs digits, shapes, faces or a "
                        "captioned folder:PATH")
    if name == "digits":
        return [digit_captions(int(d)) for d in data.labels]
    if name == "shapes":
        return _shapes(data)
    if name == "faces":
        return _faces(data)
    caps = _folder(data)
    if not any(caps):
        raise DataError(f"no captions in {data.info.get('root', data.name)}: put name.txt beside name.png, "
                        "or a captions.jsonl of {\"file\": ..., \"text\": ...} lines")
    return caps


def holds(caption: str, phrase: str) -> bool:
    """True if ``phrase`` appears in ``caption`` as whole words (case-insensitive)."""
    return f" {' '.join(phrase.lower().split())} " in f" {' '.join(caption.lower().replace(',', ' ').split())} "


def parse_hold_out(text: str) -> tuple[str, ...]:
    """``"blue triangle, yellow cross"`` → ``("blue triangle", "yellow cross")``; ``""`` → ``()``."""
    return tuple(" ".join(p.lower().split()) for p in text.split(",") if p.strip())


def captioned(data: Dataset, hold_out: tuple[str, ...] | None = None) -> Dataset:
    """``data`` ready for captioned training: captions attached, held-out and uncaptioned items removed.

    Parameters
    ----------
    data : Dataset
        An image data set with captions (see :func:`captions_for`).
    hold_out : tuple of str, optional
        Phrases no training caption may hold; an item is removed if its *full* (first) caption holds
        one. None takes the set's default (``HOLD_OUT``); ``()`` holds nothing out.

    Returns
    -------
    Dataset
        The kept items; ``info["captions"]`` (a tuple per item), ``info["held_out"]`` (the phrases),
        ``info["held_out_removed"]`` (items removed for them), ``info["uncaptioned"]`` (images
        without a caption, removed) and ``info["uncaptioned_example"]`` (one such file, or None).
    """
    caps = captions_for(data)
    phrases = HOLD_OUT.get(data.name.lower(), ()) if hold_out is None else tuple(hold_out)
    keep, held, bare = [], 0, []
    for i, c in enumerate(caps):
        if not c:
            bare.append(i)
        elif any(holds(c[0], p) for p in phrases):
            held += 1
        else:
            keep.append(i)
    if not keep:
        raise DataError(f"no item of {data.name} is left for captioned training "
                        f"({held} held out for {', '.join(phrases)}, {len(bare)} without a caption)")
    index = torch.as_tensor(keep, dtype=torch.long)
    info = {k: v for k, v in data.info.items() if k not in ("factors", "paths")}
    if "factors" in data.info:
        info["factors"] = {k: np.asarray(v)[keep] for k, v in data.info["factors"].items()}
    if "paths" in data.info:
        info["paths"] = [data.info["paths"][i] for i in keep]
        info["uncaptioned_example"] = data.info["paths"][bare[0]] if bare else None
    info.update(captions=[caps[i] for i in keep], held_out=phrases, held_out_removed=held, uncaptioned=len(bare))
    labels = data.labels[index] if data.labels is not None else None
    return Dataset(data.name, data.kind, data.tensor[index].contiguous(), labels, info, data.centers)


def caption_notice(data: Dataset) -> str:
    """One sentence on what :func:`captioned` left out, or ``""`` when nothing was.

    ``"12 images in /pics have no caption and were left out (e.g. cat.png)"``,
    ``"388 shapes images held out of training, so the model never sees “blue triangle” or “yellow cross”"``
    """
    parts = []
    n = int(data.info.get("uncaptioned", 0))
    if n:
        where = data.info.get("root", data.name)
        what = "1 image in {} has no caption and was left out" if n == 1 else \
            f"{n:,} images in {{}} have no caption and were left out"
        example = data.info.get("uncaptioned_example")
        parts.append(what.format(where) + (f" (e.g. {example})" if example else ""))
    held = int(data.info.get("held_out_removed", 0))
    if held:
        phrases = [f"“{p}”" for p in data.info.get("held_out", ())]
        said = " or ".join((", ".join(phrases[:-1]), phrases[-1])) if len(phrases) > 1 else "".join(phrases)
        parts.append(f"{held:,} {data.name} images held out of training, so the model never sees {said}")
    return "; ".join(parts)
