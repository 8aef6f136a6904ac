"""A checkpoint's header is checked against its networks before any weight is used.

Each case is a bundled checkpoint with one thing changed that used to end in a RuntimeError deep in
sampling (or a ValueError inside a Qt slot). Every reader refuses it with the same one line:
``load_model`` (the app's loader), ``genstudio sample``, ``score``, ``export`` and ``info``.
"""

from __future__ import annotations

import json
import re
import struct
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from genstudio.checkpoint import CheckpointError, MAX_HEADER_BYTES, MAX_TENSORS, module_tensors, save_checkpoint
from genstudio.cli import main
from genstudio.loading import load_model
from genstudio.models.unet import UNet

BUNDLED = Path(__file__).resolve().parents[2] / "checkpoints"


def with_meta(src: Path, dst: Path, change) -> Path:
    data = src.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = json.loads(header["__metadata__"]["genstudio"])
    change(meta)
    header["__metadata__"]["genstudio"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    dst.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n:])
    return dst


def with_tensors(src: Path, dst: Path, change) -> Path:
    data = src.read_bytes()
    header = json.loads(data[8:8 + struct.unpack("<Q", data[:8])[0]])
    save_file(change(load_file(str(src))), str(dst), metadata=header["__metadata__"])
    return dst


def too_deep_unet(folder: Path) -> Path:
    """A consistent U-Net of 6 levels (it halves 5 times) in a 16 px header: 16 is not divisible by 32."""
    net = UNet(channels=1, width=8, mults=[1] * 6, attention=False)
    meta = {"kind": "diffusion", "data": "digits", "data_kind": "images", "size": 16, "channels": 1,
            "schedule": {"kind": "linear", "num_steps": 10},
            "models": {"eps": {"arch": "unet", "args": {"channels": 1, "width": 8, "mults": [1] * 6,
                                                        "attention": False}}}}
    return save_checkpoint(folder / "deep.safetensors", module_tensors("model/eps", net), meta)


def _set(**kv):
    return lambda m: m.update(kv)


def _cast(key: str, value):
    def change(t):
        t[key] = value(t[key])
        return t
    return change


