"""``genstudio train``: a run's config from the command line, and the run driven to its end with a
progress bar (one process, or N through torchrun)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from genstudio.cli import EXIT_FAILED
from genstudio.config import ConfigError, RunConfig


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The run's config: the recipe for (kind, data) (:mod:`genstudio.recipes`), or with ``--resume``
    the run's own lr, batch and steps, then every flag given on the command line."""
    from genstudio.recipes import recipe_config

    saved = _saved_config(args.out) if getattr(args, "resume", False) else None
    given = dict(arch=args.arch, channels=args.channels, timesteps=args.timesteps, seed=args.seed,
                 device=args.device, size=args.size, width=args.width, latent_dim=args.latent_dim,
                 schedule=args.schedule, ema_decay=args.ema, g_ema=args.g_ema, lr=args.lr, batch=args.batch, steps=args.steps)
    if saved is not None:  # a resumed run keeps its own rate, batch and length unless the flags change them
        for name in ("lr", "batch", "steps"):
            if given[name] is None:
                given[name] = getattr(saved, name)
    extra = {k: v for k, v in (("amp", getattr(args, "amp", "off")), ("compile", getattr(args, "compile", False)))
             if v not in ("off", False)}
    extra.update(_superres_extra(args))
    extra.update(_hold_out_extra(args))
    extra.update(_latent_extra(args))
    if getattr(args, "min_snr", None) is not None:
        if args.kind not in ("diffusion", "text2image", "ldm"):
            raise ConfigError(f"--min-snr is not a setting of {args.kind} runs (diffusion and text2image)")
        if not 0 <= args.min_snr < float("inf"):
            raise ConfigError(f"--min-snr must be a number ≥ 0 (0 = off; the paper's γ is 5), not {args.min_snr:g}")
        extra["min_snr"] = args.min_snr
    if saved is not None:
        _note_kept_on_resume(given, extra, saved)
    if extra:
        given["extra"] = extra
    for name in ("log_every", "preview_every", "checkpoint_every"):
        given[name] = getattr(args, name)
    return recipe_config(args.kind, args.data, **given)


def add_gan_flags(t: argparse.ArgumentParser) -> None:
    """``train``'s flags for the GAN's remedies against mode collapse (:mod:`genstudio.gan.remedies`)."""
    from genstudio.cli_types import _non_negative_int, _positive_int

    t.add_argument("--d-steps", type=_positive_int, default=None,
                   help="GAN: D steps per G step (Goodfellow et al.'s k; default 1)")
    t.add_argument("--unrolled", type=_non_negative_int, default=None,
                   help="GAN: unrolled D steps k (Metz et al., Unrolled GANs; first-order form; default 0)")
    t.add_argument("--r1", type=float, default=None,
                   help="GAN: R1 penalty γ on D's gradient at real data (Mescheder et al.; default 0; "
                        "stylegan: 0.5 up to 32 px, 1 at 64 px)")
    t.add_argument("--spectral-norm", action="store_true", default=None,
                   help="GAN: spectral normalisation of D's weights (Miyato et al.)")
    t.add_argument("--mbstd", type=_non_negative_int, default=None,
                   help="GAN: minibatch standard deviation in D over groups of N samples (Karras et al.; e.g. 4)")
    t.add_argument("--skips-from", type=_positive_int, default=None, metavar="PX",
                   help="stylegan: the lowest resolution with a toRGB skip in G (default 16; 4 = StyleGAN2's skip "
                        "generator, the image size = StyleGAN1's single output)")


#: the GAN flags that become config.extra entries
GAN_EXTRA = ("d_steps", "unrolled", "r1", "spectral_norm", "mbstd")
#: SRGAN's options from ESRGAN that become config.extra entries
SRGAN_EXTRA = ("adv_loss", "d_arch", "l1_weight", "d_warmup")


