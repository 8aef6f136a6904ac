"""One writer per run folder: a second CLI run, fresh or --resume, a run started while this process
holds the lock, and a torchrun job are refused with one line naming the holder; the lock goes away
when its holder ends, however it ends (SIGKILL included), and the next run may resume.

Also the smaller folder troubles: --out naming a file or a FIFO, --resume on a folder a run was
killed in before it wrote config.json, --resume on a folder that does not exist.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genstudio.cli import main
from genstudio.config import RunConfig
from genstudio.runs.events import Started
from genstudio.runs.folder import RunDir
from genstudio.runs.lock import RunLocked, lock_run
from genstudio.runs.loop import run_to_end, train
from genstudio.runs.start import RunError

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["train", "gan", "--data", "ring8", "--steps", "100000", "--checkpoint-every", "20", "--quiet"]
CFG = RunConfig(kind="gan", data="ring8", steps=20, batch=32, log_every=5, checkpoint_every=10,
                num_points=500, seed=1)
HOLDER = re.compile(r"^genstudio: error: (?P<dir>\S+) is being written by pid (?P<pid>\d+) on host (?P<host>\S+) "
                    r"since \d\d:\d\d:\d\d; wait for it to finish or stop it$")


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "genstudio", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def _wait_until(check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _holder_pid(run: Path) -> int | None:
    try:
        return json.loads((run / ".lock").read_text()).get("pid")
    except (OSError, ValueError):
        return None


def test_a_second_cli_run_on_a_folder_being_written_is_refused_and_touches_nothing(tmp_path):
    """The repro: two `train --out X` at once, and a --resume beside them, then SIGKILL the writer:
    the lock goes with it, and the next --resume continues the first run."""
    run = tmp_path / "X"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen([sys.executable, "-m", "genstudio", *ARGS, "--out", str(run), "--seed", "1"],
                             cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until(lambda: _holder_pid(run) == first.pid and RunDir(run).last_checkpoint.exists())
        for more in (["--seed", "2", "--lr", "1e-3"], ["--seed", "2", "--lr", "1e-3", "--resume"]):
            second = _cli(*ARGS, "--out", str(run), *more)
            lines = second.stderr.strip().splitlines()
            assert second.returncode == 1 and len(lines) == 1, second.stderr
            m = HOLDER.match(lines[0])
            assert m and int(m["pid"]) == first.pid and m["host"] == socket.gethostname(), lines[0]
            assert "Traceback" not in second.stderr
        assert first.poll() is None  # the writer went on
        assert RunDir(run).read_config().seed == 1
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    rd = RunDir(run)
    assert json.loads(rd.config_path.read_text())["seed"] == 1
    steps = [r["step"] for r in rd.read_metrics()]
    assert steps == sorted(set(steps)), "a step was logged twice"
    # SIGKILL left .lock behind, but no lock: the OS dropped it with the process
    again = _cli(*ARGS[:4], "--steps", str(steps[-1] + 20), *ARGS[6:], "--out", str(run), "--resume")
    assert again.returncode == 0, again.stderr
    steps = [r["step"] for r in rd.read_metrics()]
    assert steps == sorted(set(steps)) and RunDir(run).read_config().seed == 1


@pytest.mark.parametrize("resume", [False, True])
def test_a_run_started_while_this_process_holds_the_lock_is_refused(tmp_path, capsys, resume):
    run = tmp_path / "run"
    run_to_end(CFG, run)  # something to resume
    before = {p: p.read_bytes() for p in (run / "config.json", run / "metrics.jsonl")}
    with lock_run(run):
        code = main(["train", "gan", "--data", "ring8", "--steps", "40", "--out", str(run), "--seed", "2",
                     *(["--resume"] if resume else [])])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "\n" not in err
    m = HOLDER.match(err)
    assert m and int(m["pid"]) == os.getpid() and m["dir"] == str(run), err
    assert {p: p.read_bytes() for p in before} == before


def test_the_lock_is_held_for_the_run_and_released_however_it_ends(tmp_path):
    run = tmp_path / "run"
    events = train(CFG.replace(steps=200), run)
    assert isinstance(next(events), Started)
    with pytest.raises(RunLocked, match=f"pid {os.getpid()} on host"):
        lock_run(run)
    with pytest.raises(RunError, match="is being written by"):
        run_to_end(CFG.replace(steps=200), run, resume=True)
    events.close()  # the app's thread ending early, the CLI interrupted
    lock_run(run).release()
    assert run_to_end(CFG.replace(steps=30), run, resume=True).reason == "done"
    lock_run(run).release()  # released at the end of a run too


def test_a_torchrun_job_is_refused_while_another_process_writes(tmp_path):
    torch = pytest.importorskip("torch")
    if not (torch.distributed.is_available() and torch.distributed.is_gloo_available()):
        pytest.skip("torch.distributed with gloo is not available")
    run = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR",
                                                            "MASTER_PORT", "LOCAL_WORLD_SIZE")}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    with lock_run(run):
        proc = subprocess.run([sys.executable, "-m", "genstudio", "train", "gan", "--data", "ring8", "--steps",
                               "20", "--out", str(run), "--nproc", "2", "--quiet"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=180)
    assert proc.returncode != 0
    assert f"is being written by pid {os.getpid()} on host" in proc.stderr, proc.stderr[-2000:]
    assert not (run / "config.json").exists()


# ------------------------------------------------------------------------------------ folder troubles
def test_out_naming_a_file_or_a_fifo_says_what_it_is(tmp_path, capsys):
    f = tmp_path / "X"
    f.write_text("notes")
    assert main(["train", "gan", "--data", "ring8", "--steps", "5", "--out", str(f)]) == 1
    assert capsys.readouterr().err == f"genstudio: error: --out {f} is a file, not a run folder\n"
    assert f.read_text() == "notes"
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        assert main(["train", "gan", "--data", "ring8", "--steps", "5", "--out", str(fifo), "--resume"]) == 1
        assert capsys.readouterr().err == f"genstudio: error: --out {fifo} is a FIFO (named pipe), not a run folder\n"
        with pytest.raises(RunError, match=r"is a FIFO \(named pipe\), not a run folder"):
            run_to_end(CFG, fifo)  # the app's way in


def test_resume_of_a_run_killed_before_its_config_starts_it_fresh(tmp_path, capsys):
    """A run killed while loading its data leaves a folder with at most .lock in it: the same
    command with --resume starts it (nothing was trained, so nothing is lost), and says so."""
    run = tmp_path / "run"
    run.mkdir()
    (run / ".lock").write_text(json.dumps({"pid": 999999, "host": "gone", "since": 0}))  # from the killed run
    args = ["train", "gan", "--data", "ring8", "--steps", "10", "--log-every", "5", "--out", str(run), "--quiet",
            "--resume"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "nothing to resume in" in captured.err and "starting it fresh" in captured.err
    assert "done at step 10" in captured.out
    assert [r["step"] for r in RunDir(run).read_metrics()] == [5, 10]


def test_resume_of_a_folder_that_does_not_exist_says_so(tmp_path, capsys):
    run = tmp_path / "typo"
    assert main(["train", "gan", "--data", "ring8", "--steps", "5", "--out", str(run), "--resume"]) == 1
    assert capsys.readouterr().err == (f"genstudio: error: nothing to resume: {run} does not exist "
                                       f"(start a new run there instead)\n")
    assert not run.exists()
