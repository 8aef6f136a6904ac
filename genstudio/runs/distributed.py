"""Multi-process training on PyTorch's own engine (``torch.distributed`` + DistributedDataParallel).

Started by ``torchrun`` (which sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` …) or by
``genstudio train --nproc N``, which re-launches itself through ``torch.distributed.run``. NCCL on
CUDA GPUs (one per process, ``cuda:LOCAL_RANK``), gloo on CPUs.

Semantics (the README says the same):

* ``--batch`` is the **global** batch: each of the N processes trains on B/N samples a step (B must
  be a multiple of N). Gradients are averaged over processes, so a step is the step one process
  takes with batch B, and the learning rate is used as given (not scaled).
* The data order and noise come from the run's seeded streams, identical on every rank: each step
  draws the global batch's data indices and noise once and rank r takes rows r·B/N … (r+1)·B/N − 1.
  So every rank trains on its own share of the data with its own noise, and an N-process run does
  the same arithmetic as one process (up to float rounding in the gradient average; batch norm is
  synchronised on CUDA, per process on CPUs). The RNG state in a checkpoint is therefore valid for any
  number of processes: a run resumes on a different N, or on one process, and carries on the same way.
* Rank 0 alone writes the run directory; logged metrics are averaged over all ranks.
* A stop (Ctrl-C or SIGTERM on any rank) or a divergence stops every rank after the same step.

``GENSTUDIO_DIST_DIGEST=DIR`` makes every rank write ``DIR/rank<r>.json`` with SHA-256 digests of its
weights at the end of a run: the tests use it, and it checks a cluster set-up (all ranks must agree).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
import torch.distributed as dist

DIGEST_ENV = "GENSTUDIO_DIST_DIGEST"
STOP_FILE_ENV = "GENSTUDIO_STOP_FILE"


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands in a run: rank ``rank`` of ``world_size`` (one process: 0 of 1)."""

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
_control_group: Any = None  # a gloo group for small CPU messages (stop flags, start-up plan)


def env_info() -> DistInfo:
    """The process group this process was started in by torchrun (or a single process)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return SINGLE
    return DistInfo(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))


def local_world_size() -> int:
    """How many processes torchrun started on this machine (1 outside torchrun)."""
    return int(os.environ.get("LOCAL_WORLD_SIZE", "1"))


def is_main_process() -> bool:
    """True unless this is a non-zero rank of a torchrun job (they stay quiet on the terminal)."""
    return env_info().is_main


def setup(info: DistInfo, device_name: str) -> tuple[torch.device, bool]:
    """Join the process group and return ``(this rank's device, whether this call created the group)``.

    CUDA (``auto`` or ``cuda`` with a GPU present) means NCCL and ``cuda:LOCAL_RANK``; otherwise gloo
    on the CPU. MPS has no collective backend, so ``mps`` is refused.
    """
    global _control_group
    if device_name == "mps":
        raise ValueError("multi-process training runs on CUDA GPUs (NCCL) or on CPUs (gloo), not on MPS: "
                         "use --device cpu")
    if device_name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' is not available on this machine")
    use_cuda = torch.cuda.is_available() and device_name in ("auto", "cuda")
    if use_cuda:
        if info.local_rank >= torch.cuda.device_count():
            raise ValueError(f"local rank {info.local_rank} has no GPU: this machine has "
                             f"{torch.cuda.device_count()}; start at most that many processes per node")
        torch.cuda.set_device(info.local_rank)
        device = torch.device("cuda", info.local_rank)
    else:
        device = torch.device("cpu")
    created = not dist.is_initialized()
    if created:
        if use_cuda:  # binding the device up front (torch >= 2.3) lets NCCL connect eagerly
            params = inspect.signature(dist.init_process_group).parameters
            dist.init_process_group(backend="nccl", **({"device_id": device} if "device_id" in params else {}))
        else:
            dist.init_process_group(backend="gloo")
    if dist.get_backend() == "gloo":
        _control_group = None  # the default group already talks over the CPU
    elif _control_group is None:
        _control_group = dist.new_group(backend="gloo")  # flags without a GPU sync
    return device, created


def launch(nproc: int, argv: list[str], device_name: str = "auto") -> int:
    """Run ``genstudio <argv>`` as ``nproc`` processes of this machine through ``torch.distributed.run``
    (``torchrun --standalone``: a free local port, no set-up) and return its exit status.

    Each process finds itself in the group from torchrun's environment, so ``argv`` goes unchanged.
    torchrun runs in its own session: a Ctrl-C here (or a SIGTERM) creates the stop file the ranks
    watch (``GENSTUDIO_STOP_FILE``), so they stop after the same step, rank 0 writes a checkpoint and
    everything exits cleanly; a second one passes SIGTERM to torchrun, which ends the ranks.
    """
    if device_name in ("auto", "cuda") and torch.cuda.is_available() and nproc > torch.cuda.device_count():
        raise ValueError(f"--nproc {nproc} needs {nproc} GPUs and this machine has "
                         f"{torch.cuda.device_count()} (or train on CPU processes with --device cpu)")
    if device_name == "mps":
        raise ValueError("multi-process training runs on CUDA GPUs or CPUs, not on MPS: use --device cpu")
    env = dict(os.environ)
    # torchrun would set 1 thread per process (and warn); CPU processes share the cores instead
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    with tempfile.TemporaryDirectory(prefix="genstudio-") as tmp:
        stop_file = Path(tmp) / "stop"
        env[STOP_FILE_ENV] = str(stop_file)
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", "genstudio", *argv]
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)
        asked = []

        def stop(signum: int, frame: object) -> None:
            if not asked:
                stop_file.touch()
                print("\ngenstudio: stopping after this step (again to end now)", file=sys.stderr, flush=True)
            elif proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            asked.append(signum)

        main = threading.current_thread() is threading.main_thread()
        old = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)} if main else {}
        try:
            code = proc.wait()
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)
            if proc.poll() is None:  # this process is being torn down by an error: do not orphan the run
                proc.send_signal(signal.SIGTERM)
                proc.wait()
    return 128 + asked[0] if asked and code == 0 else code  # as one process reports a stop: 130 / 143


def stop_file_exists() -> bool:
    """True once the ``genstudio train --nproc`` that started this rank asks the run to stop."""
    path = os.environ.get(STOP_FILE_ENV)
    return bool(path) and os.path.exists(path)


def teardown() -> None:
    """Leave the process group (every rank calls this at the end of a run)."""
    global _control_group
    _control_group = None
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def leave_rank(code: int) -> None:
    """End this torchrun rank now with exit status ``code``, skipping the interpreter's teardown.

    Called once the run is over: its files are written and closed, the process group is destroyed.
    Now and then (about once in 25 runs of a run stopped by SIGTERM to one rank) a rank aborted after
    its run with "terminate called without an active exception" (SIGABRT: a C++ thread object
    destroyed while still running, which fits the interpreter's teardown freeing c10d/gloo objects in
    no set order); torchrun reports that as a failed run and kills the other ranks. Nothing is lost by
    skipping the teardown: output streams are flushed first.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def wrap(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """DistributedDataParallel around ``module``.

    On CUDA, batch norm becomes ``SyncBatchNorm`` (statistics over the global batch, as in one
    process); the parameters stay the same objects, so optimisers and checkpoints are unaffected.
    Buffers are not broadcast at each forward: GAN steps call D several times per step.
    """
    from torch.nn.parallel import DistributedDataParallel as DDP

    if device.type == "cuda":
        module = torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)
    ids = [device.index] if device.type == "cuda" else None
    # newer torch renames the switch (and still syncs buffers once at start: harmless, ranks agree then)
    no_sync = ("forward_sync_buffers" if "forward_sync_buffers" in inspect.signature(DDP).parameters
               else "broadcast_buffers")
    return DDP(module, device_ids=ids, **{no_sync: False})


def sum_across_ranks(values: list[torch.Tensor]) -> list[torch.Tensor]:
    """Element-wise sums over all ranks of a list of tensors (one all-reduce; identity alone)."""
    if not _active() or not values:
        return values
    shapes = [v.shape for v in values]
    flat = torch.cat([v.detach().reshape(-1).float() for v in values])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    out, i = [], 0
    for v, shape in zip(values, shapes):
        n = v.numel()
        out.append(flat[i:i + n].reshape(shape).to(v.dtype))
        i += n
    return out


def any_rank(flag: bool) -> bool:
    """True if ``flag`` is True on any rank (so every rank stops together). A CPU collective."""
    if not _active():
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int32)
    dist.all_reduce(t, op=dist.ReduceOp.MAX, group=_control_group)
    return bool(t.item())


