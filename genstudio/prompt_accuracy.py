"""Prompt accuracy: does a generated image show what its prompt asked for?

A prompt is parsed into what it asks for (:func:`parse_prompt`: a digit; or a colour, shape,
position and background), and each image is read back by a measuring stick that text-to-image
training never uses:

* ``digits``: the digits classifier of :mod:`genstudio.quality` (trained on scikit-learn's real
  digits, 98 %+ on held-out ones);
* ``shapes``: :mod:`genstudio.shapes_reader` (colour, position and background by rule, the shape by
  a small classifier of the silhouette; measured on held-out real images by ``python -m
  genstudio.shapes_reader --check``).

:func:`prompt_accuracy` scores a batch of images against one prompt (the fraction right for each
factor asked for, and for all of them at once) with their :func:`diversity`;
:func:`accuracy_vs_guidance` does it over prompts and guidance scales with any sampling function,
and :func:`real_reference` gives the same figures for real images of the prompt (accuracy near
100 % there is what shows the stick measures; their diversity is what a model should keep).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from genstudio.data.captions import COLOURS, DIGIT_WORDS, HOLD_OUT, POSITIONS, holds

MEASURED = ("digits", "shapes", "faces")  # the data sets prompt accuracy can read back
DIVERSITY_SIZE = 16  # images are compared at 16 x 16 px for diversity
_FILLER = {"digits": ("a", "an", "the", "handwritten", "digit"),
           "shapes": ("a", "an", "the", "on", "at", "in", "background"),
           "faces": ("a", "an", "the", "face", "with", "and")}
_SYNONYMS = {"center": "centre", "middle": "centre", "grey": "gray", "violet": "purple", "magenta": "pink"}
FACTORS = {"digits": ("digit",), "shapes": ("colour", "shape", "position", "background"),
           "faces": ("hair_style", "hair_colour", "skin", "eyes")}
UNMEASURED = ("expression",)  # faces: a smile or frown is parsed but not read (faces_reader says why)


class PromptError(ValueError):
    """A prompt cannot be measured; the message is one line meant for the user."""


@dataclass(frozen=True)
class Request:
    """What a prompt asks for: factor → value in the captions' words (e.g. ``{"colour": "red"}``)."""

    data: str
    prompt: str
    wants: dict[str, str]
    held_out: tuple[str, ...] = ()  # held-out phrases the prompt holds: training never saw them together
    unmeasured: dict[str, str] = field(default_factory=dict)  # asked for, but no reader sees it (a smile)


def _listed(names) -> str:
    """("a", "b", "c") → "a, b and c"."""
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def _vocabulary(data: str) -> dict[str, tuple[str, str]]:
    """word → (factor, value) for the words that ask for something."""
    if data == "digits":
        return {**{str(d): ("digit", str(d)) for d in range(10)},
                **{w: ("digit", str(d)) for d, w in enumerate(DIGIT_WORDS)}}
    from genstudio.data.shapes import SHAPES

    return {**{c: ("colour", c) for c in COLOURS}, **{s: ("shape", s) for s in SHAPES},
            **{p: ("position", p) for p in POSITIONS}, "light": ("background", "light"),
            "dark": ("background", "dark")}


def parse_prompt(prompt: str, data: str, hold_out: tuple[str, ...] | None = None) -> Request:
    """Parse ``prompt`` for a model trained on ``data`` (``"digits"`` or ``"shapes"``).

    ``hold_out`` is the phrases the model was trained without (None: the data set's default).

    Raises
    ------
    PromptError
        ``data`` is not measured, a word is not one the captions use, or a factor is asked twice.

    >>> parse_prompt("a red star on the left", "shapes").wants
    {'colour': 'red', 'shape': 'star', 'position': 'left'}
    """
    data = data.lower()
    if data not in MEASURED:
        raise PromptError(f"prompt accuracy is measured for {_listed(MEASURED)} models, not {data}")
    vocab = _vocabulary(data)
    wants: dict[str, str] = {}
    words = [w for w in re.findall(r"[^\s,.;:!?]+", prompt.lower()) if w not in _FILLER[data]]
    if data == "faces":
        wants = _parse_face(words)
        words = []
    for word in words:
        word = _SYNONYMS.get(word, word)
        if word not in vocab:
            known = sorted({w for w in vocab if not w.isdigit()})
            raise PromptError(f"unknown word {word!r} in the prompt: a {data} prompt uses "
                              f"{', '.join(known)}{', 0-9' if data == 'digits' else ''}")
        factor, value = vocab[word]
        if factor in wants and wants[factor] != value:
            raise PromptError(f"the prompt asks for two {factor}s ({wants[factor]} and {value})")
        wants[factor] = value
    phrases = HOLD_OUT.get(data, ()) if hold_out is None else tuple(hold_out)
    unmeasured = {f: wants.pop(f) for f in UNMEASURED if f in wants}
    return Request(data, prompt, wants, tuple(p for p in phrases if holds(prompt, p)), unmeasured)


