"""Per-word cross-attention maps of a diffusers ``UNet2DConditionModel`` (Qt-free).

:class:`AttentionKeeper` is a diffusers attention processor for the U-Net's cross-attention layers
(``attn2``, text → image): it computes attention as diffusers' ``AttnProcessor`` does (softmax of
QKᵀ/√d, explicitly, so the probabilities exist) and, while a :class:`CrossAttentionMaps` is
recording, keeps them averaged over heads — (B, h·w, L) per layer. Otherwise it hands the call to
``AttnProcessor2_0`` (PyTorch's fused attention), so sampling costs nothing extra.
:meth:`CrossAttentionMaps.maps` averages the kept layers of the low resolutions (those at most half
the latent's side; all of them when none is) upsampled to the latent grid — DAAM's recipe (Tang et
al. 2022, "What the DAAM: Interpreting Stable Diffusion Using Cross Attention"), as
:meth:`Text2ImageModel.attention_maps <genstudio.text2image.model.Text2ImageModel.attention_maps>`
does for GenStudio's own models.
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from typing import Any, Iterator

import torch
import torch.nn.functional as F

__all__ = ["AttentionKeeper", "CrossAttentionMaps"]


class AttentionKeeper:
    """A diffusers attention processor that keeps cross-attention probabilities while recording."""

    def __init__(self, owner: "CrossAttentionMaps"):
        from diffusers.models.attention_processor import AttnProcessor2_0

        self.owner, self.fused = owner, AttnProcessor2_0()

    def __call__(self, attn: Any, hidden_states: torch.Tensor, encoder_hidden_states: torch.Tensor | None = None,
                 attention_mask: torch.Tensor | None = None, temb: torch.Tensor | None = None, *args: Any,
                 **kwargs: Any) -> torch.Tensor:
        kept = self.owner.kept
        if kept is None or encoder_hidden_states is None or attn.spatial_norm is not None:
            return self.fused(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        residual = hidden_states
        four_d = hidden_states.ndim == 4
        if four_d:
            b, c, h, w = hidden_states.shape
            hidden_states = hidden_states.view(b, c, h * w).transpose(1, 2)  # (B, HW, C)
        batch, length = encoder_hidden_states.shape[:2]
        attention_mask = attn.prepare_attention_mask(attention_mask, length, batch)
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        if attn.norm_cross:
            encoder_hidden_states = attn.norm_encoder_hidden_states(encoder_hidden_states)
        query = attn.head_to_batch_dim(attn.to_q(hidden_states))  # (B·heads, HW, d)
        key = attn.head_to_batch_dim(attn.to_k(encoder_hidden_states))  # (B·heads, L, d)
        value = attn.head_to_batch_dim(attn.to_v(encoder_hidden_states))
        probs = attn.get_attention_scores(query, key, attention_mask)  # (B·heads, HW, L)
        kept.append(probs.view(batch, -1, *probs.shape[1:]).mean(1).float())  # (B, HW, L)
        out = attn.batch_to_head_dim(torch.bmm(probs, value))  # (B, HW, C)
        out = attn.to_out[1](attn.to_out[0](out))  # linear projection, dropout
        if four_d:
            out = out.transpose(-1, -2).reshape(b, c, h, w)
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor


class CrossAttentionMaps:
    """Installs :class:`AttentionKeeper` on a U-Net's cross-attention layers; ``recording()`` keeps maps."""

    def __init__(self, unet: Any):
        # per thread: the scrubber asks for maps on its render thread while a branch may be sampling the
        # same U-Net on another; only the forwards of the thread that records are kept
        self._local = threading.local()
        keeper = AttentionKeeper(self)
        procs = dict(unet.attn_processors)
        self.layers = sum(name.endswith("attn2.processor") for name in procs)
        unet.set_attn_processor({name: keeper if name.endswith("attn2.processor") else proc
                                 for name, proc in procs.items()})

    @property
    def kept(self) -> list[torch.Tensor] | None:
        """This thread's list of kept maps while it records, else None."""
        return getattr(self._local, "kept", None)

    @contextmanager
    def recording(self) -> Iterator[list[torch.Tensor]]:
        """Keep every cross-attention layer's head-averaged probabilities of the forwards this thread
        runs inside."""
        self._local.kept = []
        try:
            yield self._local.kept
        finally:
            self._local.kept = None

    @staticmethod
    def maps(kept: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        """The kept layers' maps averaged over the low-resolution layers: (B, L, h, w) on the latent grid."""
        if not kept:
            raise ValueError("the U-Net has no cross-attention layers: no attention maps")
        h, w = size
        low = [a for a in kept if a.shape[1] * 4 <= h * w] or kept  # at most half the latent's side
        out = []
        for a in low:  # (B, hw', L)
            f = math.sqrt(h * w / a.shape[1])
            hh, ww = max(1, round(h / f)), max(1, round(w / f))
            grid = a.transpose(1, 2).reshape(a.shape[0], a.shape[2], hh, ww)  # (B, L, hh, ww)
            out.append(F.interpolate(grid, size=(h, w), mode="bilinear", align_corners=False))
        return torch.stack(out).mean(0)  # (B, L, h, w)
