"""Run ▸ Arena in the app: both contenders' curves grow in the Monitor as the evaluations arrive,
and the finished arena leaves genstudio arena's table, plot and runs in its folder."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")


def test_the_arena_draws_both_curves_live_and_writes_its_table(qtbot, make_window, tmp_path):
    w = make_window()
    w.ask_arena_budget = lambda data: 1.0  # CPU-seconds each: a few dozen steps, enough to see both
    w.arena_options = {"evals": 3, "n": 300}  # the evaluations cost more than the training here
    w.panel.set_fields({"data": "ring8", "seed": 0})
    assert w.act_arena.isEnabled()
    with qtbot.waitSignal(w.arena.busyChanged, timeout=5_000):
        assert w.toggle_arena()
    m = w.monitor
    assert m.shows_arena() and "Arena on ring8" in m.arena.title() and m.points.real_count() == 2000
    assert not w.act_start.isEnabled() and w.act_arena.text() == "Stop the arena"
    qtbot.waitUntil(lambda: m.arena.point_count("gan") >= 1, timeout=120_000)  # live, before the end
    with qtbot.waitSignal(w.arena.done, timeout=300_000) as done:
        pass
    assert m.arena.point_count("gan") == m.arena.point_count("diffusion") == 3
    assert "| gan | 0 |" in m.arena.text() and "| diffusion | 0 |" in m.arena.text()
    folder = tmp_path / done.args[0].folder.split("/")[-1]
    for name in ("arena.md", "arena.png", "arena.jsonl", "gan-seed0", "diffusion-seed0"):
        assert (folder / name).exists(), name
    qtbot.waitUntil(lambda: not w.arena.is_busy(), timeout=10_000)
    assert w.act_arena.text().startswith("Arena") and not w.errors
    w.panel.set_fields({"kind": "gan", "data": "ring8"})
    assert w.act_start.isEnabled()
    w.monitor.begin("gan", True)  # a run's layout again
    assert not m.shows_arena()