CASES = {  # name -> (make(folder) -> path, words the one line must hold)
    "diffusion header channels 3 on a 1-channel U-Net": (
        lambda f: with_meta(BUNDLED / "ddpm_digits.safetensors", f / "c3.safetensors", _set(channels=3)),
        r"header channels = 3, but model 'eps' \(unet\) has channels = 1"),
    "points on a U-Net": (
        lambda f: with_meta(BUNDLED / "ddpm_digits.safetensors", f / "pts.safetensors", _set(data_kind="points")),
        r"header data_kind = 'points', but model 'eps' \(unet\) works on images"),
    "U-Net too deep for its image size": (
        too_deep_unet, r"header size = 16, but model 'eps' \(unet\) has 6 levels .* divisible by 32"),
    "points on a DCGAN": (
        lambda f: with_meta(BUNDLED / "dcgan_digits.safetensors", f / "gpts.safetensors", _set(data_kind="points")),
        r"header data_kind = 'points', but model 'G' \(dcgan_g\) works on images"),
    "images on a point GAN": (
        lambda f: with_meta(BUNDLED / "gan_ring8.safetensors", f / "gimg.safetensors",
                            _set(data_kind="images", size=32, channels=1)),
        r"header data_kind = 'images', but model 'G' \(mlp_g\) works on points"),
    "GAN channels 3 on a 1-channel DCGAN": (
        lambda f: with_meta(BUNDLED / "dcgan_digits.safetensors", f / "g3.safetensors", _set(channels=3)),
        r"header channels = 3, but model 'G' \(dcgan_g\) has nc = 1"),
    "GAN size 64 on a 32 px DCGAN": (
        lambda f: with_meta(BUNDLED / "dcgan_faces.safetensors", f / "g64.safetensors", _set(size=64)),
        r"header size = 64, but model 'G' \(dcgan_g\) has size = 32"),
    "channels true": (
        lambda f: with_meta(BUNDLED / "dcgan_digits.safetensors", f / "gtrue.safetensors", _set(channels=True)),
        r"header channels = True, but model 'G' \(dcgan_g\) has nc = 1"),
    "unknown data kind": (
        lambda f: with_meta(BUNDLED / "ddpm_ring8.safetensors", f / "dk.safetensors", _set(data_kind="audio")),
        r"unknown data_kind 'audio'"),
    "a step that is not a number": (
        lambda f: with_meta(BUNDLED / "gan_ring8.safetensors", f / "step.safetensors", _set(step="4k\x1b[2J")),
        r"has an invalid step '4k\\x1b\[2J'"),
    "a data set name that is not text": (
        lambda f: with_meta(BUNDLED / "ddpm_ring8.safetensors", f / "data.safetensors", _set(data=[1])),
        r"has an invalid data set name \[1\]"),
    "NaN weights": (
        lambda f: with_tensors(BUNDLED / "ddpm_ring8.safetensors", f / "nan.safetensors",
                               _cast("ema/eps/inp.weight", lambda v: v.float().fill_(float("nan")))),
        r"ema/eps/inp.weight holds NaN or infinite weights"),
    "infinite weights": (
        lambda f: with_tensors(BUNDLED / "gan_ring8.safetensors", f / "inf.safetensors",
                               _cast("ema/G/net.0.weight", lambda v: v.float().fill_(float("inf")))),
        r"ema/G/net.0.weight holds NaN or infinite weights"),
    "integer weights": (
        lambda f: with_tensors(BUNDLED / "gan_ring8.safetensors", f / "int.safetensors",
                               _cast("ema/G/net.0.weight", lambda v: v.to(torch.int32))),
        r"ema/G/net.0.weight holds 'I32' values, but mlp_g needs floating-point ones"),
    "bool weights": (
        lambda f: with_tensors(BUNDLED / "gan_ring8.safetensors", f / "bool.safetensors",
                               _cast("ema/G/net.0.weight", lambda v: v > 0)),
        r"holds 'BOOL' values"),
    "float8 weights": (
        lambda f: with_tensors(BUNDLED / "ddpm_ring8.safetensors", f / "f8.safetensors",
                               _cast("ema/eps/inp.weight", lambda v: v.float().to(torch.float8_e4m3fn))),
        r"holds 'F8_E4M3' values"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_reader_refuses_a_checkpoint_its_network_contradicts(case, tmp_path, capsys):
    make, words = CASES[case]
    path = make(tmp_path)
    with pytest.raises(CheckpointError) as info:
        load_model(path, "cpu")  # what the app's File ▸ Open runs
    message = str(info.value)
    assert "\n" not in message and path.name in message and re.search(words, message), message
    capsys.readouterr()
    commands = [["info"], ["sample", "--n", "2", "--out", str(tmp_path / "s.npy"), "--device", "cpu"],
                ["export", "--out", str(tmp_path / "e.safetensors")]]
    if "ring8" not in case and "point" not in case:
        # no --steps: a GAN refuses DDIM's flags before it loads anything (tests/core/test_cli_guards.py)
        commands.append(["score", "--n", "2", "--device", "cpu"])
    for verb, *rest in commands:
        assert main([verb, str(path), *rest]) == 1, verb
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("genstudio: error: ") and re.search(words, err[0]), (verb, err)
    assert not (tmp_path / "s.npy").exists() and not (tmp_path / "e.safetensors").exists()


@pytest.mark.parametrize("name", sorted(p.name for p in BUNDLED.glob("*.safetensors")))
def test_info_accepts_the_bundled_checkpoints(name, capsys):
    assert main(["info", str(BUNDLED / name)]) == 0
    assert "kind:" in capsys.readouterr().out


# ---------------------------------------------------------------------------- bounded work on hostile headers
def _header_file(path: Path, header: bytes, body: bytes = b"") -> Path:
    path.write_bytes(struct.pack("<Q", len(header)) + header + body)
    return path


def test_too_many_tensors_are_refused_before_the_header_is_parsed(tmp_path):
    entries = ",".join(f'"t{i}":{{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}' for i in range(MAX_TENSORS + 1))
    path = _header_file(tmp_path / "many.safetensors", ("{" + entries + "}").encode())
    with pytest.raises(CheckpointError, match=f"many.safetensors lists {MAX_TENSORS + 1:,} tensors, over the limit"):
        load_model(path, "cpu")


def test_an_oversized_header_is_refused_unread(tmp_path):
    path = _header_file(tmp_path / "big.safetensors", b" " * (MAX_HEADER_BYTES + 1))
    with pytest.raises(CheckpointError, match="big.safetensors has a header of 4,194,305 bytes, over the limit"):
        load_model(path, "cpu")


def test_a_72_mb_header_is_refused_at_once(tmp_path):
    """The repro: 1.2 M empty tensors (a 72 MB header) took 32 s and 2 GB to refuse."""
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as fh:  # a sparse file: the length prefix, then 72 MB of (unread) header
        fh.write(struct.pack("<Q", 72_000_000))
        fh.truncate(8 + 72_000_000)
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match="huge.safetensors has a header of 72,000,000 bytes"):
        load_model(path, "cpu")
    assert time.perf_counter() - start < 0.5


# ---------------------------------------------------------------------------- bounded --n
def test_sample_refuses_a_billion_samples_in_one_line(tmp_path, capsys):
    out = tmp_path / "s.npy"
    start = time.perf_counter()
    assert main(["sample", str(BUNDLED / "dcgan_digits.safetensors"), "--n", "1000000000", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.match(r"genstudio: error: --n 1,000,000,000 would need about [\d,.]+ GB of memory", err[0])
    assert time.perf_counter() - start < 10 and not out.exists()
    assert main(["sample", str(BUNDLED / "dcgan_digits.safetensors"), "--n", "5000", "--out", str(tmp_path / "g.png")]) == 1
    assert "too many for one grid picture (at most 4,096)" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["dcgan_digits", "ddpm_ring8"])
def test_the_suggested_n_fits(name, tmp_path, capsys, monkeypatch):
    from genstudio import sampling_cli

    monkeypatch.setattr(sampling_cli, "available_memory", lambda: 2_000_000)  # 1 MB for sampling
    args = ["sample", str(BUNDLED / f"{name}.safetensors"), "--out", str(tmp_path / "s.npy"), "--device", "cpu"]
    if name.startswith("ddpm"):  # a GAN refuses the sampler flags
        args += ["--sampler", "ddim", "--steps", "2"]
    assert main(args + ["--n", "100000"]) == 1
    most = int(re.search(r"use --n ([\d,]+) or fewer", capsys.readouterr().err).group(1).replace(",", ""))
    assert 1 <= most < 100000
    assert main(args + ["--n", str(most + 1)]) == 1
    assert main(args + ["--n", str(min(most, 64))]) == 0


def test_a_pt_zip_of_too_many_records_is_refused_before_it_is_listed(tmp_path):
    import zipfile

    path = tmp_path / "many.pt"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(MAX_TENSORS + 17):
            zf.writestr(f"archive/data/{i}", b"")
    with pytest.raises(CheckpointError, match=f"many.pt holds {MAX_TENSORS + 17:,} records, over the limit"):
        load_model(path, "cpu")
