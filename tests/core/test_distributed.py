"""Data-parallel training through torchrun: two CPU processes (gloo) on tiny 2-D models.

A 2-process run writes one run directory (rank 0 alone), ends with bit-identical weights on both
ranks (each writes a digest through ``GENSTUDIO_DIST_DIGEST``), logs the metrics of a one-process run
with the same global batch, and leaves a checkpoint that one process resumes. A SIGTERM to rank 1
stops both ranks after the same step with a checkpoint. Every child process is killed if a check
fails, and no test leaves one behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from genstudio.checkpoint import load_checkpoint
from genstudio.cli import build_parser, main
from genstudio.cli_train import _without_nproc, config_from_args
from genstudio.config import ConfigError, RunConfig
from genstudio.runs.folder import RunDir
from genstudio.runs.loop import run_to_end
from genstudio.runs.start import make_trainer

pytestmark = pytest.mark.skipif(not (torch.distributed.is_available() and torch.distributed.is_gloo_available()),
                                reason="torch.distributed with gloo is not available")

ROOT = Path(__file__).resolve().parents[2]
DIST_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
             "GROUP_RANK", "ROLE_RANK", "TORCHELASTIC_RUN_ID")


def child_env(digests: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DIST_VARS}
    # faulthandler: a rank that aborts prints every thread's Python stack (what a flaky failure needs)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", GENSTUDIO_DIST_DIGEST=str(digests), PYTHONFAULTHANDLER="1")
    return env


def descendants(pid: int) -> list[int]:
    """Process ids below ``pid`` (Linux /proc), children first."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(text.rsplit(")", 1)[1].split()[1])
    out, frontier = [], [pid]
    while frontier:
        kids = [p for p, parent in parents.items() if parent in frontier]
        out += kids
        frontier = kids
    return out


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc`` and everything it started (torchrun puts its workers in their own sessions)."""
    for pid in [*descendants(proc.pid), proc.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.communicate()


def rank_pid(agent: int, rank: int, timeout: float = 30.0) -> int:
    """The worker process of ``rank`` under the torchrun agent ``agent``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in descendants(agent):
            try:
                env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"RANK={rank}".encode() in env:
                return pid
        time.sleep(0.1)
    raise AssertionError(f"no worker of rank {rank} under torchrun")


def digests(folder: Path) -> list[dict]:
    return [json.loads((folder / f"rank{r}.json").read_text()) for r in (0, 1)]


def metric_values(rd: RunDir, keys: tuple[str, ...]) -> list[tuple[int, list[float]]]:
    return [(r["step"], [r[k] for k in keys]) for r in rd.read_metrics()]


def assert_same_weights(a: Path, b: Path, atol: float) -> None:
    ta, _ = load_checkpoint(a)
    tb, _ = load_checkpoint(b)
    names = [k for k in ta if k.startswith(("model/", "ema/"))]
    assert names and sorted(ta) == sorted(tb)
    for k in names:
        assert torch.allclose(ta[k], tb[k], rtol=0, atol=atol), (k, float((ta[k] - tb[k]).abs().max()))


# ---------------------------------------------------------------------------- without processes
def test_batch_is_global_and_must_split_evenly():
    config = RunConfig(kind="gan", data="ring8", batch=30, width=8, num_points=200)
    with pytest.raises(ConfigError, match="multiple of 4"):
        make_trainer(config, torch.device("cpu"), rank=1, world_size=4)
    t0 = make_trainer(config, torch.device("cpu"), rank=0, world_size=3)
    t2 = make_trainer(config, torch.device("cpu"), rank=2, world_size=3)
    one = make_trainer(config, torch.device("cpu"))
    # each rank takes its third of the global batch (rows 0-9, 20-29) that one process would draw
    whole = one.next_batch()
    assert torch.equal(t0.next_batch(), whole[:10]) and torch.equal(t2.next_batch(), whole[20:])
    assert torch.equal(t2.draw_normal(10, (2,)), one.draw_normal(30, (2,))[20:])


def test_nproc_is_not_passed_on_to_the_processes():
    assert _without_nproc(["train", "gan", "--nproc", "2", "--steps", "5", "--nproc=3"]) == \
        ["train", "gan", "--steps", "5"]


def test_nproc_refuses_a_batch_it_cannot_split_before_starting_anything(tmp_path, capsys):
    argv = ["train", "gan", "--data", "ring8", "--steps", "5", "--batch", "30", "--device", "cpu",
            "--out", str(tmp_path / "run"), "--nproc", "4"]
    assert main(argv) == 1
    assert "must split evenly over 4 processes" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------------------- two processes
GAN_ARGS = ["train", "gan", "--data", "ring8", "--steps", "20", "--batch", "32", "--width", "32",
            "--log-every", "5", "--checkpoint-every", "10", "--preview-every", "10", "--seed", "3",
            "--device", "cpu", "--quiet"]