def _parse_face(words: list[str]) -> dict[str, str]:
    """Face words → factors: adjectives wait for their noun ("long red hair", "dark skin", "blue eyes")."""
    from genstudio.faces_reader import _names

    names = _names()
    expressions = {"smiling": "smiling", "frowning": "frowning"}
    wants: dict[str, str] = {}

    def put(factor: str, value: str) -> None:
        if factor in wants and wants[factor] != value:
            raise PromptError(f"the prompt asks for two {factor.replace('_', ' ')}s ({wants[factor]} and {value})")
        wants[factor] = value

    pending: list[str] = []
    for word in words:
        if word in expressions:
            put("expression", expressions[word])
        elif word == "bald":
            put("hair_style", "bald")
        elif word in ("hair", "skin", "eyes", "eye"):
            if word == "hair" and pending and pending[0] in names["hair_style"]:
                put("hair_style", pending.pop(0))
            text = " ".join(pending).replace("gray", "grey" if word == "hair" else "gray")
            factor = {"hair": "hair_colour", "skin": "skin", "eyes": "eyes", "eye": "eyes"}[word]
            if text:
                if text not in names[factor]:
                    raise PromptError(f"{text!r} is not a {word} colour the faces know: "
                                      f"{', '.join(names[factor])}")
                put(factor, text)
            pending = []
        else:
            pending.append(word)
    if pending:
        known = sorted({w for v in names.values() for n in v for w in n.split()}
                       | {"hair", "skin", "eyes", *expressions})
        bad = next((w for w in pending if w not in known), None)
        raise PromptError(f"unknown word {bad!r} in the prompt: a faces prompt uses {', '.join(known)}" if bad else
                          f"{' '.join(pending)!r} says nothing without hair, skin or eyes after it")
    return wants


def read_images(images, data: str) -> list[dict[str, str]]:
    """Read each (N, C, H, W) image in [-1, 1] back into factor → value, as the captions say it."""
    if data == "digits":
        from genstudio.quality import load_classifier, prepare

        with torch.inference_mode():
            digits = load_classifier()(prepare(torch.as_tensor(images))).argmax(1)  # (N,)
        return [{"digit": str(int(d))} for d in digits]
    if data == "shapes":
        from genstudio.shapes_reader import read_shapes

        return [vars(r).copy() for r in read_shapes(images)]
    if data == "faces":
        from genstudio.faces_reader import read_faces

        return read_faces(images)
    raise PromptError(f"prompt accuracy is measured for {_listed(MEASURED)} models, not {data}")


def diversity(images) -> float:
    """Mean pairwise RMS distance between images at 16 x 16 px, in [-1, 1] pixel units (0: all equal).

    A model that gives the same picture for every seed scores 0; compare with :func:`real_reference`.
    """
    x = torch.as_tensor(images).detach().to("cpu", torch.float32)
    if len(x) < 2:
        return float("nan")
    x = F.interpolate(x, size=(DIVERSITY_SIZE, DIVERSITY_SIZE), mode="bilinear", antialias=True,
                      align_corners=False).flatten(1)  # (N, C*256)
    d = torch.cdist(x.double(), x.double()) / x.shape[1] ** 0.5  # (N, N) RMS distances
    n = len(x)
    return float(d.sum() / (n * (n - 1)))


@dataclass(frozen=True)
class PromptScore:
    """How a batch of images answers one prompt."""

    prompt: str
    n: int
    factors: dict[str, float]  # factor asked for → fraction of images showing it
    all_right: float  # fraction showing every factor asked for (nan if the prompt asks for nothing)
    diversity: float
    read: dict[str, dict[str, int]] = field(default_factory=dict)  # factor → value read → count
    held_out: tuple[str, ...] = ()
    unmeasured: tuple[str, ...] = ()  # words asked for that no reader checks (e.g. "smiling")

    def describe(self) -> str:
        """One line: ``'"a red circle": colour 98%, shape 91%, all 90% (n=100, diversity 0.41)'``."""
        parts = [f"{f} {v:.0%}" for f, v in self.factors.items()]
        if self.factors:
            parts.append(f"all {self.all_right:.0%}")
        else:  # nothing asked: say what came out
            parts += [f"{f}: " + " ".join(f"{k}×{v}" for k, v in sorted(c.items())) for f, c in self.read.items()]
        note = f" [held out of training: {', '.join(self.held_out)}]" if self.held_out else ""
        note += f" [not measured: {', '.join(self.unmeasured)}]" if self.unmeasured else ""
        return f'"{self.prompt}": {", ".join(parts)} (n={self.n}, diversity {self.diversity:.2f}){note}'