def broadcast_from_main(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank (pickled over the CPU group); ``obj`` elsewhere is ignored."""
    if not _active():
        return obj
    box = [obj if dist.get_rank() == 0 else None]
    dist.broadcast_object_list(box, src=0, group=_control_group, device=torch.device("cpu"))
    return box[0]


class StopOnSignal:
    """While active, SIGINT and SIGTERM call ``request_stop`` once instead of killing the process.

    Under torchrun a Ctrl-C (or SLURM's SIGTERM) reaches every rank at a different moment; dying there
    would leave the other ranks waiting in a collective. Instead the run stops after the current step on
    all ranks together and rank 0 writes its checkpoint. A single-process ``genstudio train`` does the
    same, so a Ctrl-C never loses the steps since the last checkpoint. A second signal acts as usual
    (Ctrl-C raises ``KeyboardInterrupt``, SIGTERM ends the process). A signal the process was started
    ignoring (``nohup``, a background job) stays ignored. ``signum`` is the first signal caught.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, request_stop: Callable[[], None]):
        self.request_stop = request_stop
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> "StopOnSignal":
        if threading.current_thread() is not threading.main_thread():
            return self  # only the main thread may set handlers (and only it receives signals)
        for sig in self.SIGNALS:
            if signal.getsignal(sig) is not signal.SIG_IGN:
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    def _handle(self, signum: int, frame: object) -> None:
        if self.signum is None:
            self.signum = signum
        self.request_stop()
        old = self._old.get(signum)
        signal.signal(signum, old if old is not None else signal.SIG_DFL)  # the next one is not caught


def state_digest(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over names, dtypes, shapes and bytes of ``tensors`` (in name order)."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu").contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        t = t.reshape(-1)
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def write_digest(info: DistInfo, step: int, tensors: dict[str, torch.Tensor], params: set[str]) -> None:
    """Write ``$GENSTUDIO_DIST_DIGEST/rank<r>.json`` if that variable is set: digests of the trained
    parameters (named in ``params``; the same on every rank) and of the whole state ``tensors``
    (the same too, except batch-norm statistics, which stay per process on CPUs)."""
    folder = os.environ.get(DIGEST_ENV)
    if not folder:
        return
    record = {"rank": info.rank, "world_size": info.world_size, "step": step,
              "weights": state_digest({k: v for k, v in tensors.items() if k in params}),
              "state": state_digest(tensors)}
    path = Path(folder) / f"rank{info.rank}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
