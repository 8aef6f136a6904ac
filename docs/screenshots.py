"""Make the documentation screenshots by driving the real app (run under Xvfb on a headless box).

::

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots.py            # every shot
    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshots.py monitor_dcgan
    xvfb-run -a -s "-screen 0 1920x1080x24" python docs/screenshots.py --sizes             # docs/sizes/
    xvfb-run -a -s "-screen 0 1920x1080x24" python docs/screenshots.py --sizes --monitor-steps 0

Each shot is a function in :data:`SHOTS` that gets a fresh 1400 × 900 main window (with settings
kept in a temporary folder, and runs written there) and returns the widget to grab; the picture
is saved as ``docs/<name>.png``. Other views add their own shot functions to the list.

``--sizes`` instead shows every view in one window at 1280 × 720, 1400 × 900 and 1920 × 1080 and
saves ``docs/sizes/<view>_<w>x<h>.png`` (256-colour PNGs, kept small): the check that each view is
usable without scrolling at each size. ``--monitor-steps`` sets the length of the ring8 GAN run
behind the Monitor pictures (0: no run, an empty Monitor; quick while iterating).
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings
from PySide6.QtWidgets import QWidget

from genstudio.gui.app import make_application, style_sheet
from genstudio.gui.main_window import MainWindow
from genstudio.gui.settings import AppSettings

DOCS = Path(__file__).resolve().parent
WINDOW_SIZE = (1400, 900)
SIZES = ((1280, 720), (1400, 900), (1920, 1080))


# ---------------------------------------------------------------------------- helpers
def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Keep the GUI running until ``predicate()`` holds; fail after ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def settle(seconds: float = 0.5) -> None:
    """Let pending paints and the 30 Hz display timer catch up."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def train_in_window(window: MainWindow, folder: Path, fields: dict, timeout_s: float) -> None:
    """Fill the run panel like a user, press Start and wait for the run to finish."""
    window.panel.set_fields(fields)
    window.panel.folder.setText(str(folder))
    if not window.panel.is_valid():
        raise RuntimeError("run panel refused the settings")
    window.act_start.trigger()
    wait_until(lambda: not window.controller.is_running(), timeout_s, f"the {fields['kind']} run to finish")
    if window.controller.last_result is None or window.controller.last_result[0] != "done":
        raise RuntimeError(f"run did not finish: {window.controller.last_result}")
    settle()


# ---------------------------------------------------------------------------- shots
def shot_scrubber(window_or_view: QWidget, out_dir: str | Path, *, t: int = 300, at: float = 1 / 3,
                  timeout_s: float = 300.0) -> list[Path]:
    """Save ``scrubber_forward.png`` (t ≈ ``t``) and, with a model, ``scrubber_reverse.png``.

    ``window_or_view`` is a :class:`ScrubberView` or a window holding one (e.g. the main window,
    after ``add_view("Scrubber", view)`` and ``view.set_model(model)``). The reverse shot samples
    DDIM 50 (η = 0) unless a recording is already there, and shows the step ``at`` of the way
    in (a third by default). Returns the paths written.
    """
    from genstudio.gui.widgets.scrubber import ScrubberView

    view = window_or_view if isinstance(window_or_view, ScrubberView) else window_or_view.findChild(ScrubberView)
    if view is None:
        raise ValueError("no ScrubberView in this window")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    grab = window_or_view
    show_view = getattr(window_or_view, "show_view", None)
    if callable(show_view):
        show_view("Scrubber")  # the main window's tab
    view.tabs.setCurrentWidget(view.forward)
    wait_until(lambda: view.forward.state.process is not None, timeout_s, "the forward process")
    view.forward.set_timestep(t)
    wait_until(view.forward.predictions_idle, timeout_s, "the forward predictions")
    settle(0.05)
    paths = [out / "scrubber_forward.png"]
    grab.grab().save(str(paths[0]))
    if view.model() is not None:
        view.tabs.setCurrentWidget(view.reverse)
        if view.reverse.state.result is None:
            from genstudio.sampling import SampleSpec

            n = 1000 if view.model().is_points else 16
            view.reverse.sample(SampleSpec(n, 0, "ddim", steps=50))
            wait_until(lambda: not view.reverse.is_busy(), timeout_s, "the reverse sampling")
        traj = view.reverse.state.result.trajectory
        if traj is not None:
            view.reverse.bar.set_timestep(int(traj.timesteps[int(len(traj) * at)]))
            wait_until(view.reverse.idle, timeout_s, "the reverse view")
            settle(0.05)
        paths.append(out / "scrubber_reverse.png")
        grab.grab().save(str(paths[-1]))
    return paths


