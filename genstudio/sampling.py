"""One sampling API for diffusion models: the frozen :class:`SampleSpec` and the sampler registry (Qt-free).

A sampler is registered once, as a :class:`Sampler` (its name, label, description, which options it
takes and its step generator). Everything that samples or offers a choice of samplers reads the
registry: ``genstudio sample --sampler`` and ``genstudio score`` (their choices), the scrubber's
sampler list and branch panel, :meth:`~genstudio.diffusion.model.DiffusionModel.sample` and the
benchmarks. DDPM (Ho et al. 2020, Alg. 2) and DDIM (Song et al. 2021, eq. 12) register below.

Two ways to run a spec, one loop underneath:

* :func:`sampling_run` — a generator of :class:`SamplingProgress` events ending with one
  :class:`SamplingResult` (every yield is a progress and cancellation point: the app's sampling
  thread drives it);
* :func:`sample` — runs it to the end and returns the :class:`SamplingResult` (the CLI, ``score``).

Adding a sampler: write a step generator ``run_steps(eps_model, shape, schedule, spec, *, start, start_x,
start_index)`` yielding :class:`~genstudio.diffusion.samplers.SamplerStep` (see ``ddim_steps``; it is also
passed ``clip_x0=True`` for a model whose scheduler clamps x̂₀, e.g. a diffusers DDPM), then
``register_sampler(Sampler("name", "Label", "what it does", run_steps, takes_steps=..., takes_eta=...))``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import torch

from genstudio.diffusion.samplers import EpsModel, SamplerStep, ddim_steps, ddpm_steps
from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.diffusion.trajectory import Trajectory

__all__ = [
    "SampleSpec", "Sampler", "SAMPLERS", "register_sampler", "unregister_sampler", "get_sampler",
    "sampler_names", "SamplingProgress", "SamplingResult", "sampling_run", "sample", "record_dtype_for",
    "branch_start", "FLOAT32_RECORD_LIMIT",
]

#: Recordings up to this size are kept in float32 (exact branching); larger ones in float16.
FLOAT32_RECORD_LIMIT = 256 * 2**20


# ---------------------------------------------------------------------------- what to sample
@dataclass(frozen=True)
class SampleSpec:
    """What to sample: a frozen snapshot handed to the sampling thread or read from the CLI's flags.

    ``steps`` and ``eta`` matter only to a sampler that takes them (:attr:`Sampler.takes_steps`,
    :attr:`Sampler.takes_eta`: DDIM); DDPM visits all T steps with σ² = ``variance``.
    """

    n: int = 16
    seed: int = 0
    sampler: str = "ddpm"  # a name in the registry: "ddpm" (Ho et al. Alg. 2), "ddim" (Song et al. eq. 12), …
    steps: int = 50
    eta: float = 0.0
    variance: str = "beta"  # DDPM's σ²: "beta" (diffusers "fixed_large") or "beta_tilde" ("fixed_small")
    record: bool = True  # keep the Trajectory (x_t, ε̂, x̂_0 of every step)
    # conditioning (a text-conditioned model only: its ``guided_eps``); all None = the model's plain ε̂
    prompt: str | None = None  # the caption to follow; "" = the null caption
    guidance: float | None = None  # classifier-free guidance scale s (diffusion.guidance: 0 uncond., 1 cond.)
    negative: str | None = None  # a negative prompt: takes the null caption's place in guidance
    # how, not what: run the ε-network through torch.compile for this shape (diffusion.compiled;
    # eager again, with a note, if compiling fails). Samples equal eager ones within float rounding.
    compile: bool = False

    @property
    def guided(self) -> bool:
        """True when the spec asks for conditioning (a prompt, a scale or a negative prompt)."""
        return self.prompt is not None or self.guidance is not None or self.negative is not None

    @property
    def definition(self) -> "Sampler":
        """The registered :class:`Sampler` of this spec (ValueError if there is none)."""
        return get_sampler(self.sampler)

    def total_steps(self, num_steps: int) -> int:
        """How many network steps the sampler runs for a schedule of T = ``num_steps``."""
        return self.definition.network_steps(num_steps, self)

    def describe(self) -> str:
        """One line for people: "DDIM 50 steps, η = 0, 16 samples, seed 0"."""
        d = self.definition
        what = d.label + (f" {self.steps} steps" if d.takes_steps else "")
        what += f", η = {self.eta:g}" if d.takes_eta else ""
        return f"{what}, {self.n} samples, seed {self.seed}" + self._conditioning()

    def _conditioning(self) -> str:
        if not self.guided:
            return ""
        from genstudio.diffusion.guidance import DEFAULT_GUIDANCE

        s = DEFAULT_GUIDANCE if self.guidance is None else self.guidance
        text = f", prompt {self.prompt or ''!r}, guidance s = {s:g}"
        return text + (f", negative {self.negative!r}" if self.negative else "")

    def short(self, *, eta: bool = True) -> str:
        """The sampler and its options for a file's metadata or a terminal: "ddim 50 steps eta 0"."""
        d = self.definition
        return (self.sampler + (f" {self.steps} steps" if d.takes_steps else "")
                + (f" eta {self.eta:g}" if d.takes_eta and eta else ""))


