"""The drawing being made on the Monitor (Qt-free): strokes put points down evenly, the eraser takes
the points near it, and a saved drawing is a points:FILE.npy data set."""

from __future__ import annotations

import numpy as np
import pytest

from genstudio.data import DataError, load_dataset
from genstudio.views.drawing import CANVAS, ERASE_RADIUS, SPACING, DrawingState


def test_a_stroke_puts_points_every_spacing_and_announces_it():
    s = DrawingState()
    seen = []
    s.changed.connect(seen.append)
    s.set_active(True)
    s.press(0.0, 0.0)
    for x in np.linspace(0.0, 1.0, 7)[1:]:  # a drag in uneven jumps
        s.drag(x, 0.0)
    s.drag(1.0 + SPACING / 3, 0.0)  # less than SPACING further: nothing
    s.release()
    xs = s.points[:, 0]
    assert len(s) == round(1.0 / SPACING) + 1
    np.testing.assert_allclose(np.diff(xs), SPACING, atol=1e-6)  # evenly, whatever the mouse's pace
    assert seen[0] == "mode" and set(seen[1:]) == {"points"}
    s.press(99.0, -99.0)  # off the canvas: kept at its edge
    assert tuple(s.points[-1]) == (CANVAS[1], CANVAS[2])


def test_the_eraser_and_clear():
    s = DrawingState()
    s.set_points(np.array([[0.0, 0.0], [0.1, 0.0], [1.0, 1.0]]))
    assert s.erase(0.0, 0.0) == 2 and len(s) == 1  # within ERASE_RADIUS
    assert s.erase(1.0 + 2 * ERASE_RADIUS, 1.0) == 0
    s.clear()
    assert len(s) == 0 and s.points.shape == (0, 2)


def test_a_saved_drawing_is_a_data_set(tmp_path):
    s = DrawingState()
    with pytest.raises(DataError, match="empty"):
        s.save(tmp_path)
    s.set_points(np.array([[1.0, 2.0], [-1.0, 0.5]]))
    path = s.save(tmp_path / "drawings")
    assert path.suffix == ".npy" and s.save(tmp_path / "drawings") != path  # a second save: a new file
    data = load_dataset(f"points:{path}", num_points=100)
    np.testing.assert_array_equal(data.info["drawn"], s.points)
