"""Model families: what a kind of model (GAN, diffusion, …) brings to the core and the app (Qt-free).

A family is registered once, as a :class:`Family`: its trainer, how a checkpoint or a training
snapshot becomes a ready-to-sample model, which architectures its checkpoints may hold, the metrics
its trainer logs (name, label, which plot of the Monitor draws it), the view that opens its models
(a string key the GUI maps to a tab, so the core stays Qt-free) and whether ``genstudio sample`` /
``score`` take the sampler flags. Everything that used to branch on ``kind == "gan"`` asks the
registry: :func:`genstudio.runs.start.make_trainer`, :func:`genstudio.loading.model_from_state`, the
checkpoint header checks, ``RunConfig.validate``, the CLI's ``train`` choices and sample flags, the
run panel's model list, the model router and the Monitor.

Classes are named as ``"module:Class"`` strings and imported on first use (a GAN user never imports
the U-Net); a class object works too. GAN and diffusion register at the end of this file.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Metric", "Family", "FAMILIES", "PLOTS", "VIEWS", "register_family", "unregister_family",
           "get_family", "family_names"]

#: The Monitor's plots a metric can go to (the GUI maps each key to a widget).
PLOTS = ("losses", "discriminator", "eps_loss", "bands")
#: The views a family's models open in (the GUI maps each key to a tab).
VIEWS = ("latent", "scrubber", "superres", "autoencoder")


@dataclass(frozen=True)
class Metric:
    """One number a family's trainer logs, and where the Monitor plots it."""

    name: str  # the key in the trainer's metrics and in metrics.jsonl
    label: str  # what it is, for people
    plot: str  # one of PLOTS


@dataclass(frozen=True)
class Family:
    """A registered model family. ``trainer`` and ``model`` are classes or ``"module:Class"`` strings."""

    name: str  # RunConfig.kind and a checkpoint header's "kind"
    label: str  # "GAN", "Diffusion": the run panel's list
    noun: str  # in a sentence: "a GAN", "a diffusion model" (… "model" is added)
    trainer: Any = field(repr=False)  # (config, data, device, *, rank, world_size) -> Trainer
    model: Any = field(repr=False)  # .from_checkpoint(tensors, meta, device, name) -> a model
    archs: tuple[str, ...] = ()  # the genstudio.models architectures its checkpoints may hold
    metrics: tuple[Metric, ...] = ()  # what its trainer logs (the rest, e.g. lr, is not plotted)
    view: str = "latent"  # one of VIEWS
    uses_samplers: bool = False  # `genstudio sample` / `score` take --sampler, --steps, --eta
    # the weights that sample, in order of preference (an export keeps the first the file has)
    sampling_weights: tuple[str, ...] = ("model/",)
    # weights sampling needs beside those (an export keeps them too): latent diffusion's "autoencoder/"
    carries: tuple[str, ...] = ()
    # samples latents that a decoder it carries turns into pictures: the sample may have 1–16 channels
    latent: bool = False
    # (path, meta) -> None, raising CheckpointError: checks of what only this family's header holds
    header: Any = field(default=None, repr=False)
    adam_betas: tuple[float, float] = (0.9, 0.999)  # Adam's (β1, β2) for a new run of this family
    # "module:function" (argparse args) -> exit status: `genstudio score` for this family (None: the
    # digits Fréchet distance of genstudio.quality, which samples)
    score: Any = field(default=None, repr=False)
    # (config) -> [(label, value), …]: what defines one of its runs beyond kind, data and size, with
    # defaults resolved as its trainer resolves them; resuming compares these (runs.identity)
    defining: Any = field(default=None, repr=False)
    # the Monitor's "Try this" for a run on (images, points); "{thing}" and "{data}" are filled in
    monitor_hints: tuple[str, str] = ("", "")

    def check_header(self, path: Any, meta: dict) -> None:
        """Run the family's own header check, if it has one (after the checks every header gets)."""
        if self.header is not None:
            _resolve(self.header)(path, meta)

    def score_command(self) -> Any:
        """The family's own ``genstudio score`` function, or None."""
        return _resolve(self.score) if self.score is not None else None

    def trainer_class(self) -> type:
        return _resolve(self.trainer)

    def model_class(self) -> type:
        return _resolve(self.model)

    def make_trainer(self, config: Any, data: Any, device: Any, *, rank: int = 0, world_size: int = 1) -> Any:
        """This family's trainer for ``config`` on ``data``."""
        return self.trainer_class()(config, data, device, rank=rank, world_size=world_size)

    def model_from_state(self, tensors: dict, meta: dict, device: Any, name: str = "") -> Any:
        """The model held by a checkpoint's (or a snapshot's) ``(tensors, meta)``."""
        return self.model_class().from_checkpoint(tensors, meta, device, name)

    def defining_values(self, config: Any) -> list[tuple[str, Any]]:
        """``[(label, value), …]`` that define a run of ``config`` beyond kind, data and size (see ``defining``)."""
        return [] if self.defining is None else list(_resolve(self.defining)(config))

    def plot_of(self, metric: str) -> str | None:
        """The plot key of ``metric``; None for a number this family does not plot."""
        return next((m.plot for m in self.metrics if m.name == metric), None)

    def plots(self) -> tuple[str, ...]:
        """The plots its metrics go to, in order, each once."""
        return tuple(dict.fromkeys(m.plot for m in self.metrics))