# ---------------------------------------------------------------------------- the registry
#: ``run_steps(eps_model, shape, schedule, spec, *, start, start_x, start_index) -> Iterator[SamplerStep]``
StepsFn = Callable[..., Iterator[SamplerStep]]


@dataclass(frozen=True)
class Sampler:
    """A registered sampler: what the CLI, the scrubber and the branch panel need to know of it.

    ``count(num_steps, spec)``, when given, says how many network steps it runs; by default
    ``spec.steps`` for a sampler that takes steps and all T otherwise.
    """

    name: str  # the id: --sampler NAME, SampleSpec.sampler, a recording's info["sampler"]
    label: str  # shown in the scrubber's list
    description: str  # its tooltip: what it does, and the paper
    run_steps: StepsFn = field(repr=False)  # the step generator
    takes_steps: bool = False  # uses SampleSpec.steps (the scrubber enables its steps field)
    takes_eta: bool = False  # uses SampleSpec.eta (steps field, η field, the branch panel's η)
    count: Callable[[int, SampleSpec], int] | None = field(default=None, repr=False)

    def network_steps(self, num_steps: int, spec: SampleSpec) -> int:
        if self.count is not None:
            return int(self.count(num_steps, spec))
        return spec.steps if self.takes_steps else num_steps


SAMPLERS: dict[str, Sampler] = {}


def register_sampler(sampler: Sampler) -> Sampler:
    """Add ``sampler`` to the registry (ValueError if its name is taken); returns it."""
    if sampler.name in SAMPLERS:
        raise ValueError(f"a sampler named {sampler.name!r} is already registered")
    SAMPLERS[sampler.name] = sampler
    return sampler


def unregister_sampler(name: str) -> None:
    """Remove the sampler ``name`` (no error if there is none)."""
    SAMPLERS.pop(name, None)


def get_sampler(name: str) -> Sampler:
    """The sampler registered as ``name``; ValueError naming the choices otherwise."""
    try:
        return SAMPLERS[name]
    except KeyError:
        names = " or ".join(repr(n) for n in SAMPLERS)
        raise ValueError(f"sampler must be {names}, not {name!r}") from None


def sampler_names() -> tuple[str, ...]:
    """Every registered sampler's name, in registration order (DDPM first)."""
    return tuple(SAMPLERS)


def _ddpm(eps_model: EpsModel, shape: tuple[int, ...], schedule: NoiseSchedule, spec: SampleSpec, **where
          ) -> Iterator[SamplerStep]:
    return ddpm_steps(eps_model, shape, schedule, variance=spec.variance, seed=spec.seed, **where)


def _ddim(eps_model: EpsModel, shape: tuple[int, ...], schedule: NoiseSchedule, spec: SampleSpec, **where
          ) -> Iterator[SamplerStep]:
    return ddim_steps(eps_model, shape, schedule, steps=spec.steps, eta=spec.eta, seed=spec.seed, **where)


register_sampler(Sampler("ddpm", "DDPM", "all T steps, ancestral sampling (Ho et al. 2020)", _ddpm))
register_sampler(Sampler("ddim", "DDIM", "fewer steps, η = 0 deterministic (Song et al. 2021)", _ddim,
                         takes_steps=True, takes_eta=True))


# ---------------------------------------------------------------------------- running a spec
@dataclass(frozen=True)
class SamplingProgress:
    """``done`` of ``total`` steps have run; the step just taken was at timestep ``t``.

    ``x_t`` and ``x0`` (x̂_0) are that step's tensors (N, ...), *not* copies: they are valid until the
    generator is resumed, so a consumer that wants a preview copies them at once, on its own thread,
    and only as often as it will show one (the GUI worker: at most 10 times a second).
    """

    done: int
    total: int
    t: int = -1
    x_t: Any = field(default=None, repr=False, compare=False)
    x0: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class SamplingResult:
    """The end of a sampling run: final samples (N, ...) float32 and, if recorded, the trajectory."""

    final: np.ndarray
    trajectory: Trajectory | None
    spec: SampleSpec
    start_index: int = 0
    info: dict = field(default_factory=dict)


def record_dtype_for(steps: int, shape: tuple[int, ...], limit: int = FLOAT32_RECORD_LIMIT) -> torch.dtype:
    """float32 when a recording of ``steps`` states of ``shape`` fits in ``limit`` bytes, else float16."""
    return torch.float32 if Trajectory.estimate_nbytes(steps, shape, torch.float32) <= limit else torch.float16


