"""A small text encoder trained with the U-Net it conditions (Qt-free).

Token embeddings plus learned positions, then a few pre-norm transformer layers (Vaswani et al.
2017; the layout of GPT-2 / nanoGPT: x + attn(LN(x)), x + MLP(LN(x))) with padding masked out of
the attention. It gives what Imagen's U-Net reads (Saharia et al. 2022): the per-token embeddings
for cross-attention and one pooled embedding (the mean over the real tokens) added to the timestep
embedding. It is trained from scratch, jointly with the ε-network, on the data set's captions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TextBlock(nn.Module):
    """Pre-norm self-attention over the tokens (padding masked) and an MLP, each with a residual."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])  # (B, heads, L, d/heads)
        x = x + self.proj(a.transpose(1, 2).reshape(b, n, d))  # (B, L, D)
        return x + self.mlp(self.ln2(x))


class TextEncoder(nn.Module):
    """ids (B, L) → per-token embeddings (B, L, D), pooled embedding (B, D) and the mask (B, L).

    Parameters
    ----------
    vocab_size : int
        Tokens in the vocabulary (specials included).
    max_len : int
        Sequence length L.
    dim : int
        Embedding width D (a multiple of ``heads``).
    layers, heads : int
        Transformer layers and attention heads.
    """

    def __init__(self, vocab_size: int, max_len: int, dim: int = 64, layers: int = 2, heads: int = 4):
        super().__init__()
        if dim % heads:
            raise ValueError(f"text width {dim} must be a multiple of the {heads} heads")
        self.max_len, self.dim = max_len, dim
        self.token = nn.Embedding(vocab_size, dim)
        self.position = nn.Parameter(torch.zeros(max_len, dim))
        nn.init.normal_(self.token.weight, std=0.02)
        nn.init.normal_(self.position, std=0.02)
        self.blocks = nn.ModuleList(TextBlock(dim, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(dim)

    def forward(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mask = ids != 0  # (B, L) True at real tokens (<pad> is id 0; the null caption has one token)
        x = self.token(ids) + self.position[:ids.shape[1]]  # (B, L, D)
        for block in self.blocks:
            x = block(x, mask)
        tokens = self.ln(x)  # (B, L, D)
        m = mask.unsqueeze(-1).to(tokens.dtype)  # (B, L, 1)
        pooled = (tokens * m).sum(1) / m.sum(1).clamp(min=1)  # (B, D) mean over the real tokens
        return tokens, pooled, mask
