"""Settings changed while a run trains take effect at its next step and are recorded in its folder,
so a resumed run goes on with them (RunControl.change, runs.faults.apply_changes)."""

from __future__ import annotations

import pytest
import torch

from genstudio.config import ConfigError, RunConfig
from genstudio.runs.control import RunControl
from genstudio.runs.events import Progress, SettingsChanged, Snapshot, Started, Tick
from genstudio.runs.faults import apply_changes, with_live_changes
from genstudio.runs.folder import RunDir
from genstudio.runs.loop import run_to_end, train
from genstudio.runs.start import make_trainer


def _config(**kw) -> RunConfig:
    base = dict(kind="gan", data="ring8", batch=64, steps=30, width=32, num_points=2000, device="cpu", lr=1e-3,
                log_every=10, preview_every=100, checkpoint_every=100)
    return RunConfig(**{**base, **kw})


def _lrs(meta: dict) -> dict[str, float]:
    return {role: desc["param_groups"][0]["lr"] for role, desc in meta["optim"].items()}


def test_a_learning_rate_change_takes_effect_at_the_next_step_and_is_recorded(tmp_path):
    control = RunControl()
    events, snapshots = [], []
    for event in train(_config(), tmp_path / "run", control=control):
        events.append(event)
        if isinstance(event, Progress) and event.step == 10:
            control.change(lr=1e-4, d_steps=2)
        if isinstance(event, Tick) and event.step == 11:
            control.request_snapshot()
        if isinstance(event, Snapshot):
            snapshots.append(event)
    changed = [e for e in events if isinstance(e, SettingsChanged)]
    assert [(e.step, e.changes, e.label) for e in changed] == [(10, {"lr": 1e-4, "d_steps": 2}, "lr 0.0001 · D steps 2")]
    after = events.index(changed[0])
    assert isinstance(events[after - 1], Progress) and events[after + 1].step == 11  # before step 11, not later
    assert _lrs(snapshots[0].meta) == {"G": 1e-4, "D": 1e-4}
    rd = RunDir(tmp_path / "run")
    assert [(c["step"], c["label"]) for c in rd.read_changes()] == [(10, "lr 0.0001 · D steps 2")]
    saved = rd.read_config()
    assert saved.lr == 1e-4 and saved.extra["d_steps"] == 2
    # resuming (as `genstudio train --resume` does: the folder's own rate) keeps what was changed
    resumed = train(saved.replace(steps=40), rd.path, resume=True)
    started = next(resumed)
    resumed.close()
    assert isinstance(started, Started) and started.config.lr == 1e-4 and started.config.extra["d_steps"] == 2


def test_a_change_reaches_the_optimisers_and_the_remedies(tmp_path):
    trainer = make_trainer(_config(), torch.device("cpu"))
    config = apply_changes(trainer, RunDir(tmp_path / "r"), {"lr": 5e-4, "d_lr": 2e-3, "d_steps": 3, "r1": 2.0})
    assert trainer.opt_G.param_groups[0]["lr"] == 5e-4 and trainer.opt_D.param_groups[0]["lr"] == 2e-3
    assert trainer.options.d_steps == 3 and trainer.options.r1 == 2.0 and config is trainer.config
    trainer.train_step(trainer.next_batch())
    assert trainer.opt_D.state_dict()["state"][0]["step"].item() == 3


def test_impossible_changes_are_refused_in_one_line():
    with pytest.raises(ConfigError, match="beta1"):
        RunControl().change(beta1=0.9)
    with pytest.raises(ConfigError, match="only in a GAN run"):
        with_live_changes(_config(kind="diffusion"), {"r1": 1.0})
    with pytest.raises(ConfigError, match="d_steps"):
        with_live_changes(_config(), {"d_steps": 0})
    with pytest.raises(ConfigError, match="divide"):
        with_live_changes(_config(extra={"mbstd": 4}), {"batch": 30})


def test_a_run_that_finishes_normally_keeps_no_change_file(tmp_path):
    assert run_to_end(_config(steps=5), tmp_path / "r").reason == "done"
    assert RunDir(tmp_path / "r").read_changes() == []
