"""``genstudio sample``: draw samples from any checkpoint and write them to disk."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from genstudio.families import get_family
from genstudio.imaging import save_png
from genstudio.latent_images import is_latent_model
from genstudio.safe_text import safe_text
from genstudio.sampling import SampleSpec, sample


def spec_of(args: argparse.Namespace) -> SampleSpec:
    """The :class:`~genstudio.sampling.SampleSpec` of ``genstudio sample``'s flags (diffusion)."""
    return SampleSpec(args.n, args.seed, args.sampler, args.steps, args.eta,
                      record=getattr(args, "trajectory", None) is not None, prompt=getattr(args, "prompt", None),
                      guidance=getattr(args, "guidance", None), negative=getattr(args, "negative", None),
                      compile=bool(getattr(args, "compile", False)))


def check_prompt_flags(model, args: argparse.Namespace) -> None:
    """Refuse --prompt / --guidance / --negative-prompt for a model that takes no text (ValueError)."""
    given = [flag for flag, name in (("--prompt", "prompt"), ("--guidance", "guidance"),
                                     ("--negative-prompt", "negative")) if getattr(args, name, None) is not None]
    if given and not hasattr(model, "guided_eps"):
        flags = " and ".join((", ".join(given[:-1]), given[-1]) if len(given) > 1 else given)
        raise ValueError(f"{flags} {'is' if len(given) == 1 else 'are'} for text-to-image models; "
                         f"{args.checkpoint.name} holds a {get_family(model.kind).noun} model, which takes no text")


def sample_to_disk(args: argparse.Namespace) -> int:
    """Write ``args.n`` samples of ``args.checkpoint`` to ``args.out``; returns an exit status."""
    from genstudio.loading import load_model

    out: Path = args.out
    if getattr(args, "prompt_to", None) is not None:
        return walk_to_disk(args)
    if out.suffix == ".gif":
        raise ValueError("--out FILE.gif is for a prompt walk: give --prompt A --prompt-to B")
    if out.suffix not in ("", ".png", ".npy"):
        raise ValueError(f"--out must be a folder, FILE.png or FILE.npy, not {out.name}")
    if out.suffix == ".png" and args.n > MAX_GRID:
        raise ValueError(f"--n {args.n:,} is too many for one grid picture (at most {MAX_GRID:,}): "
                         "write them to a folder or FILE.npy")
    model = load_model(args.checkpoint, args.device, raw=getattr(args, "raw", False))
    if model.is_points and out.suffix not in (".npy", ".png"):
        raise ValueError(f"{args.checkpoint.name} makes 2-D points: give --out FILE.npy (the points) or "
                         f"FILE.png (a scatter plot)")
    check_prompt_flags(model, args)
    _latent_size(model, args)
    check_memory(model, args)
    family = get_family(model.kind)
    if not family.uses_samplers:  # one pass (a GAN)
        given = [f for f, on in (("--trajectory", args.trajectory is not None), ("--exact", getattr(args, "exact", False)),
                                 ("--compile", getattr(args, "compile", False))) if on]
        if given:
            raise ValueError(f"{given[0]} is for diffusion models; this is a {family.noun}")
        samples = model.sample(args.n, seed=args.seed).numpy()
        how = model.kind
    else:
        spec = spec_of(args)
        points = getattr(args, "exact_points", None)
        if points is not None and not getattr(args, "exact", False):
            raise ValueError("--exact-points is for --exact: the exact denoiser of that many training points")
        if getattr(args, "exact", False) and spec.compile:
            raise ValueError("--compile compiles the network; --exact samples the closed-form denoiser instead")
        source = exact_stand_in(model, points) if getattr(args, "exact", False) else model
        if hasattr(source, "estimate_seconds"):  # a Stable Diffusion folder: the time it takes, before it starts
            print(safe_text(f"about {source.estimate_seconds(spec):,.0f} s: {spec.total_steps(model.schedule.num_steps)} "
                            f"steps × {spec.n} at {source.step_seconds:.2f} s per guided U-Net step on "
                            f"{source.device.type}, measured"), file=sys.stderr, flush=True)
        result = sample(source, spec, progress=_progress(args), record_dtype=torch.float16)
        if result.trajectory is not None:
            trajectory = result.trajectory
            trajectory.save_npz(args.trajectory)
            print(safe_text(f"trajectory ({len(trajectory.timesteps)} steps) written to {args.trajectory}"))
        samples = result.final
        if is_latent_model(model):  # the sampler's latents, decoded by the model's VAE into pictures
            samples = model.decode_latents(torch.from_numpy(samples)).numpy()
        how = spec.short() + (" with the exact denoiser" if source is not model else "")
        if points is not None:  # memorisation: how many samples are training points
            from genstudio.diffusion.exact import mixture_of_model
            from genstudio.diffusion.exact_compare import memorisation

            fresh = mixture_of_model(model).sample(len(samples), torch.Generator().manual_seed(args.seed + 1))
            print(safe_text(memorisation(source.mixture.means.numpy(), samples, fresh=fresh.numpy()).sentence()))
    samples = np.clip(samples, -1, 1) if not model.is_points else samples
    text = {"genstudio:model": model.describe(), "genstudio:step": str(model.meta.get("step")),
            "genstudio:seed": str(args.seed), "genstudio:sampler": how,
            "genstudio:checkpoint": args.checkpoint.name}
    if family.uses_samplers and spec.guided:  # what the picture was asked for
        text.update({"genstudio:prompt": result.info["prompt"], "genstudio:guidance": f"{result.info['guidance']:g}",
                     "genstudio:negative_prompt": result.info["negative"]})
    if out.suffix == ".png":
        save_png(out, _picture(samples, model, args), text)
    else:
        _write(out, samples, text)
    print(safe_text(f"{args.n} samples written to {out}"))
    return 0