def test_two_process_gan_matches_one_process_and_resumes_on_one(tmp_path):
    run, single, dig = tmp_path / "run", tmp_path / "single", tmp_path / "digests"
    proc = subprocess.Popen([sys.executable, "-m", "genstudio", *GAN_ARGS, "--out", str(run), "--nproc", "2"],
                            env=child_env(dig), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            kill_tree(proc)
    assert proc.returncode == 0, err[-3000:]
    assert out.count("done at step 20") == 1, out  # rank 0 alone reports

    # one run directory, written once
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digests", "run"]
    rd = RunDir(run)
    assert sorted(p.name for p in rd.checkpoints.iterdir()) == \
        ["last.safetensors", "step_000010.safetensors", "step_000020.safetensors"]
    assert sorted(p.name for p in rd.previews.iterdir()) == ["step_000010.npz", "step_000020.npz"]
    assert [r["step"] for r in rd.read_metrics()] == [5, 10, 15, 20]

    # the same weights, optimiser state and RNG streams on both ranks
    d0, d1 = digests(dig)
    assert (d0["world_size"], d0["step"], d1["step"]) == (2, 20, 20)
    assert d0["weights"] == d1["weights"] and d0["state"] == d1["state"]

    # one process, same global batch: the same numbers up to float rounding in the gradient average
    config = config_from_args(build_parser().parse_args([*GAN_ARGS, "--out", str(single)]))
    assert RunConfig.from_json(rd.config_path.read_text()) == config
    assert run_to_end(config, single).reason == "done"
    keys = ("loss_D", "loss_G", "D(x)", "D(G(z))")
    for (s2, v2), (s1, v1) in zip(metric_values(rd, keys), metric_values(RunDir(single), keys), strict=True):
        assert s2 == s1 and v2 == pytest.approx(v1, rel=1e-4, abs=1e-5), (s2, v2, v1)
    assert_same_weights(rd.last_checkpoint, RunDir(single).last_checkpoint, atol=1e-4)

    # the 2-process checkpoint resumes on one process and goes on as the 1-process run does
    for folder in (run, single):
        fin = run_to_end(config.replace(steps=30), folder, resume=True)
        assert (fin.reason, fin.step) == ("done", 30)
    assert [r["step"] for r in rd.read_metrics()] == [5, 10, 15, 20, 25, 30]
    later = list(zip(metric_values(rd, keys), metric_values(RunDir(single), keys)))[4:]
    for (s2, v2), (s1, v1) in later:
        assert s2 == s1 and v2 == pytest.approx(v1, rel=1e-3, abs=1e-4), (s2, v2, v1)
    assert_same_weights(rd.last_checkpoint, RunDir(single).last_checkpoint, atol=1e-4)


def test_sigterm_to_nproc_stops_the_run_with_a_checkpoint_and_exit_143_as_one_process_does(tmp_path):
    run = tmp_path / "run"
    args = ["train", "diffusion", "--data", "ring8", "--steps", "100000", "--batch", "64", "--timesteps", "100",
            "--width", "32", "--log-every", "5", "--checkpoint-every", "100000", "--preview-every", "100000",
            "--seed", "5", "--device", "cpu", "--quiet", "--nproc", "2"]
    proc = subprocess.Popen([sys.executable, "-m", "genstudio", *args, "--out", str(run)],
                            env=child_env(tmp_path / "digests"), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    rd = RunDir(run)
    try:
        deadline = time.monotonic() + 90
        while len(rd.read_metrics()) < 2:  # training is under way
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-3000:]
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)  # to `genstudio train --nproc 2` itself, as `kill` would
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            kill_tree(proc)
    assert proc.returncode == 143, err[-12000:]
    step = load_checkpoint(rd.last_checkpoint, kind="diffusion")[1]["step"]
    assert out.count(f"stopped at step {step};") == 1, out
    assert "stopping after this step" in err


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the ranks through /proc")
def test_sigterm_to_one_rank_stops_both_after_the_same_step(tmp_path):
    run, dig = tmp_path / "run", tmp_path / "digests"
    args = ["train", "diffusion", "--data", "ring8", "--steps", "100000", "--batch", "64", "--timesteps", "100",
            "--width", "32", "--log-every", "5", "--checkpoint-every", "100000", "--preview-every", "100000",
            "--seed", "5", "--device", "cpu", "--quiet"]
    proc = subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                             "-m", "genstudio", *args, "--out", str(run)],
                            env=child_env(dig), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rd = RunDir(run)
    try:
        worker = rank_pid(proc.pid, 1, timeout=60)
        deadline = time.monotonic() + 90
        while len(rd.read_metrics()) < 2:  # training is under way
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1][-3000:]
            time.sleep(0.05)
        os.kill(worker, signal.SIGTERM)  # as a scheduler (or a crash of one rank's host) would
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            kill_tree(proc)
    assert proc.returncode == 0, err[-12000:]
    assert out.count("stopped at step") == 1, out
    _, meta = load_checkpoint(rd.last_checkpoint, kind="diffusion")
    step = meta["step"]
    assert f"stopped at step {step};" in out
    d0, d1 = digests(dig)
    assert d0["step"] == d1["step"] == step and d0["state"] == d1["state"]
    steps = [r["step"] for r in rd.read_metrics()]
    assert steps == list(range(5, step + 1, 5))

    # the same run on one process from the start: the same losses (per band too) and weights at that step
    config = RunConfig.from_json(rd.config_path.read_text())
    single = tmp_path / "single"
    assert run_to_end(config.replace(steps=step), single).reason == "done"
    ones = {r["step"]: r for r in RunDir(single).read_metrics()}  # it also logs its last step
    for rec in rd.read_metrics():
        one = ones[rec["step"]]
        assert rec["loss"] == pytest.approx(one["loss"], rel=1e-3, abs=1e-5)
        bands = [[float(b) for b in r["bands"]] for r in (rec, one)]  # empty bands are "nan"
        assert bands[0] == pytest.approx(bands[1], rel=1e-3, abs=1e-5, nan_ok=True), rec["step"]
    assert_same_weights(rd.last_checkpoint, RunDir(single).last_checkpoint, atol=1e-4)
