"""B2: training in the open app is as fast as training headless.

Opens GenStudio's main window offscreen (1400 × 900, its style, its ~30 Hz drain timer), fills the
run panel and presses Start, so the run goes exactly the app's way: ``RunController`` → training
``QThread`` → mailbox → Monitor tab (loss curves, the sample grid or the 2-D view with D's field)
and the status bar, all live. The reference is the same configuration run headless through
``train()`` (what ``genstudio train`` runs), in this process, on the same number of torch threads
(the app's worker leaves one core to the GUI: cores − 1), rounds alternating.

Runs:

* DCGAN 32 px on ``shapes`` (batch 64, a preview every 10 steps: the sample grid changes every
  few seconds);
* the app's one-click first run (Monitor hint, Run ▸ Try): the MLP GAN on ``ring8``, batch 256,
  lr 1e-3, a preview with D's probability field every 100 steps — small steps, so the display
  is busiest relative to the training.

Rate: steps per second between the first steps after warm-up and the last, from the step
numbers the status bar shows (app) or the events (headless). Prints wall-clock rates and rates per
CPU-second of the training thread; the figure is the median over rounds of app / headless,
judged on wall time when the machine is not loaded (load average ≤ cores), else on the
training thread's CPU time (which still counts the GUI's share of the CPU, but not the time other
processes take the cores away). Also prints the GUI thread's CPU use. Goal: ≥ 0.93×.

Issue 20: the app trains in a child process by default (``RunController.mode``). ``--modes``
compares the app training in a process and on a thread (the code before issue 20) against the
same headless run, all three interleaved in each round; the training CPU clock is then the whole
training process's (not one thread's). It also times Start → the first step shown: on a thread,
in the warm process the app keeps ready, and in a cold one.

Run: ``python benchmarks/b2_app_throughput.py [--quick] [--rounds N] [--steps N] [--modes process,thread]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import _app_run as harness  # sets QT_QPA_PLATFORM=offscreen before Qt loads
import numpy as np

from _common import machine_note, verdict

GOAL = 0.93
RUNS = {
    "DCGAN 32 px (shapes, batch 64, preview every 10)": (
        {"kind": "gan", "data": "shapes", "size": 32, "batch": 64, "lr": "0.0002", "steps": 36,
         "preview_every": 10, "seed": 0, "device": "cpu"}, 4),
    "MLP GAN on ring8 (the one-click first run)": (
        {"kind": "gan", "data": "ring8", "batch": 256, "lr": "0.001", "steps": 3000, "preview_every": 100,
         "seed": 0, "device": "cpu"}, 200),
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 round, shorter runs")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--only", default="", help="only the runs whose name contains this (e.g. ring8)")
    p.add_argument("--steps", type=int, default=0, help="steps of every run (default: each run's own)")
    p.add_argument("--modes", default="process,thread",
                   help="where the app trains, compared in the same rounds: process, thread or both")
    p.add_argument("--start-rounds", type=int, default=3,
                   help="rounds of the Start → first step measurement (0: skip it)")
    args = p.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    modes = [m for m in args.modes.split(",") if m]
    harness._leave_a_core()  # the headless side trains on as many threads as the app's worker
    loaded = os.getloadavg()[0] > (os.cpu_count() or 1)
    print(f"B2 training throughput in the open app (offscreen, curves and previews live) vs the same "
          f"run headless; the app training in a {' / a '.join(modes)}; {rounds} round(s), sides interleaved")
    print(machine_note())
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        app, window = harness.open_window(f"{tmp}/settings.ini", warm_process="process" in modes)
        for name, (fields, skip) in RUNS.items():
            if args.only not in name:
                continue
            if args.steps:
                fields, skip = {**fields, "steps": args.steps}, min(skip, args.steps // 5)
            elif args.quick:
                fields = {**fields, "steps": max(fields["steps"] // 2, skip + 10)}
            window.panel.set_fields(fields)
            config = window.panel.config()
            ratios = {m: ([], [], []) for m in modes}  # wall ratios, CPU ratios, GUI share
            sides = [*modes, "headless"]
            for r in range(rounds):
                pair = {}
                for side in sides[r % len(sides):] + sides[:r % len(sides)]:  # each round starts elsewhere
                    folder = Path(tmp) / f"{name[:5]}-{side}-{r}"
                    if side == "headless":
                        trace = harness.headless_run(config, folder)
                    else:
                        trace = harness.app_run(app, window, fields, folder, mode=side)
                        ratios[side][2].append(trace.gui_cpu_s / trace.wall_s)
                    pair[side] = trace.rate(skip)
                for m in modes:
                    ratios[m][0].append(pair[m][0] / pair["headless"][0])
                    ratios[m][1].append(pair[m][1] / pair["headless"][1])
                print(f"   {name} round {r + 1}: " + ", ".join(
                    f"{side} {pair[side][0]:.1f} steps/s ({pair[side][1]:.1f} per CPU-s)" for side in sides))
            for m in modes:
                wall, cpu = float(np.median(ratios[m][0])), float(np.median(ratios[m][1]))
                figure = cpu if loaded else wall
                met = figure >= GOAL
                ok &= met
                print(f"{name}, app training in a {m}: app / headless {wall:.3f}x wall-clock, {cpu:.3f}x per "
                      f"training CPU-s; GUI thread busy {100 * float(np.mean(ratios[m][2])):.0f} % of a core   "
                      f"goal >= {GOAL}x ({'CPU' if loaded else 'wall'}): {verdict(met)}")
        if args.start_rounds:
            start_latency(app, window, Path(tmp), args.start_rounds, modes)
        harness.close_window(app, window)
    harness.finish()


def start_latency(app, window, tmp: Path, rounds: int, modes: list[str]) -> None:
    """Start → the first step the status bar shows, for the one-click ring8 run: on a thread (the
    app before issue 20), in the warm process the app keeps ready, and in a cold one (none ready)."""
    fields = {**RUNS["MLP GAN on ring8 (the one-click first run)"][0], "steps": 200}
    kinds = [k for k in ("thread", "process (warm)", "process (cold)") if k.split()[0] in modes]
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for r in range(rounds):
        for kind in kinds[r % len(kinds):] + kinds[:r % len(kinds)]:
            mode = kind.split()[0]
            if kind == "process (cold)":
                window.controller.close_processes()  # no warm process: Start spawns one
            elif mode == "process":
                window.controller.prepare()
                harness.wait_warm(window)
            name = kind.replace(" (", "-").rstrip(")")
            trace = harness.app_run(app, window, fields, tmp / f"start-{name}-{r}", mode=mode)
            times[kind].append(trace.first_step_s)
    print("Start -> first step shown (one-click ring8 run), median of "
          f"{rounds}: " + ", ".join(f"{k} {1e3 * float(np.median(v)):.0f} ms" for k, v in times.items()))


if __name__ == "__main__":
    main()