def _resolve(target: Any) -> Any:
    if not isinstance(target, str):
        return target
    module_name, cls_name = target.split(":")
    return getattr(importlib.import_module(module_name), cls_name)


FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Add ``family`` to the registry; ValueError if its name is taken or a field names nothing known."""
    from genstudio.models import ARCHS

    if family.name in FAMILIES:
        raise ValueError(f"a model family named {family.name!r} is already registered")
    if family.view not in VIEWS:
        raise ValueError(f"{family.name}: view must be one of {', '.join(VIEWS)}, not {family.view!r}")
    for m in family.metrics:
        if m.plot not in PLOTS:
            raise ValueError(f"{family.name}: metric {m.name!r} goes to an unknown plot {m.plot!r}")
    unknown = [a for a in family.archs if a not in ARCHS]
    if unknown:
        raise ValueError(f"{family.name}: unknown architectures {unknown} (not in genstudio.models.ARCHS)")
    FAMILIES[family.name] = family
    return family


def unregister_family(name: str) -> None:
    """Remove the family ``name`` (no error if there is none)."""
    FAMILIES.pop(name, None)


def get_family(name: str) -> Family:
    """The family registered as ``name``; ValueError naming the choices otherwise."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"kind must be one of {', '.join(FAMILIES)}, not {name!r}") from None


def family_names() -> tuple[str, ...]:
    """Every registered family's name, in registration order (GAN first)."""
    return tuple(FAMILIES)


register_family(Family(
    "gan", "GAN", "GAN", "genstudio.gan.trainer:GanTrainer", "genstudio.gan.model:GanModel",
    archs=("dcgan_g", "dcgan_d", "mlp_g", "mlp_d"),
    metrics=(Metric("loss_D", "discriminator loss", "losses"), Metric("loss_G", "generator loss", "losses"),
             Metric("D(x)", "D's mean output on real data", "discriminator"),
             Metric("D(G(z))", "D's mean output on generated data", "discriminator")),
    view="latent", sampling_weights=("ema/G/", "model/G/"),  # the averaged G when the run kept one
    adam_betas=(0.5, 0.999),  # DCGAN paper: β1 = 0.5 stabilises the two-player game
    defining="genstudio.gan.trainer:defining",
    monitor_hints=("watch the grid of {thing}s from a fixed noise batch sharpen while the losses settle; "
                   "D(x) and D(G(z)) show how the two players balance.",
                   "watch a GAN learn {points} — the generated points (pink) "
                   "move onto the real ones (green) while the curves settle.")))
register_family(Family(
    "diffusion", "Diffusion", "diffusion", "genstudio.diffusion.trainer:DiffusionTrainer",
    "genstudio.diffusion.model:DiffusionModel", archs=("unet", "mlp_eps"),
    metrics=(Metric("loss", "ε-prediction MSE (Ho et al. eq. 14)", "eps_loss"),
             Metric("bands", "the loss per timestep band", "bands")),
    view="scrubber", uses_samplers=True, sampling_weights=("ema/", "model/"),
    header="genstudio.checkpoint:check_schedule_header", defining="genstudio.diffusion.trainer:defining",
    monitor_hints=("watch the samples turn from noise into {thing}s as the denoising loss falls; open the "
                   "Scrubber to scrub through the sampling step by step.",
                   "watch the sampled points (pink) gather onto the real ones (green) of {data} as the "
                   "denoising loss falls; open the Scrubber to see each step of the sampling.")))
register_family(Family(  # its own family, not a diffusion option: its network, header (a vocabulary) and
    # sampling (a prompt and a guidance scale) differ, and the diffusion family's checkpoints stay as they are
    "text2image", "Text to image", "text-to-image", "genstudio.text2image.trainer:Text2ImageTrainer",
    "genstudio.text2image.model:Text2ImageModel", archs=("cond_unet",),
    metrics=(Metric("loss", "ε-prediction MSE, 10 % of captions null (Ho & Salimans)", "eps_loss"),
             Metric("bands", "the loss per timestep band", "bands")),
    view="scrubber", uses_samplers=True, sampling_weights=("ema/", "model/"),
    header="genstudio.text2image.model:check_text_header", defining="genstudio.diffusion.trainer:defining",
    monitor_hints=("watch each row of the preview, one fixed prompt (labelled; guidance 3), sharpen from noise "
                   "into {thing}s as the denoising loss falls; then open the model in the Scrubber and type "
                   "your own prompt.",) * 2))
