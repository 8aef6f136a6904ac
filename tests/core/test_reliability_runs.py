"""Faults in the run loop: a run that pauses on divergence or out-of-memory (the app's mode), one
that stops on them (the CLI's), and the command's one-line errors for unusable data folders."""

from __future__ import annotations

import json

import pytest
import torch

from genstudio.checkpoint import load_checkpoint
from genstudio.cli import main
from genstudio.config import RunConfig
from genstudio.gan.trainer import GanTrainer
from genstudio.runs.control import RunControl
from genstudio.runs.events import Finished, Paused, Progress
from genstudio.runs.faults import is_out_of_memory
from genstudio.runs.folder import RunDir
from genstudio.runs.loop import run_to_end, train

CFG = RunConfig(kind="gan", data="ring8", steps=40, batch=32, log_every=5, preview_every=20,
                checkpoint_every=10, num_points=500, seed=3)

OOM_ERRORS = {
    "cuda": lambda: torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
    "cpu allocator": lambda: RuntimeError("[enforce fail at alloc_cpu.cpp:117] . DefaultCPUAllocator: "
                                          "can't allocate memory: you tried to allocate 8589934592 bytes."),
    "python": lambda: MemoryError(),
}


def _failing_step(monkeypatch, *, at_step: int, error, while_=lambda trainer: True) -> list[int]:
    """Make GanTrainer.train_step raise ``error()`` when about to run step ``at_step`` (while ``while_``)."""
    real = GanTrainer.train_step
    raised: list[int] = []

    def step(self, batch):
        if self.step + 1 == at_step and while_(self):
            raised.append(self.step + 1)
            raise error()
        return real(self, batch)

    monkeypatch.setattr(GanTrainer, "train_step", step)
    return raised


def _logged_steps(run) -> list[int]:
    return [r["step"] for r in RunDir(run).read_metrics()]


def _finite(path) -> bool:
    tensors, _ = load_checkpoint(path)
    return all(bool(torch.isfinite(v).all()) for k, v in tensors.items() if k.startswith("model/"))


# ------------------------------------------------------------------------------------ divergence
def test_a_huge_learning_rate_pauses_rolls_back_and_resumes_with_a_lower_one(tmp_path):
    """The app's mode: pause at step 23 and resume with lr 1e5 (a diffusion loss then explodes), see
    the run go back to its last checkpoint (step 20) and pause, resume with a sane rate, finish."""
    cfg = CFG.replace(kind="diffusion", beta1=0.9, lr=1e-3, log_every=1, steps=40)
    control = RunControl()
    faults: list[Paused] = []
    for event in train(cfg, tmp_path, control=control, on_fault="pause"):
        if isinstance(event, Progress) and event.step == 23 and not faults:
            control.pause()
        elif isinstance(event, Paused) and not event.reason:
            control.resume(lr=1e5)
        elif isinstance(event, Paused):
            faults.append(event)
            rd = RunDir(tmp_path)
            assert _logged_steps(tmp_path)[-1] == event.step == 20  # the log went back too
            assert load_checkpoint(rd.last_checkpoint)[1]["step"] == 20 and _finite(rd.last_checkpoint)
            control.resume(lr=1e-3)
        elif isinstance(event, Finished):
            fin = event
    assert [f.reason for f in faults] == ["diverged"]
    message = faults[0].message
    assert "at step 2" in message and "step 20" in message and "(now 100000)" in message, message
    assert fin.reason == "done" and fin.step == 40
    assert _logged_steps(tmp_path) == list(range(1, 41))  # no gap, no repeat
    rd = RunDir(tmp_path)
    assert all(_finite(p) for p in rd.checkpoints.glob("*.safetensors"))
    assert json.loads(rd.config_path.read_text())["lr"] == 1e-3
    assert load_checkpoint(rd.last_checkpoint)[1]["config"]["lr"] == 1e-3


def test_divergence_before_the_first_checkpoint_rolls_back_to_the_start(tmp_path):
    cfg = CFG.replace(kind="diffusion", beta1=0.9, lr=1e5, log_every=1, checkpoint_every=1000, steps=30)
    control = RunControl()
    events = []
    for event in train(cfg, tmp_path, control=control, on_fault="pause"):
        events.append(event)
        if isinstance(event, Paused):
            assert event.step == 0 and "its start" in event.message
            assert not RunDir(tmp_path).read_metrics()
            control.request_stop()  # "Stop": the good state (the start) is what is saved
    fin = events[-1]
    assert isinstance(fin, Finished) and fin.reason == "stopped" and fin.step == 0
    assert _finite(RunDir(tmp_path).last_checkpoint)


def test_the_cli_mode_still_stops_on_divergence(tmp_path):
    cfg = CFG.replace(kind="diffusion", beta1=0.9, lr=1e5, log_every=1, checkpoint_every=1)
    fin = run_to_end(cfg, tmp_path)
    assert fin.reason == "diverged" and f"at step {fin.step}" in fin.message


