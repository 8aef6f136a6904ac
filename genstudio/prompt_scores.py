"""``genstudio score`` for a text-to-image checkpoint: prompt accuracy and diversity against guidance.

The same seed (the same starting noise) is sampled for every prompt at every guidance scale, so the
rows differ by guidance alone; the real images of each prompt are scored the same way, as the
figure to read the model against. A prompt that holds a phrase the model was trained without (the
checkpoint's ``held_out``) is scored like the others and marked, whatever it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from genstudio.prompt_accuracy import (FACTORS, GuidanceRow, PromptError, accuracy_vs_guidance, format_rows, parse_prompt,
                                       real_reference)

DEFAULT_GUIDANCES = (0.0, 1.0, 3.0, 7.0)
#: The prompts scored when none are given: every digit and the empty prompt; the issue's four shapes, two more, and the
#: default held-out combination (reported as such); faces by the factors the faces reader sees.
DEFAULT_PROMPTS = {
    "digits": tuple(f"a handwritten {d}" for d in range(10)) + ("",),
    "shapes": ("a red circle", "a blue square", "a green triangle", "a yellow star", "a purple cross",
               "a pink circle on the left", "a blue triangle"),
    "faces": ("a face with long red hair", "a face with short black hair", "a face with curly blond hair",
              "a face with long brown hair", "a face with short dark brown hair", "a face with curly grey hair",
              "a bald face", "a face with dark skin", "a face with blue eyes"),
}


@dataclass(frozen=True)
class PromptReport:
    """Prompt accuracy of one checkpoint over guidance scales, and of real images of the same prompts."""

    data: str
    held_out: tuple[str, ...]  # the phrases the model was trained without
    rows: tuple[GuidanceRow, ...]
    reference: GuidanceRow
    how: str  # how the samples were drawn, e.g. "DDIM 50 steps, seed 0, 50 per prompt"

    def lines(self) -> list[str]:
        """The report as text: mean accuracy per factor, then each prompt's all-right share per scale."""
        out = [f"prompt accuracy ({self.how}); guidance s: 0 = unconditional, 1 = conditional "
               "(the paper's w = s − 1)"]
        out += format_rows(list(self.rows), self.reference)
        out.append("")
        width = max(24, *(len(s.prompt) for s in self.reference.scores)) + 4
        out.append(f"{'prompt (all asked right)':{width}s}" + "".join(f"{'s=' + format(r.guidance, 'g'):>8s}"
                                                                   for r in self.rows) + "    real")
        for i, ref in enumerate(self.reference.scores):
            cells = "".join(_cell(r.scores[i]) for r in self.rows + (self.reference,))
            mark = "   held out of training" if ref.held_out else ""
            mark += f"   ({', '.join(ref.unmeasured)} not measured)" if ref.unmeasured else ""
            out.append(f"{'“' + ref.prompt + '”':{width}s}{cells}{mark}")
        if any(not s.factors for s in self.reference.scores):
            out.append("(a prompt that asks for nothing, such as \"\", shows how many different "
                       f"{FACTORS[self.data][0].replace('_', ' ')}s its samples show)")
        return out


def _cell(score) -> str:
    """A prompt's share of samples with everything asked right; for the empty prompt, the kinds seen."""
    if score.factors:
        return f"{score.all_right:8.0%}"
    return f"{len(next(iter(score.read.values()), {})):8d}"


def score_text2image(path: str | Path, prompts: list[str] | None = None,
                     guidances: tuple[float, ...] = DEFAULT_GUIDANCES, n: int = 50, *, sampler: str = "ddim",
                     steps: int = 50, seed: int = 0, device: str = "auto",
                     progress: Callable[[int, int], None] | None = None) -> PromptReport:
    """Sample ``n`` images per prompt and guidance scale from a text-to-image checkpoint and score them.

    Raises
    ------
    PromptError
        The model was trained on a data set prompt accuracy cannot read (not digits or shapes), or a
        prompt has a word the measuring stick or the model does not know.
    """
    from genstudio.ldm.model import pictures
    from genstudio.loading import load_model
    from genstudio.sampling import SampleSpec, sample

    model = load_model(path, device)
    name = Path(path).name
    if not hasattr(model, "guided_eps"):
        raise PromptError(f"{name} is not a text-to-image model: prompt accuracy needs one")
    data = str(model.meta.get("data", "")).lower()
    if data not in DEFAULT_PROMPTS:
        raise PromptError(f"{name} was trained on {data!r}; prompt accuracy is measured for "
                          f"{', '.join(DEFAULT_PROMPTS)}")
    held_out = tuple(model.meta.get("held_out", ()))
    prompts = list(prompts or DEFAULT_PROMPTS[data])
    for p in prompts:  # the measuring stick's words, then the model's own vocabulary, before sampling
        parse_prompt(p, data, held_out)
        model.tokenizer.encode(p)

    def draw(prompt: str, guidance: float, count: int, sample_seed: int) -> torch.Tensor:
        spec = SampleSpec(count, sample_seed, sampler, steps, record=False, prompt=prompt, guidance=guidance)
        return torch.from_numpy(pictures(model, sample(model, spec).final))  # latents decoded (ldm)

    rows = accuracy_vs_guidance(draw, prompts, list(guidances), data, n, seed, held_out, progress)
    size = model.image_shape[-1] if hasattr(model, "image_shape") else int(model.meta.get("size", 32))
    reference = real_reference(prompts, data, n, size=size, hold_out=held_out)
    how = SampleSpec(n, seed, sampler, steps).short(eta=False) + f", {n} per prompt"
    return PromptReport(data, held_out, tuple(rows), reference, how)