_SR_MODEL = "genstudio.superres.model:SRModel"
register_family(Family(
    "srresnet", "SRResNet", "SRResNet", "genstudio.superres.trainer:SRResNetTrainer", _SR_MODEL,
    archs=("srresnet",), metrics=(Metric("loss_G", "pixel-wise MSE of SR against HR", "losses"),),
    view="superres", sampling_weights=("model/G/",), adam_betas=(0.9, 0.999),  # the paper's Adam β1 = 0.9
    score="genstudio.superres.score:cmd_score", header="genstudio.superres.model:check_sr_header",
    defining="genstudio.superres.trainer:defining",
    monitor_hints=("the preview shows held-out images as bicubic | super-resolved | original, two to a row; "
                   "the loss falls as SR pulls away from bicubic.",) * 2))
register_family(Family(
    "srgan", "SRGAN", "SRGAN", "genstudio.superres.trainer:SRGANTrainer", _SR_MODEL,
    archs=("srgan_g", "sr_d", "sr_patch_d"),  # srgan_g: SRResNet's network under SRGAN's name (an arch has one family)
    metrics=(Metric("loss_G", "perceptual loss: content + adv_weight × adversarial", "losses"),
             Metric("content", "content loss in its feature space", "losses"),
             Metric("adv", "adversarial loss −log D(G(LR))", "losses"),
             Metric("loss_D", "discriminator loss", "losses"),
             Metric("D(x)", "D's mean output on HR images", "discriminator"),
             Metric("D(G(z))", "D's mean output on SR images", "discriminator")),
    view="superres", sampling_weights=("model/G/",), adam_betas=(0.9, 0.999),
    score="genstudio.superres.score:cmd_score", header="genstudio.superres.model:check_sr_header",
    defining="genstudio.superres.trainer:defining",
    monitor_hints=("the preview shows held-out images as bicubic | super-resolved | original, two to a row; "
                   "the loss falls as SR pulls away from bicubic.",) * 2))
register_family(Family(  # StyleGAN2 at small scale: its own network, mean w and style tools (issue #18)
    "stylegan", "StyleGAN", "style-based GAN", "genstudio.stylegan.trainer:StyleGanTrainer",
    "genstudio.stylegan.model:StyleGanModel", archs=("stylegan_g", "stylegan_d"),
    metrics=(Metric("loss_D", "discriminator loss (logistic = the GAN's BCE)", "losses"),
             Metric("loss_G", "generator loss (non-saturating)", "losses"),
             Metric("D(x)", "D's mean output on real data", "discriminator"),
             Metric("D(G(z))", "D's mean output on generated data", "discriminator")),
    view="latent", sampling_weights=("ema/G/", "model/G/"),
    adam_betas=(0.0, 0.99),  # StyleGAN2's Adam: β1 = 0, β2 = 0.99
    defining="genstudio.stylegan.trainer:defining",
    monitor_hints=("watch the grid of {thing}s from fixed z and fixed noise sharpen; then open the model in the "
                   "Latent view for truncation in w, style mixing, layer views and noise.",) * 2))
register_family(Family(  # latent diffusion's first stage (Rombach et al. 2022): images ⇄ latents
    "autoencoder", "Autoencoder (KL-VAE)", "autoencoder", "genstudio.autoencoder.trainer:AutoencoderTrainer",
    "genstudio.autoencoder.model:AutoencoderModel", archs=("kl_vae",),
    metrics=(Metric("loss", "L1 reconstruction + kl_weight × KL", "losses"),
             Metric("rec", "L1 reconstruction error (mean over pixels)", "losses"),
             Metric("kl", "KL(q(z|x) ‖ N(0, I)) per pixel (weighted 1e-6 in the loss)", "losses")),
    view="autoencoder", sampling_weights=("model/vae/",),
    score="genstudio.autoencoder.score:cmd_score", defining="genstudio.autoencoder.trainer:defining",
    monitor_hints=("the preview shows held-out images as input | reconstruction pairs; the reconstruction "
                   "error falls while the KL term keeps the latents near N(0, I).",) * 2))
register_family(Family(  # Rombach et al.'s latent diffusion: text2image's network on an autoencoder's latents;
    # its own kind, since its samples are latents that only the autoencoder it carries turns into pictures
    "ldm", "Latent diffusion", "latent diffusion", "genstudio.ldm.trainer:LatentDiffusionTrainer",
    "genstudio.ldm.model:LatentDiffusionModel", archs=("ldm_unet",),  # cond_unet under its own name (an arch has one family)
    metrics=(Metric("loss", "ε-prediction MSE on scaled latents, 10 % of captions null", "eps_loss"),
             Metric("bands", "the loss per timestep band", "bands")),
    view="scrubber", uses_samplers=True, sampling_weights=("ema/", "model/"), carries=("autoencoder/",), latent=True,
    header="genstudio.ldm.model:check_ldm_header", defining="genstudio.diffusion.trainer:defining",
    monitor_hints=("each preview row is one fixed prompt (guidance 3) sampled in latent space and decoded by the "
                   "autoencoder; the denoising loss is on the scaled latents.",) * 2))
