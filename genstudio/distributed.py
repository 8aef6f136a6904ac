"""Multi-process training on PyTorch's own engine (``torch.distributed`` + DistributedDataParallel).

Started by ``torchrun`` (which sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` …) or by
``genstudio train --nproc N``, which re-launches itself through torchrun. NCCL on GPUs, gloo on
CPUs.

Semantics, as documented in the README:

* ``--batch`` is the batch **per process**; the global batch is ``batch × world_size``.
* The learning rate is used as given (not scaled): gradients are averaged over processes, so a
  run on N processes with batch B takes the same step as one process with batch N·B.
* Each rank draws its own shard of the data (indices ≡ rank mod world_size) and its own noise.
* Rank 0 alone writes the run directory; checkpoints hold unwrapped weights, so a run can resume
  with a different number of processes (or on one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


SINGLE = DistInfo()


def env_info() -> DistInfo:
    """The process group this process was started in by torchrun (or a single process)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return SINGLE
    return DistInfo(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))


def setup(info: DistInfo, device_name: str) -> torch.device:
    """Join the process group (idempotent) and return this rank's device."""
    use_cuda = torch.cuda.is_available() and device_name in ("auto", "cuda")
    if use_cuda:
        torch.cuda.set_device(info.local_rank)
        device = torch.device("cuda", info.local_rank)
    else:
        device = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return device


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """DistributedDataParallel around ``module`` (buffers are not broadcast: each rank keeps its own
    batch-norm statistics between steps, as GAN training calls D several times per step)."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index] if device.type == "cuda" else None
    return DDP(module, device_ids=ids, broadcast_buffers=False)


def mean_across_ranks(values: torch.Tensor) -> torch.Tensor:
    """Average a tensor over all ranks (identity in a single process)."""
    if not (dist.is_available() and dist.is_initialized()):
        return values
    out = values.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out / dist.get_world_size()


def any_rank(flag: bool, device: torch.device) -> bool:
    """True if ``flag`` is True on any rank (so every rank stops together)."""
    if not (dist.is_available() and dist.is_initialized()):
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)
