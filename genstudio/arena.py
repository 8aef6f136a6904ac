"""The arena: a GAN and a diffusion model trained on the same 2-D data with the same CPU budget (Qt-free).

One of the first questions after the lecture — which covers ring8's modes faster, a GAN or a
diffusion model, per step and per CPU-second? — answered by measurement instead of by argument.
Each contender trains with its own recipe (:mod:`genstudio.recipes`, the same one ``genstudio train``
uses) in this process, one after the other, until it has spent ``budget`` CPU-seconds of training
(``time.process_time``, with torch on one thread: a multi-threaded step on a busy machine burns
CPU time spinning, so one core each is the fair and repeatable measure; the evaluations are not
charged). At ``evals`` evenly spaced points of the budget a snapshot of the
model is sampled (``n`` points; the GAN in one pass, the diffusion model with DDIM, 50 steps, η = 0)
and compared with fresh real points of the data set:

* modes covered and the share of samples within 0.1 of a mode (ring8 and grid25, as in
  :func:`genstudio.metrics.mode_coverage`);
* the sliced Wasserstein distance to as many fresh real points (:func:`genstudio.metrics.sliced_wasserstein`),
  beside the same distance between two real samples — the floor a perfect model reaches.

``genstudio arena --data ring8 --budget 60 --seeds 0 1 2 --out DIR`` writes ``DIR/arena.jsonl``
(every evaluation), ``DIR/arena.md`` (the table) and ``DIR/arena.png`` (share or distance against
CPU-seconds), and keeps each contender's run folder in ``DIR/<kind>-seed<S>``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from genstudio.data import load_dataset
from genstudio.metrics import mode_coverage, sliced_wasserstein

CONTENDERS = ("gan", "diffusion")
EVAL_SAMPLER = dict(sampler="ddim", steps=50, eta=0.0)


@dataclass(frozen=True)
class ArenaPoint:
    """One evaluation of one contender."""

    kind: str
    seed: int
    step: int
    cpu_s: float  # CPU-seconds of training so far
    modes: int  # modes covered (0 for a set without modes)
    share: float  # share of samples within 0.1 of a mode (nan for a set without modes)
    swd: float  # sliced Wasserstein distance to fresh real points
    sample_s: float = float("nan")  # CPU-seconds to sample 1,000 points (last evaluation only)


def _sampler_of(model) -> Callable[[int, int], np.ndarray]:
    if model.kind == "gan":
        return lambda n, seed: model.sample(n, seed=seed).numpy()
    from genstudio.sampling import SampleSpec, sample

    return lambda n, seed: sample(model, SampleSpec(n=n, seed=seed, record=False, **EVAL_SAMPLER)).final


def _evaluate(model, kind: str, seed: int, step: int, cpu_s: float, real: np.ndarray, centers,
              timed: bool = False) -> ArenaPoint:
    draw = _sampler_of(model)
    points = draw(len(real), 10_000 + seed)
    share, modes = mode_coverage(points, centers) if centers is not None else (float("nan"), 0)
    sample_s = float("nan")
    if timed:
        t0 = time.process_time()  # CPU time, on the one thread, like the training budget
        draw(1000, 1)
        sample_s = time.process_time() - t0
    return ArenaPoint(kind, seed, step, round(cpu_s, 2), modes, share, sliced_wasserstein(points, real),
                      sample_s)


def contend(kind: str, data: str, seed: int, budget: float, run_dir: Path, *, evals: int = 10,
            n: int = 2000, clock: Callable[[], float] = time.process_time) -> Iterator[ArenaPoint]:
    """Train ``kind`` on ``data`` for ``budget`` CPU-seconds, yielding an :class:`ArenaPoint` at each of
    ``evals`` evenly spaced marks (the last one at the end, with the sampling time measured).

    ``clock`` measures the CPU time charged: the process's by default; the app passes
    ``time.thread_time``, so the window's own painting is not charged to the contenders."""
    from genstudio.loading import model_from_state
    from genstudio.recipes import recipe_config
    from genstudio.runs.control import RunControl
    from genstudio.runs.events import Finished, Snapshot
    from genstudio.runs.loop import train

    dataset = load_dataset(data, num_points=n, seed=1_000_003 + seed)  # fresh real points, not the training set
    real, centers = dataset.tensor.numpy(), dataset.centers
    config = recipe_config(kind, data, seed=seed, steps=10_000_000, device="cpu", log_every=100,
                           preview_every=10_000_000, checkpoint_every=10_000_000)
    control = RunControl()
    marks = [budget * (i + 1) / evals for i in range(evals)]
    spent, charged_from = 0.0, None
    for event in train(config, run_dir, control=control):
        now = clock()
        if charged_from is not None:
            spent += now - charged_from
        charged_from = now
        if isinstance(event, Snapshot):
            last = not marks
            model = model_from_state(event.tensors, event.meta, torch.device("cpu"))
            yield _evaluate(model, kind, seed, event.step, spent, real, centers, timed=last)
            charged_from = clock()  # the evaluation is not charged
            if last:
                control.request_stop()
        elif isinstance(event, Finished):
            if event.reason not in ("done", "stopped"):
                raise RuntimeError(f"{kind} seed {seed} ended early: {event.message or event.reason}")
        elif marks and spent >= marks[0]:
            marks.pop(0)
            control.request_snapshot()


