"""Export helpers of genstudio.imaging: resizing to a chosen long side, and 2-D scatter plots."""

from __future__ import annotations

import numpy as np
import pytest

from genstudio.imaging import DEFAULT_EXPORT_SIZE, EXPORT_SIZES, make_grid, resize_long_side, scatter_image


def test_resize_long_side_nearest_keeps_pixels_as_blocks():
    grid = make_grid(np.random.default_rng(0).uniform(-1, 1, (16, 1, 8, 8)).astype(np.float32), pad=1)
    assert grid.shape == (37, 37, 3)
    big = resize_long_side(grid, 370)
    assert big.shape == (370, 370, 3)
    np.testing.assert_array_equal(big, grid.repeat(10, axis=0).repeat(10, axis=1))  # whole factor: exact


def test_resize_long_side_keeps_aspect_and_native_and_smooth():
    strip = np.zeros((10, 40, 3), np.uint8)
    strip[:, 20:] = 255
    assert resize_long_side(strip, 256).shape == (64, 256, 3)
    assert resize_long_side(strip, None) is strip
    smooth = resize_long_side(strip, 256, smooth=True)
    assert smooth.shape == (64, 256, 3) and len(np.unique(smooth)) > 2  # in-between greys at the edge
    assert len(np.unique(resize_long_side(strip, 256))) == 2
    grey = np.zeros((8, 4, 1), np.uint8)
    assert resize_long_side(grey, 16).shape == (16, 8, 1)
    with pytest.raises(TypeError):
        resize_long_side(strip.astype(np.float32), 64)
    assert DEFAULT_EXPORT_SIZE >= 256 and None in EXPORT_SIZES


def test_scatter_image_draws_points_real_data_and_axes():
    pts = np.array([[0.0, 0.0], [1.0, 1.0], [np.nan, 0.0], [50.0, 0.0]])  # a NaN and one far outside
    real = np.random.default_rng(0).normal(0, 0.5, (300, 2))
    pic = scatter_image(pts, (-2, 2, -2, 2), size=400, real=real, title="t = 5")
    assert pic.shape == (400, 400, 3) and pic.dtype == np.uint8
    pink = (pic[..., 0] > 200) & (pic[..., 1] < 130) & (pic[..., 2] > 200)
    ys, xs = np.nonzero(pink)
    assert 0 < pink.sum() < 100  # two small dots, nothing drawn for the NaN or the far point
    assert xs.max() - xs.min() > 50 and ys.max() > ys.min() + 50  # (1, 1) is right of and above (0, 0)
    green = (pic[..., 1] > pic[..., 0] + 30) & (pic[..., 1] > pic[..., 2] + 20)
    assert green.sum() > 100
    box = (np.abs(pic.astype(int) - [170, 175, 185]).sum(axis=-1) < 10)
    assert box.sum(axis=1).max() > 300 and box.sum(axis=0).max() > 300  # the axes box, both ways
    empty = scatter_image(np.empty((0, 2)), (-1, 1, -1, 1), size=256)
    assert empty.shape == (256, 256, 3)