def monitor_gan2d(window: MainWindow, work: Path) -> QWidget:
    """A GAN learning the 8-Gaussian ring: losses, D outputs, points over D's field."""
    train_in_window(window, work / "ring8 GAN", {"kind": "gan", "data": "ring8", "preview_every": 100,
                                                 "seed": 0, "edited": []}, 300)
    return window


def monitor_dcgan(window: MainWindow, work: Path) -> QWidget:
    """A DCGAN on the 8 × 8 handwritten digits (16 px: the source has no more detail; CPU-quick)."""
    train_in_window(window, work / "digits DCGAN", {"kind": "gan", "data": "digits", "size": 16,
                                                    "steps": 1200, "batch": 64, "preview_every": 100,
                                                    "seed": 0}, 900)
    return window


def monitor_timelapse(window: MainWindow, work: Path) -> QWidget:
    """A finished ring8 GAN run opened from disk, its time-lapse moved back to an early preview:
    the points and D's field of that step, the step marked on the loss curves."""
    from genstudio.config import RunConfig
    from genstudio.runs.loop import run_to_end

    folder = work / "ring8 time-lapse"
    run_to_end(RunConfig(kind="gan", data="ring8", steps=400, batch=128, preview_every=20, seed=0,
                         device="cpu"), folder)
    window.open_run_folder(folder)
    monitor = window.monitor
    wait_until(lambda: len(monitor.timelapse.steps) == 20 and monitor.preview_step() == 400, 60, "the previews")
    monitor.timelapse_bar.slider.setValue(6)  # step 140: the ring half found
    wait_until(lambda: monitor.preview_step() == 140, 60, "the chosen preview")
    settle()
    return window


def _open_bundled(window: MainWindow, stem: str):
    from genstudio.bundled import bundled_path

    path = bundled_path(stem)
    if path is None:
        raise FileNotFoundError(f"no bundled checkpoint {stem}.safetensors: train it first (checkpoints/README.md)")
    model = window.open_checkpoint(path)
    if model is None:
        raise RuntimeError(f"{path} did not open")
    return model


def latent_faces(window: MainWindow, work: Path) -> QWidget:
    """The latent explorer on the bundled faces DCGAN: a principal direction pushed, A and B set."""
    _open_bundled(window, "dcgan_faces")
    view = window.latent
    wait_until(lambda: view.state.directions is not None and view.idle(), 120, "the principal directions")
    view.state.set_seed(7)
    view.state.set_endpoint("A")
    view.state.set_seed(3)
    view.state.set_endpoint("B")
    view.state.set_seed(7)
    view._side.setCurrentIndex(1)  # the Directions tab
    view.direction_sliders().set_value(0, 0.5)
    view.state.set_t(0.5)
    wait_until(view.idle, 60, "the renders")
    settle(0.8)
    return window


def latent_stylegan(window: MainWindow, work: Path) -> QWidget:
    """The Latent view on the bundled 64 px style-based generator: the Style tab (directions in W, the layer
    view of a 16² layer with its FFT, the noise table), a W direction pushed, truncation ψ 0.8."""
    _open_bundled(window, "stylegan_faces64")
    view = window.latent
    wait_until(lambda: view.style.directions is not None and view.idle(), 120, "the W directions")
    view.state.set_seed(11)
    view._side.setCurrentWidget(view.style_panel)
    view.style_panel.layer_box.setCurrentIndex(4)  # conv 4, 16²
    view.style_panel.directions.set_value(0, 1.5)
    view._psi_slider.setValue(80)
    wait_until(view.idle, 60, "the renders")
    settle(0.8)
    return window


def stylegan_mixing(window: MainWindow, work: Path) -> QWidget:
    """The Style mixing tab on the 64 px bundle: destinations × sources with the coarse styles taken from the source."""
    _open_bundled(window, "stylegan_faces64")
    view = window.latent
    wait_until(lambda: view.style.directions is not None and view.idle(), 120, "the W directions")
    view.style.set_mixing(destinations=(1, 2, 3), sources=(5, 6, 7, 8, 9), band="coarse")  # fits at 2×
    view._left.setCurrentWidget(view.style_mixing)
    wait_until(lambda: view.style_mixing.grid.current_grid() is not None and view.idle(), 60, "the mixing grid")
    settle(0.8)
    return window


