"""Training a text-to-image diffusion model with classifier-free guidance in mind (Qt-free).

The DDPM objective of :mod:`genstudio.diffusion.trainer` (Ho et al. 2020, eq. 14) with a caption:
each item of a batch gets one of its captions (:func:`genstudio.data.captions.captions_for`),
chosen with the run's seeded data stream, and for ``P_UNCOND`` = 10 % of the items the caption is
replaced by the null caption (Ho & Salimans 2022, §3.2: p_uncond 0.1–0.2), so the one network
learns both ε̂_c and ε̂_∅. The text encoder inside the network is trained with it, from scratch.

The vocabulary is built from the captions and written to every checkpoint header (``meta["text"]``).
Previews are rows of fixed prompts (:func:`preview_prompts`: the ten digits, a few colour-and-shape
prompts with the held-out one, faces by their factors; a folder's most common captions), each row the
same columns of the fixed noise, sampled at guidance s = 3: a row shows one prompt, a column one x_T,
so what changes down a column is the prompt alone. The Monitor labels each row with its prompt.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch

from genstudio.config import ConfigError, RunConfig
from genstudio.data import Dataset
from genstudio.diffusion.guidance import DEFAULT_GUIDANCE
from genstudio.diffusion.samplers import ddim_sample
from genstudio.diffusion.trainer import ADAM_BETAS, PREVIEW_STEPS, DiffusionTrainer
from genstudio.text.tokenizer import Tokenizer
from genstudio.text2image.model import guided
from genstudio.trainer import Preview

P_UNCOND = 0.1  # share of items trained with the null caption (Ho & Salimans: 0.1 or 0.2 work best)
MAX_PREVIEW_ROWS = 10  # prompts in a preview (the ten digits)
MAX_PREVIEW_COLUMNS = 8  # samples of each prompt


def preview_prompts(data_name: str, captions: list[tuple[str, ...]], tokenizer: Tokenizer) -> list[str]:
    """The prompts of a run's preview rows: the data set's scored prompts (``prompt_scores.DEFAULT_PROMPTS``,
    without the empty one) that the vocabulary can say, else the most common full captions."""
    from collections import Counter

    from genstudio.prompt_scores import DEFAULT_PROMPTS

    known = [p for p in DEFAULT_PROMPTS.get(data_name, ()) if p and not tokenizer.unknown(p)]
    if len(known) >= 2:
        return known[:MAX_PREVIEW_ROWS]
    common = Counter(caps[0] for caps in captions if caps).most_common(MAX_PREVIEW_ROWS)
    return [caption for caption, _ in common]


class CaptionedBatch(NamedTuple):
    """A training batch: images and one caption each, as token ids."""

    x0: torch.Tensor  # (B, C, H, W)
    ids: torch.Tensor  # (B, L) int64


def text2image_specs(config: RunConfig, data: Dataset, tokenizer: Tokenizer) -> dict[str, dict[str, Any]]:
    """``{"eps": {"arch": "cond_unet", "args"}}`` for ``config`` on ``data`` with ``tokenizer``."""
    if config.arch not in ("auto", "cond_unet", "unet"):
        raise ConfigError(f"text2image trains a text-conditioned U-Net: use --arch auto, not {config.arch!r}",
                          field="arch")
    if data.kind != "images":
        raise ConfigError("text2image needs captioned images (digits, shapes, faces or a captioned folder)",
                          field="data")
    width = config.width or 32
    mults = [1, 2, 2] if data.size <= 32 else [1, 2, 2, 2]
    return {"eps": {"arch": "cond_unet", "args": {
        "channels": data.channels, "width": width, "mults": mults, "vocab_size": len(tokenizer),
        "max_len": tokenizer.max_len, "text_dim": 2 * width, "text_layers": 2, "heads": 4}}}


def _hold_out(config: RunConfig) -> tuple[str, ...] | None:
    value = config.extra.get("hold_out")
    if value is None:
        return None  # the data set's default
    from genstudio.data.captions import parse_hold_out

    return parse_hold_out(value) if isinstance(value, str) else tuple(value)


class Text2ImageTrainer(DiffusionTrainer):
    """One caption-conditioned DDPM step at a time; the EMA network samples, as for diffusion."""

    kind = "text2image"

    def __init__(self, config: RunConfig, data: Dataset, device: torch.device, *, rank: int = 0,
                 world_size: int = 1):
        from genstudio.data.captions import captioned

        data = captioned(data, _hold_out(config))  # captions attached; held-out items removed (counted)
        captions: list[tuple[str, ...]] = data.info["captions"]
        self.tokenizer = Tokenizer.build(c for caps in captions for c in caps)
        super().__init__(config, data, device, rank=rank, world_size=world_size)
        # the text encoder brings many small tensors: one multi-tensor Adam update instead of a loop
        self.opt = torch.optim.Adam(self.net.parameters(), lr=config.lr, betas=ADAM_BETAS, foreach=True)
        # every caption of every item as ids, item i's at offsets[i] … offsets[i] + counts[i] − 1
        self.caption_ids = torch.stack([self.tokenizer.encode(c) for caps in captions for c in caps])  # (M, L)
        self.counts = torch.tensor([len(caps) for caps in captions])  # (N,)
        self.offsets = torch.cumsum(self.counts, 0) - self.counts  # (N,)
        self.null_ids = self.tokenizer.null()  # (L,)
        self.preview_rows = preview_prompts(config.data, captions, self.tokenizer)  # one prompt a row
        self.preview_columns = max(1, min(MAX_PREVIEW_COLUMNS, self.fixed_noise.shape[0] // len(self.preview_rows)))

    def network_specs(self, config: RunConfig, data: Dataset) -> dict[str, dict[str, Any]]:
        return text2image_specs(config, data, self.tokenizer)

    def extra_meta(self) -> dict[str, Any]:
        return {**super().extra_meta(), "text": self.tokenizer.to_meta(), "p_uncond": P_UNCOND,
                "held_out": list(self.data.info.get("held_out", ()))}

    def next_batch(self) -> CaptionedBatch:
        """This rank's rows of a global batch: images drawn with replacement, a caption each (10 % null)."""
        b = self.config.batch
        idx = torch.randint(self.train_data.shape[0], (b,), generator=self.data_gen)  # (B,) on the CPU
        which = torch.rand(b, generator=self.data_gen)  # (B,) which of the item's captions
        drop = torch.rand(b, generator=self.data_gen) < P_UNCOND  # (B,) null caption instead
        pick = self.offsets[idx] + (which * self.counts[idx]).long().clamp(max=self.counts[idx] - 1)
        ids = torch.where(drop[:, None], self.null_ids[None, :], self.caption_ids[pick])  # (B, L)
        rows = self.local_rows(b // self.world_size)
        return CaptionedBatch(self.train_data[idx[rows].to(self.device)], ids[rows].to(self.device))

    def train_step(self, batch: CaptionedBatch) -> dict[str, torch.Tensor]:
        x0, ids = batch
        return self.denoising_step(x0, lambda x_t, t: self.net_run(x_t, t, ids))

    def preview(self) -> Preview:
        """Rows of fixed prompts, each over the same columns of the fixed noise (DDIM, η = 0, s = 3);
        ``extra``: ``prompts`` (one per row) and ``columns``."""
        rows, cols = self.preview_rows, self.preview_columns
        prompts = [p for p in rows for _ in range(cols)]  # (K·C,) row by row
        start = self.fixed_noise[:cols].repeat(len(rows), *([1] * (self.fixed_noise.dim() - 1)))  # (K·C, C, H, W)
        eps = guided(self.ema, self.tokenizer, prompts, DEFAULT_GUIDANCE, device=self.device)
        x = ddim_sample(eps, tuple(start.shape), self.schedule,
                        steps=min(PREVIEW_STEPS["images"], self.schedule.num_steps), start_x=start)
        return Preview(kind="images", data=x.numpy(), extra={"prompts": list(rows), "columns": cols})
