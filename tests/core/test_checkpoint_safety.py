"""Checkpoint loading is safe: no file runs code, and every unusable file gets one clear line.

Three layers: crafted pickles whose payload would write a marker file (it never appears); a
catalogue of broken files, each refused with a distinctive message by ``load_model`` and by the
CLI; and a property test that feeds the loader random and mutated files, where the only allowed
outcomes are a usable model or a :class:`CheckpointError`.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

from genstudio import FORMAT_VERSION
from genstudio.checkpoint import CheckpointError, load_checkpoint, module_tensors, read_header, save_checkpoint
from genstudio.cli import main
from genstudio.config import RunConfig
from genstudio.loading import load_model
from genstudio.models.dcgan import DCGANDiscriminator, DCGANGenerator
from genstudio.runs.loop import run_to_end

TINY = RunConfig(kind="gan", data="ring8", steps=2, batch=8, width=8, num_points=200, log_every=1,
                 preview_every=1000, checkpoint_every=1000, seed=1)


# ---------------------------------------------------------------------------- fixtures and file surgery
@pytest.fixture(scope="module")
def real(tmp_path_factory) -> Path:
    """A real (tiny) GAN checkpoint written by a training run: weights, optimiser state, RNG."""
    run = tmp_path_factory.mktemp("real") / "run"
    run_to_end(TINY, run)
    return run / "checkpoints" / "last.safetensors"


@pytest.fixture(scope="module")
def dcgan(tmp_path_factory) -> Path:
    """A 16 px DCGAN checkpoint (untrained) with a GenStudio header."""
    G, D = DCGANGenerator(nz=8, ngf=8, nc=1, size=16), DCGANDiscriminator(ndf=8, nc=1, size=16)
    meta = {"kind": "gan", "step": 0, "data": "digits", "data_kind": "images", "size": 16, "channels": 1,
            "models": {"G": {"arch": "dcgan_g", "args": {"nz": 8, "ngf": 8, "nc": 1, "size": 16}},
                       "D": {"arch": "dcgan_d", "args": {"ndf": 8, "nc": 1, "size": 16}}}}
    path = tmp_path_factory.mktemp("dcgan") / "dcgan.safetensors"
    return save_checkpoint(path, {**module_tensors("model/G", G), **module_tensors("model/D", D)}, meta)


@pytest.fixture(scope="module")
def diffusion(tmp_path_factory) -> Path:
    """A real (tiny) diffusion checkpoint: raw and EMA weights of the ε-MLP, T = 10."""
    run = tmp_path_factory.mktemp("diffusion") / "run"
    run_to_end(TINY.replace(kind="diffusion", timesteps=10, beta1=0.9), run)
    return run / "checkpoints" / "last.safetensors"


@pytest.fixture(scope="module")
def export_pt(real, tmp_path_factory) -> Path:
    """The same model as GenStudio's ``.pt`` export: ``{"genstudio": json, "tensors": {...}}``."""
    path = tmp_path_factory.mktemp("pt") / "model.pt"
    tensors = {k: v for k, v in load_file(str(real)).items() if k.startswith("model/")}
    torch.save({"genstudio": json.dumps(read_header(real)), "tensors": tensors}, path)
    return path


