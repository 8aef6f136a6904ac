"""Open a Stable Diffusion pipeline folder from disk as a GenStudio text-to-image model (Qt-free).

What opens: a folder ``StableDiffusionPipeline.save_pretrained`` wrote (``model_index.json`` and
``unet/`` — a ``UNet2DConditionModel`` —, ``vae/`` — an ``AutoencoderKL`` —, ``text_encoder/`` —
a ``CLIPTextModel`` —, ``tokenizer/`` and ``scheduler/``), from the local disk only
(``local_files_only``: nothing is downloaded). Weights must be safetensors; pickled ones
(``.bin``, ``.ckpt``, ``.pt``) are refused, as everywhere in GenStudio. It needs diffusers and
transformers: ``pip install 'genstudio[diffusers]'``.

:class:`StableDiffusionModel` is a :class:`~genstudio.diffusion.model.DiffusionModel` whose state is
the VAE's latent (Rombach et al. 2022): GenStudio's own samplers (:mod:`genstudio.sampling`) drive
the diffusers U-Net on the scheduler config's β (``scaled_linear``), so every sampler keeps x̂₀, and
classifier-free guidance runs the prompt and the negative prompt in one forward of 2N rows
(:class:`~genstudio.diffusion.guidance.GuidedEps`). It has the latent hook of
:mod:`genstudio.latent_images` (``decode_latents``: the VAE; ``latent_preview``: a linear map fitted
to the VAE when the folder opens) and per-word cross-attention maps (:mod:`.sd_attention`).
The picture size defaults to 256 px on a CPU (the U-Net's own size on a GPU) and one guided U-Net
step is timed when the folder opens, so the time a run takes is known before it starts
(:meth:`StableDiffusionModel.estimate_seconds`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn

from genstudio.checkpoint import CheckpointError
from genstudio.diffusion.guidance import DEFAULT_GUIDANCE, GuidedEps
from genstudio.diffusion.model import DiffusionModel
from genstudio.interop.diffusers_folder import WEIGHTS, _read_json, schedule_from_config
from genstudio.latent_images import LinearPreview, fit_preview

__all__ = ["INSTALL_HINT", "is_sd_folder", "load_sd_folder", "StableDiffusionModel", "ClipWords", "CPU_SIZE",
           "CPU_STEPS"]

INSTALL_HINT = "pip install 'genstudio[diffusers]' (or: pip install diffusers transformers)"
PARTS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")
WEIGHT_FILES = {"unet": WEIGHTS, "vae": WEIGHTS, "text_encoder": "model.safetensors"}
PICKLED_SUFFIXES = (".bin", ".ckpt", ".pt", ".pth", ".pkl")
CPU_SIZE = 256  # px: a 512 px SD step takes ~4× as long as a 256 px one on a CPU
CPU_STEPS = 20  # DDIM steps by default: enough for a recognisable picture


def is_sd_folder(path: str | Path) -> bool:
    """True when ``path`` holds a ``model_index.json`` naming a text encoder, VAE or tokenizer (a Stable
    Diffusion pipeline: :func:`check_folder` then says what it lacks, if anything)."""
    index = Path(path) / "model_index.json"
    if not index.is_file():
        return False
    try:
        parts = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(parts, dict) and any(k in parts for k in ("text_encoder", "vae", "tokenizer"))


def check_folder(root: Path) -> None:
    """Refuse (CheckpointError, one line) a pipeline folder with a part missing, or with pickled weights only."""
    parts = _read_json(root / "model_index.json")
    if "text_encoder_2" in parts:
        raise CheckpointError(f"{root.name} is a {parts.get('_class_name', 'pipeline')} with two text encoders "
                              "(SDXL): GenStudio opens Stable Diffusion 1.x / 2.x folders")
    for part in PARTS:
        if not (root / part).is_dir():
            raise CheckpointError(f"{root.name} has no {part}/ folder: a Stable Diffusion pipeline needs "
                                  f"{', '.join(PARTS)}")
    for part, name in WEIGHT_FILES.items():
        if (root / part / name).is_file():
            continue
        pickled = sorted(p.name for p in (root / part).iterdir() if p.suffix in PICKLED_SUFFIXES)
        if pickled:
            raise CheckpointError(f"{root.name}/{part} has only pickled weights ({pickled[0]}), which GenStudio "
                                  f"refuses to load (they can run code); convert them to {name}")
        raise CheckpointError(f"{root.name}/{part} has no {name}")


class ClipWords:
    """CLIP's tokenizer as GenStudio's text views use a tokenizer: ``encode`` (ValueError for a prompt
    longer than CLIP reads), ``null``, ``tokens`` (the words the attention maps are labelled with).

    ``vocab`` is empty: CLIP's byte-pair encoding spells any word, so there is nothing to complete from.
    """

    vocab: list[str] = []

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer
        self.max_len = int(tokenizer.model_max_length)

    def __len__(self) -> int:
        return len(self.tokenizer)

    def tokens(self, prompt: str) -> list[str]:
        """The prompt's byte-pair tokens, as words ("red</w>" → "red")."""
        return [t.replace("</w>", "") for t in self.tokenizer.tokenize(prompt or "")]

    def encode(self, prompt: str) -> torch.Tensor:
        """The padded ids (L,) of ``prompt`` (start, tokens, end, padding), as the pipeline makes them."""
        n = len(self.tokenizer.tokenize(prompt or ""))
        if n > self.max_len - 2:
            raise ValueError(f"the prompt is {n} tokens long; CLIP reads at most {self.max_len - 2}")
        ids = self.tokenizer(prompt or "", padding="max_length", max_length=self.max_len, truncation=True,
                             return_tensors="pt").input_ids
        return ids[0]  # (L,)

    def null(self) -> torch.Tensor:
        """The empty prompt's ids: what classifier-free guidance's unconditional half reads."""
        return self.encode("")


