"""Ctrl-C and SIGTERM on a single-process ``genstudio train`` stop after the step and save it.

A real process is signalled mid-run: it must say it is stopping, write a checkpoint at (or past) the
last logged step, print where, and exit 130 (SIGINT) or 143 (SIGTERM); ``--resume`` then goes on
from that checkpoint. A second Ctrl-C ends at once (checked on :class:`StopOnSignal` in-process).
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

from genstudio.checkpoint import read_header
from genstudio.cli import main
from genstudio.runs.distributed import StopOnSignal

ROOT = Path(__file__).resolve().parents[2]
LOG_EVERY = 50


def last_logged(run: Path) -> int:
    try:
        lines = (run / "metrics.jsonl").read_text().splitlines()
    except FileNotFoundError:
        return 0
    steps = [json.loads(x)["step"] for x in lines if x.endswith("}")]  # a line may be half written
    return steps[-1] if steps else 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_and_sigterm_save_the_step_they_stop_at_and_resume_goes_on(tmp_path, capsys):
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    runs = {signal.SIGINT: tmp_path / "int", signal.SIGTERM: tmp_path / "term"}
    procs = {sig: subprocess.Popen(
        [sys.executable, "-m", "genstudio", "train", "gan", "--data", "ring8", "--steps", "100000",
         "--out", str(run), "--checkpoint-every", "100000", "--log-every", str(LOG_EVERY),
         "--batch", "32", "--device", "cpu"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for sig, run in runs.items()}  # both at once: half the wall time on a slow machine
    try:
        pending = dict(procs)
        deadline = time.monotonic() + 240
        while pending:  # signal each once a few hundred steps are logged
            for sig, proc in list(pending.items()):
                assert proc.poll() is None, proc.communicate()[1]
                if last_logged(runs[sig]) >= 4 * LOG_EVERY:
                    proc.send_signal(sig)
                    del pending[sig]
            assert time.monotonic() < deadline, "the runs logged too few steps in four minutes"
            time.sleep(0.05)
        results = {sig: proc.communicate(timeout=120) for sig, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

    for sig, (out, err) in results.items():
        run = runs[sig]
        assert procs[sig].returncode == 128 + sig, (sig, err)
        assert "genstudio: stopping after this step (again to end now)" in err
        assert "Traceback" not in err and "interrupted" not in err, err
        step = read_header(run / "checkpoints" / "last.safetensors")["step"]
        assert step >= last_logged(run) >= 4 * LOG_EVERY  # no logged step is lost
        assert out.strip() == f"stopped at step {step}; checkpoint: {run / 'checkpoints' / 'last.safetensors'}"

    run = runs[signal.SIGINT]
    step = read_header(run / "checkpoints" / "last.safetensors")["step"]
    capsys.readouterr()
    assert main(["train", "gan", "--data", "ring8", "--steps", str(step + 20), "--out", str(run), "--resume",
                 "--log-every", "10", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert f"steps {step}→{step + 20}" in err  # it goes on from the saved step, not from the start
    assert read_header(run / "checkpoints" / "last.safetensors")["step"] == step + 20
    steps = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == step + 20


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_second_ctrl_c_ends_at_once():
    asked = []
    with pytest.raises(KeyboardInterrupt):
        with StopOnSignal(lambda: asked.append(1)) as signals:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # the handler runs between two bytecodes
                if asked:
                    break
                time.sleep(0.001)
            assert asked == [1] and signals.signum == signal.SIGINT
            os.kill(os.getpid(), signal.SIGINT)  # the usual Ctrl-C again: KeyboardInterrupt
            time.sleep(1)
    assert asked == [1]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back on leaving


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_an_ignored_signal_stays_ignored():
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as under nohup or in a background job
    try:
        asked = []
        with StopOnSignal(lambda: asked.append(1)) as signals:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert asked == [] and signals.signum is None
    finally:
        signal.signal(signal.SIGINT, old)


def test_a_train_started_from_another_thread_still_runs(tmp_path):
    """Signal handlers can only be set in the main thread: elsewhere the run goes on without them."""
    import threading

    codes = []
    thread = threading.Thread(target=lambda: codes.append(main(
        ["train", "gan", "--data", "ring8", "--steps", "2", "--batch", "8", "--out", str(tmp_path / "r"),
         "--quiet", "--device", "cpu"])))
    thread.start()
    thread.join(60)
    assert codes == [0]
