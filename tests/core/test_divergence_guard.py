"""Divergence is judged by the loss, not only its finiteness: a runaway loss (1e30 is finite) halts a
run exactly as NaN does, no checkpoint of a runaway state is written, and the message names the
checkpoint kept, or says that none is."""

from __future__ import annotations

import math

import pytest
import torch

from genstudio.checkpoint import load_checkpoint
from genstudio.cli import main
from genstudio.config import RunConfig
from genstudio.diffusion.trainer import DiffusionTrainer
from genstudio.runs.control import RunControl
from genstudio.runs.events import Finished, Paused
from genstudio.runs.faults import LossGuard
from genstudio.runs.folder import RunDir
from genstudio.runs.loop import run_to_end, train

DIFFUSION = ["train", "diffusion", "--data", "ring8", "--checkpoint-every", "20", "--quiet"]


def _sane_checkpoints(run) -> list[int]:
    """Steps of the checkpoints in ``run``, each asserted finite and logged with a sane loss."""
    rd = RunDir(run)
    logged = {r["step"]: r for r in rd.read_metrics()}
    steps = []
    for path in sorted(rd.checkpoints.glob("*.safetensors")):
        tensors, meta = load_checkpoint(path)
        assert all(bool(torch.isfinite(v).all()) for k, v in tensors.items() if k.startswith("model/")), path
        loss = logged[meta["step"]]["loss"] if meta["step"] in logged else None
        assert loss is None or (isinstance(loss, float) and math.isfinite(loss) and loss < 10), (path, loss)
        steps.append(meta["step"])
    return steps


def test_a_diffusion_run_at_lr_2_stops_with_nothing_kept_and_says_so(tmp_path, capsys):
    """The repro: step 20 was kept with loss 1.4e36 and --resume at lr 1e-3 diverged again."""
    run = tmp_path / "run"
    assert main([*DIFFUSION, "--steps", "40", "--lr", "2", "--out", str(run)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("genstudio: error: loss reached ") and "at step 10" in err, err
    assert "No checkpoint was written before it, so nothing is kept" in err, err
    assert "last good checkpoint is kept" not in err
    assert not RunDir(run).last_checkpoint.exists() and _sane_checkpoints(run) == []
    # resuming at a sane rate starts over (there was nothing to keep) and trains well
    assert main([*DIFFUSION, "--steps", "40", "--lr", "1e-3", "--out", str(run), "--resume"]) == 0
    assert sorted(_sane_checkpoints(run)) == [20, 40, 40]  # step_000020, step_000040, last


def test_the_kept_checkpoint_is_named_when_a_resumed_run_runs_away(tmp_path, capsys):
    run = tmp_path / "run"
    assert main([*DIFFUSION, "--steps", "20", "--lr", "1e-3", "--out", str(run)]) == 0
    assert main([*DIFFUSION, "--steps", "60", "--lr", "2", "--out", str(run), "--resume"]) == 1
    err = capsys.readouterr().err.strip()
    assert "at step 30" in err, err
    assert ("The last good checkpoint, step 20 (checkpoints/step_000020.safetensors, also last.safetensors), "
            "is kept; resume with a lower learning rate than 2") in err, err
    assert _sane_checkpoints(run) == [20, 20]
    assert load_checkpoint(RunDir(run).last_checkpoint)[1]["step"] == 20


def test_a_checkpoint_between_logged_steps_is_judged_before_it_is_written(tmp_path):
    cfg = RunConfig(kind="diffusion", data="ring8", steps=40, batch=64, lr=2.0, log_every=10, checkpoint_every=5,
                    num_points=500, seed=0)
    fin = run_to_end(cfg, tmp_path)
    assert fin.reason == "diverged" and fin.checkpoint is None
    assert "at step 5" in fin.message and "nothing is kept" in fin.message
    assert _sane_checkpoints(tmp_path) == []


def test_a_gan_at_lr_1e6_is_diverged_not_done(tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["train", "gan", "--data", "ring8", "--steps", "200", "--lr", "1e6", "--out", str(run),
                 "--checkpoint-every", "50", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("genstudio: error: loss_D reached ") and "nothing is kept" in err, err
    assert not RunDir(run).checkpoints.exists()


def test_the_app_rolls_back_to_the_last_sane_checkpoint_not_a_runaway_one(tmp_path):
    """The app's mode: a run resumed from a good step 20 at lr 2 goes back to step 20 (named), and
    a fresh one at lr 2 to its start; never to a state whose loss had run away."""
    good = RunConfig(kind="diffusion", data="ring8", steps=20, batch=64, lr=1e-3, log_every=10,
                     checkpoint_every=20, num_points=500, seed=0)
    run_to_end(good, tmp_path / "a")
    for folder, resume, step, where in (("a", True, 20, "its last good checkpoint, "
                                                        "checkpoints/step_000020.safetensors (step 20)"),
                                        ("b", False, 0, "its start (step 0; no checkpoint had been written)")):
        control = RunControl()
        halts = []
        for event in train(good.replace(steps=60, lr=2.0), tmp_path / folder, resume=resume, control=control,
                           on_fault="pause"):
            if isinstance(event, Paused) and event.reason:
                halts.append(event)
                control.request_stop()
            elif isinstance(event, Finished):
                fin = event
        assert [(h.reason, h.step) for h in halts] == [("diverged", step)]
        assert where in halts[0].message and "loss reached" in halts[0].message, halts[0].message
        assert fin.reason == "stopped" and fin.step == step
        assert set(_sane_checkpoints(tmp_path / folder)) == {step}


def test_a_loss_spike_far_over_its_recent_median_counts_as_divergence():
    guard = LossGuard()
    for step in range(1, 8):
        values = {"loss": 0.05, "bands": [0.05] * 10}
        assert guard.judge(values, step) is None
        guard.record(values)
    assert guard.judge({"loss": 5.0}, 8) is None  # 100x: a bad batch, not a runaway
    what = guard.judge({"loss": 150.0}, 9)
    assert what == "loss jumped to 150 at step 9, over 1000 times its recent median 0.05"
    assert guard.judge({"loss_G": 2e3}, 9).startswith("loss_G reached 2e+03 at step 9, above 1000")
    assert guard.judge({"loss": float("nan")}, 9) == "loss became nan at step 9"


def test_a_loss_blown_up_between_log_steps_by_a_patched_step_halts_like_nan(tmp_path, monkeypatch):
    """A finite runaway loss reported by the trainer ends the CLI run just as NaN does."""
    real = DiffusionTrainer.train_step

    def step(self, batch):
        metrics = real(self, batch)
        if self.step >= 24:
            metrics["loss"] = metrics["loss"] * 0 + 1e20
        return metrics

    monkeypatch.setattr(DiffusionTrainer, "train_step", step)
    cfg = RunConfig(kind="diffusion", data="ring8", steps=60, batch=32, lr=1e-3, log_every=10, checkpoint_every=20,
                    num_points=500, seed=0)
    fin = run_to_end(cfg, tmp_path)
    assert fin.reason == "diverged" and fin.step == 30
    assert "step 20 (checkpoints/step_000020.safetensors" in fin.message
    assert _sane_checkpoints(tmp_path) == [20, 20]


@pytest.mark.parametrize("ceiling_key", ["loss_D", "loss_G", "loss"])
def test_sane_losses_pass(ceiling_key):
    guard = LossGuard()
    assert guard.judge({ceiling_key: 30.0}, 1) is None