def split_safetensors(data: bytes) -> tuple[dict, bytes]:
    """(outer JSON header, tensor bytes) of a safetensors file."""
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def join_safetensors(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def with_meta(src: Path, dst: Path, change) -> Path:
    """Copy ``src`` with its GenStudio header replaced by ``change(meta)`` (a dict, or a raw string)."""
    header, body = split_safetensors(src.read_bytes())
    meta = json.loads(header["__metadata__"]["genstudio"])
    new = change(meta)
    header["__metadata__"]["genstudio"] = new if isinstance(new, str) else json.dumps(new)
    dst.write_bytes(join_safetensors(header, body))
    return dst


def with_tensors(src: Path, dst: Path, change) -> Path:
    """Copy ``src`` with its tensors replaced by ``change(tensors)`` (header kept)."""
    header, _ = split_safetensors(src.read_bytes())
    save_file(change(load_file(str(src))), str(dst), metadata=header["__metadata__"])
    return dst


def edit(**changes):
    """A header change: ``edit(**{"models.G.args.nz": 10**9})``; the value ``...`` deletes the key."""
    def change(meta):
        for dotted, value in changes.items():
            *parents, last = dotted.split(".")
            node = meta
            for key in parents:
                node = node[key]
            if value is ...:
                del node[last]
            else:
                node[last] = value
        return meta
    return change


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("genstudio: error: "), err
    return err[0]


# ---------------------------------------------------------------------------- 1. pickles never run
class Payload:
    """Unpickling this object runs ``exec`` on code that creates ``MARKER`` (if a loader allowed it)."""

    marker = ""

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').close()",))


def evil_files(folder: Path) -> tuple[list[Path], Path]:
    """The same payload as torch.save zip (.pt, and renamed .safetensors) and as raw pickles."""
    marker = folder / "MARKER"
    Payload.marker = str(marker)
    bait = {"genstudio": json.dumps({"format": 1, "kind": "gan"}), "tensors": {"model/G/w": Payload()}}
    files = []
    for name in ("evil.pt", "evil_zip.safetensors"):
        torch.save(bait, folder / name)
        files.append(folder / name)
    for name, protocol in (("evil.pth", 2), ("evil.ckpt", 4), ("evil_p0.pth", 0), ("evil_raw.safetensors", 4)):
        (folder / name).write_bytes(pickle.dumps(bait, protocol=protocol))
        files.append(folder / name)
    return files, marker


def test_the_payload_is_real(tmp_path):
    """Control: an ordinary unpickler does run the payload, so the tests below are not vacuous."""
    files, marker = evil_files(tmp_path)
    pickle.loads((tmp_path / "evil.pth").read_bytes())
    assert marker.exists()
    marker.unlink()
    torch.load(tmp_path / "evil.pt", weights_only=False)
    assert marker.exists()


def test_crafted_pickles_are_refused_and_never_run(tmp_path, capsys):
    files, marker = evil_files(tmp_path)
    for path in files:
        with pytest.raises(CheckpointError, match=r"refused|not a PyTorch weights file") as info:
            load_model(path, "cpu")
        assert "\n" not in str(info.value)
        with pytest.raises(CheckpointError):
            load_checkpoint(path)
        assert main(["info", str(path)]) == 1
        assert "genstudio: error: " in one_error_line(capsys)
        out = tmp_path / "samples.npy"
        assert main(["sample", str(path), "--out", str(out), "--device", "cpu"]) == 1
        one_error_line(capsys)
        assert not out.exists()
    assert not marker.exists()
    assert "unpickling it would call Python code (exec)" in _message(tmp_path / "evil.pt")
    assert "raw pickle" in _message(tmp_path / "evil.pth")
    assert "is a pickle (PyTorch .pt) file, not safetensors" in _message(tmp_path / "evil_raw.safetensors")
    assert "is a pickle (PyTorch .pt) file, not safetensors" in _message(tmp_path / "evil_zip.safetensors")


def test_the_command_refuses_a_crafted_pickle_in_a_real_process(tmp_path):
    files, marker = evil_files(tmp_path)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "genstudio", "sample", str(tmp_path / "evil.pt"), "--out",
                           str(tmp_path / "s.npy")], capture_output=True, text=True, env=env, timeout=120,
                          cwd=Path(__file__).parents[2])
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "refused" in proc.stderr
    assert not marker.exists()


def _message(path: Path, **kwargs) -> str:
    with pytest.raises(CheckpointError) as info:
        load_model(path, "cpu", **kwargs)
    return str(info.value)


# ---------------------------------------------------------------------------- 2. broken files
def _random(n: int) -> bytes:
    return random.Random(n).randbytes(n)


