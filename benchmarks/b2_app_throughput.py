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

Run: ``python benchmarks/b2_app_throughput.py [--quick] [--rounds N]``
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
    args = p.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    harness._leave_a_core()  # the headless side trains on as many threads as the app's worker
    loaded = os.getloadavg()[0] > (os.cpu_count() or 1)
    print(f"B2 training throughput in the open app (offscreen, curves and previews live) vs the same "
          f"run headless; {rounds} round(s)")
    print(machine_note())
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        app, window = harness.open_window(f"{tmp}/settings.ini")
        for name, (fields, skip) in RUNS.items():
            if args.only not in name:
                continue
            if args.quick:
                fields = {**fields, "steps": max(fields["steps"] // 2, skip + 10)}
            window.panel.set_fields(fields)
            config = window.panel.config()
            ratios_wall, ratios_cpu, gui_share = [], [], []
            for r in range(rounds):
                pair = {}
                for side in (("app", "headless") if r % 2 == 0 else ("headless", "app")):
                    folder = Path(tmp) / f"{name[:5]}-{side}-{r}"
                    if side == "app":
                        trace = harness.app_run(app, window, fields, folder)
                        gui_share.append(trace.gui_cpu_s / trace.wall_s)
                    else:
                        trace = harness.headless_run(config, folder)
                    pair[side] = trace.rate(skip)
                ratios_wall.append(pair["app"][0] / pair["headless"][0])
                ratios_cpu.append(pair["app"][1] / pair["headless"][1])
                print(f"   {name} round {r + 1}: app {pair['app'][0]:.1f} steps/s ({pair['app'][1]:.1f} per "
                      f"CPU-s), headless {pair['headless'][0]:.1f} ({pair['headless'][1]:.1f} per CPU-s)")
            wall, cpu = float(np.median(ratios_wall)), float(np.median(ratios_cpu))
            figure = cpu if loaded else wall
            met = figure >= GOAL
            ok &= met
            print(f"{name}: app / headless {wall:.3f}x wall-clock, {cpu:.3f}x per training-thread CPU-s; "
                  f"GUI thread busy {100 * float(np.mean(gui_share)):.0f} % of a core   goal >= {GOAL}x "
                  f"({'CPU' if loaded else 'wall'}): {verdict(met)}")
        harness.close_window(app, window)
    harness.finish()


if __name__ == "__main__":
    main()