def _superres_extra(args: argparse.Namespace) -> dict:
    """``--blocks``, ``--init``, ``--content``, ``--adv-weight``, ``--d-lr`` as ``config.extra`` entries (SRResNet /
    SRGAN), and the GAN's remedies (``--d-steps``, ``--unrolled``, ``--r1``, ``--spectral-norm``, ``--mbstd``, ``--d-lr``);
    one line for a flag given to a family that does not take it."""
    sr = {"blocks": getattr(args, "blocks", None), "content": getattr(args, "content", None),
          "adv_weight": getattr(args, "adv_weight", None), "init": getattr(args, "init", None),
          "d_lr": getattr(args, "d_lr", None), **{k: getattr(args, k, None) for k in GAN_EXTRA},
          **{k: getattr(args, k, None) for k in SRGAN_EXTRA}, "skips_from": getattr(args, "skips_from", None)}
    sr = {k: v for k, v in sr.items() if v is not None}
    takes = {"srresnet": ("blocks",), "srgan": ("blocks", "content", "adv_weight", "init", "d_lr", *SRGAN_EXTRA),
             "gan": ("d_lr", *GAN_EXTRA), "stylegan": ("d_lr", "r1", "mbstd", "skips_from")}.get(args.kind, ())
    _refuse_flags_not_taken(sr, takes, args.kind)
    if "init" in sr:
        sr["init"] = str(Path(sr["init"]).expanduser().resolve())
    return sr


def _refuse_flags_not_taken(given: dict, takes: tuple[str, ...], kind: str) -> None:
    """One line naming every flag in ``given`` that a ``kind`` run does not take (none: nothing)."""
    wrong = [k for k in given if k not in takes]
    if wrong:
        flags = ", ".join("--" + k.replace("_", "-") for k in wrong)
        raise ConfigError(f"{flags} {'is' if len(wrong) == 1 else 'are'} not a setting of {kind} runs")


def _hold_out_extra(args: argparse.Namespace) -> dict:
    """``--hold-out "blue triangle,yellow cross"`` as ``config.extra["hold_out"]`` (text2image only); one line
    for another family, or for a list with no phrase in it but commas."""
    text = getattr(args, "hold_out", None)
    if text is None:
        return {}
    if args.kind not in ("text2image", "ldm"):
        raise ConfigError(f"--hold-out is not a setting of {args.kind} runs (text2image and ldm only)")
    from genstudio.data.captions import parse_hold_out

    phrases = parse_hold_out(text)
    if text.strip() and not phrases:
        raise ConfigError(f"--hold-out {text!r} names no phrase: give e.g. \"blue triangle,yellow cross\"")
    return {"hold_out": list(phrases)}


def _latent_extra(args: argparse.Namespace) -> dict:
    """``--autoencoder FILE`` (ldm), ``--z-channels`` and ``--kl-weight`` (autoencoder) as ``config.extra``
    entries; one line for a flag given to a family that does not take it."""
    given = {k: getattr(args, k, None) for k in ("autoencoder", "z_channels", "kl_weight")}
    given = {k: v for k, v in given.items() if v is not None}
    takes = {"ldm": ("autoencoder",), "autoencoder": ("z_channels", "kl_weight")}.get(args.kind, ())
    _refuse_flags_not_taken(given, takes, args.kind)
    if "autoencoder" in given:
        given["autoencoder"] = str(Path(given["autoencoder"]).expanduser().resolve())
    return given


#: flags (whose default is "not given") a resumed run does not take: it keeps its saved model and averaging
_KEPT_ON_RESUME = {"size": "--size", "width": "--width", "latent_dim": "--latent-dim", "schedule": "--schedule",
                   "ema_decay": "--ema", "g_ema": "--g-ema"}


def _note_kept_on_resume(given: dict, extra: dict, saved: RunConfig) -> None:
    """One ``genstudio: note:`` line naming the flags given with ``--resume`` that differ from the run's
    own settings, which the resumed run keeps (rather than ignoring them without a word)."""
    from genstudio.runs.start import EXECUTION_EXTRAS, RESUME_MAY_CHANGE

    kept = [f"{flag} {given[name]:g}" if isinstance(given[name], float) else f"{flag} {given[name]}"
            for name, flag in _KEPT_ON_RESUME.items()
            if given.get(name) is not None and given[name] != getattr(saved, name)]
    kept += [f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}") for k, v in extra.items()
             if k not in (*RESUME_MAY_CHANGE, *EXECUTION_EXTRAS) and saved.extra.get(k) != v]
    if kept and os.environ.get("RANK", "0") == "0":  # once under torchrun
        print(f"genstudio: note: a resumed run keeps its own settings; not taken: {', '.join(kept)} "
              f"(start a new run to change them)", file=sys.stderr, flush=True)


