"""B8: the app opens almost as fast as torch imports, and idles in little memory.

Starts, in fresh processes, alternately (5 times each by default):

* the reference: ``python -c "import torch"``;
* the app to a window on screen: what ``genstudio`` runs (``make_application`` and
  ``create_main_window`` of :mod:`genstudio.gui.app`), until the main window is shown and painted
  and the bundled models it opens on are loaded (the start-up work queued behind ``show()``); the
  process then exits at once, so neither the event loop nor teardown is counted;
* for information, the whole ``python -m genstudio`` with ``GENSTUDIO_EXIT_AFTER_SHOW=1`` (the
  app quits its event loop as soon as it runs): start, the same start-up work, the background jobs
  the bundled models start (the latent view's principal directions, the scrubber's ε̂), which
  closing the window waits for, and teardown.

Offscreen Qt and a throw-away settings store, so your own window layout is not touched.
For each it prints the median wall time and the median CPU time of the process (user + system,
from ``wait4``: unlike wall time it does not grow when other processes share the cores), and the
peak resident memory (the app's, models loaded: its idle memory).
Goal: the app's start to a window ≤ 1.5 s over the torch import, judged on CPU time when the
machine is loaded (load average above its core count), else on wall time.

Run: ``python benchmarks/b8_startup.py [--quick] [--runs N]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from _common import verdict

GOAL_S = 1.5
#: The app's start as ``genstudio`` does it, up to the painted window with the bundled models open.
TO_WINDOW = """
import os
from PySide6.QtCore import QEventLoop
from genstudio.gui.app import create_main_window, make_application
app = make_application([])
window = create_main_window([])
app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)  # expose, first paint, load_bundled
app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)  # what those posted
os._exit(0 if window.isVisible() else 1)
"""


def launch(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one process run to its end."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # ru_maxrss in KiB on Linux


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="2 runs each")
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args(argv)
    runs = 2 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GENSTUDIO_EXIT_AFTER_SHOW="1",
                   GENSTUDIO_SETTINGS_ORG="GenStudioBenchmark", XDG_CONFIG_HOME=home, HOME=home)
        cmds = {"import torch": [sys.executable, "-c", "import torch"],
                "app": [sys.executable, "-c", TO_WINDOW],
                "genstudio (all)": [sys.executable, "-m", "genstudio"]}
        launch(cmds["import torch"], env)  # warm the file cache for all
        launch(cmds["app"], env)
        got: dict[str, list[tuple[float, float, float]]] = {k: [] for k in cmds}
        for r in range(runs):
            for name in (cmds if r % 2 == 0 else list(cmds)[::-1]):
                got[name].append(launch(cmds[name], env))
    load = os.getloadavg()
    med = {k: np.median(np.asarray(v), axis=0) for k, v in got.items()}  # (wall, cpu, rss)
    print(f"B8 cold start: {runs} runs each, alternating; offscreen Qt")
    for name, (wall, cpu, rss) in med.items():
        print(f"{name:>15}: wall {wall:.2f} s, CPU {cpu:.2f} s, peak memory {rss:.0f} MB (medians)")
    over_wall = med["app"][0] - med["import torch"][0]
    over_cpu = med["app"][1] - med["import torch"][1]
    loaded = load[0] > (os.cpu_count() or 1)
    over = over_cpu if loaded else over_wall
    print(f"app over the torch import: wall {over_wall:+.2f} s, CPU {over_cpu:+.2f} s; "
          f"idle memory {med['app'][2]:.0f} MB ({med['app'][2] - med['import torch'][2]:+.0f} MB over torch)")
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
          f"{' (loaded: judged on CPU time)' if loaded else ''}")
    print(f"goal start <= {GOAL_S} s over the torch import: {verdict(over <= GOAL_S)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