class SDNet(nn.Module):
    """The text encoder and the U-Net: ``encode(ids)`` once per prompt, ``denoise(x, t, ctx)`` -> ε̂ per step.

    A U-Net that predicts v (SD 2.x 768-v) is turned into ε̂ = √ᾱ_t·v̂ + √(1−ᾱ_t)·x_t (Salimans & Ho 2022).
    """

    def __init__(self, unet: nn.Module, text_encoder: nn.Module, schedule: Any, prediction_type: str = "epsilon"):
        super().__init__()
        self.unet, self.text_encoder, self.prediction_type = unet, text_encoder, prediction_type
        ac = schedule.alphas_cumprod.to(torch.float32)
        self.register_buffer("sqrt_ac", ac.sqrt(), persistent=False)
        self.register_buffer("sqrt_1m_ac", (1 - ac).sqrt(), persistent=False)

    def encode(self, ids: torch.Tensor) -> torch.Tensor:
        """(B, L) ids → (B, L, D) CLIP's last hidden state (what SD's cross-attention reads)."""
        return self.text_encoder(ids)[0]

    def denoise(self, x: torch.Tensor, t: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        out = self.unet(x, t, encoder_hidden_states=ctx).sample  # (B, 4, h, w)
        if self.prediction_type == "epsilon":
            return out
        return self.sqrt_ac[t].view(-1, 1, 1, 1) * out + self.sqrt_1m_ac[t].view(-1, 1, 1, 1) * x  # from v

    def forward(self, x: torch.Tensor, t: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        return self.denoise(x, t, self.encode(ids))


class StableDiffusionModel(DiffusionModel):
    """A Stable Diffusion pipeline's U-Net, VAE, text encoder and tokenizer, sampled by GenStudio."""

    kind = "text2image"  # a text-to-image model: the scrubber with its prompt controls

    def __init__(self, net: SDNet, vae: nn.Module, tokenizer: ClipWords, schedule: Any, meta: dict[str, Any],
                 device: torch.device, sampling: dict[str, Any], size: int):
        super().__init__(net, schedule, meta, device)
        from genstudio.interop.sd_attention import CrossAttentionMaps

        self.vae = vae.to(device).eval().requires_grad_(False)
        self.tokenizer, self.sampling = tokenizer, sampling
        self.clip_x0 = sampling["clip_sample"]
        self.scale = float(getattr(vae.config, "scaling_factor", 0.18215))
        self.factor = 2 ** (len(vae.config.block_out_channels) - 1)  # pixels per latent cell
        self.channels = int(vae.config.latent_channels)
        self.attention = CrossAttentionMaps(net.unet)
        self.default_spec = {"sampler": "ddim", "steps": min(CPU_STEPS, schedule.num_steps), "n": 1}
        self.step_seconds = self.decode_seconds = float("nan")
        self.set_size(size)
        self.preview: LinearPreview = fit_preview(self.decode_latents, self.channels, (8, 8))

    # ------------------------------------------------------------------ size and time
    def set_size(self, size: int) -> None:
        """Sample ``size`` × ``size`` px pictures (a multiple of the U-Net's step: ValueError otherwise)."""
        step = self.factor * 2 ** (len(self.net.unet.config.block_out_channels) - 1)
        if not isinstance(size, int) or size < step or size % step:
            raise ValueError(f"the picture size must be a multiple of {step} px, not {size!r}")
        self.image_size = (size, size)
        self.sample_shape = (self.channels, size // self.factor, size // self.factor)
        self.meta["size"] = size // self.factor
        self.step_seconds = self.decode_seconds = float("nan")

    @torch.inference_mode()
    def measure(self) -> float:
        """Time one guided U-Net step (2 rows) and one VAE decode at the current size; the step's seconds."""
        x = torch.zeros((1, *self.sample_shape), device=self.device)
        pair = self.guided_eps_for(["a"], DEFAULT_GUIDANCE, None)
        t0 = time.perf_counter()
        pair(x, torch.zeros(1, dtype=torch.long, device=self.device))
        self._sync()
        t1 = time.perf_counter()
        self.decode_latents(x)
        self.step_seconds, self.decode_seconds = t1 - t0, time.perf_counter() - t1
        return self.step_seconds

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def estimate_seconds(self, spec: Any) -> float:
        """Seconds ``spec`` will take: its network steps × the measured step × N, plus N decodes."""
        if self.step_seconds != self.step_seconds:  # NaN: not measured at this size yet
            self.measure()
        steps = spec.total_steps(self.schedule.num_steps)
        return spec.n * (steps * self.step_seconds + self.decode_seconds)

    # ------------------------------------------------------------------ ε̂
    @torch.inference_mode()
    def eps(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The unconditional ε̂ (the empty prompt): what a sampler without a prompt runs."""
        return self.cond_eps(x_t, t, "")

    @torch.inference_mode()
    def cond_eps(self, x_t: torch.Tensor, t: torch.Tensor, prompt: str) -> torch.Tensor:
        ids = self.tokenizer.encode(prompt).to(self.device)[None]  # (1, L)
        ctx = self.net.encode(ids).expand(x_t.shape[0], -1, -1)  # (B, L, D)
        return self.net.denoise(x_t.to(self.device, torch.float32), t.to(self.device), ctx)

    def guided_eps(self, spec: Any) -> GuidedEps:
        """The guided ε̂ a :class:`~genstudio.sampling.SampleSpec` asks for (guidance None: 3)."""
        scale = DEFAULT_GUIDANCE if spec.guidance is None else spec.guidance
        return self.guided_eps_for([spec.prompt or ""] * spec.n, scale, spec.negative)

    @torch.inference_mode()
    def guided_eps_for(self, prompts: list[str], scale: float, negative: str | None) -> GuidedEps:
        """Guided ε̂ for one prompt per row; the unconditional half reads ``negative`` (or the empty prompt)."""
        cond = torch.stack([self.tokenizer.encode(p) for p in prompts])  # (N, L)
        uncond = self.tokenizer.encode(negative or "").expand(len(prompts), -1)  # (N, L)
        ctx = self.net.encode(torch.cat([cond, uncond]).to(self.device))  # (2N, L, D), once for every step
        net, device = self.net, self.device

        @torch.inference_mode()
        def pair_eps(x2: torch.Tensor, t2: torch.Tensor) -> torch.Tensor:
            return net.denoise(x2.to(device, torch.float32), t2.to(device), ctx)  # (2N, 4, h, w)

        return GuidedEps(pair_eps, scale)

    @torch.inference_mode()
    def attention_maps(self, x_t: torch.Tensor, t: torch.Tensor, prompt: str) -> tuple[list[str], torch.Tensor]:
        """Per-word cross-attention at (x_t, t): (the prompt's tokens, maps (B, n, h, w)) on the latent
        grid, averaged over heads and the low-resolution layers."""
        words = self.tokenizer.tokens(prompt)[: self.tokenizer.max_len - 2]
        with self.attention.recording() as kept:
            self.cond_eps(x_t, t, prompt)
        maps = self.attention.maps(kept, self.sample_shape[-2:])  # (B, L, h, w)
        return words, maps[:, 1:1 + len(words)].cpu()  # token 0 is CLIP's start token

    # ------------------------------------------------------------------ the latent hook (latent_images)
    @torch.inference_mode()
    def decode_latents(self, z: torch.Tensor) -> torch.Tensor:
        """The VAE's pictures of latents z (N, 4, h, w): (N, 3, H, W) float32 in [−1, 1] on the CPU."""
        z = torch.as_tensor(z).to(self.device, torch.float32) / self.scale
        out = [self.vae.decode(z[i:i + 4]).sample for i in range(0, len(z), 4)]  # 4 at a time: memory
        return torch.cat(out).clamp(-1, 1).float().cpu()

    def latent_preview(self, z: torch.Tensor) -> torch.Tensor:
        """A linear map of the latent channels fitted to the VAE: (N, 3, h, w) in [−1, 1], at once."""
        return self.preview(z)

    def describe(self) -> str:
        h, w = self.image_size
        c, lh, lw = self.sample_shape
        sched = self.meta["schedule"]
        name = self.meta["data"].removeprefix("diffusers:")
        text = (f"{name} (Stable Diffusion: CLIP text encoder, UNet2DConditionModel, VAE; {h}×{w} px from "
                f"{c}×{lh}×{lw} latents, {sched['kind']} schedule, T={sched['num_steps']}, predicts "
                f"{self.sampling['prediction_type']}")
        if self.step_seconds == self.step_seconds:
            text += f"; one guided U-Net step {self.step_seconds:.2f} s on {self.device.type}"
        return text + ")" + "".join(f"; {n}" for n in self.sampling["notes"])


def load_sd_folder(folder: str | Path, device: torch.device, size: int | None = None,
                   measure: bool = True) -> StableDiffusionModel:
    """Open ``folder`` (see the module docstring); :class:`CheckpointError` with the reason otherwise.

    ``size``: the picture size in px (default: the U-Net's own on a GPU, at most :data:`CPU_SIZE` on a
    CPU). ``measure``: time one guided step and one decode now (what :meth:`estimate_seconds` uses).
    """
    root = Path(folder)
    check_folder(root)
    try:
        import diffusers
        import transformers
    except ImportError as exc:
        raise CheckpointError(f"{root.name} is a Stable Diffusion folder; opening it needs {exc.name}: "
                              f"{INSTALL_HINT}") from None
    kind = json.loads((root / "unet" / "config.json").read_text(encoding="utf-8")).get("_class_name") \
        if (root / "unet" / "config.json").is_file() else None
    if kind != "UNet2DConditionModel":
        raise CheckpointError(f"{root.name}/unet holds a {kind or 'model of unknown kind'}, not a UNet2DConditionModel")
    schedule, sampling = schedule_from_config(_read_json(root / "scheduler" / "scheduler_config.json"))
    if sampling["prediction_type"] not in ("epsilon", "v_prediction"):
        raise CheckpointError(f"{root.name}: its U-Net predicts {sampling['prediction_type']}; GenStudio opens "
                              "Stable Diffusion models that predict ε (SD 1.x, SD 2 base) or v (SD 2 768-v)")
    transformers.utils.logging.disable_progress_bar()  # its "Loading weights" bar is no use in a terminal or the app
    local = {"local_files_only": True, "use_safetensors": True}
    try:
        unet = diffusers.UNet2DConditionModel.from_pretrained(str(root / "unet"), low_cpu_mem_usage=False, **local)
        vae = diffusers.AutoencoderKL.from_pretrained(str(root / "vae"), low_cpu_mem_usage=False, **local)
        text = transformers.CLIPTextModel.from_pretrained(str(root / "text_encoder"), **local)
        tok = transformers.CLIPTokenizer.from_pretrained(str(root / "tokenizer"), local_files_only=True)
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{root.name}: the pipeline cannot be loaded: {first}") from None
    cfg = unet.config
    if cfg.in_channels != vae.config.latent_channels or cfg.out_channels != cfg.in_channels:
        raise CheckpointError(f"{root.name}: the U-Net maps {cfg.in_channels} channels to {cfg.out_channels}, "
                              f"the VAE's latents have {vae.config.latent_channels}")
    if getattr(cfg, "addition_embed_type", None) or getattr(cfg, "class_embed_type", None):
        raise CheckpointError(f"{root.name}: U-Nets with extra conditioning (SDXL, class embeddings) are not supported")
    factor = 2 ** (len(vae.config.block_out_channels) - 1)
    native = int(cfg.sample_size if isinstance(cfg.sample_size, int) else cfg.sample_size[0]) * factor
    if size is None:
        size = native if device.type == "cuda" else min(native, CPU_SIZE)
    widths = [int(c) for c in cfg.block_out_channels]
    meta = {"kind": "text2image", "format": "diffusers", "data": f"diffusers:{root.name}", "step": None,
            "seed": None, "channels": int(cfg.in_channels), "size": size // factor,
            "models": {"eps": {"arch": "diffusers.UNet2DConditionModel",
                               "args": {"width": widths[0], "mults": [c // widths[0] for c in widths],
                                        "layers_per_block": int(cfg.layers_per_block),
                                        "cross_attention_dim": int(cfg.cross_attention_dim)}},
                       "vae": {"arch": "diffusers.AutoencoderKL",
                               "args": {"latent_channels": int(vae.config.latent_channels), "downsample": factor,
                                        "scaling_factor": float(vae.config.scaling_factor)}},
                       "text": {"arch": "transformers.CLIPTextModel",
                                "args": {"hidden_size": int(text.config.hidden_size),
                                         "layers": int(text.config.num_hidden_layers),
                                         "max_len": int(tok.model_max_length)}}},
            "schedule": schedule.to_meta(),
            "versions": {"diffusers": diffusers.__version__, "transformers": transformers.__version__}}
    try:
        model = StableDiffusionModel(SDNet(unet, text, schedule, sampling["prediction_type"]), vae, ClipWords(tok), schedule, meta, device, sampling, size)
    except ValueError as exc:
        raise CheckpointError(f"{root.name}: {exc}") from None
    model.path = root
    if measure:
        model.measure()
    return model