def latent_ring8(window: MainWindow, work: Path) -> QWidget:
    """The 2-D latent pad of the bundled ring8 GAN: the latent grid warped onto the eight modes."""
    _open_bundled(window, "gan_ring8")
    wait_until(window.latent.idle, 60, "the renders")
    settle(1.0)
    wait_until(window.latent.idle, 60, "the renders")
    return window


def scrubber_digits(window: MainWindow, work: Path) -> QWidget:
    """Forward and reverse processes of the bundled digits DDPM (also saves scrubber_forward_digits.png)."""
    _open_bundled(window, "ddpm_digits")
    shot_scrubber(window, work / "scrubber", t=300, at=0.8)
    (work / "scrubber" / "scrubber_forward.png").replace(DOCS / "scrubber_forward_digits.png")
    return window  # left on the reverse process: saved as scrubber_digits.png


def scrubber_ring8(window: MainWindow, work: Path) -> QWidget:
    """The reverse process of the bundled ring8 diffusion model: points and the ε̂ field."""
    _open_bundled(window, "ddpm_ring8")
    shot_scrubber(window, work / "scrubber2d", t=300, at=0.85)
    return window


def scrubber_ring8_exact(window: MainWindow, work: Path) -> QWidget:
    """The bundled ring8 diffusion model against its exact denoiser: −ε̂ and −ε* overlaid, the heat map
    of ‖ε̂ − ε*‖ at t and the error by t, late in sampling where the network is furthest from the ideal."""
    _open_bundled(window, "ddpm_ring8")
    lab = window.scrubber.reverse.exact_lab
    lab.set_fields("both")
    lab.set_heat(True)
    shot_scrubber(window, work / "scrubber2d_exact", t=300, at=0.9)
    return window


def scrubber_ring8_exact_samples(window: MainWindow, work: Path) -> QWidget:
    """The bundled ring8 model's samples (magenta) beside its exact denoiser's (blue), same noise,
    with a few samples' paths from x_T: the final samples."""
    _open_bundled(window, "ddpm_ring8")
    rev = window.scrubber.reverse
    rev.exact_lab.set_exact_samples(True)
    shot_scrubber(window, work / "scrubber2d_exact_samples", t=300, at=0.5)
    rev.bar.set_timestep(-1)  # FINAL: the samples themselves
    wait_until(rev.idle, 120, "the reverse view")
    settle(0.3)
    return window


def scrubber_t2i(window: MainWindow, work: Path, prompt: str = "a handwritten 7", scale: float = 3.0,
                 model: str = "t2i_digits") -> QWidget:
    """The reverse process of a bundled text-to-image model (digits): a prompt sampled with guidance s."""
    from genstudio.gui.widgets.scrubber import ScrubberView
    from genstudio.sampling import SampleSpec

    _open_bundled(window, model)
    view = window.findChild(ScrubberView)
    view.reverse.state.edit(prompt=prompt, guidance=scale)
    view.reverse.sample(SampleSpec(16, 0, "ddim", steps=50, prompt=prompt, guidance=scale, negative=""))
    wait_until(lambda: not view.reverse.is_busy(), 300, "the reverse sampling")
    shot_scrubber(window, work / "scrubber_t2i", t=300, at=0.6)
    return window


def scrubber_t2i_shapes(window: MainWindow, work: Path) -> QWidget:
    """The bundled shapes text-to-image model on a prompt with a colour, a shape and a position."""
    return scrubber_t2i(window, work, prompt="a red star on the left", model="t2i_shapes")


def sweep_t2i(window: MainWindow, work: Path, prompt: str = "a handwritten 7") -> QWidget:
    """The Scrubber's guidance sweep on the bundled text-to-image digits model: s = 0, 1, 3, 7, 8 samples each."""
    from genstudio.gui.widgets.scrubber import ScrubberView

    _open_bundled(window, "t2i_digits")
    window.show_view("Scrubber")
    view = window.findChild(ScrubberView)
    view.reverse.state.edit(prompt=prompt, n=8, sampler="ddim", steps=50, seed=0)
    view.tabs.setCurrentWidget(view.sweep)
    if not view.sweep.run():
        raise RuntimeError(f"the sweep did not start: {view.status()}")
    wait_until(lambda: not view.sweep.is_busy(), 300, "the guidance sweep")
    settle(0.2)
    return window


