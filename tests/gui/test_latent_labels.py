"""The Latent tab's labels agree with what is shown: the pad names z as the sliders do, and the
seed is marked as edited once z is no longer that seed's draw."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from genstudio.gui.widgets.latent_panel import LatentView  # noqa: E402
from genstudio.latent import encode_z  # noqa: E402

import genstudio  # noqa: E402

from test_latent_view import WAIT_MS, image_model, points_model  # noqa: E402


STYLE = Path(genstudio.__file__).resolve().parent.parent / "resources" / "style.qss"


@pytest.fixture
def view(qtbot):
    v = LatentView()
    qtbot.addWidget(v)
    v.resize(1100, 800)
    yield v
    v.shutdown()


def test_the_pad_names_z_as_the_sliders_do(view, qtbot):
    view.set_model(points_model())
    qtbot.waitUntil(view.idle, timeout=WAIT_MS)
    assert view.dimension_sliders().names() == ["z0", "z1"]
    assert view.pad().axis_names() == ("z0", "z1")


def test_the_seed_is_marked_edited_when_z_is_not_its_draw(view, qtbot):
    view.set_model(image_model())
    view.state.set_seed(123)
    qtbot.waitUntil(view.idle, timeout=WAIT_MS)
    caption = lambda: view._image.caption()  # noqa: E731
    assert caption().startswith("seed 123 ") and "edited" not in caption()
    assert view._seed_box.text() == "seed 123"

    view.dimension_sliders().slider(3).setValue(view.dimension_sliders().slider(3).value() + 50)  # a drag
    qtbot.waitUntil(lambda: view.idle() and "edited" in caption(), timeout=WAIT_MS)
    assert caption().startswith("seed 123, edited") and view._seed_box.text() == "seed 123 *"

    view.reset()  # back to the seed's draw
    qtbot.waitUntil(lambda: view.idle() and "edited" not in caption(), timeout=WAIT_MS)
    assert view._seed_box.text() == "seed 123"

    other = np.linspace(-1, 1, 16).astype(np.float32)
    assert view.paste_z(encode_z(other))  # a pasted z is not seed 123's
    qtbot.waitUntil(lambda: view.idle() and "edited" in caption(), timeout=WAIT_MS)
    assert view._seed_box.text() == "seed 123 *"

    view.state.set_seed(7)  # a new seed: its own draw again
    qtbot.waitUntil(lambda: view.idle() and caption().startswith("seed 7 "), timeout=WAIT_MS)
    assert "edited" not in caption() and view._seed_box.text() == "seed 7"


def test_the_seed_field_fits_a_ten_digit_seed_and_its_star(view, qtbot):
    view.setStyleSheet(STYLE.read_text(encoding="utf-8"))  # the app's fonts and sizes
    view.set_model(image_model())
    view.state.set_seed(2147483600)  # Random draws seeds up to 2**31 - 1
    view.dimension_sliders().slider(0).setValue(view.dimension_sliders().slider(0).value() + 50)
    qtbot.waitUntil(view.idle, timeout=WAIT_MS)
    box = view._seed_box
    assert box.text() == "seed 2147483600 *"
    assert box.fontMetrics().horizontalAdvance(box.text()) < box.lineEdit().width()