def _latent_size(model, args: argparse.Namespace) -> None:
    """``--size PX``: a Stable Diffusion folder's picture size (ValueError, one line, for any other model)."""
    size = getattr(args, "size", None)
    if size is None:
        return
    if not hasattr(model, "set_size"):
        raise ValueError(f"--size is for Stable Diffusion folders; {args.checkpoint.name} samples at its own size")
    model.set_size(size)


def walk_to_disk(args: argparse.Namespace) -> int:
    """``--prompt A --prompt-to B --frames F --out walk.gif``: the prompt walk as a GIF (and its frames'
    settings in the terminal); returns an exit status."""
    from genstudio.imaging import save_gif
    from genstudio.loading import load_model
    from genstudio.text2image.walk import MAX_FRAMES, walk, walk_gif_frames

    out: Path = args.out
    if out.suffix != ".gif":
        raise ValueError(f"a prompt walk is written as a GIF: give --out FILE.gif, not {out.name}")
    if args.prompt is None:
        raise ValueError("--prompt-to walks from --prompt: give both")
    if not 2 <= args.frames <= MAX_FRAMES:
        raise ValueError(f"--frames must lie in 2 … {MAX_FRAMES}, not {args.frames}")
    if args.trajectory is not None or getattr(args, "exact", False) or getattr(args, "compile", False):
        raise ValueError("--trajectory, --exact and --compile do not go with a prompt walk")
    model = load_model(args.checkpoint, args.device, raw=getattr(args, "raw", False))
    if not hasattr(model, "guided_eps"):
        raise ValueError(f"--prompt-to is for text-to-image models; {args.checkpoint.name} holds a "
                         f"{get_family(model.kind).noun} model, which takes no text")
    spec = spec_of(args)
    result = walk(model, spec, args.prompt_to, args.frames, method=args.walk, progress=_progress(args))
    save_gif(out, walk_gif_frames(result.frames, getattr(args, "px", 512) or None), fps=8)
    print(safe_text(f"{args.frames} frames from {args.prompt!r} to {args.prompt_to!r} ({args.walk}, "
                    f"{result.spec.short()}, s = {result.spec.guidance:g}, seed {args.seed}) written to {out}"))
    return 0


def exact_stand_in(model, points: int | None = None):
    """The exact denoiser of a 2-D diffusion model's data set, on its schedule (``--exact``); with
    ``points``, of that many of its training points (``--exact-points``: memorisation)."""
    from genstudio.diffusion.exact import ExactDenoiser, mixture_of_model

    if not model.is_points:
        raise ValueError("--exact is for 2-D point models: an image data set has no closed-form denoiser")
    return ExactDenoiser(mixture_of_model(model, points), model.schedule)


