"""Prompt interpolation: walk from one prompt to another in the text encoder's space, on fixed noise (Qt-free).

Both prompts are encoded once (:meth:`~genstudio.models.cond_unet.CondUNet.encode`: per-token
embeddings (L, D), the pooled embedding (D,) and the mask (L,)); frame k of F sits at
α = k / (F − 1) between them and is sampled from the *same* x_T and the same per-step noise (the
seed's sample ``index``), so only the text moves. Frame 0 is therefore exactly what sampling prompt A
with that seed draws, and the last frame prompt B.

**How the embeddings are mixed.** The token embeddings are paired by position (the encoder adds a
position embedding, so position i of "a handwritten 7" and of "a handwritten 3" play the same part)
and each pair, and the pooled embedding, is **slerped** by default (Shoemake 1985, as White 2016
walks GAN latents): the encoder ends with a LayerNorm, so its embeddings have about the same length,
and a straight line between two of them (lerp) passes through shorter vectors the U-Net never saw;
``method="lerp"`` is there to compare. **Different lengths** (a padded position that is real in one
prompt only): cross-attention reads a *soft* mask — a token present in both prompts has weight 1, one
present only in A weight 1 − α, only in B weight α (a token of weight w counts w times in the
attention's softmax; weight 0 is exactly a masked token), so the words of the longer prompt fade in or
out instead of jumping.

:func:`prompt_walk` is a generator (a progress point after every network step, the frames as they are
drawn), run to the end by :func:`walk` (the CLI) or on a worker thread (the Scrubber's "Walk to…");
:func:`walk_gif_frames` turns the frames into GIF pictures with a bar that shows α.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterator

import numpy as np
import torch

from genstudio.diffusion.guidance import DEFAULT_GUIDANCE, GuidedEps
from genstudio.models.cond_unet import TextContext
from genstudio.sampling import SampleSpec, SamplingProgress, SamplingResult, sampling_run

__all__ = ["WALK_METHODS", "MAX_FRAMES", "WalkProgress", "WalkFrame", "WalkResult", "mix_contexts",
           "prompt_walk", "walk", "walk_gif_frames", "slerp_rows"]

WALK_METHODS = ("slerp", "lerp")
MAX_FRAMES = 240  # a GIF of more frames is a film, not a walk


@dataclass(frozen=True)
class WalkProgress:
    """``done`` of ``total`` network steps of the whole walk (all frames) have run."""

    done: int
    total: int


@dataclass(frozen=True)
class WalkFrame:
    """Frame ``k`` (at ``alpha``) is drawn: ``image`` (C, H, W) float32 in [-1, 1]."""

    k: int
    alpha: float
    image: np.ndarray = field(repr=False, compare=False)


@dataclass(frozen=True)
class WalkResult:
    """Every frame (F, C, H, W) float32, their α, and how they were drawn."""

    frames: np.ndarray = field(repr=False)
    alphas: tuple[float, ...]
    spec: SampleSpec  # prompt A's spec (n = 1); the walk ends at ``prompt_to``
    prompt_to: str
    method: str
    index: int  # the seed's sample whose noise every frame uses


def slerp_rows(a: torch.Tensor, b: torch.Tensor, alpha: float) -> torch.Tensor:
    """Spherical interpolation of each last-axis vector of ``a`` towards ``b`` (…, D); nearly parallel
    (or zero) vectors fall back to a straight line. α = 0 gives ``a`` and α = 1 ``b`` exactly."""
    if alpha == 0.0:
        return a.clone()
    if alpha == 1.0:
        return b.clone()
    na, nb = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)  # (…, 1)
    cos = ((a * b).sum(-1, keepdim=True) / (na * nb).clamp_min(1e-12)).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)  # (…, 1) the angle between them
    so = torch.sin(omega)
    straight = so.abs() < 1e-6
    safe = torch.where(straight, torch.ones_like(so), so)
    wa = torch.where(straight, torch.full_like(so, 1 - alpha), torch.sin((1 - alpha) * omega) / safe)
    wb = torch.where(straight, torch.full_like(so, alpha), torch.sin(alpha * omega) / safe)
    return wa * a + wb * b


def mix_contexts(a: TextContext, b: TextContext, alpha: float, method: str = "slerp") -> TextContext:
    """The context α of the way from ``a`` to ``b`` (one row each): mixed embeddings, soft mask (1, L)."""
    if method not in WALK_METHODS:
        raise ValueError(f"the walk's method must be {' or '.join(WALK_METHODS)}, not {method!r}")
    if alpha == 0.0:
        return a
    if alpha == 1.0:
        return b
    mix = slerp_rows if method == "slerp" else (lambda x, y, w: torch.lerp(x, y, w))
    ma, mb = a.mask.float(), b.mask.float()  # (1, L)
    weight = ma * mb + ma * (1 - mb) * (1 - alpha) + mb * (1 - ma) * alpha  # (1, L) in [0, 1]
    return TextContext(mix(a.tokens, b.tokens, alpha), mix(a.pooled, b.pooled, alpha), weight)


def _cat(rows: list[TextContext]) -> TextContext:
    """Contexts stacked along the batch; masks as float weights when any is soft."""
    soft = any(r.mask.dtype != torch.bool for r in rows)
    return TextContext(torch.cat([r.tokens for r in rows]), torch.cat([r.pooled for r in rows]),
                       torch.cat([r.mask.float() if soft else r.mask for r in rows]))


class _FrameModel:
    """The model as the samplers see it while one frame is drawn: its guided ε̂ reads a fixed context."""

    def __init__(self, model: Any, ctx: TextContext):
        self.model, self.ctx = model, ctx
        self.schedule, self.sample_shape = model.schedule, model.sample_shape

    def guided_eps(self, spec: SampleSpec) -> GuidedEps:
        net, device, ctx = self.model.net, self.model.device, self.ctx

        @torch.inference_mode()
        def pair_eps(x2: torch.Tensor, t2: torch.Tensor) -> torch.Tensor:
            return net.denoise(x2.to(device, torch.float32), t2.to(device), ctx)  # (2, C, H, W)

        return GuidedEps(pair_eps, DEFAULT_GUIDANCE if spec.guidance is None else spec.guidance)


def prompt_walk(model: Any, spec: SampleSpec, prompt_to: str, frames: int, *, method: str = "slerp",
                index: int = 0) -> Iterator[WalkProgress | WalkFrame | WalkResult]:
    """Walk from ``spec.prompt`` to ``prompt_to`` in ``frames`` frames, each sampled with ``spec``
    (sampler, steps, η, guidance, negative prompt, seed) from the noise of the seed's sample ``index``.

    Yields a :class:`WalkProgress` after every network step, a :class:`WalkFrame` as each frame is
    done, and one :class:`WalkResult` at the end. Close the generator to cancel.

    Raises
    ------
    ValueError
        Fewer than 2 (or more than :data:`MAX_FRAMES`) frames, a model without text, an unknown method,
        or a prompt with a word the model never saw (the tokenizer's message).
    """
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None:
        raise ValueError("a prompt walk needs a text-to-image model")
    if getattr(model, "decode_latents", None) is not None:  # its context mixing reads GenStudio's text encoder
        raise ValueError("prompt walks are for GenStudio's own text-to-image models, not Stable Diffusion folders yet")
    if not 2 <= frames <= MAX_FRAMES:
        raise ValueError(f"a walk has 2 … {MAX_FRAMES} frames, not {frames}")
    if method not in WALK_METHODS:
        raise ValueError(f"the walk's method must be {' or '.join(WALK_METHODS)}, not {method!r}")
    spec = replace(spec, n=1, record=False, prompt=spec.prompt or "",
                   guidance=DEFAULT_GUIDANCE if spec.guidance is None else spec.guidance)
    net, device = model.net, model.device
    with torch.inference_mode():
        ids = [tokenizer.encode(p).to(device)[None] for p in (spec.prompt, prompt_to)]  # 2 × (1, L)
        uncond_ids = (tokenizer.encode(spec.negative) if spec.negative else tokenizer.null()).to(device)[None]
        ctx_a, ctx_b, ctx_u = (net.encode(i) for i in (*ids, uncond_ids))
    per = spec.total_steps(model.schedule.num_steps)
    total, done = per * frames, 0
    alphas = tuple(k / (frames - 1) for k in range(frames))
    images = []
    for k, alpha in enumerate(alphas):
        ctx = _cat([mix_contexts(ctx_a, ctx_b, alpha, method), ctx_u])  # (2, …): cond row, uncond row
        for event in sampling_run(_FrameModel(model, ctx), spec, start=index):
            if isinstance(event, SamplingProgress):
                done += 1
                yield WalkProgress(done, total)
            elif isinstance(event, SamplingResult):
                images.append(event.final[0])
                yield WalkFrame(k, alpha, event.final[0].copy())
    yield WalkResult(np.stack(images), alphas, spec, prompt_to, method, index)


def walk(model: Any, spec: SampleSpec, prompt_to: str, frames: int, *, method: str = "slerp", index: int = 0,
         progress=None) -> WalkResult:
    """:func:`prompt_walk` to the end; ``progress(done, total)`` after every network step."""
    for event in prompt_walk(model, spec, prompt_to, frames, method=method, index=index):
        if isinstance(event, WalkResult):
            return event
        if isinstance(event, WalkProgress) and progress is not None:
            progress(event.done, event.total)
    raise AssertionError("prompt_walk ended without a result")  # pragma: no cover


def walk_gif_frames(frames: np.ndarray, long_side: int | None = 256) -> list[np.ndarray]:
    """The walk's frames (F, C, H, W) as GIF pictures (H', W', 3) uint8, each with a bar under it whose
    filled part is α (so a viewer sees where in the walk a frame lies, and no two frames are alike)."""
    from genstudio.imaging import make_grid, resize_long_side

    out = []
    count = len(frames)
    for k, frame in enumerate(frames):
        pic = resize_long_side(make_grid(frame[None], pad=0), long_side)  # (h, w, 3)
        h, w, _ = pic.shape
        bar_h = max(3, h // 32)
        bar = np.full((bar_h, w, 3), 40, np.uint8)
        filled = int(round(w * k / max(1, count - 1)))
        bar[:, :filled] = (230, 200, 80)
        out.append(np.concatenate([pic, bar]))
    return out
