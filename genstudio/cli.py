"""The ``genstudio`` command: no verb opens the app; ``train``, ``sample`` and ``info`` work headless.

This module holds the entry point and the argument parser; the commands live in
:mod:`genstudio.cli_train` (``train``) and :mod:`genstudio.cli_checkpoints` (``sample``,
``export``, ``score``, ``info``).

Every failure the user can cause (bad arguments, unknown data set, unreadable file) ends with one
line ``genstudio: error: …`` on stderr and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable

from genstudio.cli_types import (
    _eta, _fps, _guidance, _guidances, _non_negative_int, _positive_int, _rate, _seconds, _seed,
)
from genstudio.config import DEVICES, SCHEDULES

EXIT_USAGE = 2
EXIT_FAILED = 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _tolerant_streams()
    if not argv or argv[0] == "app":  # `genstudio` or `genstudio app [CHECKPOINT|RUN_DIR]`
        return _open_app(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv)  # `train --nproc N` starts N copies of this command
    code = _run_command(args)
    from genstudio.cli_train import cmd_train
    from genstudio.runs import distributed

    if args.func is cmd_train and distributed.env_info().enabled:  # a torchrun rank, its run saved
        distributed.leave_rank(code)  # does not return
    return code


def _run_command(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("\ngenstudio: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `genstudio … | head`: the reader has gone; end quietly, as cat does
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit's flush goes nowhere
        except (OSError, ValueError, AttributeError):
            pass
        return 128 + 13  # SIGPIPE, as a shell reports it
    except Exception as exc:  # one clear line for anything the user can cause
        from genstudio.checkpoint import CheckpointError
        from genstudio.config import ConfigError
        from genstudio.data import DataError
        from genstudio.runs.start import RunError

        if isinstance(exc, (CheckpointError, ConfigError, DataError, RunError, ValueError, OSError)):
            from genstudio.runs.distributed import is_main_process
            from genstudio.runs.faults import with_notes

            from genstudio.safe_text import safe_text

            if is_main_process():  # under torchrun, rank 0 speaks for all ranks
                print(f"genstudio: error: {safe_text(with_notes(str(exc), exc))}", file=sys.stderr)
            return EXIT_FAILED
        raise


def _tolerant_streams() -> None:
    """Let stdout and stderr print any text: a character the terminal's encoding lacks becomes
    ``\\xNN``/``\\uNNNN`` instead of a UnicodeEncodeError (e.g. ``PYTHONIOENCODING=ascii``)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):  # not a TextIOWrapper (a test's capture, a pipe shim)
            pass


def _open_app(argv: list[str]) -> int:
    problem = display_problem()
    if problem:  # before Qt, which would abort the process (exit 134) with a misleading hint
        print(f"genstudio: error: {problem}", file=sys.stderr)
        return EXIT_FAILED
    try:
        from genstudio.gui.app import run_app
    except ImportError as exc:
        print(f"genstudio: error: the desktop app needs PySide6 and pyqtgraph ({exc})", file=sys.stderr)
        return EXIT_FAILED
    return run_app(argv)


def display_problem(environ: dict[str, str] | None = None, platform: str | None = None,
                    find_library: Callable[[str], str | None] | None = None) -> str:
    """Why the app cannot open a window here, in one sentence; "" when it can (or Qt decides).

    On Linux and other X11/Wayland systems a window needs ``DISPLAY`` or ``WAYLAND_DISPLAY``; a set
    ``QT_QPA_PLATFORM`` (e.g. ``offscreen`` for scripts) means the user chose a platform themselves.
    On X11 alone, Qt's xcb plugin (Qt 6.5 on) also needs the system library libxcb-cursor, which
    minimal systems lack; without it Qt aborts (exit 134) with a hint that does not name the package.
    """
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "darwin", "cygwin")):
        return ""
    if env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM"):
        return ""
    if env.get("DISPLAY"):
        if find_library is None:
            from ctypes.util import find_library
        if find_library("xcb-cursor") is None:
            return ("the app's window system library libxcb-cursor is missing (Qt needs it for X11): install "
                    "it, e.g. `sudo apt-get install libxcb-cursor0` on Debian and Ubuntu; `genstudio train`, "
                    "`sample` and `score` need no display")
        return ""
    return ("no display to open the app on (DISPLAY and WAYLAND_DISPLAY are not set): run genstudio in a "
            "desktop session, under a virtual display with `xvfb-run -a genstudio`, or with "
            "QT_QPA_PLATFORM=offscreen in scripts; `genstudio train`, `sample` and `score` need no display")


