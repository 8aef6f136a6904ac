"""Default recipes: one table of per-data-set training settings, shared by every way to start a run.

A new user's first run should be the run that was measured, not a generic default. So the CLI
(``genstudio train`` with no tuning flags), the app's run panel and its one-click buttons all start
from :func:`recipe_for`; ``genstudio train --help`` prints :func:`recipes_table`. Every recipe here
was trained with GenStudio's own CLI; ``README.md`` and ``checkpoints/README.md`` give what each
one reaches (as a distribution over seeds and CPU kernel sets, see ``benchmarks/``).

A field the user sets (a flag, a form field) always wins over the recipe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genstudio.config import RunConfig, default_betas

__all__ = ["Recipe", "recipe_for", "recipe_config", "recipes_table", "RECIPE_FIELDS"]

#: the RunConfig fields a recipe sets
RECIPE_FIELDS = ("lr", "batch", "steps", "size", "width", "latent_dim", "schedule", "ema_decay", "g_ema")


@dataclass(frozen=True)
class Recipe:
    """Training settings measured to work for one (kind, data set). ``note`` says where from."""

    lr: float
    batch: int
    steps: int
    size: int = 32  # image side (ignored for 2-D points)
    width: int = 0  # 0 = the architecture's default
    latent_dim: int = 0  # 0 = the architecture's default (GAN: 2 on points, 100 for DCGAN)
    schedule: str = "linear"  # diffusion only
    ema_decay: float = 0.995  # diffusion only
    g_ema: float = 0.0  # GAN only: decay of the averaged generator that samples (0 = the raw G)
    min_snr: float = 0.0  # diffusion only: Min-SNR-γ loss weighting (0 = off); goes to RunConfig.extra
    skips_from: int = 0  # stylegan only: where G's toRGB skips start, at most the size (0 = StyleGAN2's 4); to extra
    note: str = ""

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in RECIPE_FIELDS}

    def extra(self, size: int) -> dict[str, Any]:
        """The ``RunConfig.extra`` entries the recipe sets for a run of ``size`` px (a given entry wins)."""
        out: dict[str, Any] = {}
        if self.min_snr:  # 0 = off
            out["min_snr"] = self.min_snr
        if self.skips_from:  # a run's size may be less than the recipe's
            out["skips_from"] = min(self.skips_from, size)
        return out


# ---------------------------------------------------------------------------- the table
# GAN on 2-D points: Goodfellow et al.'s losses, MLP width 128, z ∈ ℝ², Adam betas 0.5/0.999
# (benchmarks/ring8_seeds.py measures it over seeds and kernel sets).
_GAN_POINTS = Recipe(lr=1e-3, batch=256, steps=5000, width=128, g_ema=0.99,
                     note="ring8: see README 'Ring8: mode coverage of the MLP GAN'")
# DCGAN (Radford et al.): Adam 2e-4, batch 64, narrowed to train in minutes on a CPU
_GAN_DIGITS = Recipe(lr=2e-4, batch=64, steps=4000, size=32, width=32, note="bundled dcgan_digits")
_GAN_FACES = Recipe(lr=2e-4, batch=64, steps=3000, size=32, width=48, note="bundled dcgan_faces")
_GAN_IMAGES = Recipe(lr=2e-4, batch=64, steps=20000, size=64, width=64, note="DCGAN paper's settings")
# DDPM (Ho et al.) ε-MLP on points: the fast recipe of the bundled ddpm_ring8
_DIFF_POINTS = Recipe(lr=3e-3, batch=256, steps=2000, width=128, schedule="cosine", ema_decay=0.99,
                      note="bundled ddpm_ring8")
_DIFF_DIGITS = Recipe(lr=5e-4, batch=64, steps=4000, size=16, width=32, note="bundled ddpm_digits")
_DIFF_SHAPES = Recipe(lr=5e-4, batch=64, steps=3000, size=16, width=32, note="bundled ddpm_shapes")
_DIFF_IMAGES = Recipe(lr=2e-4, batch=64, steps=20000, size=32, width=32, note="DDPM's U-Net learning rate")
# text to image: a narrow U-Net with a caption (cross-attention, 10 % null captions), cut to what a
# busy 2-core CPU trains in tens of minutes (checkpoints/README.md: the t2i_digits run)
_T2I_DIGITS = Recipe(lr=2e-3, batch=32, steps=3000, size=16, width=16, ema_decay=0.99, note="t2i_digits run")
# shapes need colour, kind and position from the caption: twice the width, more steps, the cosine
# schedule (16 px), Min-SNR-5 from the first step and a slower EMA. The bundled t2i_shapes is this run
# continued with --resume --lr 3e-4 --steps 14000 (checkpoints/README.md)
_T2I_SHAPES = Recipe(lr=1e-3, batch=32, steps=10200, size=16, width=32, schedule="cosine", ema_decay=0.999,
                     min_snr=5.0, note="t2i_shapes run, its first 10,200 steps")

# SRResNet / SRGAN ×4 (Ledig et al.): 16 → 64 px, 32 channels × 6 blocks; the paper's Adam lr 1e-4
# for 10⁶ steps is raised for a CPU-sized run; SRGAN fine-tunes a trained SRResNet at 1e-4 (--init; the
# bundled one started from the SRResNet run's step 2,400 and took --content random --l1-weight 1
# --adv-loss ragan --d-arch patch --adv-weight 5e-3: see checkpoints/README.md)
_SRRESNET = Recipe(lr=5e-4, batch=8, steps=7400, size=64, width=32, note="bundled srresnet_faces")
_SRGAN = Recipe(lr=1e-4, batch=8, steps=8000, size=64, width=32,
                note="bundled srgan_faces (from the srresnet_faces run's step 2,400)")

# StyleGAN2 (Karras et al. 2020): Adam 2e-3, β = (0, 0.99); batch 16, width 64, 64 px, R1 γ 1 (stylegan.trainer's
# default for 64 px; the paper's heuristic γ let D key on speckle); toRGB skips from 16² only (models.stylegan: so
# the coarse styles paint no colour). The bundled stylegan_faces is this run's 5,000
# steps continued with --resume --lr 1e-3 (the faces FD rose from step 3,500 at 2e-3 and fell at 1e-3):
# checkpoints/README.md
_STYLEGAN_FACES = Recipe(lr=2e-3, batch=16, steps=5000, size=64, width=64, latent_dim=128, g_ema=0.995,
                         skips_from=16, note="bundled stylegan_faces, its first 5,000 steps")
# latent diffusion (Rombach et al.): the KL autoencoder (64 px → 16 × 16 × 4), then text2image's U-Net on its
# scaled latents (--autoencoder FILE); the bundled pair are these runs (checkpoints/README.md): ae_faces 3,000
# steps, 29.4 dB held-out (its PSNR jumped from 22 to 26 dB between steps 1,000 and 1,500); ldm_faces 10,000
# steps in 27 min on one thread with the shapes recipe's cosine schedule, Min-SNR-5 and slow EMA: hair colour 97 %
_AE_FACES = Recipe(lr=1e-3, batch=16, steps=3000, size=64, width=32, note="bundled ae_faces")
_LDM_FACES = Recipe(lr=1e-3, batch=32, steps=10000, size=64, width=32, schedule="cosine", ema_decay=0.999,
                    min_snr=5.0, note="bundled ldm_faces")

_TABLE: dict[tuple[str, str], Recipe] = {
    ("gan", "points"): _GAN_POINTS,
    ("gan", "digits"): _GAN_DIGITS,
    ("gan", "faces"): _GAN_FACES,
    ("gan", "shapes"): _GAN_FACES,
    ("gan", "images"): _GAN_IMAGES,
    ("diffusion", "points"): _DIFF_POINTS,
    ("diffusion", "digits"): _DIFF_DIGITS,
    ("diffusion", "shapes"): _DIFF_SHAPES,
    ("diffusion", "faces"): _DIFF_SHAPES,
    ("diffusion", "images"): _DIFF_IMAGES,
    ("text2image", "digits"): _T2I_DIGITS,
    ("text2image", "shapes"): _T2I_SHAPES,
    ("srresnet", "faces"): _SRRESNET,
    ("srresnet", "digits"): _SRRESNET,
    ("srresnet", "shapes"): _SRRESNET,
    ("srresnet", "images"): _SRRESNET,
    ("srgan", "faces"): _SRGAN,
    ("srgan", "digits"): _SRGAN,
    ("srgan", "shapes"): _SRGAN,
    ("srgan", "images"): _SRGAN,
    ("stylegan", "faces"): _STYLEGAN_FACES,
    ("stylegan", "images"): _STYLEGAN_FACES,
    ("autoencoder", "faces"): _AE_FACES,
    ("autoencoder", "images"): _AE_FACES,
    ("ldm", "faces"): _LDM_FACES,
}


def _family(data: str) -> str:
    from genstudio.data import is_points

    name = data.strip().lower()
    if is_points(name):
        return "points"
    return name if name in ("digits", "faces", "shapes") else "images"  # photos, folder:PATH and the rest


#: a family with no measured recipe (a newly registered one) starts from RunConfig's own defaults
_UNMEASURED = Recipe(lr=RunConfig.lr, batch=RunConfig.batch, steps=RunConfig.steps,
                     note="no measured recipe: RunConfig's defaults")


def recipe_for(kind: str, data: str) -> Recipe:
    """The recipe a new ``kind`` run on ``data`` starts from (a folder of images gets the paper's)."""
    return _TABLE.get((kind, _family(data)), _UNMEASURED)


def recipe_config(kind: str, data: str, **given: Any) -> RunConfig:
    """A validated ``RunConfig``: the recipe for (kind, data), then every field in ``given``.

    ``given`` values of ``None`` count as not given. Adam's betas follow the kind
    (:func:`genstudio.config.default_betas`) unless given.
    """
    recipe = recipe_for(kind, data)
    fields: dict[str, Any] = recipe.fields()
    fields["beta1"], fields["beta2"] = default_betas(kind)
    fields.update({k: v for k, v in given.items() if v is not None})
    fields["extra"] = {**recipe.extra(int(fields["size"])), **(fields.get("extra") or {})}  # the recipe's unless given
    return RunConfig(kind=kind, data=data, **fields).validate()


def recipes_table() -> str:
    """The table as text, for ``genstudio train --help``."""
    rows = [("kind", "data", "lr", "batch", "steps", "size", "width", "schedule", "EMA")]
    seen = {"points": "ring8 grid25 spiral moons", "digits": "digits", "faces": "faces", "shapes": "shapes",
            "images": "photos folder:PATH"}
    merged: dict[tuple[str, int], list[str]] = {}  # one row per (kind, recipe): data sets that share it
    for (kind, fam), r in _TABLE.items():
        merged.setdefault((kind, id(r)), []).append(seen[fam])
    recipes = {(kind, id(r)): (kind, fam, r) for (kind, fam), r in _TABLE.items()}
    for key, names in merged.items():
        kind, fam, r = recipes[key]
        diffusion = kind in ("diffusion", "text2image", "ldm")  # a schedule and an EMA
        rows.append((kind, " ".join(names), f"{r.lr:g}", str(r.batch), str(r.steps), "-" if fam == "points" else str(r.size),
                     str(r.width or "auto"), r.schedule if diffusion else "-",
                     f"{r.ema_decay:g}" if diffusion else (f"G {r.g_ema:g}" if r.g_ema else "-")))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)