def sampling_run(model: Any, spec: SampleSpec, *, record: bool | None = None, start_x: np.ndarray | torch.Tensor | None = None,
                 start_index: int = 0, record_dtype: torch.dtype | None = None, start: int = 0,
                 note: Callable[[str], None] | None = None) -> Iterator[SamplingProgress | SamplingResult]:
    """Sample ``spec`` from ``model`` step by step.

    Yields a :class:`SamplingProgress` after every sampler step and finally one
    :class:`SamplingResult`. Stop iterating (``close()``) to cancel: nothing is kept.

    Parameters
    ----------
    model : DiffusionModel (``eps``, ``schedule``, ``sample_shape``)
    spec : SampleSpec
    record : keep the :class:`~genstudio.diffusion.trajectory.Trajectory`; None: ``spec.record``.
    start_x, start_index : continue from state ``start_x`` (N, ...) at sampler step ``start_index``
        (see :func:`branch_start`) instead of drawing x_T.
    record_dtype : of the recording; by default :func:`record_dtype_for` (float32 when small).
    start : the batch holds samples ``start … start+N−1`` of the seed's streams.
    note : where ``spec.compile``'s one-line notes go (compiling, its time, a fallback to eager);
        default standard error.
    """
    record = spec.record if record is None else record
    sampler = spec.definition
    eps_model, guided = _eps_model(model, spec)
    if spec.compile:
        eps_model = _compiled(model, eps_model, guided, note)
    total = sampler.network_steps(model.schedule.num_steps, spec)
    left = total - start_index
    shape = (spec.n, *model.sample_shape)
    dtype = record_dtype if record_dtype is not None else record_dtype_for(left, shape)
    recorder = Trajectory.recorder(left, shape, dtype, guidance=guided is not None) if record else None
    sx = None
    if start_x is not None:
        sx = start_x if isinstance(start_x, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(start_x, np.float32))
        sx = sx.to(model.schedule.device)
    x = None
    done = 0
    clip = {"clip_x0": True} if getattr(model, "clip_x0", False) else {}  # a diffusers scheduler's clip_sample
    for step in sampler.run_steps(eps_model, shape, model.schedule, spec, start=start, start_x=sx,
                                  start_index=start_index, **clip):
        if recorder is not None:  # a guided ε̂ keeps this step's ε̂_c − ε̂_∅ until its next call
            recorder.add(step.t, step.x_t, step.eps, step.x0, *(() if guided is None else (guided.direction,)))
        x = step.x_prev
        done += 1
        yield SamplingProgress(done, left, int(step.t), step.x_t, step.x0)
    if x is None:
        raise ValueError("the sampler ran no steps")
    final = x.float().cpu()
    info = {"sampler": spec.sampler, "steps": total, "eta": spec.eta, "seed": spec.seed, "start": start,
            "variance": spec.variance, "start_index": start_index, "schedule": model.schedule.to_meta()}
    if guided is not None:
        info.update(prompt=spec.prompt or "", guidance=guided.scale, negative=spec.negative or "")
    traj = recorder.finish(final, info) if recorder is not None else None
    yield SamplingResult(final.numpy().copy(), traj, spec, start_index, info)


def _eps_model(model: Any, spec: SampleSpec) -> tuple[Callable, Any]:
    """The ε-function the sampler runs: the model's own, or (a guided spec) its guided ε̂ and that again.

    A guided ε̂ (:class:`~genstudio.diffusion.guidance.GuidedEps`) keeps the samplers' step
    arithmetic as it is: they call it like any ε-network.
    """
    if not spec.guided:
        return model.eps, None
    make = getattr(model, "guided_eps", None)
    if make is None:
        raise ValueError("a prompt, guidance or a negative prompt needs a text-conditioned model "
                         f"(text2image); this one takes none: {model.describe()}")
    guided = make(spec)
    return guided, guided


def _compiled(model: Any, eps_model: Callable, guided: Any, note: Callable[[str], None] | None) -> Callable:
    """``spec.compile``: the step's network through :class:`~genstudio.diffusion.compiled.CompiledEps`.

    A guided ε̂ compiles its pair function (both halves in one forward) and keeps its own arithmetic;
    a plain model's ε-function is compiled once per model and reused by its later runs.
    """
    from genstudio.diffusion.compiled import CompiledEps, compiled_eps

    device = model.schedule.device
    if guided is not None:
        guided.pair_eps = CompiledEps(guided.pair_eps, device, note)
        return guided
    return compiled_eps(model, eps_model, device, note)


def sample(model: Any, spec: SampleSpec, *, progress: Callable[[int, int], None] | None = None,
           **run: Any) -> SamplingResult:
    """:func:`sampling_run` to the end: the :class:`SamplingResult`.

    ``progress(done, total)`` is called after every step; ``run`` goes to :func:`sampling_run`
    (``start``, ``start_x``, ``start_index``, ``record_dtype``, ``note``).
    """
    for event in sampling_run(model, spec, **run):
        if isinstance(event, SamplingResult):
            return event
        if progress is not None:
            progress(event.done, event.total)
    raise AssertionError("sampling_run ended without a result")  # pragma: no cover


def branch_start(trajectory: Trajectory, k: int) -> tuple[np.ndarray, int]:
    """The state x_t at recorded step ``k`` (float32 (N, ...)) and the sampler index to resume at.

    Sampling from there with the same seed retraces the original run; a new seed (or η) gives a
    second ending from the same x_t.
    """
    if not 0 <= k < len(trajectory):
        raise IndexError(f"step {k} is outside the recording (0 … {len(trajectory) - 1})")
    return trajectory.x_t[k].astype(np.float32), int(trajectory.info.get("start_index", 0)) + k