def branch_t2i(window: MainWindow, work: Path, prompt: str = "a handwritten 7",
               then: str = "a handwritten 3", at: float = 0.3) -> QWidget:
    """The bundled text-to-image digits model sampled with ``prompt``, branched ``at`` of the way in with
    ``then`` on the same noise: the two endings side by side."""
    from genstudio.gui.widgets.scrubber import ScrubberView

    _open_bundled(window, "t2i_digits")
    window.show_view("Scrubber")
    view = window.findChild(ScrubberView)
    rev = view.reverse
    view.tabs.setCurrentWidget(rev)
    rev.state.edit(prompt=prompt, guidance=3.0, n=8, sampler="ddim", steps=50, eta=0.0, seed=0)
    if not rev.sample():
        raise RuntimeError(f"sampling did not start: {view.status()}")
    wait_until(lambda: not rev.is_busy() and rev.state.result is not None, 300, "the reverse sampling")
    traj = rev.state.result.trajectory
    rev.bar.set_timestep(int(traj.timesteps[int(len(traj) * at)]))
    rev.state.set_branch_options(prompt=then)
    if not rev.branch():
        raise RuntimeError(f"the branch did not start: {view.status()}")
    wait_until(lambda: not rev.is_busy() and rev.state.branch is not None, 300, "the branch")
    wait_until(rev.idle, 60, "the reverse view")
    settle(0.3)
    return window


