"""A trained text-to-image model, ready to sample with a prompt (Qt-free).

Built like :class:`~genstudio.diffusion.model.DiffusionModel` (EMA weights, noise schedule) plus
the tokenizer its header holds (``meta["text"]``). Without a prompt it is the unconditional model
(the null caption), so every view and command that samples a diffusion model samples this one;
with a :class:`~genstudio.sampling.SampleSpec` that names a prompt, guidance or a negative prompt,
:meth:`Text2ImageModel.guided_eps` gives the samplers a classifier-free-guided ε̂.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from genstudio.checkpoint import CheckpointError, _brief, check_schedule_header
from genstudio.diffusion.guidance import DEFAULT_GUIDANCE, GuidedEps
from genstudio.diffusion.model import DiffusionModel
from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.models.cond_unet import token_maps
from genstudio.text.tokenizer import Tokenizer

__all__ = ["Text2ImageModel", "guided", "check_text_header"]


@torch.inference_mode()
def guided(net: nn.Module, tokenizer: Tokenizer, prompts: Sequence[str], scale: float,
           negative: str | None = None, device: torch.device | None = None) -> GuidedEps:
    """Classifier-free-guided ε̂ of ``net`` (a :class:`~genstudio.models.cond_unet.CondUNet`) for a batch.

    Row i follows ``prompts[i]``; the unconditional half reads the null caption, or ``negative``
    when given. The captions are encoded once, here; each sampler step is one forward of 2N rows.

    Raises
    ------
    UnknownWordsError
        A prompt (or the negative prompt) holds a word the vocabulary lacks.
    """
    device = device or next(net.parameters()).device
    cond = tokenizer.encode_batch(list(prompts))  # (N, L)
    uncond = (tokenizer.encode(negative) if negative else tokenizer.null()).expand(len(prompts), -1)  # (N, L)
    ctx = net.encode(torch.cat([cond, uncond]).to(device))  # (2N, ...) once for every step

    def pair_eps(x2: torch.Tensor, t2: torch.Tensor) -> torch.Tensor:
        return net.denoise(x2.to(device, torch.float32), t2.to(device), ctx)  # (2N, C, H, W)

    return GuidedEps(pair_eps, scale)


class Text2ImageModel(DiffusionModel):
    """A text-conditioned ε-network, its schedule and its tokenizer."""

    kind = "text2image"

    def __init__(self, net: nn.Module, schedule: NoiseSchedule, meta: dict[str, Any], device: torch.device):
        super().__init__(net, schedule, meta, device)
        self.tokenizer = Tokenizer.from_meta(meta.get("text"))

    @torch.inference_mode()
    def eps(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The unconditional ε̂_∅(x_t, t) (the null caption): what a sampler without a prompt runs."""
        return self.cond_eps(x_t, t, "")  # the empty prompt encodes as the null caption

    @torch.inference_mode()
    def cond_eps(self, x_t: torch.Tensor, t: torch.Tensor, prompt: str) -> torch.Tensor:
        """ε̂_c(x_t, t) for one ``prompt`` (every row), in a forward of its own."""
        ids = self.tokenizer.encode(prompt).to(self.device).expand(x_t.shape[0], -1)  # (B, L)
        return self.net(x_t.to(self.device, torch.float32), t.to(self.device), ids)

    def guided_eps(self, spec: Any) -> GuidedEps:
        """The guided ε̂ a :class:`~genstudio.sampling.SampleSpec` asks for (guidance None: 3)."""
        scale = DEFAULT_GUIDANCE if spec.guidance is None else spec.guidance
        return guided(self.net, self.tokenizer, [spec.prompt or ""] * spec.n, scale, spec.negative, self.device)

    @torch.inference_mode()
    def attention_maps(self, x_t: torch.Tensor, t: torch.Tensor, prompt: str) -> tuple[list[str], torch.Tensor]:
        """Per-word cross-attention at (x_t, t) for ``prompt``: (its tokens, maps (B, n_tokens, H, W)),
        averaged over heads and layers and upsampled to the image size (DAAM-style, Tang et al. 2022)."""
        words = self.tokenizer.tokens(prompt)
        ids = self.tokenizer.encode(prompt).to(self.device).expand(x_t.shape[0], -1)
        _, maps = self.net(x_t.to(self.device, torch.float32), t.to(self.device), ids, return_attention=True)
        return words, token_maps(maps, self.sample_shape[-1])[:, :len(words)].cpu()

    def describe(self) -> str:
        spec = self.meta["models"]["eps"]
        sched = self.meta["schedule"]
        return (f"text-to-image ({spec['arch']}, {len(self.tokenizer) - 2} words, {sched['kind']} schedule, "
                f"T={sched['num_steps']}) on {self.meta.get('data')}, step {self.meta.get('step')}")


def check_text_header(path: Path, meta: dict[str, Any]) -> None:
    """A text2image header's own entries (``Family.header``): the schedule, and a vocabulary that is
    well formed and the size the network's embedding was built for."""
    check_schedule_header(path, meta)
    try:
        tokenizer = Tokenizer.from_meta(meta.get("text"))
    except ValueError as exc:
        raise CheckpointError(f"{path.name} has a damaged vocabulary header: {exc}") from None
    args = meta["models"].get("eps", {}).get("args", {})
    for name, have in (("vocab_size", len(tokenizer)), ("max_len", tokenizer.max_len)):
        if name in args and args[name] != have:
            raise CheckpointError(f"{path.name} has a damaged vocabulary header: {name} is {have} in the "
                                  f"vocabulary but {_brief(args[name])} in the network")
