"""Legends sit above the data area of the loss and schedule plots, so no curve runs under them."""

from __future__ import annotations

import numpy as np

from genstudio.diffusion.schedule import NoiseSchedule
from genstudio.scrub import schedule_curves
from genstudio.gui.widgets.loss_plot import LossPlot
from genstudio.gui.widgets.schedule_plot import SchedulePlot


def legend_names(legend) -> list[str]:
    return [label.text for _sample, label in legend.items]


def assert_legend_outside(qtbot, plot_item, legend, names) -> None:
    qtbot.waitUntil(lambda: legend.sceneBoundingRect().height() > 0)
    assert legend_names(legend) == names
    data_area = plot_item.getViewBox().sceneBoundingRect()
    box = legend.sceneBoundingRect()
    assert not box.intersects(data_area), (box, data_area)
    assert box.bottom() <= data_area.top() + 1  # above it, in the plot's own frame
    assert plot_item.sceneBoundingRect().contains(box)


def test_loss_plot_legend_is_above_the_curves(qtbot):
    plot = LossPlot("Losses", ["loss_D", "loss_G"])
    qtbot.addWidget(plot)
    plot.resize(560, 330)
    plot.show()
    qtbot.waitExposed(plot)
    steps = np.arange(0, 3000, 10)
    plot.append("loss_D", steps, 1.2 + np.sin(steps / 300))
    plot.append("loss_G", steps, 1.4 - np.cos(steps / 200))
    plot.append("D(x)", steps, np.full(steps.shape, 0.5))  # a curve added later joins the row
    plot.refresh()
    assert_legend_outside(qtbot, plot.plot_item(), plot.plot_item().legend, ["loss_D", "loss_G", "D(x)"])


def test_schedule_plot_legend_is_above_the_curves(qtbot):
    plot = SchedulePlot()
    qtbot.addWidget(plot)
    plot.resize(700, 300)
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_schedule(schedule_curves(NoiseSchedule(100)))
    top = plot._top.getPlotItem()
    assert_legend_outside(qtbot, top, top.legend, ["signal √ᾱ_t", "noise √(1−ᾱ_t)", "log SNR (right axis)"])
