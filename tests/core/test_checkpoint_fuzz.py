"""Fuzz: header mutations of every bundled checkpoint give a working model or one clear line, never a traceback.

A seeded loop (48 cases, a few seconds) changes, adds or deletes one or two fields of a bundled
checkpoint's GenStudio header and feeds the file to ``genstudio info``, ``genstudio sample`` (in
process, one sample) and the app's loader (``load_model``, then one sample, as a view would draw).
Allowed: success, or a :class:`CheckpointError` / one ``genstudio: error:`` line.
"""

from __future__ import annotations

import json
import math
import random
import struct
from pathlib import Path

import pytest
import torch

from genstudio.checkpoint import CheckpointError
from genstudio.cli import main
from genstudio.loading import load_model

BUNDLED = sorted((Path(__file__).resolve().parents[2] / "checkpoints").glob("*.safetensors"))
VALUES = [None, True, False, 0, -1, 1, 2, 3, 7, 16, 32, 48, 64, 100, 4096, 10**9, 2**70, 0.5, -0.0, math.inf,
          "", "points", "images", "gan", "diffusion", "unet", "dcgan_g", "mlp_g", "linear", "x\n\x1b[2J",
          [], [1], [1, 2], [1] * 7, {}, {"kind": "linear", "num_steps": 10}, "...delete"]
CASES = 48


def _paths(node, prefix=()):
    """Every key path of a JSON tree (dicts only), parents first."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))


def mutate(meta: dict, rng: random.Random) -> str:
    """Change one or two fields of ``meta`` in place; a description of what changed."""
    done = []
    for _ in range(rng.choice((1, 1, 2))):
        paths = [p for p in _paths(meta) if p[0] not in ("versions", "config", "exported")]
        path = rng.choice(paths)
        parent = meta
        for key in path[:-1]:
            parent = parent[key]
        if rng.random() < 0.15:  # a new key next to an existing one
            path = (*path[:-1], rng.choice(("data_kind", "size", "channels", "nz", "depth", "extra")))
        value = rng.choice(VALUES)
        if value == "...delete":
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = value
        done.append(f"{'.'.join(map(str, path))}={value!r}")
    return ", ".join(done)


def with_meta(src: Path, dst: Path, rng: random.Random) -> str:
    data = src.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = json.loads(header["__metadata__"]["genstudio"])
    how = mutate(meta, rng)
    header["__metadata__"]["genstudio"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    dst.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n:])
    return how


def one_line_or_nothing(capsys, rc: int, how: str) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    if rc == 0:
        assert not err, (how, err)
    else:
        assert rc == 1 and len(err) == 1 and err[0].startswith("genstudio: error: "), (how, rc, err)


@pytest.mark.parametrize("src", BUNDLED, ids=lambda p: p.stem)
def test_header_mutations_give_a_model_or_one_line(src, tmp_path, capsys):
    rng = random.Random(f"fuzz-{src.stem}")
    for i in range(CASES // len(BUNDLED)):
        path = tmp_path / f"m{i}.safetensors"
        how = with_meta(src, path, rng)
        out = tmp_path / f"s{i}.npy"
        one_line_or_nothing(capsys, main(["info", str(path)]), how)
        rc = main(["sample", str(path), "--n", "1", "--out", str(out), "--device", "cpu",
                   "--sampler", "ddim", "--steps", "2"])
        one_line_or_nothing(capsys, rc, how)
        assert out.exists() == (rc == 0), how
        try:  # the app's loader, and one sample as its view would draw it
            model = load_model(path, "cpu")
        except CheckpointError as exc:
            assert "\n" not in str(exc) and path.name in str(exc), (how, str(exc))
            assert rc == 1, how  # the app refuses what sample refuses
            continue
        if model.kind in ("srresnet", "srgan"):  # upscales instead of sampling (sample said so in one line)
            x = model.upscale(torch.zeros(1, model.channels, 4, 4))
            assert x.shape == (1, model.channels, 16, 16) and bool(torch.isfinite(x).all()), how
            continue
        if model.kind == "gan":
            x = model.sample(1, seed=0)
        else:
            x = model.sample(1, seed=0, sampler="ddim", steps=2)
        expected = (2,) if model.is_points else (model.meta["channels"], model.meta["size"], model.meta["size"])
        assert tuple(x.shape) == (1, *expected), how
