"""``genstudio arena``: a GAN and a diffusion model on one 2-D data set with one CPU budget, compared."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from genstudio.cli import main
from genstudio.metrics import sliced_wasserstein


def test_sliced_wasserstein_is_zero_for_one_set_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((500, 2))
    assert sliced_wasserstein(a, a) == 0.0
    assert sliced_wasserstein(a, rng.permutation(a)) == pytest.approx(0.0, abs=1e-12)  # order does not matter
    # a shift s moves every projection by s·θ: the mean of |s·θ| over unit θ is 2|s|/π in 2-D
    assert sliced_wasserstein(a, a + [0.5, 0.0], projections=4096) == pytest.approx(2 * 0.5 / math.pi, rel=0.03)
    assert sliced_wasserstein(a, np.full_like(a, np.nan)) == math.inf
    with pytest.raises(ValueError):
        sliced_wasserstein(a, a[:10])


def test_arena_trains_both_on_one_budget_and_writes_table_plot_and_log(tmp_path, capsys):
    out = tmp_path / "arena"
    assert main(["arena", "--data", "ring8", "--budget", "1.5", "--evals", "2", "--n", "300",
                 "--out", str(out)]) == 0
    points = [json.loads(line) for line in (out / "arena.jsonl").read_text().splitlines()]
    for kind in ("gan", "diffusion"):
        run = [p for p in points if p["kind"] == kind]
        assert len(run) == 2 and run[0]["cpu_s"] < run[1]["cpu_s"] and run[0]["step"] < run[1]["step"]
        assert run[1]["cpu_s"] >= 1.5  # the whole budget was spent training
        assert 0.0 <= run[1]["share"] <= 1.0 and run[1]["swd"] > 0 and run[1]["sample_s"] > 0
        assert (out / f"{kind}-seed0" / "config.json").exists()  # its run folder, like any run's
    table = (out / "arena.md").read_text()
    assert "| gan | 0 |" in table and "| diffusion | 0 |" in table and "two real samples" in table
    with Image.open(out / "arena.png") as plot:
        assert plot.size == (900, 530)
    assert "arena.md" in capsys.readouterr().out


@pytest.mark.parametrize("argv, says", [
    (["--data", "digits"], "2-D point set"),
    (["--budget", "0"], "not a budget"),
])
def test_arena_refuses_what_it_cannot_run(tmp_path, capsys, argv, says):
    with pytest.raises(SystemExit) if "--budget" in argv else _nothing():
        code = main(["arena", *argv, "--out", str(tmp_path / "a")])
        assert code == 1
    assert says in capsys.readouterr().err


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