def run_arena(data: str, budget: float, seeds: list[int], out: Path, *, evals: int = 10, n: int = 2000,
              report: Callable[[ArenaPoint], None] | None = None) -> list[ArenaPoint]:
    """Every contender on every seed; writes ``arena.jsonl``, ``arena.md`` and ``arena.png`` in ``out``."""
    points: list[ArenaPoint] = []
    for p in race(data, budget, seeds, out, evals=evals, n=n):
        points.append(p)
        if report is not None:
            report(p)
    write_results(points, data, budget, out, n)
    return points


def race(data: str, budget: float, seeds: list[int], out: Path, *, evals: int = 10, n: int = 2000,
         clock: Callable[[], float] = time.process_time) -> Iterator[ArenaPoint]:
    """Every contender on every seed, one after the other, yielding each evaluation as it is made and
    logging it to ``out/arena.jsonl`` (the app draws them live: ``gui/arena_runner.py``)."""
    if budget <= 0 or not seeds or evals < 1:
        raise ValueError("the arena needs a positive budget, at least one seed and one evaluation")
    out.mkdir(parents=True, exist_ok=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one core each: CPU-seconds then mean the same on any machine and any load
    try:
        with open(out / "arena.jsonl", "w", encoding="utf-8") as log:
            for seed in seeds:
                for kind in CONTENDERS:
                    for p in contend(kind, data, seed, budget, out / f"{kind}-seed{seed}", evals=evals, n=n,
                                     clock=clock):
                        log.write(json.dumps(asdict(p)) + "\n")
                        log.flush()
                        yield p
    finally:
        torch.set_num_threads(threads)


def write_results(points: list[ArenaPoint], data: str, budget: float, out: Path, n: int = 2000) -> str:
    """Write ``out/arena.md`` (the table, returned) and ``out/arena.png`` for the arena's ``points``."""
    text = table(points, data, budget, real_floor(data, n))
    (out / "arena.md").write_text(text, encoding="utf-8")
    from genstudio.arena_plot import plot_arena

    plot_arena(points, out / "arena.png", title=f"{data}: GAN against diffusion, {budget:g} CPU-s each")
    return text


def real_floor(data: str, n: int) -> float:
    """The sliced Wasserstein distance between two independent real samples of ``n`` points."""
    a = load_dataset(data, num_points=n, seed=7).tensor.numpy()
    b = load_dataset(data, num_points=n, seed=8).tensor.numpy()
    return sliced_wasserstein(a, b)


def first_reaching(points: list[ArenaPoint], modes: int, share: float = 0.9) -> float:
    """CPU-seconds at the first evaluation with all ``modes`` covered and ≥ ``share`` near one (inf: never)."""
    for p in points:
        if p.modes >= modes and p.share >= share:
            return p.cpu_s
    return float("inf")


def modes_of(data: str) -> int:
    """How many modes the data set has (0 for a set without modes)."""
    centers = load_dataset(data, num_points=10).centers
    return 0 if centers is None else len(centers)


def table(points: list[ArenaPoint], data: str, budget: float, floor: float) -> str:
    """A Markdown table: per contender and seed, the end of its budget and when it first covered the data."""
    rows = ["| model | seed | steps | modes | share within 0.1 | sliced W. | CPU-s to all modes and ≥ 90 % "
            "| sampling 1,000 points (CPU) |", "|---|---|---|---|---|---|---|---|"]
    modes = modes_of(data)
    for kind in CONTENDERS:
        for seed in sorted({p.seed for p in points}):
            run = [p for p in points if p.kind == kind and p.seed == seed]
            if not run:
                continue
            end, reach = run[-1], first_reaching(run, modes)
            rows.append(f"| {kind} | {seed} | {end.step:,} | {end.modes} | {end.share:.1%} | {end.swd:.3f} | "
                        f"{'never' if reach == float('inf') else f'{reach:.1f}'} | {end.sample_s * 1000:.0f} ms |")
    return (f"{data}, {budget:g} CPU-seconds of training each (evaluations not charged); sliced Wasserstein "
            f"distance between two real samples: {floor:.3f}\n\n" + "\n".join(rows) + "\n")


def cmd_arena(args) -> int:
    """``genstudio arena``: run it, printing each evaluation, then the table."""
    from genstudio.data import POINT_SETS, is_points

    if not is_points(args.data):
        raise ValueError(f"the arena runs on a 2-D point set ({', '.join(POINT_SETS)} or a drawing, "
                         f"points:FILE.npy), not {args.data!r}")

    def report(p: ArenaPoint) -> None:
        modes = f"{p.modes} modes, {p.share:.1%} within 0.1, " if p.modes else ""
        print(f"{p.kind:9s} seed {p.seed}  {p.cpu_s:6.1f} CPU-s  step {p.step:6d}  {modes}sliced W. {p.swd:.3f}",
              flush=True)

    run_arena(args.data, args.budget, args.seeds, args.out, evals=args.evals, n=args.n, report=report)
    print((args.out / "arena.md").read_text(encoding="utf-8"))
    print(f"written: {args.out / 'arena.md'}, {args.out / 'arena.png'}, {args.out / 'arena.jsonl'}")
    return 0
