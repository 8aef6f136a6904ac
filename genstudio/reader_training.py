"""What the small measuring classifiers share (Qt-free): their training loop and their command line.

GenStudio trains its own measuring sticks — the digits classifier (:mod:`genstudio.quality`), the
shapes reader (:mod:`genstudio.shapes_reader`) and the faces reader (:mod:`genstudio.faces_reader`) —
deterministically, on one thread, so a retrain gives the shipped weights bit for bit. Each gives
:func:`fit` its network and the loss of a batch of item indices; :func:`reader_main` is the
``--train`` / ``--check`` command of the two readers.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

__all__ = ["fit", "reader_main", "load_shipped"]


def load_shipped(net: nn.Module, file: str, train_command: str) -> nn.Module:
    """``net`` with the shipped weights ``file`` (a source checkout's own ``resources/`` first: an
    editable install may map the package elsewhere), in eval mode and frozen; FileNotFoundError
    naming ``train_command`` if the file is missing."""
    from importlib import resources

    from safetensors.torch import load

    for ref in (Path(__file__).resolve().parent.parent / "resources" / file,
                resources.files("genstudio.resources") / file):
        if ref.is_file():
            net.load_state_dict(load(ref.read_bytes()))
            return net.eval().requires_grad_(False)
    raise FileNotFoundError(f"{file} is missing from genstudio's resources: run `{train_command}`")


def fit(net: nn.Module, n: int, batch_loss: Callable[[torch.Tensor], torch.Tensor], *, epochs: int, batch: int,
        lr: float, gen: torch.Generator, after_epoch: Callable[[int, float], None] | None = None) -> nn.Module:
    """Adam with a cosine learning rate over ``epochs`` passes of ``n`` items in a seeded random order;
    ``batch_loss(indices)`` is the loss of one batch; ``after_epoch(epoch, last_loss)`` after each pass.
    Returns ``net`` in eval mode with its weights frozen."""
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(n, generator=gen)
        for i in range(0, n, batch):
            loss = batch_loss(order[i:i + batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
        if after_epoch is not None:
            after_epoch(epoch + 1, loss.item())
    return net.eval().requires_grad_(False)


def reader_main(argv: list[str] | None, *, module: str, what: str, out: Path, train: Callable[[], nn.Module],
                meta: dict[str, str], loaded: Any, check: Callable[..., dict[str, float]], sizes: tuple[int, ...],
                check_seed: int) -> int:
    """``python -m genstudio.<module> --train [--out FILE]`` (train and save ``what``) or ``--check``
    (measure the reader on 2,000 held-out real images at each of ``sizes``)."""
    p = argparse.ArgumentParser(prog=f"python -m genstudio.{module}", description=f"the {what}")
    p.add_argument("--train", action="store_true", help=f"train the {what} and save it")
    p.add_argument("--check", action="store_true", help="measure the reader on held-out real images")
    p.add_argument("--out", type=Path, default=out)
    args = p.parse_args(argv)
    if not (args.train or args.check):
        p.print_help()
        return 2
    torch.set_num_threads(1)  # bit-for-bit repeatable, and polite on a shared machine
    if args.train:
        from genstudio.quality import save_classifier

        start = time.time()
        save_classifier(train(), args.out, {**meta, "made_by": f"python -m genstudio.{module} --train",
                                            "torch": torch.__version__})
        loaded.cache_clear()
        print(json.dumps({"out": str(args.out), "seconds": round(time.time() - start, 1)}))
    if args.check:
        for size in sizes:
            print(json.dumps({"size": size, "n": 2000, "seed": check_seed, **check(size=size)}))
    return 0
