"""No lost work: a training process killed with SIGKILL at random moments resumes to the exact end.

After every kill the newest checkpoint (and every other one) loads, and ``metrics.jsonl`` holds the
steps L, 2L, … without gaps or repeats (a half-written last line is allowed until the run resumes);
at the end the log is complete and the last checkpoint is at step N, with the same weights as a
run that was never interrupted.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from genstudio.checkpoint import load_checkpoint
from genstudio.config import RunConfig
from genstudio.loading import load_model
from genstudio.runs.events import Started
from genstudio.runs.folder import RunDir
from genstudio.runs.loop import run_to_end, train

ROOT = Path(__file__).resolve().parents[2]
N, K, L = 600, 50, 10  # steps, checkpoint every K, log every L (about 4 ms a step on one core)
SEED = 4


def command(run: Path, resume: bool) -> list[str]:
    return [sys.executable, "-m", "genstudio", "train", "gan", "--data", "ring8", "--steps", str(N),
            "--batch", "32", "--out", str(run), "--checkpoint-every", str(K), "--log-every", str(L),
            "--preview-every", "150", "--seed", str(SEED), "--device", "cpu", "--quiet",
            *(["--resume"] if resume else [])]


def stamp(path: Path):
    """Identity of a file version (config.json is rewritten by rename each time a run starts)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def wait_for(condition, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and proc.poll() is None:
        assert time.monotonic() < deadline, "the training process made no progress for a minute"
        time.sleep(0.005)


def logged(rd: RunDir) -> int:
    """The last step logged so far (0 if none)."""
    try:
        lines = rd.metrics_path.read_bytes().split(b"\n")[:-1]
    except FileNotFoundError:
        return 0
    return json.loads(lines[-1])["step"] if lines else 0


def logged_steps(rd: RunDir, *, final: bool) -> list[int]:
    """Steps of metrics.jsonl; every complete line must parse, a partial last line only if not final."""
    if not rd.metrics_path.exists():
        return []
    text = rd.metrics_path.read_text()
    lines = text.split("\n")
    tail = lines.pop()  # "" if the file ends with a newline
    assert not (final and tail), f"half-written last line: {tail!r}"
    return [json.loads(line)["step"] for line in lines]


def check_after_kill(rd: RunDir) -> int:
    """Every checkpoint on disk loads; returns the step of last.safetensors (0 if none yet)."""
    for path in sorted(rd.checkpoints.glob("step_*.safetensors")):
        _, meta = load_checkpoint(path, kind="gan")
        assert path.name == f"step_{meta['step']:06d}.safetensors"
    steps = logged_steps(rd, final=False)
    assert steps == list(range(L, L * len(steps) + 1, L)), steps  # no gap, no repeat, even mid-write
    if not rd.last_checkpoint.exists():
        return 0
    model = load_model(rd.last_checkpoint, "cpu", kind="gan")
    assert torch.isfinite(model.sample(4, seed=0)).all()
    step = model.meta["step"]
    assert step % K == 0 or step == N
    return step


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_work(tmp_path):
    rng = random.Random(20240607)
    run = tmp_path / "run"
    rd = RunDir(run)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    seen = []
    for kill in range(5):
        before = stamp(rd.config_path)
        proc = subprocess.Popen(command(run, resume=before is not None), env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if kill == 0:  # as soon as the run exists: before its first checkpoint
            wait_for(lambda: stamp(rd.config_path) is not None, proc)
        elif rng.random() < 0.25:  # anywhere in start-up: imports, loading, truncating the log
            time.sleep(rng.uniform(0.1, 2.5))
        else:  # at a random point of training (mid-step, mid-log-line, mid-checkpoint), whatever the speed
            target = rng.randrange(max(L, (kill - 1) * N // 4), kill * N // 4, L)  # kill k in the k-th quarter
            wait_for(lambda: stamp(rd.config_path) != before and logged(rd) >= target, proc)
            time.sleep(rng.uniform(0.0, 0.05))
        if proc.poll() is not None:  # it finished before the kill landed
            assert proc.returncode == 0, proc.stderr.read().decode()
            break
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        seen.append(check_after_kill(rd))
    final = subprocess.run(command(run, resume=True), env=env, cwd=ROOT, capture_output=True, text=True,
                           timeout=180)
    assert final.returncode == 0, final.stderr
    assert f"done at step {N}" in final.stdout
    assert logged_steps(rd, final=True) == list(range(L, N + 1, L))
    tensors, meta = load_checkpoint(rd.last_checkpoint, kind="gan")
    assert meta["step"] == N
    assert seen and seen == sorted(seen), seen  # progress is never lost between kills

    # the same weights as a run that was never interrupted (the CLI's config, in this process)
    whole = tmp_path / "whole"
    config = RunConfig.from_json(rd.config_path.read_text())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the killed processes ran
    try:
        run_to_end(config, whole)
    finally:
        torch.set_num_threads(threads)
    reference, _ = load_checkpoint(RunDir(whole).last_checkpoint)
    for k, v in reference.items():
        if k.startswith("model/"):
            assert torch.allclose(tensors[k], v, atol=1e-6), k


def test_resume_of_a_run_killed_before_its_first_checkpoint_starts_over(tmp_path):
    config = RunConfig(kind="gan", data="ring8", steps=30, batch=8, width=8, num_points=200, log_every=10,
                       preview_every=1000, checkpoint_every=1000, seed=2)
    events = train(config, tmp_path)
    assert isinstance(next(events), Started)  # config.json written, no step taken
    events.close()  # as if killed here
    rd = RunDir(tmp_path)
    rd.metrics_path.write_text('{"step": 10, "loss_D": 1.0}\n{"step": 20, "lo')  # a lost attempt's log
    assert rd.config_path.exists() and not rd.last_checkpoint.exists()
    fin = run_to_end(config.replace(steps=40), tmp_path, resume=True)
    assert fin.reason == "done" and fin.step == 40
    assert [r["step"] for r in rd.read_metrics()] == [10, 20, 30, 40]
    assert RunConfig.from_json(rd.config_path.read_text()).steps == 40