def walk_t2i(window: MainWindow, work: Path, prompt: str = "a handwritten 7", then: str = "a handwritten 3",
             frames: int = 16) -> QWidget:
    """The Scrubber's prompt walk on the bundled text-to-image digits model, ``prompt`` → ``then``; the GIF
    is saved beside the screenshots as ``docs/walk_t2i.gif``."""
    from genstudio.gui.widgets.scrubber import ScrubberView

    _open_bundled(window, "t2i_digits")
    window.show_view("Scrubber")
    view = window.findChild(ScrubberView)
    view.reverse.state.edit(prompt=prompt, guidance=3.0, sampler="ddim", steps=50, eta=0.0, seed=0)
    view.tabs.setCurrentWidget(view.walk)
    view.walk.state.set_options(prompt_to=then, frames=frames)
    view.walk.to.setText(then)
    view.walk.frames.setValue(frames)
    if not view.walk.run():
        raise RuntimeError(f"the walk did not start: {view.status()}")
    wait_until(lambda: not view.walk.is_busy(), 600, "the prompt walk")
    view.walk.slider.setValue(frames // 2)  # the large picture shows the middle of the way
    import numpy as np

    from genstudio.imaging import save_gif
    from genstudio.text2image.walk import walk_gif_frames

    save_gif(DOCS / "walk_t2i.gif", walk_gif_frames(np.stack(view.walk.state.images), 128), fps=8)
    settle(0.3)
    return window


def superres_faces(window: MainWindow, work: Path) -> QWidget:
    """The Super-resolution view on the bundled SRResNet and SRGAN: a held-out face, wiped at 4×, and
    the perception–distortion plot of bicubic and the two."""
    _open_bundled(window, "srresnet_faces")
    _open_bundled(window, "srgan_faces")
    view = window._pages["Super-resolution"].view()
    view.index.setValue(5)
    view.left.setCurrentText("SRResNet")
    view.right.setCurrentText("SRGAN")
    wait_until(lambda: not view.pd_plot.job.is_busy(), 600, "the perception–distortion plot")  # a busy box
    settle(0.5)
    return window


def autoencoder_faces(window: MainWindow, work: Path) -> QWidget:
    """The Autoencoder tab on the bundled KL autoencoder: held-out faces, their reconstructions, the
    error and the four latent channels, with each row's PSNR."""
    _open_bundled(window, "ae_faces")
    view = window._pages["Autoencoder"].view()
    view.rows.setValue(4)
    settle(0.5)
    return window


def latent_neighbours(window: MainWindow, work: Path) -> QWidget:
    """The latent explorer on the bundled digits DCGAN with G(z)'s nearest training digits and the verdict."""
    _open_bundled(window, "dcgan_digits")
    view = window.latent
    view.state.set_seed(4)
    wait_until(lambda: view.idle() and view.neighbours.idle() and view.neighbours.shown is not None
               and view.neighbours.shown.what.endswith("seed 4"), 120, "the nearest training images")
    settle(0.5)
    return window


def scrubber_inverted(window: MainWindow, work: Path) -> QWidget:
    """A picture of a 0 inverted by the bundled text-to-image digits model (prompt "zero"), scrubbed at the
    middle of its inverted trajectory, and regenerated from x_T with the prompt "six"."""
    from genstudio.gui.widgets.image_source import samples_folder
    from genstudio.gui.widgets.scrubber import ScrubberView

    _open_bundled(window, "t2i_digits")
    window.show_view("Scrubber")
    view = window.findChild(ScrubberView)
    rev = view.reverse
    view.tabs.setCurrentWidget(rev)
    rev.state.edit(prompt="zero", sampler="ddim", steps=50)
    if not rev.invert_file(Path(samples_folder()) / "digit.png"):
        raise RuntimeError(f"the inversion did not start: {view.status()}")
    wait_until(lambda: not rev.is_busy() and rev.state.inverted is not None, 300, "the inversion")
    first = int(rev.state.timesteps()[0])
    rev.bar.set_timestep(first)
    rev.state.set_branch_options(prompt="six")  # the branch row's prompt
    rev.branch(seed=1, eta=0.0)
    wait_until(lambda: not rev.is_busy() and rev.state.branch is not None, 300, "the regeneration")
    rev.bar.set_timestep(int(rev.state.timesteps()[len(rev.state.timesteps()) // 2]))
    wait_until(rev.idle, 60, "the nearest training images")
    settle(0.5)
    return window


def _draw_smiley(window: MainWindow) -> None:
    """Draw a face on the Monitor (outline, two eyes, a smile) as strokes, as the mouse would."""
    import numpy as np

    tool = window.monitor.tool
    tool.draw_button.click()
    strokes = [1.8 * np.stack([np.cos(a), np.sin(a)], 1) for a in [np.linspace(0, 2 * np.pi, 90)]]
    eye = 0.15 * np.stack([np.cos(np.linspace(0, 2 * np.pi, 12)), np.sin(np.linspace(0, 2 * np.pi, 12))], 1)
    strokes += [eye + (x, 0.7) for x in (-0.7, 0.7)]  # the eyes
    a = np.linspace(np.pi * 1.15, np.pi * 1.85, 30)
    strokes.append(np.stack([np.cos(a), 0.15 + np.sin(a)], 1))  # the smile
    for line in strokes:
        tool.state.press(*line[0])
        for x, y in line[1:]:
            tool.state.drag(x, y)
        tool.state.release()
    settle(0.3)


def monitor_drawing(window: MainWindow, work: Path) -> QWidget:
    """Drawing a data set of one's own on the Monitor's 2-D view."""
    window.show_view("Monitor")
    _draw_smiley(window)
    return window


def monitor_slow_motion(window: MainWindow, work: Path) -> QWidget:
    """A GAN training on that drawing, paused and stepped once: the push on each of G's points."""
    window.show_view("Monitor")
    window.panel.set_runs_parent(work)
    window.panel.set_fields({"kind": "gan", "steps": 100_000, "preview_every": 100, "seed": 0, "edited": ["steps"]})
    _draw_smiley(window)
    window.train_on_drawing()
    wait_until(lambda: window.run_status.step_value() >= 300, 600, "300 steps on the drawing")
    window.act_pause.trigger()
    wait_until(lambda: window.run_status.status().paused is True, 60, "the pause")
    step = window.run_status.step_value()
    window.act_step.trigger()
    wait_until(lambda: window.monitor.preview_step() == step + 1 and "one step" in window.monitor.caption(), 60,
               "the single step")
    settle(0.5)
    return window


def monitor_arena(window: MainWindow, work: Path) -> QWidget:
    """Run ▸ Arena on ring8, 10 CPU-seconds each: both curves and the table in the Monitor."""
    window.panel.set_runs_parent(work)
    window.panel.set_fields({"data": "ring8", "seed": 0})
    window.ask_arena_budget = lambda data: 10.0
    window.toggle_arena()
    wait_until(lambda: not window.arena.is_busy(), 900, "the arena")
    settle(0.5)
    return window


def scrubber_sd_tiny(window: MainWindow, work: Path) -> QWidget:
    """A Stable Diffusion folder in the scrubber: the tiny RANDOM pipeline the tests build (no real SD
    weights exist on this machine), 64 px from 16×16×4 latents, so the pictures are noise by design;
    what the shot shows is the layout: latent preview grid, latent channels and VAE decodes side by side."""
    sys.path.insert(0, str(DOCS.parent / "tests"))
    from tiny_models import tiny_sd_pipeline

    from genstudio.gui.widgets.scrubber import ScrubberView

    folder = work / "sd-tiny-random"
    tiny_sd_pipeline(folder, size=64)
    window.loader.load(str(folder))
    wait_until(lambda: window.findChild(ScrubberView) is not None and window.scrubber.model() is not None, 120,
               "the Stable Diffusion folder to open")
    _sample_latents_and_stop_at(window, 8, prompt="a red circle on the big square", negative="blue", guidance=5.0,
                                n=4, steps=20, seed=1)
    return window


def _sample_latents_and_stop_at(window: MainWindow, index: int, **settings) -> None:
    """In the Scrubber's Reverse tab: sample a latent model with ``settings``, then select the
    recording's step ``index`` and wait for its decoded pictures."""
    from genstudio.gui.widgets.scrubber import ScrubberView

    window.show_view("Scrubber")
    rev = window.findChild(ScrubberView).reverse
    rev.state.edit(**settings)
    rev.sample()
    wait_until(lambda: not rev.is_busy(), 300, "the reverse sampling")
    rev.state.set_timestep(int(rev.state.result.trajectory.timesteps[index]))
    wait_until(lambda: rev.idle() and rev.latent_frames.decoded is not None, 60, "the decodes")
    settle(0.5)


def scrubber_ldm_faces(window: MainWindow, work: Path) -> QWidget:
    """The bundled latent diffusion faces model in the scrubber: "a smiling face with long red hair"
    at s = 3, stopped half-way, the 4-channel latents beside their decoded pictures."""
    _open_bundled(window, "ldm_faces")
    _sample_latents_and_stop_at(window, 30, prompt="a smiling face with long red hair", guidance=3.0, sampler="ddim",
                                steps=50, eta=0.0, n=4, seed=0)
    return window


#: (name, function) pairs; a shot's picture is saved as docs/<name>.png.
SHOTS: list[tuple[str, Callable[[MainWindow, Path], QWidget]]] = [
    ("monitor_gan2d", monitor_gan2d),
    ("monitor_dcgan", monitor_dcgan),
    ("monitor_timelapse", monitor_timelapse),
    ("latent_faces", latent_faces),
    ("latent_ring8", latent_ring8),
    ("latent_stylegan", latent_stylegan),
    ("stylegan_mixing", stylegan_mixing),
    ("scrubber_digits", scrubber_digits),
    ("scrubber_ring8", scrubber_ring8),
    ("scrubber_ring8_exact", scrubber_ring8_exact),
    ("scrubber_ring8_exact_samples", scrubber_ring8_exact_samples),
    ("scrubber_t2i", scrubber_t2i),
    ("scrubber_t2i_shapes", scrubber_t2i_shapes),
    ("sweep_t2i", sweep_t2i),
    ("branch_t2i", branch_t2i),
    ("walk_t2i", walk_t2i),
    ("superres_faces", superres_faces),
    ("autoencoder_faces", autoencoder_faces),
    ("monitor_drawing", monitor_drawing),
    ("monitor_slow_motion", monitor_slow_motion),
    ("monitor_arena", monitor_arena),
    ("latent_neighbours", latent_neighbours),
    ("scrubber_inverted", scrubber_inverted),
    ("scrubber_sd_tiny", scrubber_sd_tiny),
    ("scrubber_ldm_faces", scrubber_ldm_faces),
]


def save_small_png(widget: QWidget, path: Path) -> Path:
    """Grab ``widget`` and save it as a 256-colour PNG (a screen of flat UI colours: ~5× smaller)."""
    from PIL import Image
    from PySide6.QtCore import QBuffer, QIODevice

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().save(buffer, "PNG")
    image = Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


def size_shots(window: MainWindow, work: Path, out: Path, monitor_steps: int) -> list[Path]:
    """Every view at each of :data:`SIZES`, saved as ``out/<view>_<w>x<h>.png``.

    The views are shown in their widest states: the Monitor after a ring8 GAN run of
    ``monitor_steps`` steps (none if 0), the Latent tab on the bundled faces DCGAN, the forward
    Scrubber in compare mode (cosine against the model's linear schedule) and the reverse Scrubber
    after a branch, whose long verdict is shown.
    """
    from genstudio.sampling import SampleSpec

    if monitor_steps > 0:
        train_in_window(window, work / "ring8 GAN", {"kind": "gan", "data": "ring8", "steps": monitor_steps,
                                                     "preview_every": 50, "seed": 0, "edited": ["steps"]}, 300)
    _open_bundled(window, "dcgan_faces")
    wait_until(lambda: window.latent.state.directions is not None and window.latent.idle(), 120, "the latent renders")
    _open_bundled(window, "ddpm_digits")
    scrub = window.scrubber
    window.show_view("Scrubber")
    wait_until(lambda: scrub.forward.state.process is not None, 120, "the forward process")
    scrub.forward.set_schedule("cosine", 1000)
    rv = scrub.reverse
    rv.sample(SampleSpec(16, 0, "ddim", steps=50))
    wait_until(lambda: not rv.is_busy(), 300, "sampling")
    rv.bar.set_timestep(int(rv.state.result.trajectory.timesteps[20]))
    rv.branch(seed=5, eta=1.0)
    wait_until(lambda: rv.state.branch is not None and not rv.is_busy(), 300, "the branch")
    views = (("monitor", "Monitor", None), ("latent", "Latent", None),
             ("scrubber_forward", "Scrubber", scrub.forward), ("scrubber_reverse", "Scrubber", rv))
    paths = []
    for w, h in SIZES:
        window.resize(w, h)
        settle(0.3)
        for name, tab, page in views:
            window.show_view(tab)
            if page is not None:
                scrub.tabs.setCurrentWidget(page)
            settle(0.4)
            paths.append(save_small_png(window, out / f"{name}_{w}x{h}.png"))
            print(paths[-1])
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="shots to take (default: all)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the PNGs (default docs/, "
                        "or docs/sizes/ with --sizes)")
    parser.add_argument("--sizes", action="store_true", help="every view at 1280x720, 1400x900, 1920x1080")
    parser.add_argument("--monitor-steps", type=int, default=1000,
                        help="with --sizes: steps of the ring8 run behind the Monitor (0: none)")
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = DOCS / "sizes" if args.sizes else DOCS
    args.out.mkdir(parents=True, exist_ok=True)
    unknown = set(args.names) - {name for name, _ in SHOTS}
    if unknown:
        parser.error(f"unknown shots: {', '.join(sorted(unknown))}")
    app = make_application()  # keep a reference: the QApplication lives while this does
    app.setStyleSheet(style_sheet(DOCS.parent / "resources" / "style.qss"))  # this checkout's sheet
    with tempfile.TemporaryDirectory(prefix="genstudio-shots-") as tmp:
        work = Path(tmp)
        for name, shot in SHOTS:
            if args.sizes or (args.names and name not in args.names):
                continue
            settings = AppSettings(QSettings(str(work / f"{name}.ini"), QSettings.Format.IniFormat))
            window = MainWindow(settings)
            window.confirm_close = lambda: True
            window.resize(*WINDOW_SIZE)
            window.show()
            settle()
            started = time.monotonic()
            try:
                widget = shot(window, work)
                path = args.out / f"{name}.png"
                if not widget.grab().save(str(path)):
                    raise OSError(f"could not write {path}")
                print(f"{path} ({time.monotonic() - started:.0f} s)")
            finally:  # a failed shot must not leave its training thread running
                window.close()  # stops a run (confirm_close says yes) and waits for its checkpoint
                window.deleteLater()
                settle(0.1)
        if args.sizes:
            settings = AppSettings(QSettings(str(work / "sizes.ini"), QSettings.Format.IniFormat))
            window = MainWindow(settings)
            window.confirm_close = lambda: True
            window.resize(*WINDOW_SIZE)
            window.show()
            settle()
            try:
                size_shots(window, work, args.out, args.monitor_steps)
            finally:
                window.close()
                window.deleteLater()
                settle(0.1)
        gc.collect()  # while Qt is alive, not during interpreter teardown
    app.processEvents()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip the interpreter's teardown, as pyqtgraph's own pg.exit() does: destroying Qt objects
    # in the final garbage collection can crash after the pictures are safely written.
    os._exit(code)
