"""An opt-in compiled ε-network for sampling: ``torch.compile`` for the fixed-shape step (Qt-free).

A sampler calls its ε-function with the same shapes at every step, so the network can be compiled
once for that shape (``dynamic=False``) and replayed. On a CPU Inductor generates fused C++ kernels
(B5: the 32 px U-Net's step ~1.35× faster on one thread); on CUDA the mode is ``"reduce-overhead"``,
CUDA graphs, which removes the per-kernel launch cost that dominates a small network on a GPU.

Compiling costs time once per shape and process: minutes the first time on a busy CPU (B5: 360 s at
load ~10), much less later (20 s), since Inductor keeps what it built in its on-disk cache. It needs a working C++
compiler (CPU) or Triton (CUDA); when compiling fails for any reason the step falls back to the
eager network with a one-line note, and sampling goes on.

What comes out differs from the eager network only by float rounding (fused kernels sum in another
order): samples agree within float tolerance, not bit for bit; ``benchmarks/b5_sampling.py`` prints
the difference. Used by :func:`genstudio.sampling.sampling_run` when ``SampleSpec.compile`` is set
(``genstudio sample --compile``).
"""

from __future__ import annotations

import sys
import time
import weakref
from typing import Callable

import torch

__all__ = ["COMPILE_NOTE", "CompiledEps", "compiled_eps", "compile_mode"]

#: Said before the first (compiling) step.
COMPILE_NOTE = "compiling the network for this shape (a few minutes the first time, seconds once cached)"

EpsFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Note = Callable[[str], None]


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def compile_mode(device: torch.device) -> str:
    """``"reduce-overhead"`` (CUDA graphs) on CUDA, Inductor's ``"default"`` elsewhere."""
    return "reduce-overhead" if torch.device(device).type == "cuda" else "default"


class CompiledEps:
    """``eps(x_t, t)`` through ``torch.compile(eps, dynamic=False)``, eager when compiling fails.

    The first call compiles (``note`` says so before, and how long it took after; the seconds are
    kept in :attr:`compile_seconds`); a shape not seen before compiles again. If ``torch.compile``
    raises, at once or at that first call, :attr:`failed` holds the reason in one line, ``note`` says
    that sampling goes on with the eager network, and every call after is eager.

    Parameters
    ----------
    eps : the ε-function to compile (a model's ``eps``, a guided pair function, a bare network).
    device : where it runs: sets the mode (:func:`compile_mode`).
    note : where the one-line notes go (default: standard error).
    """

    def __init__(self, eps: EpsFn, device: torch.device | str = "cpu", note: Note | None = None):
        self.eager = eps
        self.device = torch.device(device)
        self.mode = compile_mode(self.device)
        self.note = note or _stderr
        self.compile_seconds: float | None = None  # of the first call (compiling + one step)
        self.failed: str | None = None
        self._seen: set[tuple] = set()
        try:
            self.compiled: EpsFn | None = torch.compile(eps, dynamic=False, mode=self.mode)
        except Exception as exc:  # noqa: BLE001 — any failure means: sample eagerly, say why
            self.compiled = None
            self._fail(exc)

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if self.compiled is None:
            return self.eager(x_t, t)
        if torch.is_inference_mode_enabled():  # the samplers' steps: inference tensors throughout, or
            x_t, t = _inference(x_t), _inference(t)  # a branch's first state would recompile the graph
        key = (tuple(x_t.shape), x_t.dtype, x_t.device, torch.is_inference_mode_enabled())
        if key in self._seen:
            return self._run(x_t, t)
        self.note(COMPILE_NOTE)
        t0 = time.perf_counter()
        try:
            out = self._run(x_t, t)
        except Exception as exc:  # noqa: BLE001 — no C++ compiler, no Triton, an unsupported op, …
            self.compiled = None
            self._fail(exc)
            return self.eager(x_t, t)
        self._seen.add(key)
        self.compile_seconds = time.perf_counter() - t0
        self.note(f"compiled in {self.compile_seconds:.0f} s")
        return out

    def _run(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if self.mode == "reduce-overhead":
            torch.compiler.cudagraph_mark_step_begin()  # the last replay's outputs may be reused
            return self.compiled(x_t, t).clone()  # a CUDA graph overwrites its outputs at the next replay
        return self.compiled(x_t, t)

    def _fail(self, exc: BaseException) -> None:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        self.failed = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        self.note(f"compiling the network failed ({self.failed}); sampling with the eager network")


def _inference(x: torch.Tensor) -> torch.Tensor:
    return x if x.is_inference() else x.clone()


_CACHE: "weakref.WeakKeyDictionary[object, CompiledEps]" = weakref.WeakKeyDictionary()


def compiled_eps(model: object, eps: EpsFn, device: torch.device | str, note: Note | None = None) -> CompiledEps:
    """The :class:`CompiledEps` of ``model``'s own ε-function, made once per model (a second sampling
    run of the same model reuses the compiled graphs; a failure is not retried)."""
    try:
        found = _CACHE.get(model)
    except TypeError:  # not weak-referenceable: no reuse
        return CompiledEps(eps, device, note)
    if found is None or found.eager != eps:
        found = CompiledEps(eps, device, note)
        _CACHE[model] = found
    elif note is not None:
        found.note = note
    return found