# ------------------------------------------------------------------------------------ out of memory
@pytest.mark.parametrize("kind", list(OOM_ERRORS))
def test_out_of_memory_stops_the_cli_run_with_a_checkpoint_that_resumes(kind, tmp_path, monkeypatch):
    raised = _failing_step(monkeypatch, at_step=15, error=OOM_ERRORS[kind])
    fin = run_to_end(CFG, tmp_path)
    assert raised == [15]
    assert fin.reason == "out of memory" and fin.step == 14
    assert "step 15" in fin.message and "batch 32" in fin.message and "smaller batch" in fin.message
    rd = RunDir(tmp_path)
    assert load_checkpoint(rd.last_checkpoint)[1]["step"] == 14  # the work done is saved
    monkeypatch.undo()
    assert run_to_end(CFG, tmp_path, resume=True).reason == "done"
    assert _logged_steps(tmp_path) == list(range(5, 41, 5))


def test_out_of_memory_pauses_the_app_run_and_it_resumes_with_a_smaller_batch(tmp_path, monkeypatch):
    raised = _failing_step(monkeypatch, at_step=15, error=OOM_ERRORS["cuda"],
                           while_=lambda trainer: trainer.config.batch > 16)
    control = RunControl()
    faults = []
    for event in train(CFG, tmp_path, control=control, on_fault="pause"):
        if isinstance(event, Paused):
            faults.append(event)
            control.resume(batch=16)
        fin = event
    assert raised == [15]
    assert [(f.reason, f.step) for f in faults] == [("out of memory", 14)]
    assert "batch 32" in faults[0].message
    assert fin.reason == "done" and fin.step == 40
    assert _logged_steps(tmp_path) == list(range(5, 41, 5))
    _, meta = load_checkpoint(RunDir(tmp_path).last_checkpoint)
    assert meta["config"]["batch"] == 16


def test_other_errors_are_not_mistaken_for_out_of_memory(tmp_path, monkeypatch):
    _failing_step(monkeypatch, at_step=3, error=lambda: RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    with pytest.raises(RuntimeError, match="shapes"):
        run_to_end(CFG, tmp_path)
    assert not is_out_of_memory(ValueError("out of memory"))
    assert is_out_of_memory(RuntimeError("MPS backend out of memory"))


def test_an_unexpected_error_in_a_step_keeps_the_steps_before_it(tmp_path, monkeypatch):
    # checkpoint_every 10: without the save on error the run would restart from step 10, not 17
    _failing_step(monkeypatch, at_step=18, error=lambda: OSError("image 'b.png' vanished from the folder"))
    with pytest.raises(OSError, match="vanished") as caught:
        run_to_end(CFG, tmp_path)
    assert "Step 17 is saved" in " ".join(caught.value.__notes__)
    rd = RunDir(tmp_path)
    _, meta = load_checkpoint(rd.last_checkpoint)
    assert meta["step"] == 17 and _finite(rd.last_checkpoint)
    monkeypatch.undo()
    assert run_to_end(CFG, tmp_path, resume=True).reason == "done"
    assert _logged_steps(tmp_path) == list(range(5, 41, 5))  # 15, then 20 from the resumed step 17


def test_the_command_says_what_an_unexpected_error_left_saved(tmp_path, monkeypatch, capsys):
    _failing_step(monkeypatch, at_step=4, error=lambda: OSError("disk unplugged"))
    rc = main(["train", "gan", "--data", "ring8", "--steps", "10", "--batch", "64", "--out", str(tmp_path / "r"),
               "--quiet", "--device", "cpu"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and err.count("\n") == 0
    assert err.startswith("genstudio: error: disk unplugged") and "Step 3 is saved" in err, err


def test_only_live_settings_change_on_resume():
    control = RunControl()
    with pytest.raises(ValueError, match="size"):
        control.resume(size=64)
    control.resume(lr=1e-4, batch=8)
    assert control.take_changes() == {"lr": 1e-4, "batch": 8} and control.take_changes() == {}
    with pytest.raises(ValueError, match="on_fault"):
        next(train(CFG, "unused", on_fault="ignore"))


def test_the_command_reports_out_of_memory_in_one_line(tmp_path, monkeypatch, capsys):
    _failing_step(monkeypatch, at_step=3, error=OOM_ERRORS["cpu allocator"])
    rc = main(["train", "gan", "--data", "ring8", "--steps", "10", "--batch", "64", "--out", str(tmp_path / "r"),
               "--quiet", "--device", "cpu"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and err.count("\n") == 0
    assert err.startswith("genstudio: error: out of memory at step 3 with batch 64"), err


# ------------------------------------------------------------------------------------ data folders
@pytest.mark.parametrize("setup, words", [
    (lambda p: None, "folder not found"),
    (lambda p: (p.mkdir(), (p / "notes.txt").write_text("hi")), "no image files"),
    (lambda p: (p.mkdir(), (p / "a.png").write_bytes(b""), (p / "b.jpg").write_text("x")), "no usable image"),
])
def test_the_command_refuses_an_unusable_folder_in_one_line(setup, words, tmp_path, capsys):
    folder = tmp_path / "images"
    setup(folder)
    rc = main(["train", "gan", "--data", f"folder:{folder}", "--steps", "5", "--out", str(tmp_path / "r"),
               "--quiet", "--device", "cpu"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and err.count("\n") == 0 and err.startswith("genstudio: error:") and words in err, err
