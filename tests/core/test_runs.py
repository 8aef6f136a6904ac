"""Run directory, resume, stop/pause control and divergence handling of the shared run loop."""

from __future__ import annotations

import json
import threading

import pytest
import torch

from genstudio.checkpoint import load_checkpoint
from genstudio.config import RunConfig
from genstudio.runs.control import RunControl
from genstudio.runs.events import Finished, Paused, Tick
from genstudio.runs.folder import MetricsFollower, RunDir
from genstudio.runs.loop import run_to_end, train
from genstudio.runs.start import RunError

CFG = RunConfig(kind="gan", data="ring8", steps=40, batch=32, log_every=5, preview_every=20,
                checkpoint_every=20, num_points=500, seed=3)


def test_run_directory_layout(tmp_path):
    run_to_end(CFG, tmp_path)
    rd = RunDir(tmp_path)
    assert RunConfig.from_json(rd.config_path.read_text()) == CFG
    lines = rd.metrics_path.read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines] == list(range(5, 41, 5))
    assert sorted(p.name for p in rd.checkpoints.iterdir()) == [
        "last.safetensors", "step_000020.safetensors", "step_000040.safetensors"]
    _, meta = load_checkpoint(rd.last_checkpoint)
    assert meta["step"] == 40 and meta["kind"] == "gan" and meta["data"] == "ring8"
    assert meta["config"]["seed"] == 3 and "torch" in meta["versions"]


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path):
    full = tmp_path / "full"
    run_to_end(CFG, full)
    part = tmp_path / "part"
    run_to_end(CFG.replace(steps=20), part)
    fin = run_to_end(CFG, part, resume=True)
    assert fin.step == 40
    a, _ = load_checkpoint(full / "checkpoints/last.safetensors")
    b, _ = load_checkpoint(part / "checkpoints/last.safetensors")
    for k in a:
        if k.startswith("model/"):
            assert torch.allclose(a[k], b[k], atol=1e-6), k
    steps = [r["step"] for r in RunDir(part).read_metrics()]
    assert steps == list(range(5, 41, 5))  # no gaps, no repeats


def test_resume_drops_metrics_written_after_the_last_checkpoint(tmp_path):
    run_to_end(CFG.replace(steps=20), tmp_path)
    rd = RunDir(tmp_path)
    with open(rd.metrics_path, "a") as fh:  # as if killed after logging step 25 but before saving
        fh.write(json.dumps({"step": 25, "loss_D": 1.0}) + "\n" + '{"step": 30, "los')
    run_to_end(CFG, tmp_path, resume=True)
    assert [r["step"] for r in rd.read_metrics()] == list(range(5, 41, 5))


def test_new_run_refuses_a_used_folder_and_resume_needs_one(tmp_path):
    run_to_end(CFG.replace(steps=5), tmp_path / "a")
    with pytest.raises(RunError, match="already holds a run"):
        next(train(CFG, tmp_path / "a"))
    with pytest.raises(RunError, match="nothing to resume"):
        next(train(CFG, tmp_path / "b", resume=True))


def test_stop_request_finishes_the_step_and_writes_a_checkpoint(tmp_path):
    control = RunControl()
    events = []
    for ev in train(CFG.replace(steps=10_000), tmp_path, control=control):
        events.append(ev)
        if isinstance(ev, Tick) and ev.step == 7:
            control.request_stop()
    fin = events[-1]
    assert isinstance(fin, Finished) and fin.reason == "stopped" and fin.step == 7
    _, meta = load_checkpoint(RunDir(tmp_path).last_checkpoint)
    assert meta["step"] == 7


def test_pause_blocks_between_steps_until_resumed(tmp_path):
    control = RunControl()
    gen = train(CFG, tmp_path, control=control)
    next(gen)  # Started
    next(gen)  # step 1
    control.pause()
    assert isinstance(next(gen), Paused)
    threading.Timer(0.2, control.resume).start()
    ev = next(gen)  # blocks until resumed, then runs step 2
    assert ev.step == 2
    control.request_stop()
    assert list(gen)[-1].reason == "stopped"


def test_divergence_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    # the MSE loss of a diffusion model does not saturate, so a huge learning rate blows it up
    cfg = CFG.replace(kind="diffusion", steps=3000, lr=1e5, checkpoint_every=1, log_every=1, beta1=0.9)
    fin = run_to_end(cfg, tmp_path)
    assert fin.reason == "diverged"
    assert f"step {fin.step}" in fin.message or str(fin.step) in fin.message
    tensors, meta = load_checkpoint(RunDir(tmp_path).last_checkpoint)
    assert meta["step"] < fin.step  # the diverged step itself was not saved
    assert all(torch.isfinite(v).all() for k, v in tensors.items() if k.startswith("model/"))


def test_metrics_follower_reads_only_new_complete_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    f = MetricsFollower(path)
    assert f.poll() == ([], False)
    path.write_text('{"step": 1, "loss": 2.0}\n{"step": 2, "lo')
    recs, _ = f.poll()
    assert [r["step"] for r in recs] == [1]
    with open(path, "a") as fh:
        fh.write('ss": 1.5}\n')
    recs, _ = f.poll()
    assert recs == [{"step": 2, "loss": 1.5}]
    path.write_text('{"step": 1, "loss": 9.0}\n')  # rewritten (resume truncation)
    recs, reset = f.poll()
    assert reset and recs[0]["loss"] == 9.0