def prompt_accuracy(images, prompt: str, data: str, hold_out: tuple[str, ...] | None = None) -> PromptScore:
    """Score ``images`` (N, C, H, W) in [-1, 1], all made for ``prompt`` by a model trained on ``data``.

    Raises PromptError if the prompt cannot be measured (see :func:`parse_prompt`).
    """
    request = parse_prompt(prompt, data, hold_out)
    readings = read_images(images, request.data)
    n = len(readings)
    factors = {f: float(np.mean([r[f] == v for r in readings])) if n else float("nan")
               for f, v in request.wants.items()}
    right = [all(r[f] == v for f, v in request.wants.items()) for r in readings]
    read = {f: dict(Counter(r[f] for r in readings)) for f in FACTORS[request.data]}
    return PromptScore(prompt, n, factors, float(np.mean(right)) if n and request.wants else float("nan"),
                       diversity(images), read, request.held_out, tuple(request.unmeasured.values()))


# ---------------------------------------------------------------------------- against guidance
#: ``sample(prompt, guidance, n, seed)`` → (n, C, H, W) images in [-1, 1].
SampleFn = Callable[[str, float, int, int], torch.Tensor]


@dataclass(frozen=True)
class GuidanceRow:
    """Prompt accuracy at one guidance scale, over several prompts."""

    guidance: float
    scores: tuple[PromptScore, ...]

    def mean(self, factor: str) -> float:
        """Mean over the prompts that ask for ``factor`` (``"all"``: every factor asked at once)."""
        v = [s.all_right if factor == "all" else s.factors[factor] for s in self.scores
             if (s.factors if factor == "all" else factor in s.factors)]
        return float(np.mean(v)) if v else float("nan")

    @property
    def diversity(self) -> float:
        return float(np.mean([s.diversity for s in self.scores]))


def accuracy_vs_guidance(sample: SampleFn, prompts: list[str], guidances: list[float], data: str, n: int = 50,
                         seed: int = 0, hold_out: tuple[str, ...] | None = None,
                         progress: Callable[[int, int], None] | None = None) -> list[GuidanceRow]:
    """Prompt accuracy and diversity of ``n`` samples per prompt at each guidance scale.

    Every prompt is parsed before anything is sampled, so a bad word fails at once. The same
    ``seed`` is used at every scale (the same starting noise), so the rows differ by guidance alone.
    """
    for p in prompts:
        parse_prompt(p, data, hold_out)
    rows, done, total = [], 0, len(prompts) * len(guidances)
    for g in guidances:
        scores = []
        for p in prompts:
            scores.append(prompt_accuracy(sample(p, float(g), n, seed), p, data, hold_out))
            done += 1
            if progress is not None:
                progress(done, total)
        rows.append(GuidanceRow(float(g), tuple(scores)))
    return rows


def real_reference(prompts: list[str], data: str, n: int = 50, size: int = 32, seed: int = 2,
                   hold_out: tuple[str, ...] | None = None) -> GuidanceRow:
    """The same figures for up to ``n`` real images that match each prompt (``guidance`` is nan).

    Real shapes and faces come from a fresh draw of the data set (``seed``), real digits from the 300 the
    digits classifier never trained on; a prompt's real images are those whose known factors are
    what the prompt asks for.
    """
    from genstudio.data import load_dataset

    if data == "digits":
        from genstudio.data import Dataset
        from genstudio.quality import held_out_split

        real = load_dataset("digits", size=size)  # only the digits the classifier never trained on
        keep = torch.from_numpy(held_out_split()[1])
        real = Dataset(real.name, real.kind, real.tensor[keep], real.labels[keep])
        truth = [{"digit": str(int(d))} for d in real.labels]
    elif data == "faces":
        from genstudio.faces_reader import truth as faces_truth

        real = load_dataset("faces", size=size, num_images=max(2000, 40 * n), seed=seed)
        truth = faces_truth(real)
    else:
        from genstudio.shapes_reader import truth as shapes_truth

        real = load_dataset("shapes", size=size, num_images=max(2000, 40 * n), seed=seed)
        truth = [vars(r) for r in shapes_truth(real)]
    scores = []
    for p in prompts:
        wants = parse_prompt(p, data, hold_out).wants
        idx = [i for i, t in enumerate(truth) if all(t[f] == v for f, v in wants.items())][:n]
        scores.append(prompt_accuracy(real.tensor[idx], p, data, hold_out))
    return GuidanceRow(float("nan"), tuple(scores))


def format_rows(rows: list[GuidanceRow], reference: GuidanceRow | None = None) -> list[str]:
    """A plain table: one line per guidance scale (and the real images), mean accuracy per factor."""
    every = rows + ([reference] if reference else [])
    factors = [f for f in sum(FACTORS.values(), ())
               if any(f in s.factors for r in every for s in r.scores)] + ["all"]
    widths = [max(10, len(f)) for f in factors]
    lines = ["guidance  " + "  ".join(f"{f:>{w}s}" for f, w in zip(factors, widths)) + "   diversity"]
    for r in every:
        label = "real" if r.guidance != r.guidance else f"{r.guidance:g}"
        cells = "  ".join(f"{r.mean(f):{w}.0%}" for f, w in zip(factors, widths))
        lines.append(f"{label:8s}  {cells}   {r.diversity:9.2f}")
    return lines
