"""Shared test set-up: offscreen Qt, one CPU thread for torch, and no leaked threads or child processes."""

from __future__ import annotations

import os
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("GENSTUDIO_SETTINGS_ORG", "GenStudioTests")  # keep tests out of the user's settings

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)  # on a shared 2-core box one thread is fastest for these tiny models


@pytest.fixture(autouse=True)
def no_thread_left_behind():
    """Fail a test that leaves a Python thread (or a QThread's Python side) running."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3.0
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra, f"test left threads running: {[t.name for t in extra]}"


def _child_processes() -> dict[int, str]:
    """This process's child processes and their state letter ("Z": a zombie), from /proc (Linux)."""
    found: dict[int, str] = {}
    for task in os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else ():
        try:
            with open(f"/proc/self/task/{task}/children") as fh:
                pids = [int(p) for p in fh.read().split()]
        except OSError:
            continue
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    found[pid] = fh.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                pass
    return found


@pytest.fixture(autouse=True)
def no_process_left_behind():
    """Fail a test that leaves a child process (a training process, a zombie) behind."""
    import multiprocessing

    before = set(_child_processes())
    yield
    from multiprocessing import resource_tracker

    tracker = getattr(resource_tracker._resource_tracker, "_pid", None)  # one per session, by design
    before.add(tracker)
    deadline = time.monotonic() + 5.0
    while True:
        multiprocessing.active_children()  # reaps finished multiprocessing children
        extra = {pid: state for pid, state in _child_processes().items() if pid not in before}
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not extra, f"test left child processes (pid: state) {extra}"


@pytest.fixture
def toy_sampler():
    """A sampler registered in this one place (and removed after the test): DDIM under another name.

    The done-when test of issue 15: it must show up in ``genstudio sample --sampler``, the scrubber's
    list and the branch panel, and sample through the CLI and the app, with no other file edited.
    """
    from genstudio.diffusion.samplers import ddim_steps
    from genstudio.sampling import Sampler, register_sampler, unregister_sampler

    def steps(eps_model, shape, schedule, spec, **where):
        return ddim_steps(eps_model, shape, schedule, steps=spec.steps, eta=spec.eta, seed=spec.seed, **where)

    register_sampler(Sampler("toy", "Toy", "DDIM by another name (a test's sampler)", steps,
                             takes_steps=True, takes_eta=True))
    yield "toy"
    unregister_sampler("toy")


@pytest.fixture
def toy_family():
    """A model family registered in this one place (and removed after the test).

    A GAN re-labelled "toy", whose trainer logs one more number, ``loss_toy`` (D's + G's loss): the
    only metric it declares, so the Monitor plots that and none of the GAN's four. The done-when test
    of issue 15: it trains from the CLI and the app, its metric is plotted and its checkpoint opens
    in the view it names, with no other file edited.
    """
    from genstudio.families import Family, Metric, register_family, unregister_family
    from genstudio.gan.trainer import GanTrainer
    from genstudio.gan.model import GanModel

    class ToyTrainer(GanTrainer):
        kind = "toy"

        def train_step(self, real):
            metrics = super().train_step(real)
            return {**metrics, "loss_toy": metrics["loss_D"] + metrics["loss_G"]}

    class ToyModel(GanModel):
        kind = "toy"

    register_family(Family("toy", "Toy", "toy", ToyTrainer, ToyModel, archs=("mlp_g", "mlp_d", "dcgan_g", "dcgan_d"),
                           metrics=(Metric("loss_toy", "D's loss + G's loss", "losses"),), view="latent"))
    yield "toy"
    unregister_family("toy")
