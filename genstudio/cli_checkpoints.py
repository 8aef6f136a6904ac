"""``genstudio sample``, ``export``, ``score`` and ``info``: the commands that read a checkpoint."""

from __future__ import annotations

import argparse


SAMPLE_DEFAULTS = {"sampler": "ddpm", "steps": 50, "eta": 0.0}  # diffusion sampling, when not given
SCORE_DEFAULTS = {"sampler": "ddim", "steps": 100}


def settle_diffusion_flags(args: argparse.Namespace, defaults: dict[str, object]) -> None:
    """Refuse diffusion-only flags the user gave for a GAN checkpoint; fill in the ones not given.

    Raises
    ------
    ValueError
        ``--sampler`` / ``--steps`` / ``--eta`` given for a GAN (it samples in one pass).
    """
    from genstudio.loading import kind_of
    from genstudio.families import get_family

    given = [f"--{name}" for name in defaults if getattr(args, name) is not None]
    if given and not get_family(kind_of(args.checkpoint)).uses_samplers:
        flags = " and ".join((", ".join(given[:-1]), given[-1]) if len(given) > 1 else given)
        raise ValueError(f"{flags} {'is' if len(given) == 1 else 'are'} for diffusion models; "
                         f"{args.checkpoint.name} is a GAN, which samples in one pass: leave "
                         f"{'it' if len(given) == 1 else 'them'} out")
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def cmd_sample(args: argparse.Namespace) -> int:
    from genstudio.loading import kind_of
    from genstudio.families import get_family
    from genstudio.sampling_cli import sample_to_disk

    family = get_family(kind_of(args.checkpoint))  # a diffusers model folder is a diffusion model
    if family.view == "superres":
        raise ValueError(f"{args.checkpoint.name} is an {family.label}, which upscales images rather than "
                         "sampling them: use genstudio upscale CKPT IMAGE --out OUT.png")

    if getattr(args, "prompt_to", None) is not None and args.sampler is None:
        args.sampler = "ddim"  # a walk: deterministic steps, so the frames change with the text alone
    defaults = SAMPLE_DEFAULTS
    if args.checkpoint.is_dir() and family.name == "text2image":  # a Stable Diffusion folder: CPU-sized defaults
        from genstudio.interop.sd_pipeline import CPU_STEPS

        defaults = {**SAMPLE_DEFAULTS, "sampler": "ddim", "steps": CPU_STEPS}
    settle_diffusion_flags(args, defaults)
    return sample_to_disk(args)


def cmd_export(args: argparse.Namespace) -> int:
    from genstudio.checkpoint import export_for_sampling

    size = export_for_sampling(args.checkpoint, args.out, half=args.half)
    from genstudio.safe_text import safe_text

    print(safe_text(f"wrote {args.out} ({size / 1e6:.1f} MB)"))
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from genstudio.loading import kind_of
    from genstudio.families import get_family

    own = get_family(kind_of(args.checkpoint)).score_command()
    if own is not None:  # a family that scores in its own way (super-resolution: PSNR / SSIM)
        return own(args)

    settle_diffusion_flags(args, SCORE_DEFAULTS)
    if _is_text2image(args.checkpoint):
        return _score_prompts(args)
    if args.prompts is not None or args.guidances is not None:
        raise ValueError(f"--prompt and --guidances are for text-to-image models; {args.checkpoint.name} is not one")
    args.n = 500 if args.n is None else args.n
    from genstudio.quality import checkpoint_samples, digits_score

    model, samples = checkpoint_samples(args.checkpoint, args.n, sampler=args.sampler, steps=args.steps,
                                        seed=args.seed, device=args.device)
    family = get_family(kind_of(args.checkpoint))
    if not family.uses_samplers:
        how = family.label
    else:
        from genstudio.sampling import SampleSpec

        how = SampleSpec(args.n, args.seed, args.sampler, args.steps).short(eta=False)
    if model.meta.get("data") == "digits":
        score = digits_score(samples)
        print(f"digits Fréchet distance: {score.fd:.2f}  ({args.n} samples, {how}, seed {args.seed})")
        print(f"real vs real:            {score.real_vs_real:.2f}  ({args.n} other real digits, same reference)")
        print(f"ratio:                   {score.ratio:.2f}  (1 = as close as a second real sample)")
    elif model.meta.get("data") == "faces" and samples.shape[1] == 3:  # the faces classifier's feature space
        from genstudio.faces_score import faces_score

        score = faces_score(samples)
        print(f"faces Fréchet distance:  {score.fd:.2f}  ({args.n} samples, {how}, seed {args.seed})")
        print(f"real vs real:            {score.real_vs_real:.2f}  ({args.n} other real faces, same reference)")
        print(f"ratio:                   {score.ratio:.2f}  (1 = as close as a second real sample)")
    else:
        print(f"(no digits Fréchet distance: {args.checkpoint.name} was trained on {model.meta.get('data')!r})")
    _print_copies(model, samples.numpy())
    return 0