BROKEN = {  # name -> (make(folder, real, dcgan, export_pt) -> path, words the message must contain)
    "cut in half": (lambda f, r, d, p: _bytes(f / "half.safetensors", r.read_bytes()[:r.stat().st_size // 2]),
                    "truncated"),
    "cut to 8 bytes": (lambda f, r, d, p: _bytes(f / "eight.safetensors", r.read_bytes()[:8]), "truncated"),
    "empty": (lambda f, r, d, p: _bytes(f / "empty.safetensors", b""), "empty"),
    "random bytes": (lambda f, r, d, p: _bytes(f / "noise.safetensors", _random(4096)), "not a safetensors file"),
    "random bytes .pt": (lambda f, r, d, p: _bytes(f / "noise.pt", _random(4096)), "not a PyTorch weights file"),
    ".pt cut in half": (lambda f, r, d, p: _bytes(f / "half.pt", p.read_bytes()[:p.stat().st_size // 2]),
                        "damaged or truncated"),
    "foreign safetensors": (lambda f, r, d, p: _foreign(f / "foreign.safetensors"), "not a GenStudio checkpoint"),
    "foreign .pt": (lambda f, r, d, p: _torch_save(f / "foreign.pt", {"w": torch.zeros(2)}),
                    "without GenStudio metadata"),
    "newer format": (lambda f, r, d, p: with_meta(r, f / "newer.safetensors", edit(format=FORMAT_VERSION + 1)),
                     "newer GenStudio"),
    "no format": (lambda f, r, d, p: with_meta(r, f / "nofmt.safetensors", edit(format=...)), "no valid format"),
    "metadata not JSON": (lambda f, r, d, p: with_meta(r, f / "nojson.safetensors", lambda m: "{oops"), "not JSON"),
    "metadata not an object": (lambda f, r, d, p: with_meta(r, f / "list.safetensors", lambda m: "[1, 2]"),
                               "not a JSON object"),
    "models missing": (lambda f, r, d, p: with_meta(r, f / "nomodels.safetensors", edit(models=...)),
                       "does not describe its models"),
    "unknown kind": (lambda f, r, d, p: with_meta(r, f / "kind.safetensors", edit(kind="vae")), "unknown model kind"),
    "unknown architecture": (
        lambda f, r, d, p: with_meta(r, f / "arch.safetensors", edit(**{"models.G.arch": "sd_xl"})),
        "unknown architecture 'sd_xl'"),
    "architecture of another kind": (
        lambda f, r, d, p: with_meta(r, f / "mixed.safetensors", edit(kind="diffusion")),
        "does not belong in a diffusion checkpoint"),
    "shapes of another size": (
        lambda f, r, d, p: with_meta(d, f / "size.safetensors", edit(**{"models.G.args.size": 32})),
        r"model/G/main.0.weight has shape \(8, 16, 4, 4\), but dcgan_g"),
    "text in an argument": (lambda f, r, d, p: with_meta(d, f / "text.safetensors",
                                                         edit(**{"models.G.args.size": "64; rm -rf"})),
                            "argument 'size' = '64; rm -rf' is not a number within bounds"),
    "absurd latent size": (
        lambda f, r, d, p: with_meta(r, f / "huge.safetensors", edit(**{"models.G.args.nz": 10**9})),
        r"argument 'nz' = 1000000000 is out of range \(1 to 4096\)"),
    "absurd depth": (lambda f, r, d, p: with_meta(r, f / "deep.safetensors", edit(**{"models.D.args.depth": 10**6})),
                     "out of range"),
    "negative width": (lambda f, r, d, p: with_meta(r, f / "neg.safetensors", edit(**{"models.G.args.hidden": -8})),
                       "out of range"),
    "unsupported image size": (
        lambda f, r, d, p: with_meta(d, f / "48.safetensors", edit(**{"models.D.args.size": 48})),
        "not an image size"),
    "header bigger than its weights": (
        lambda f, r, d, p: with_meta(r, f / "bigger.safetensors", edit(**{"models.G.args.hidden": 4096})),
        r"has shape \(8, 2\), but mlp_g"),
    "offsets beyond the file": (lambda f, r, d, p: _lying_offsets(r, f / "lie.safetensors"), "damaged"),
    "a 4 TB tensor in 64 bytes": (lambda f, r, d, p: _gigantic(r, f / "giant.safetensors"),
                                  "not a readable checkpoint"),
}
WEIGHTS_ONLY = {  # found when the weights are read: load_model, `sample` and `info` refuse
    "NaN weights": (lambda f, r, d, p: with_tensors(r, f / "nan.safetensors", _poison), "NaN or infinite"),
    "no generator weights": (lambda f, r, d, p: with_tensors(
        r, f / "nog.safetensors", lambda t: {k: v for k, v in t.items() if not k.startswith("model/G/")}),
        "no generator"),
}


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _foreign(path: Path) -> Path:
    save_file({"w": torch.zeros(2)}, str(path))
    return path


def _torch_save(path: Path, obj) -> Path:
    torch.save(obj, path)
    return path


def _poison(tensors):
    tensors["model/G/net.0.weight"][0, 0] = float("nan")
    return tensors


def _lying_offsets(src: Path, dst: Path) -> Path:
    """A safetensors header claiming a 4 TB tensor in a file of a few kB."""
    header, body = split_safetensors(src.read_bytes())
    header["model/G/net.0.weight"] = {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 4 * 10**12]}
    return _bytes(dst, join_safetensors(header, body))


def _gigantic(src: Path, dst: Path) -> Path:
    """A consistent header (one tensor, offsets from 0) claiming 4 TB, followed by 64 bytes."""
    header, _ = split_safetensors(src.read_bytes())
    giant = {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 4 * 10**12]}
    return _bytes(dst, join_safetensors({"__metadata__": header["__metadata__"], "model/G/net.0.weight": giant},
                                        bytes(64)))


@pytest.fixture
def make(real, dcgan, export_pt, tmp_path):
    return lambda maker: maker(tmp_path, real, dcgan, export_pt)


@pytest.mark.parametrize("case", list(BROKEN) + list(WEIGHTS_ONLY))
def test_a_broken_file_gets_one_clear_line(case, make, capsys, tmp_path):
    maker, words = {**BROKEN, **WEIGHTS_ONLY}[case]
    path = make(maker)
    message = _message(path)
    assert "\n" not in message and path.name in message
    assert re.search(words, message), message
    out = tmp_path / "samples.npy"
    assert main(["sample", str(path), "--n", "2", "--out", str(out), "--device", "cpu"]) == 1
    assert re.search(words, one_error_line(capsys))
    assert not out.exists()
    assert main(["info", str(path)]) == 1  # info makes the checks sample makes, weights included
    assert re.search(words, one_error_line(capsys))


def test_the_intact_files_load(real, dcgan, export_pt, diffusion, tmp_path):
    """Controls for the catalogue above: the unbroken originals are accepted, in both formats."""
    for path in (real, dcgan, export_pt):
        model = load_model(path, "cpu", kind="gan")
        assert model.sample(3, seed=0).shape[0] == 3
    a, b = load_model(real, "cpu"), load_model(export_pt, "cpu")
    assert torch.equal(a.sample(4, seed=2), b.sample(4, seed=2))
    ema_only = with_tensors(diffusion, tmp_path / "ema.safetensors",  # a sampling-only diffusion export
                            lambda t: {k: v.half() for k, v in t.items() if k.startswith("ema/")})
    for path in (diffusion, ema_only):
        assert load_model(path, "cpu", kind="diffusion").sample(2, seed=0).shape == (2, 2)


def test_a_checkpoint_of_the_wrong_kind_is_refused(real, tmp_path):
    diffusion = with_meta(real, tmp_path / "diffusion.safetensors", edit(
        kind="diffusion", models={"eps": {"arch": "mlp_eps", "args": {"hidden": 8}}}))
    for load in (lambda: load_checkpoint(diffusion, kind="gan"), lambda: load_model(diffusion, "cpu", kind="gan"),
                 lambda: read_header(diffusion, kind="gan")):
        with pytest.raises(CheckpointError, match="diffusion.safetensors holds a diffusion model, not a GAN model"):
            load()
    with pytest.raises(CheckpointError, match="holds a GAN model, not a diffusion model"):
        load_checkpoint(real, kind="diffusion")


@pytest.mark.parametrize("change, words", [
    (edit(**{"schedule.num_steps": 10**9}), r"no valid noise schedule \(T must be a whole number from 2 to 10000"),
    (edit(**{"schedule.kind": "sqrt"}), "unknown noise schedule 'sqrt'"),
    (edit(schedule=...), "no valid noise schedule"),
    (edit(data_kind="images", size=10**6, channels=3), "unsupported image size 1000000"),
    (edit(data_kind="images"), "does not say the size of its images"),
    (edit(**{"models.eps.args.t_dim": 65}), r"has shape \(8, 64\), but mlp_eps"),
])
def test_diffusion_header_tricks_are_refused(change, words, diffusion, tmp_path, capsys):
    path = with_meta(diffusion, tmp_path / "tricked.safetensors", change)
    assert re.search(words, _message(path))
    assert main(["info", str(path)]) == 1
    assert re.search(words, one_error_line(capsys))


def test_a_header_only_generator_export_builds_only_what_it_holds(real, tmp_path):
    """A file without D weights but a header describing a gigantic D must not build that D."""
    no_d = with_tensors(real, tmp_path / "g_only.safetensors",
                        lambda t: {k: v for k, v in t.items() if k.startswith("model/G/")})
    huge_d = with_meta(no_d, tmp_path / "g_only_huge_d.safetensors",
                       edit(**{"models.D.args.hidden": 4096, "models.D.args.depth": 4096}))
    model = load_model(huge_d, "cpu")
    assert model.D is None and model.sample(2, seed=0).shape == (2, 2)


# ---------------------------------------------------------------------------- 3. property: never anything else
JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                    max_leaves=8)
META_PATHS = ["format", "kind", "models", "models.G", "models.G.arch", "models.G.args", "models.G.args.nz",
              "models.G.args.hidden", "models.G.args.depth", "models.G.args.out_dim", "models.D", "models.D.args",
              "models.D.args.in_dim", "models.eps", "models.eps.arch", "models.eps.args.t_dim",
              "models.eps.args.hidden", "schedule", "schedule.num_steps", "schedule.kind", "size", "channels",
              "step", "data_kind", "config", "models.G.args.extra", "models.X"]
DTYPES = ["F32", "F16", "BF16", "F64", "I64", "I32", "U8", "BOOL", "C64", "F8_E4M3", "XX"]


class Damaged:
    """A file to feed the loader; its repr says how it was made (the bytes of a real one are long)."""

    def __init__(self, name: str, data: bytes, how: str):
        self.name, self.data, self.how = name, data, how

    def __repr__(self) -> str:
        return f"<{self.name}, {len(self.data)} bytes: {self.how[:400]}>"


@st.composite
def damaged(draw, sources: dict[str, bytes]) -> Damaged:
    """A random file, or a real checkpoint damaged in one of several ways."""
    how = draw(st.sampled_from(["random", "magic", "flip", "truncate", "meta", "outer"]))
    if how == "random":
        data = draw(st.binary(max_size=600))
        return Damaged(draw(st.sampled_from(["x.safetensors", "x.pt", "x.pth", "x.ckpt", "x.bin"])), data, repr(data))
    if how == "magic":  # random bytes that look like a zip, a pickle or a safetensors header
        start = draw(st.sampled_from([b"PK\x03\x04", b"\x80\x02", b"\x80\x04", struct.pack("<Q", 40) + b'{"']))
        data = start + draw(st.binary(max_size=200))
        return Damaged(draw(st.sampled_from(["x.safetensors", "x.pt"])), data, repr(data))
    name = draw(st.sampled_from(sorted(sources)))
    real = sources[name]
    if how == "flip":
        flips = draw(st.lists(st.tuples(st.integers(0, len(real) - 1), st.integers(1, 255)), min_size=1, max_size=8))
        out = bytearray(real)
        for i, x in flips:
            out[i] ^= x
        return Damaged(name, bytes(out), f"xor (position, byte) {flips}")
    if how == "truncate" or name.endswith(".pt"):
        n = draw(st.integers(0, len(real) - 1))
        return Damaged(name, real[:n], f"cut to {n} bytes")
    header, body = split_safetensors(real)
    if how == "outer":  # lie about one tensor's dtype, shape or offsets
        key = draw(st.sampled_from(sorted(k for k in header if k != "__metadata__")))
        field = draw(st.sampled_from(["dtype", "shape", "data_offsets"]))
        header[key][field] = value = (draw(st.sampled_from(DTYPES)) if field == "dtype" else
                                      draw(st.lists(st.integers(-1, 2**64 - 1) | st.integers(0, 64), max_size=4)))
        return Damaged(name, join_safetensors(header, body), f"safetensors header {key}.{field} = {value!r}")
    meta = json.loads(header["__metadata__"]["genstudio"])
    changes = []
    for _ in range(draw(st.integers(1, 3))):
        dotted = draw(st.sampled_from(META_PATHS))
        *parents, last = dotted.split(".")
        node = meta
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            if draw(st.booleans()):
                node.pop(last, None)
                changes.append(f"del {dotted}")
            else:
                node[last] = value = draw(JSON)
                changes.append(f"{dotted} = {value!r}")
    text = json.dumps(meta)
    if draw(st.booleans()):  # splice: cut, repeat or drop a piece of the JSON text
        i, j = sorted(draw(st.tuples(st.integers(0, len(text)), st.integers(0, len(text)))))
        way = draw(st.sampled_from(["drop", "repeat", "cut"]))
        text = {"drop": text[:i] + text[j:], "repeat": text[:j] + text[i:], "cut": text[:i]}[way]
        changes.append(f"{way} text[{i}:{j}]")
    header["__metadata__"]["genstudio"] = text
    return Damaged(name, join_safetensors(header, body), "; ".join(changes))


def test_the_loader_only_ever_succeeds_or_raises_checkpoint_error(real, diffusion, export_pt, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    sources = {"gan.safetensors": real.read_bytes(), "diffusion.safetensors": diffusion.read_bytes(),
               "gan.pt": export_pt.read_bytes()}

    @settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(damaged(sources))
    def check(file: Damaged):
        path = folder / file.name
        path.write_bytes(file.data)
        try:
            model = load_model(path, "cpu")
        except CheckpointError as exc:
            assert str(exc) and "\n" not in str(exc)
        else:  # usable: it samples
            assert model.sample(2, seed=0).shape[0] == 2

    check()


def test_written_files_get_ordinary_permissions_not_private_temp_ones(tmp_path):
    import os
    import stat

    from genstudio.atomic import atomic_write_bytes

    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "x.bin", b"data")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "x.bin").stat().st_mode)
    assert mode == 0o644  # readable by others, as after open(path, "w"), not the 0o600 of mkstemp
    assert [p.name for p in tmp_path.iterdir()] == ["x.bin"]  # no temporary file left behind
