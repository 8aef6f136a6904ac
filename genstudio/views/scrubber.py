"""The scrubber's reverse-process state: the spec being edited, the recording, the step and sample
shown, and the branch (Qt-free; :class:`~genstudio.gui.widgets.reverse_view.ReverseView` with its
sampler controls, timestep bar and branch panel render it).

Every change emits ``changed(what)``: ``"model"``, ``"spec"`` (the sampling fields), ``"busy"``,
``"result"`` (a recording arrived or was dropped), ``"timestep"``, ``"selected"``, ``"grid"`` (the
grid shows x_t or x̂_0), ``"branch_options"`` (the branch's seed, η and text) and ``"branch"`` (a branch
ended). A recording may be a picture's DDIM inversion (:meth:`ScrubberState.set_inversion`): ``inverted``
then holds the picture.

Two η on purpose: ``spec.eta`` is the sampling run's, ``branch_eta`` the branch's — a DDIM run with
η = 0 is deterministic, so its branch starts at η = 1, or a new seed would change nothing.

A prompt-guided recording branches differently: what changes mid-way is the *text* (``branch_prompt``,
``branch_negative``, ``branch_guidance``), so its branch keeps the recording's own seed and η (the same
noise) and starts with the recording's text; the person edits the prompt or s, and only that differs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from genstudio.diffusion.trajectory import Trajectory
from genstudio.diffusion.guidance import DEFAULT_GUIDANCE, check_guidance
from genstudio.sampling import SAMPLERS, SampleSpec, SamplingResult, branch_start, get_sampler, record_dtype_for
from genstudio.scrub import mean_abs_difference
from genstudio.views.events import Event

__all__ = ["ScrubberState", "BranchEnding", "BranchPlan", "branch_changes", "FINAL", "MAX_RECORD_BYTES", "POINTS_N"]

FINAL = -1  # the timestep that stands for the sampler's output
MAX_RECORD_BYTES = 2 * 2**30  # a recording larger than this is refused (lower N, or use DDIM)
POINTS_N = 1000  # samples drawn from a 2-D model (a cloud); images default to SampleSpec's 16


class BranchEnding(NamedTuple):
    """A branch's ending: the t it left the recording at, its final samples and their mean |difference|
    to the original ones (0: the picture was already decided at t)."""

    t: int
    final: np.ndarray
    diff: float
    what: str = ""  # what the branch changed, e.g. "prompt 'a handwritten 3'" ("" for a new seed / η)


@dataclass(frozen=True)
class BranchPlan:
    """What a branch runs: its spec, the recorded x_t it starts from and the sampler index there."""

    spec: SampleSpec
    start_x: np.ndarray
    start_index: int
    t: int  # the timestep branched from
    steps: int  # network steps left
    what: str = ""  # what differs from the recording: "seed 2", "prompt 'a 3', s = 7", or "nothing"


class ScrubberState:
    """What the reverse view shows and what its next sampling or branch will do.

    ``model`` needs ``schedule.num_steps``, ``sample_shape`` and ``is_points``, as
    :class:`~genstudio.diffusion.model.DiffusionModel` has.
    """

    def __init__(self) -> None:
        self.changed = Event()
        self.model: Any = None
        self.spec = SampleSpec(sampler=next(iter(SAMPLERS)))
        self.busy = False
        self.result: SamplingResult | None = None
        self.timestep = FINAL
        self.selected = 0
        self.grid_x0 = False  # the grid of all N shows x̂_0 (True) or x_t
        self.branch_seed = 1
        self.branch_eta = 0.0
        # a text model's branch continues with this text (None: the recording's; set when one arrives)
        self.branch_prompt: str | None = None
        self.branch_negative: str | None = None
        self.branch_guidance: float | None = None
        self.branch: BranchEnding | None = None
        self.inverted: Any = None  # the recording is a picture's inversion (genstudio.inverted.InvertedPicture)
        self._index: dict[int, int] = {}  # timestep -> recorded step

    # ------------------------------------------------------------------ model and spec
    def set_model(self, model: Any) -> None:
        """Sample from ``model`` (None: nothing); any recording is dropped. A 2-D model samples a cloud
        of :data:`POINTS_N` points; DDIM's steps are capped at the model's T."""
        self.model = model
        spec = self.spec
        if model is not None:  # a model may ask for its own defaults (a Stable Diffusion folder: DDIM, 20 steps, 1)
            spec = replace(spec, **getattr(model, "default_spec", {}))
            spec = replace(spec, steps=min(spec.steps, model.schedule.num_steps),
                           n=POINTS_N if model.is_points else spec.n)
        if self.takes_text():  # a text model samples guided: keep a prompt typed for the previous one
            spec = replace(spec, prompt=spec.prompt or "", negative=spec.negative or "",
                           guidance=DEFAULT_GUIDANCE if spec.guidance is None else spec.guidance)
        else:  # conditioning fields would make sampling refuse a model without text
            spec = replace(spec, prompt=None, guidance=None, negative=None)
        self.spec = spec
        self.changed.emit("model")
        self.set_result(None)

    def set_spec(self, spec: SampleSpec) -> None:
        """The spec the next sampling run takes (the sampling fields show it)."""
        get_sampler(spec.sampler)  # ValueError naming the choices for a sampler that is not registered
        if self.model is not None:
            spec = replace(spec, steps=max(1, min(spec.steps, self.model.schedule.num_steps)))
        self.spec = spec
        self.changed.emit("spec")

    def edit(self, **changes: Any) -> None:
        """Change some fields of the spec: ``edit(sampler="ddim", steps=20)``."""
        self.set_spec(replace(self.spec, **changes))

    def takes_text(self) -> bool:
        """Whether the model reads a prompt (it has a tokenizer: the text2image family)."""
        return getattr(self.model, "tokenizer", None) is not None

    def vocabulary(self) -> list[str]:
        """The words the model's prompts may use (its captions' words; empty for a model without text)."""
        return [w for w in self.model.tokenizer.vocab if not w.startswith("<")] if self.takes_text() else []

    def prompt_error(self, spec: SampleSpec | None = None) -> str:
        """The tokenizer's message for the prompt or negative prompt of ``spec`` (default: the spec);
        "" when both are fine (or the model takes no text)."""
        spec = spec or self.spec
        if not self.takes_text():
            return ""
        for label, text in (("", spec.prompt), ("negative: ", spec.negative)):
            try:
                self.model.tokenizer.encode(text or "")
            except ValueError as exc:  # UnknownWordsError, PromptTooLongError
                return label + str(exc)
        return ""

    def check_prompt(self, spec: SampleSpec | None = None) -> None:
        """Raise ValueError with :meth:`prompt_error`'s message when there is one (a job must not start)."""
        if error := self.prompt_error(spec):
            raise ValueError(error)

    def total_steps(self, spec: SampleSpec | None = None) -> int:
        """Network steps ``spec`` (default: the spec) runs on the model."""
        return (spec or self.spec).total_steps(self.model.schedule.num_steps)

    def recording_bytes(self, spec: SampleSpec | None = None) -> tuple[int, Any]:
        """(bytes, dtype) of the recording ``spec`` (default: the spec) makes: float32 when small enough
        to branch exactly, float16 otherwise."""
        spec = spec or self.spec
        steps, shape = self.total_steps(spec), (spec.n, *self.model.sample_shape)
        dtype = record_dtype_for(steps, shape)
        return Trajectory.estimate_nbytes(steps, shape, dtype), dtype

    def recording_note(self) -> str:
        """One line on what sampling will record: "records 50 steps: 1 MB (float32)"."""
        if self.model is None:
            return "load a diffusion model to sample"
        nbytes, dtype = self.recording_bytes()
        note = f"records {self.total_steps()} steps: {nbytes / 2**20:,.0f} MB ({str(dtype).removeprefix('torch.')})"
        step = getattr(self.model, "step_seconds", None)  # timed when it opened (a Stable Diffusion folder)
        if step is not None and step == step:  # the time first: the note is elided from the right
            note = f"about {self.model.estimate_seconds(self.spec):,.0f} s ({step:.2f} s per guided U-Net step); " + note
        return note

    def plan_sample(self, spec: SampleSpec | None = None) -> SampleSpec:
        """Take ``spec`` (default: the one edited) for a new sampling run and drop the old recording.

        Raises
        ------
        ValueError
            No model, a prompt with a word the model does not know, or a recording too large for memory (the message says what to lower).
        """
        if self.model is None:
            raise ValueError("load a diffusion model to sample")
        if spec is not None:
            self.set_spec(spec)
        spec = self.spec
        self.check_prompt(spec)
        steps = self.total_steps(spec)
        if self.recording_bytes(spec)[0] > MAX_RECORD_BYTES:
            raise ValueError(f"recording {steps} steps of {spec.n} samples needs more than "
                             f"{MAX_RECORD_BYTES // 2**30} GB: lower N or use DDIM with fewer steps")
        self.set_result(None)  # the old recording is being replaced
        self.set_branch_options(seed=spec.seed + 1)
        return spec

    def set_busy(self, busy: bool) -> None:
        """A sampling or branch job is running (the fields are locked)."""
        self.busy = bool(busy)
        self.changed.emit("busy")

    # ------------------------------------------------------------------ the recording
    def set_result(self, result: SamplingResult | None, inverted: Any = None) -> None:
        """Show ``result``'s recording (None: none), from its final samples; ``inverted``: the
        :class:`~genstudio.inverted.InvertedPicture` it belongs to (see :meth:`set_inversion`)."""
        self.result, self.branch, self.inverted = result, None, inverted
        self.branch_prompt = None
        if result is None:
            self._index = {}
        else:
            self._index = {int(t): k for k, t in enumerate(result.trajectory.timesteps)}
            self.selected = min(self.selected, result.spec.n - 1)
            if result.spec.definition.takes_eta:  # DDIM with η = 0 is deterministic: a branch needs noise
                self.branch_eta = result.spec.eta if result.spec.eta > 0 else 1.0
            if result.spec.guided:  # the text changes mid-way, on the same noise: seed and η as recorded
                spec = result.spec
                self.branch_seed, self.branch_eta = spec.seed, spec.eta
                self.branch_prompt, self.branch_negative = spec.prompt or "", spec.negative or ""
                self.branch_guidance = DEFAULT_GUIDANCE if spec.guidance is None else spec.guidance
        self.timestep = FINAL
        self.changed.emit("result")

    def set_inversion(self, inverted: Any) -> None:
        """Show a picture's inversion (an :class:`~genstudio.inverted.InvertedPicture`) as the recording:
        the inverted x_t over the DDIM grid, the reconstruction as its final sample; a branch regenerates
        from the x_t shown (with a text model: with the branch's prompt, :meth:`set_branch_options`)."""
        self.set_result(inverted.result, inverted)

    def timesteps(self) -> np.ndarray:
        """The timesteps one can show: the recording's, then :data:`FINAL` (the samples)."""
        if self.result is None:
            return np.array([FINAL])
        return np.append(self.result.trajectory.timesteps, FINAL)

    def set_timestep(self, t: int) -> None:
        """Show the recording at timestep ``t`` (:data:`FINAL`: the final samples)."""
        self.timestep = int(t)
        self.changed.emit("timestep")

    def step_index(self) -> int:
        """The recorded step shown (the last one while the final samples are shown)."""
        return self._index.get(self.timestep, len(self._index) - 1)

    def select(self, i: int) -> None:
        """Select sample ``i`` (its x_t, ε̂ and x̂_0 are shown large; "Noise it" takes its final)."""
        top = self.result.spec.n - 1 if self.result is not None else max(0, int(i))
        self.selected = max(0, min(int(i), top))
        self.changed.emit("selected")

    def set_grid_x0(self, x0: bool) -> None:
        """The grid of all N shows x̂_0 (True) or x_t (False)."""
        self.grid_x0 = bool(x0)
        self.changed.emit("grid")

    # ------------------------------------------------------------------ branching
    def set_branch_options(self, seed: int | None = None, eta: float | None = None, *, prompt: str | None = None,
                           negative: str | None = None, guidance: float | None = None) -> None:
        """The next branch's seed and η, and (a text model) its prompt, negative prompt and guidance s
        (each kept when None)."""
        if seed is not None:
            self.branch_seed = int(seed)
        if eta is not None:
            self.branch_eta = float(eta)
        if prompt is not None:
            self.branch_prompt = prompt
        if negative is not None:
            self.branch_negative = negative
        if guidance is not None:
            self.branch_guidance = check_guidance(float(guidance))
        self.changed.emit("branch_options")

    def branch_text_error(self) -> str:
        """The tokenizer's message for the branch's prompt or negative prompt ("" when both are fine)."""
        r = self.result
        if r is None or not r.spec.guided:
            return ""
        return self.prompt_error(replace(r.spec, prompt=self.branch_prompt, negative=self.branch_negative))

    def branch_takes_eta(self) -> bool:
        """Whether the recording's sampler takes η (DDIM); a sampler since removed takes none."""
        r = self.result
        return r is not None and r.spec.sampler in SAMPLERS and SAMPLERS[r.spec.sampler].takes_eta

    def plan_branch(self, seed: int | None = None, eta: float | None = None) -> BranchPlan:
        """Continue from the step shown with the branch's seed and η (``seed`` / ``eta`` set them first);
        a text model's branch takes the branch's text (ValueError: a word it does not know)."""
        r = self.result
        if r is None:
            raise ValueError("sample first: a branch continues a recording")
        self.set_branch_options(seed, eta)
        if error := self.branch_text_error():
            raise ValueError(error)
        k = self.step_index()
        x, index = branch_start(r.trajectory, k)
        spec = replace(r.spec, seed=self.branch_seed, eta=self.branch_eta if self.branch_takes_eta() else r.spec.eta)
        if r.spec.guided:  # a text model: the branch's own prompt, negative prompt and s
            spec = replace(spec, prompt=self.branch_prompt, negative=self.branch_negative,
                           guidance=self.branch_guidance)
        return BranchPlan(spec, x, index, int(r.trajectory.timesteps[k]), len(r.trajectory) - k,
                          branch_changes(r.spec, spec))

    def set_branch_ending(self, t: int, final: np.ndarray, what: str = "") -> None:
        """A branch from ``t`` (that changed ``what``, :attr:`BranchPlan.what`) ended with ``final``:
        keep it beside the original ending."""
        if self.result is None:
            return
        self.branch = BranchEnding(int(t), final, mean_abs_difference(final, self.result.final), what)
        self.changed.emit("branch")


def branch_changes(recorded: SampleSpec, branch: SampleSpec) -> str:
    """What ``branch`` changes from the ``recorded`` spec, for people: "prompt 'a 3', s = 7" ("nothing")."""
    out = []
    if branch.seed != recorded.seed:
        out.append(f"seed {branch.seed}")
    if branch.eta != recorded.eta:
        out.append(f"η = {branch.eta:g}")
    if (branch.prompt or "") != (recorded.prompt or ""):
        out.append(f"prompt {branch.prompt or ''!r}")
    if (branch.negative or "") != (recorded.negative or ""):
        out.append(f"negative {branch.negative or ''!r}")
    if _scale(branch) != _scale(recorded):
        out.append(f"s = {_scale(branch):g}")
    return ", ".join(out) or "nothing"


def _scale(spec: SampleSpec) -> float:
    return DEFAULT_GUIDANCE if spec.guidance is None else spec.guidance