def _print_copies(model, samples) -> None:
    """The memorisation meter's line: the share of samples that pass as copies of a training image."""
    import numpy as np

    from genstudio.memorisation import COPY_RATIO, training_index
    from genstudio.safe_text import safe_text

    try:
        index = training_index(model)
    except ValueError as exc:
        print(safe_text(f"copies:                  not measured ({exc})"))
        return
    samples = np.clip(samples, -1, 1)
    for space in index.spaces:
        nb = index.nearest(samples, k=2, space=space)
        print(safe_text(f"copies ({space}):{' ' * (15 - len(space))}{nb.copies.mean():.0%} of the {len(samples)} "
                        f"samples pass as copies (d1/d2 < {COPY_RATIO:.2f}, Carlini et al. 2023); median d1/d2 "
                        f"{np.median(nb.ratios):.2f}, against {index.name}"))


def _is_text2image(path) -> bool:
    from genstudio.loading import kind_of

    return kind_of(path) in ("text2image", "ldm")  # ldm: text2image in a latent space


def _score_prompts(args: argparse.Namespace) -> int:
    """``genstudio score`` of a text-to-image checkpoint: prompt accuracy and diversity against guidance."""
    import sys

    from genstudio.prompt_scores import DEFAULT_GUIDANCES, score_text2image
    from genstudio.safe_text import safe_text

    def progress(done: int, total: int) -> None:  # one line per prompt and scale: each is seconds of sampling
        print(f"sampled {done}/{total} (prompt, guidance) pairs", file=sys.stderr, flush=True)

    report = score_text2image(args.checkpoint, args.prompts, args.guidances or DEFAULT_GUIDANCES,
                              50 if args.n is None else args.n, sampler=args.sampler, steps=args.steps,
                              seed=args.seed, device=args.device, progress=progress)

    print("\n".join(safe_text(line) for line in report.lines()))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """Describe a checkpoint, after the same checks ``sample`` makes (exit 1 with one line if it would refuse)."""
    import json

    from genstudio.loading import load_model
    from genstudio.safe_text import safe_text

    model = load_model(args.checkpoint, "cpu")  # builds and loads the networks, as `sample` does
    meta = model.meta
    cfg = meta.get("config", {})
    cfg = cfg if isinstance(cfg, dict) else {}
    shape = f" ({meta.get('channels')}x{meta.get('size')}x{meta.get('size')})" if meta.get("size") else ""
    lines = [f"file:        {args.checkpoint}",
             f"kind:        {meta['kind']}",
             f"format:      {meta.get('format')}",
             f"step:        {meta.get('step')}",
             f"data:        {meta.get('data')}{shape}",
             f"seed:        {meta.get('seed')}"]
    for role, m in meta["models"].items():
        lines.append(f"model {role:5s} {m['arch']} {json.dumps(m['args'])}")
    if meta["kind"] in ("srresnet", "srgan"):  # super-resolution: how it was trained
        lines.append(f"content:     {json.dumps(meta.get('content', {'kind': 'mse'}))}"
                     + (f", adversarial weight {meta['adv_weight']:g}" if "adv_weight" in meta else "")
                     + (f", adversarial loss {meta['adv_loss']}" if "adv_loss" in meta else "")
                     + (f", L1 weight {meta['l1_weight']:g}" if meta.get("l1_weight") else "")
                     + (f", D alone for the first {meta['d_warmup']} steps" if meta.get("d_warmup") else ""))
        if "init" in meta:
            lines.append(f"init:        {json.dumps(meta['init'])}")
    if "schedule" in meta:
        lines.append(f"schedule:    {json.dumps(meta['schedule'])}")
    if hasattr(model, "step_seconds"):  # a Stable Diffusion folder: its default size and what a step costs here
        (h, w), (c, lh, lw) = model.image_size, model.sample_shape
        lines.append(f"pictures:    {h}x{w} px from {c}x{lh}x{lw} latents (--size to change); one guided U-Net "
                     f"step {model.step_seconds:.2f} s and one VAE decode {model.decode_seconds:.2f} s on the CPU")
    if isinstance(meta.get("latent"), dict):  # latent diffusion: what its samples are and what decodes them
        lat, ae = meta["latent"], meta.get("autoencoder", {})
        lines.append(f"latent:      latent diffusion on {meta.get('channels')}x{meta.get('size')}x{meta.get('size')} "
                     f"latents, scale factor {lat.get('scale_factor'):.5g} (unit variance); decoded to "
                     f"{lat.get('image_channels')}x{lat.get('image_size')}x{lat.get('image_size')} pictures")
        lines.append(f"autoencoder: {ae.get('arch')} {json.dumps(ae.get('args'))} from {ae.get('file')}, "
                     f"step {ae.get('step')} (carried in this file)")
    if isinstance(meta.get("text"), dict):  # a text-to-image model: the words a prompt may use
        vocab = meta["text"]["words"][2:]
        lines.append(f"vocabulary:  {len(vocab)} words, prompts of at most {meta['text']['max_len']}: "
                     + " ".join(vocab[:60]) + (" …" if len(vocab) > 60 else ""))
    if cfg:
        lines.append(f"training:    batch {cfg.get('batch')}, lr {cfg.get('lr')}, steps {cfg.get('steps')}")
    lines.append(f"versions:    {json.dumps(meta.get('versions', {}))}")
    print("\n".join(safe_text(line) for line in lines))  # header strings can hold escapes and newlines
    return 0