def _saved_config(run_dir: Path) -> RunConfig | None:
    """The run folder's config.json, if it has a readable one."""
    from genstudio.runs.folder import RunDir

    try:
        return RunDir(run_dir).read_config()
    except (OSError, ValueError, TypeError, ConfigError):
        return None


def cmd_train(args: argparse.Namespace) -> int:
    from genstudio.progress import ProgressBar
    from genstudio.runs import distributed
    from genstudio.runs.control import RunControl
    from genstudio.runs.events import Finished, Progress, Saved, Started
    from genstudio.runs.loop import train
    from genstudio.safe_text import safe_text

    info = distributed.env_info()
    if args.out.exists() and not args.out.is_dir():  # a file (or FIFO, …) where the run folder should be
        from genstudio.runs.folder import describe_path

        raise ConfigError(f"--out {args.out} is {describe_path(args.out)}, not a run folder")
    config = config_from_args(args)
    if args.nproc > 1 and not info.enabled:  # start N copies of this command through torchrun
        if config.batch % args.nproc:
            raise ConfigError(f"--batch {config.batch} is the global batch and must split evenly over "
                              f"{args.nproc} processes: use a multiple of {args.nproc}")
        return distributed.launch(args.nproc, _without_nproc(getattr(args, "argv", sys.argv[1:])), config.device)
    if args.nproc > 1 and args.nproc not in (info.world_size, distributed.local_world_size()):
        raise ValueError(f"--nproc {args.nproc} does not match torchrun's {info.world_size} processes: "
                         f"leave --nproc out when starting with torchrun")
    bar = ProgressBar(enabled=not args.quiet and info.is_main)
    control = RunControl()
    finished = None
    announced = False
    # Ctrl-C / SIGTERM stop the run after the current step and save it (under torchrun on every rank
    # together, and rank 0 saves); a second Ctrl-C ends at once.
    with distributed.StopOnSignal(control.request_stop) as signals:
        for event in train(config, args.out, resume=args.resume, control=control):
            if isinstance(event, Started):
                if event.notice and info.is_main:
                    print(f"genstudio: note: {event.notice}", file=sys.stderr, flush=True)
                where = f"{event.device}, {info.world_size} processes" if info.enabled else event.device
                bar.start(event.step, event.total, f"{config.kind} on {config.data} ({where})")
            elif isinstance(event, Progress):
                bar.update(event.step, event.rate, event.metrics)
            elif isinstance(event, Saved):
                bar.note_saved(event.path)
            elif isinstance(event, Finished):
                finished = event
            else:
                bar.tick(event.step)
            if info.enabled and distributed.stop_file_exists():  # Ctrl-C in `genstudio train --nproc`
                control.request_stop()
            if signals.signum is not None and not announced and finished is None:
                announced = True  # said here, not in the signal handler: it may interrupt the bar's write
                if info.is_main:
                    print("\ngenstudio: stopping after this step (again to end now)", file=sys.stderr, flush=True)
    bar.close()
    assert finished is not None
    if finished.reason in ("diverged", "out of memory"):
        if info.is_main:
            print(f"genstudio: error: {safe_text(finished.message)}", file=sys.stderr)
        return EXIT_FAILED
    if info.is_main:
        print(safe_text(f"{finished.reason} at step {finished.step}; checkpoint: {finished.checkpoint}"))
    if finished.reason == "stopped" and signals.signum is not None and not info.enabled:
        # as a shell reports a process ended by the signal (130 Ctrl-C, 143 SIGTERM), though the run
        # saved: a script can tell a stopped run from a finished one. Under torchrun each rank exits 0
        # (torchrun would report a non-zero rank as failed); `--nproc` itself returns 130 / 143.
        return 128 + signals.signum
    return 0


def _without_nproc(argv: list[str]) -> list[str]:
    """``argv`` less its ``--nproc N`` (the started processes learn their number from torchrun)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out