def _picture(samples: np.ndarray, model, args: argparse.Namespace) -> np.ndarray:
    """The one PNG of ``--out FILE.png``: a grid of the images, or a scatter plot of 2-D points over
    faint real data, its long side ``--px`` pixels (0: the grid's own size)."""
    from genstudio.imaging import DEFAULT_EXPORT_SIZE, cloud_extent, make_grid, resize_long_side, scatter_image

    px = getattr(args, "px", DEFAULT_EXPORT_SIZE)
    if model.is_points:
        from genstudio.scrub import real_points

        real = real_points(model.meta.get("data", ""))
        return scatter_image(samples, cloud_extent(real, samples), px or DEFAULT_EXPORT_SIZE, real=real,
                             title=f"{len(samples):,} samples, seed {args.seed}")
    return resize_long_side(make_grid(samples), px or None, smooth=getattr(args, "smooth", False))


MAX_GRID = 4096  # images in one --out FILE.png: a 64 x 64 grid is as many as anyone can look at


def bytes_per_sample(model, args: argparse.Namespace) -> int:
    """A generous estimate of the memory one sample takes while ``sample`` runs.

    The samples themselves as float32, a clipped copy and the 8-bit pictures; for diffusion, whose
    samplers denoise the whole batch at once, the network's activations too (a U-Net peaks at about
    ten maps of its widest level per pixel; 16 are counted), and a recorded trajectory (x_t, ε̂ and
    x̂_0 in float16 at every recorded step).
    """
    samplers = get_family(model.kind).uses_samplers
    shape = model.sample_shape
    elems = int(np.prod(shape))  # values in one sample
    total = 16 * elems
    if samplers:
        args_ = model.meta["models"]["eps"]["args"]
        if model.is_points:
            total += 4 * 16 * int(args_.get("hidden", 256))
        else:
            pixels = elems // shape[0]
            guided = 2 if spec_of(args).guided else 1  # classifier-free guidance runs 2N rows a step
            total += guided * 4 * 16 * pixels * int(args_.get("width", 32)) * max(args_.get("mults", [1, 2, 2]))
        if args.trajectory is not None:
            steps = min(spec_of(args).total_steps(model.schedule.num_steps), model.schedule.num_steps)
            total += 3 * 2 * elems * (steps + 1)
    return total


def available_memory() -> int:
    """Bytes of memory this process can still take: Linux's MemAvailable, else free pages, else 4 GB."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import os

        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return 4 * 2**30


def check_memory(model, args: argparse.Namespace) -> None:
    """Refuse (ValueError, one line) a ``--n`` whose samples would not fit in half the free memory."""
    per = bytes_per_sample(model, args)
    budget = available_memory() // 2
    if args.n * per > budget:
        most = max(budget // per, 0)
        raise ValueError(f"--n {args.n:,} would need about {args.n * per / 1e9:,.1f} GB of memory, and "
                         f"{budget / 1e9:,.1f} GB (half of what is free) is the most sampling takes: use "
                         f"--n {most:,} or fewer" + (" (or no --trajectory)" if args.trajectory else ""))


def _progress(args: argparse.Namespace):
    """A callback(done, total) drawing a terminal bar for long diffusion sampling."""
    from genstudio.progress import ProgressBar

    bar = ProgressBar(enabled=sys.stderr.isatty())
    state = {"started": False}

    def callback(done: int, total: int) -> None:
        if not state["started"]:
            bar.start(0, total, f"sampling {args.n} images ({args.sampler})")
            state["started"] = True
        bar.tick(done)
        if done == total:
            bar.close()

    return callback


def _write(out: Path, samples: np.ndarray, text: dict[str, str]) -> None:
    from genstudio.checkpoint import atomic_write_bytes
    from genstudio.imaging import to_uint8

    if out.suffix == ".npy":
        import io

        buf = io.BytesIO()
        np.save(buf, samples.astype(np.float32))
        atomic_write_bytes(out, buf.getvalue())
        return
    out.mkdir(parents=True, exist_ok=True)
    images = to_uint8(samples)  # (N, H, W, C)
    for i, img in enumerate(images):
        save_png(out / f"sample_{i:04d}.png", img if img.shape[-1] == 3 else img[..., 0],
                 {**text, "genstudio:index": str(i)})
