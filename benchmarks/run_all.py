"""Run every benchmark (B1–B8) one after another and print a markdown table of the results.

Each benchmark runs in its own process (so one's threads and memory never weigh on the next), its
full output goes to stderr as it comes, and the lines with a verdict (MET / NOT MET) are collected
into the table on stdout, with the date and the load average before and after.

Run: ``python benchmarks/run_all.py [--quick] [--only b1 b5 ...] > results.md``
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "b1": ("B1 training throughput, headless", "b1_throughput.py", True),
    "b2": ("B2 training throughput, app open", "b2_app_throughput.py", True),
    "b3": ("B3 latent slider", "b3_latent_slider.py", False),
    "b4": ("B4 GUI event-loop stalls", "b4_event_loop.py", True),
    "b5": ("B5 diffusion sampling", "b5_sampling.py", True),
    "b6": ("B6 timestep scrubber", "b6_scrubber.py", False),
    "b7": ("B7 loss plot, 1 M points", "b7_loss_plot.py", False),
    "b8": ("B8 cold start and memory", "b8_startup.py", True),
}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="pass --quick to the benchmarks that have it")
    p.add_argument("--only", nargs="+", default=list(SCRIPTS), choices=list(SCRIPTS))
    args = p.parse_args(argv)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
    rows = []
    started = datetime.datetime.now(datetime.timezone.utc)
    before = load()
    for key in args.only:
        title, script, has_quick = SCRIPTS[key]
        cmd = [sys.executable, str(HERE / script)] + (["--quick"] if args.quick and has_quick else [])
        print(f"== {title}: {' '.join(cmd[1:])} (load {load()})", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        out = proc.stdout + proc.stderr
        sys.stderr.write(proc.stdout)
        lines = [ln.strip() for ln in proc.stdout.splitlines() if "MET" in ln]
        if proc.returncode != 0:
            lines.append(f"exit status {proc.returncode}: {out.strip().splitlines()[-1] if out.strip() else ''}")
        figure = "<br>".join(ln.replace("|", "\\|") for ln in lines) or "(no verdict line)"
        rows.append(f"| {title} | {figure} | {time.perf_counter() - t0:.0f} s |")
    print(f"Benchmarks run {started:%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs ({platform.machine()}, "
          f"{platform.python_version()}); load average before {before}, after {load()}"
          f"{'; quick mode' if args.quick else ''}.\n")
    print("| benchmark | result | time |")
    print("|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
