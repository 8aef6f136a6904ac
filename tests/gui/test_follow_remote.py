"""The monitor follows a run that another process writes (a remote run over a synced folder).

A separate Python process appends to ``metrics.jsonl`` through :class:`~genstudio.runs.folder.RunDir`, as
``genstudio train`` on a server would; the window opened with "Open run folder" must show each new
point within 2 seconds of its line being written, reading only what was appended.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QSettings  # noqa: E402

from genstudio.config import RunConfig  # noqa: E402
from genstudio.gui.main_window import MainWindow  # noqa: E402
from genstudio.gui.settings import AppSettings  # noqa: E402
from genstudio.runs.folder import RunDir  # noqa: E402

N_OLD, N_NEW = 5, 4

WRITER = """
import sys, time
from genstudio.runs.folder import RunDir
rd = RunDir(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()  # go
for s in range({first}, {last}):
    rd.append_metrics(s * 10, {{"loss_D": 1.0 / s, "loss_G": 2.0, "D(x)": 0.5, "D(G(z))": 0.5}})
    time.sleep(0.4)
"""


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(w)
    w.confirm_close = lambda: True
    w.errors = []
    w.show_error = lambda title, message, details="": w.errors.append((title, message))
    w.panel.set_runs_parent(tmp_path)
    yield w
    w.close()


def test_points_appended_by_another_process_show_within_two_seconds(qtbot, window, tmp_path):
    rd = RunDir(tmp_path / "remote")
    rd.write_config(RunConfig(kind="gan", data="ring8", steps=1000))
    for s in range(1, N_OLD + 1):
        rd.append_metrics(s * 10, {"loss_D": 1.0 / s, "loss_G": 2.0, "D(x)": 0.5, "D(G(z))": 0.5})
    assert window.open_run_folder(rd.path), window.errors
    plot = window.monitor.gan_losses
    qtbot.waitUntil(lambda: plot.point_count("loss_D") == N_OLD, timeout=2_000)

    code = WRITER.format(first=N_OLD + 1, last=N_OLD + 1 + N_NEW)
    writer = subprocess.Popen([sys.executable, "-c", code, str(rd.path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"  # imports done: time only the writing
        writer.stdin.write("go\n")
        writer.stdin.flush()
        seen: dict[int, float] = {}  # point count -> when the plot first showed it

        def all_seen() -> bool:
            count, now = plot.point_count("loss_D"), time.time()
            for k in range(N_OLD + 1, count + 1):
                seen.setdefault(k, now)
            return count == N_OLD + N_NEW

        qtbot.waitUntil(all_seen, timeout=30_000)
        assert writer.wait(timeout=30) == 0, writer.stderr.read()
    finally:
        if writer.poll() is None:
            writer.kill()
        writer.communicate()

    written = [json.loads(line)["time"] for line in rd.metrics_path.read_text().splitlines()[N_OLD:]]
    lags = [seen[N_OLD + i + 1] - t for i, t in enumerate(written)]
    assert all(-0.1 < lag < 2.0 for lag in lags), lags
    assert plot.last_value("loss_D") == pytest.approx(1 / (N_OLD + N_NEW))
    assert window.run_status.step_value() == (N_OLD + N_NEW) * 10
    # only what was appended was read: the follower's offset is the file's end
    assert window.follower._metrics.offset == rd.metrics_path.stat().st_size