def version_line() -> str:
    """``genstudio 0.1.0 (torch 2.3.1+cu121, Python 3.11.7)``."""
    import platform

    import torch

    from genstudio import __version__

    return f"genstudio {__version__} (torch {torch.__version__}, Python {platform.python_version()})"


class _Version(argparse.Action):
    """``--version``: imports torch only when asked (every other command line starts faster)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the versions of genstudio, torch and Python, and exit")

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # type: ignore[override]
        print(version_line())
        parser.exit(0)


# ---------------------------------------------------------------------------- parser
def _invert(args: argparse.Namespace) -> int:
    from genstudio.cli_invert import cmd_invert

    return cmd_invert(args)


def _neighbours(args: argparse.Namespace) -> int:
    from genstudio.cli_invert import cmd_neighbours

    return cmd_neighbours(args)


def _arena(args: argparse.Namespace) -> int:
    from genstudio.arena import cmd_arena

    return cmd_arena(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="genstudio", description="Train and explore GANs and diffusion models. "
                                "Run with no arguments to open the app.")
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="verb", required=True)
    a = sub.add_parser("app", help="open the desktop app (the default), optionally on a checkpoint or run folder")
    a.add_argument("path", nargs="?", help="a .safetensors checkpoint, a run directory or a diffusers model folder")

    from genstudio.cli_checkpoints import cmd_export, cmd_info, cmd_sample, cmd_score
    from genstudio.cli_train import add_gan_flags, cmd_train
    from genstudio.recipes import recipes_table
    from genstudio.families import family_names  # the registries: a registered family or sampler
    from genstudio.sampling import sampler_names  # is a choice

    t = sub.add_parser("train", help="train a GAN or a diffusion model headless",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Defaults: every setting not given on the command line comes from the measured "
                              "recipe for the\nkind and data set (the app's run panel starts from the same "
                              "table):\n\n" + recipes_table() + "\n\nWith --resume, the run's own settings "
                              "instead (--steps, --lr and --batch may change them).")
    t.add_argument("kind", choices=family_names())
    t.add_argument("--data", required=True, help="ring8, grid25, spiral, moons, digits, shapes, faces, folder:PATH "
                   "or points:FILE.npy (a drawing: (K, 2) points)")
    t.add_argument("--steps", type=_positive_int, default=None,
                   help="optimiser steps to reach (default: the recipe's; with --resume the run's own)")
    t.add_argument("--out", required=True, type=Path, help="run directory")
    t.add_argument("--size", type=int, default=None, help="image size in px: 16, 32 or 64 (default: the recipe's)")
    t.add_argument("--channels", type=int, default=0, help="1 or 3 (default: the data set's own)")
    t.add_argument("--batch", type=_positive_int, default=None,
                   help="samples a step (default: the recipe's; with --resume the run's own); with --nproc or "
                        "torchrun the global batch, split evenly over the processes (so --lr means the same on "
                        "any number)")
    t.add_argument("--lr", type=_rate, default=None, help="Adam learning rate (default: the recipe's; with "
                                                           "--resume the run's own)")
    t.add_argument("--arch", default="auto", help="auto, dcgan, mlp (GAN); auto, unet, mlp (diffusion)")
    t.add_argument("--width", type=int, default=None, help="base width of the networks (default: the recipe's)")
    t.add_argument("--latent-dim", type=int, default=None, help="GAN latent size (0 = 100 for DCGAN, 2 for 2-D)")
    t.add_argument("--timesteps", type=int, default=1000, help="diffusion T")
    t.add_argument("--schedule", choices=SCHEDULES, default=None,
                   help="diffusion noise schedule (default: the recipe's)")
    t.add_argument("--ema", type=float, default=None, help="EMA decay of diffusion weights (default: the recipe's)")
    t.add_argument("--g-ema", type=float, default=None,
                   help="GAN: decay of the running average of G's weights that samples (Yazıcı et al. 2019); "
                        "0 = sample from the raw G (default: the recipe's)")
    t.add_argument("--amp", choices=("off", "bf16"), default="off",
                   help="mixed precision: bf16 autocast for the forward passes (CUDA; CPUs with bf16)")
    t.add_argument("--compile", action="store_true", help="torch.compile the networks (pays on long GPU runs)")
    t.add_argument("--blocks", type=_positive_int, default=None,
                   help="SRResNet / SRGAN: residual blocks B (default 6; the paper's 16 with --width 64)")
    t.add_argument("--init", type=Path, default=None,
                   help="SRGAN: start the generator from this SRResNet checkpoint (the paper's stage two)")
    t.add_argument("--content", default=None,
                   help="SRGAN: content loss: mse, random (fixed random CNN), ae (autoencoder trained on "
                        "the data), disc (D's features) or vgg19:PATH (your VGG19 .safetensors); default random")
    t.add_argument("--adv-weight", type=float, default=None,
                   help="SRGAN: weight of the adversarial loss (default 1e-3, the paper's)")
    t.add_argument("--adv-loss", choices=("bce", "ragan"), default=None,
                   help="SRGAN: bce (the paper's) or ragan (ESRGAN's relativistic average loss); default bce")
    t.add_argument("--d-arch", choices=("vgg", "patch"), default=None,
                   help="SRGAN: vgg (the paper's strided D) or patch (a PatchGAN, one logit per 34 px patch)")
    t.add_argument("--l1-weight", type=float, default=None,
                   help="SRGAN: weight of a pixel L1 term added to the content loss (ESRGAN's 1e-2; default 0)")
    t.add_argument("--d-warmup", type=_non_negative_int, default=None, metavar="STEPS",
                   help="SRGAN: train D alone for the first STEPS steps, G held fixed (default 0)")
    t.add_argument("--d-lr", type=_rate, default=None,
                   help="GAN, SRGAN: the discriminator's learning rate (default: --lr)")
    add_gan_flags(t)  # the remedies for mode collapse (genstudio.gan.remedies)
    t.add_argument("--min-snr", type=float, default=None, metavar="GAMMA",
                   help="diffusion / text2image: weight each timestep's loss by min(SNR, γ)/SNR, Min-SNR-γ "
                        "(Hang et al. 2023; the paper's γ is 5); 0 = off; default: the recipe's (5 for "
                        "text2image on shapes), else off")
    t.add_argument("--hold-out", default=None, metavar="PHRASES",
                   help='text2image: comma-separated phrases no training caption may hold, e.g. "blue triangle,'
                        'yellow cross" (an image whose full caption holds one is left out); "" holds nothing out '
                        '(default: the data set\'s own, for shapes "blue triangle,yellow cross")')
    t.add_argument("--autoencoder", type=Path, default=None, metavar="FILE",
                   help="ldm: the trained autoencoder checkpoint whose latents it learns (genstudio train autoencoder)")
    t.add_argument("--z-channels", type=_positive_int, default=None,
                   help="autoencoder: latent channels (default 4, as Stable Diffusion's VAE)")
    t.add_argument("--kl-weight", type=float, default=None,
                   help="autoencoder: weight of the KL term (default 1e-6, latent diffusion's KL-reg)")
    t.add_argument("--device", choices=DEVICES, default="auto")
    t.add_argument("--seed", type=_seed, default=0)
    t.add_argument("--log-every", type=_positive_int, default=None)
    t.add_argument("--preview-every", type=_positive_int, default=None)
    t.add_argument("--checkpoint-every", type=_positive_int, default=None)
    t.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    t.add_argument("--nproc", type=_positive_int, default=1,
                   help="train data-parallel on N processes of this machine (one per GPU, or CPU processes), "
                        "started through torchrun; --batch is the global batch, split evenly over them")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="draw samples from a checkpoint")
    s.add_argument("checkpoint", type=Path)
    s.add_argument("--n", type=_positive_int, default=16)
    s.add_argument("--out", required=True, type=Path, help="a folder (one PNG per sample), FILE.png (a grid; for 2-D models a scatter plot) or FILE.npy")
    s.add_argument("--seed", type=_seed, default=0)
    # None = not given: a GAN refuses these flags, a diffusion model gets SAMPLE_DEFAULTS
    s.add_argument("--sampler", choices=sampler_names(), default=None, help="diffusion only (default ddpm)")
    s.add_argument("--steps", type=_positive_int, default=None, help="DDIM steps (diffusion only; default 50)")
    s.add_argument("--eta", type=_eta, default=None, help="DDIM eta (diffusion only; default 0)")
    s.add_argument("--prompt", default=None,
                   help="text-to-image only: the caption to draw (\"\" = the null caption, unconditional)")
    s.add_argument("--guidance", type=_guidance, default=None,
                   help="text-to-image only: classifier-free guidance scale s, ε̂ = ε̂_∅ + s·(ε̂_c − ε̂_∅): "
                        "0 = unconditional, 1 = conditional, >1 stronger (the paper's w is s − 1; "
                        "diffusers' guidance_scale = s); default 3")
    s.add_argument("--negative-prompt", dest="negative", default=None,
                   help="text-to-image only: a caption to steer away from (it replaces the null caption)")
    s.add_argument("--prompt-to", dest="prompt_to", default=None,
                   help="text-to-image only: walk from --prompt to this prompt on one fixed noise and write "
                        "--out FILE.gif (default sampler for a walk: DDIM, 50 steps, η = 0)")
    s.add_argument("--frames", type=_positive_int, default=16, help="frames of a --prompt-to walk (default 16)")
    s.add_argument("--walk", choices=("slerp", "lerp"), default="slerp",
                   help="how a --prompt-to walk mixes the two prompts' embeddings (default slerp)")
    s.add_argument("--px", type=_non_negative_int, default=512,
                   help="long side in pixels of a FILE.png picture (a grid, or a 2-D model's scatter plot); "
                        "0 = the grid's own size (default 512)")
    s.add_argument("--smooth", action="store_true",
                   help="scale a grid with Lanczos instead of nearest neighbour (which keeps pixels crisp)")
    s.add_argument("--trajectory", type=Path, default=None, help="save the recorded trajectory to FILE.npz")
    s.add_argument("--size", type=_positive_int, default=None, metavar="PX",
                   help="Stable Diffusion folders only: picture size in px (default: 256 on a CPU, the model's own "
                        "on a GPU; a multiple of 8·2^(U-Net levels − 1))")
    s.add_argument("--compile", action="store_true",
                   help="diffusion only: run the network through torch.compile for this batch's shape (CUDA "
                        "graphs on a GPU): faster steps after a one-off compile (a few minutes the first time, seconds "
                        "once cached); falls back to the plain network if compiling fails")
    s.add_argument("--exact", action="store_true",
                   help="2-D diffusion only: sample the exact denoiser of the model's data set (its ideal ε*, in "
                        "closed form) instead of the network, with the same schedule, sampler and noise")
    s.add_argument("--exact-points", type=_positive_int, default=None, metavar="K",
                   help="with --exact: the exact denoiser of only K training points (a perfect model of so "
                        "small a set reproduces its points: memorisation); prints how many samples are training points")
    s.add_argument("--raw", action="store_true",
                   help="sample with the weights the run trained, not their moving average (EMA), which is the "
                        "default when the run kept one: to see what the averaging buys")
    s.add_argument("--device", choices=DEVICES, default="auto")
    s.set_defaults(func=cmd_sample)

    a = sub.add_parser("arena", help="train a GAN and a diffusion model on the same 2-D data with the same "
                                     "CPU budget and compare them over training (modes, sliced Wasserstein)")
    a.add_argument("--data", default="ring8", help="a 2-D point set: ring8, grid25, spiral or moons")
    a.add_argument("--budget", type=_seconds, default=30.0, help="CPU-seconds of training for each model (default 30)")
    a.add_argument("--seeds", type=_seed, nargs="+", default=[0], help="training seeds (default 0)")
    a.add_argument("--evals", type=_positive_int, default=10, help="evaluations over the budget (default 10)")
    a.add_argument("--n", type=_positive_int, default=2000, help="samples per evaluation (default 2000)")
    a.add_argument("--out", required=True, type=Path, help="a folder for the table, plot, log and run folders")
    a.set_defaults(func=_arena)

    v = sub.add_parser("invert", help="run an image back to a model's noise and regenerate it: DDIM inversion "
                                      "for a diffusion model, projection into z for a GAN")
    v.add_argument("checkpoint", type=Path)
    v.add_argument("image", type=Path, help="an image file (centre-cropped and resized to the model's size)")
    v.add_argument("--out", required=True, type=Path,
                   help="FILE.png: image | reconstruction (| variation with --eta); a GAN: image | G(z)")
    v.add_argument("--steps", type=_positive_int, default=None,
                   help="DDIM steps of the inversion (default 50), or a GAN projection's Adam steps (default 300)")
    v.add_argument("--eta", type=_eta, default=0.0,
                   help="also regenerate with this DDIM eta from the inverted noise: a variation (default 0: none)")
    v.add_argument("--seed", type=_seed, default=0, help="seed of the variation's fresh noise")
    v.add_argument("--noise-out", type=Path, default=None, help="save the inverted x_T (a GAN: its z) to FILE.npy")
    v.add_argument("--px", type=_non_negative_int, default=512, help="long side of the PNG (0 = native)")
    v.add_argument("--device", choices=DEVICES, default="auto")
    v.set_defaults(func=_invert)

    nn_ = sub.add_parser("neighbours", help="samples beside their nearest training images, and the share that "
                                            "pass as copies (a memorisation meter)")
    nn_.add_argument("checkpoint", type=Path)
    nn_.add_argument("--out", required=True, type=Path, help="FILE.png: each row a sample and its nearest")
    nn_.add_argument("--n", type=_positive_int, default=16, help="samples (default 16)")
    nn_.add_argument("--k", type=_positive_int, default=4, help="nearest training images per sample (default 4)")
    nn_.add_argument("--space", choices=("pixels", "features"), default="pixels",
                     help="distance in pixels, or in a classifier's features (digits classifier: gray; faces classifier: RGB)")
    nn_.add_argument("--seed", type=_seed, default=0)
    nn_.add_argument("--px", type=_non_negative_int, default=512, help="long side of the PNG (0 = native)")
    nn_.add_argument("--device", choices=DEVICES, default="auto")
    nn_.set_defaults(func=_neighbours)

    tl = sub.add_parser("timelapse", help="a run folder's saved previews as an animated GIF, the step and "
                                          "losses written on each frame (2-D runs: points over D's field)")
    tl.add_argument("run", type=Path, help="a run folder (holds previews/step_*.png or .npz)")
    tl.add_argument("--out", required=True, type=Path, help="FILE.gif")
    tl.add_argument("--fps", type=_fps, default=8.0, help="frames a second (default 8)")
    tl.add_argument("--px", type=_non_negative_int, default=512, help="long side of a frame (0 = native grid)")
    tl.add_argument("--max-frames", type=_positive_int, default=300,
                    help="at most this many previews, evenly chosen (default 300)")
    tl.set_defaults(func=_timelapse)

    e = sub.add_parser("export", help="write a small sampling-only copy of a checkpoint (no optimiser state, no GAN discriminator)")
    e.add_argument("checkpoint", type=Path)
    e.add_argument("--out", required=True, type=Path, help="the new .safetensors file")
    e.add_argument("--half", action="store_true", help="store weights as float16 (half the size)")
    e.set_defaults(func=cmd_export)

    q = sub.add_parser("score", help="digits quality: Fréchet distance in a digits classifier's features, "
                       "next to the real-vs-real figure, and the share of samples that pass as copies of a training image (any image model); for a text-to-image model, prompt accuracy and "
                       "diversity against guidance; super-resolution: PSNR, SSIM and sharpness on "
                       "held-out images beside bicubic")
    q.add_argument("checkpoint", type=Path)
    q.add_argument("--n", type=_positive_int, default=None,
                   help="samples, and real digits per set (at most 898; default 500); text-to-image: "
                        "samples per prompt and guidance scale (default 50)")
    q.add_argument("--prompt", action="append", default=None, dest="prompts",
                   help="text-to-image only: a prompt to score (repeat for more; default: every digit, "
                        "seven shapes prompts with the held-out one, or six faces prompts)")
    q.add_argument("--guidances", type=_guidances, default=None,
                   help="text-to-image only: guidance scales to compare, e.g. 0,1,3,7 (the default)")
    q.add_argument("--seed", type=_seed, default=0)
    q.add_argument("--sampler", choices=sampler_names(), default=None, help="diffusion only (default ddim)")
    q.add_argument("--steps", type=_positive_int, default=None, help="DDIM steps (diffusion only; default 100)")
    q.add_argument("--device", choices=DEVICES, default="auto")
    q.add_argument("--data", default=None, help="super-resolution: the data set whose held-out images are "
                   "scored (default: the checkpoint's)")
    q.add_argument("--also", type=Path, action="append", default=None,
                   help="super-resolution: another checkpoint scored on the same images (repeatable)")
    q.add_argument("--crops", type=Path, default=None,
                   help="super-resolution: write a PNG of held-out crops, bicubic | each model | original")
    q.set_defaults(func=cmd_score)

    u = sub.add_parser("upscale", help="×4 super-resolution of an image with an SRResNet or SRGAN checkpoint")
    u.add_argument("checkpoint", type=Path)
    u.add_argument("image", type=Path, help="an image file of any size: RGB, grayscale or with alpha")
    u.add_argument("--out", required=True, type=Path, help="the result, a .png (or .webp, .tif, .bmp)")
    u.add_argument("--tile", type=_positive_int, default=None,
                   help="LR pixels a side per tile for large images (default 128; overlapping tiles give "
                        "the untiled result)")
    u.add_argument("--device", choices=DEVICES, default="auto")
    u.set_defaults(func=_upscale)

    i = sub.add_parser("info", help="show what a checkpoint holds")
    i.add_argument("checkpoint", type=Path)
    i.set_defaults(func=cmd_info)
    return p


def _timelapse(args: argparse.Namespace) -> int:
    from genstudio.runs.timelapse import export_gif

    if not args.run.is_dir():
        raise ValueError(f"{args.run} is not a run folder")
    out, n = export_gif(args.run, args.out, fps=args.fps, size=args.px or None, max_frames=args.max_frames)
    print(f"wrote {out} ({n} frames)")
    return 0


def _upscale(args: argparse.Namespace) -> int:
    from genstudio.superres.upscale import cmd_upscale

    return cmd_upscale(args)


if __name__ == "__main__":
    raise SystemExit(main())
