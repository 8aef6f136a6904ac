"""The collapse alarm fires on collapsed samples and stays quiet on the data itself (genstudio.collapse)."""

from __future__ import annotations

import numpy as np
import pytest

from genstudio.collapse import assess, class_report, mode_report
from genstudio.config import RunConfig
from genstudio.data import load_dataset
from genstudio.runs.events import PreviewReady
from genstudio.runs.loop import train
from genstudio.trainer import Preview


def _points(name: str, n: int = 2000, seed: int = 0):
    data = load_dataset(name, size=32, channels=0, num_points=20000, seed=seed)
    return data, data.tensor.numpy()[:n], data.labels.numpy()[:n]


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_the_data_itself_raises_no_alarm(name):
    data, pts, _ = _points(name)
    for seed in range(5):
        sample = pts[np.random.default_rng(seed).choice(len(pts), 2000)]
        report = assess(Preview("points", sample), data)
        assert report.judged and not report.collapsed, report.message
        assert report.covered == report.total == len(data.centers)


def test_samples_on_three_of_eight_modes_are_a_collapse():
    data, pts, labels = _points("ring8")
    report = mode_report(pts[labels < 3], data.centers.numpy())
    assert report.collapsed and report.covered == 3 and report.missing == (3, 4, 5, 6, 7)
    assert report.message.startswith("collapse: 3 of 8 modes · ") and "% of samples on a mode" in report.message
    assert report.shares[:3].sum() == pytest.approx(1.0)


def test_one_mode_holding_most_samples_is_a_collapse_too():
    data, pts, labels = _points("ring8")
    heavy = np.concatenate([pts, np.repeat(pts[labels == 2], 6, axis=0)])  # mode 2 has ~7 fair shares
    report = mode_report(heavy, data.centers.numpy())
    assert report.collapsed and report.over == (2,) and report.covered == 8
    assert report.message.startswith("collapse: mode 2 has")


def test_samples_off_every_mode_are_too_early_to_judge():
    data, _, _ = _points("ring8")
    report = mode_report(np.random.default_rng(0).normal(0, 0.3, (2000, 2)), data.centers.numpy())
    assert not report.judged and not report.collapsed and "too early" in report.message


def test_digits_classes_real_batches_pass_and_one_digit_collapses():
    data = load_dataset("digits", size=32, channels=0, num_points=0, seed=0)
    images, labels = data.tensor.numpy(), data.labels.numpy()
    rng = np.random.default_rng(0)
    for _ in range(20):  # the preview's 64 real digits never raise the alarm
        report = assess(Preview("images", images[rng.choice(len(images), 64, replace=False)]), data)
        assert not report.collapsed, report.message
    report = assess(Preview("images", images[labels == 7][:64]), data)
    assert report.collapsed and report.message == "collapse: 1 of 10 digit classes"
    assert class_report(np.array([1, 1, 2])).counts[1] == 2


def test_a_run_sends_the_alarm_with_its_previews(tmp_path):
    config = RunConfig(kind="gan", data="ring8", batch=64, steps=20, width=32, num_points=2000, device="cpu",
                       preview_every=10, checkpoint_every=100, log_every=10)
    alarms = [e.alarm for e in train(config, tmp_path / "ring8") if isinstance(e, PreviewReady)]
    assert len(alarms) == 2 and all(a is not None and a.total == 8 for a in alarms)
    spiral = [e.alarm for e in train(config.replace(data="spiral"), tmp_path / "spiral") if isinstance(e, PreviewReady)]
    assert spiral == [None, None]  # no known modes, no alarm
