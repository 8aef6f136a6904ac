"""Checkpoints as data, never code: one ``.safetensors`` file per checkpoint.

Tensors: model weights (``model/<role>/<param>``), and for resuming the optimiser state flattened
into tensors (``optim/<role>/<index>/<key>``) and RNG states (``rng/<name>``). The safetensors
header holds one metadata entry, ``genstudio``, a JSON object: format version, kind, each model's
architecture and arguments, the run config, step, seed, data set and library versions.

Files are written to a temporary file in the same folder, flushed, fsynced and renamed into
place, so a process killed at any moment leaves either the old or the new file, never half of one.
Loading validates the header (format, kind, architectures and the bounds of their arguments) and
compares the weights' shapes with those architectures before any weight is read. Files that are not
safetensors are unpickled only by PyTorch's weights-only reader, and only in its zip format; a pickle
that could run code is refused without being opened as such.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any, Iterator

import torch

from genstudio.atomic import atomic_write_bytes  # noqa: F401 (re-exported: runs.folder, sampling_cli)

from genstudio import FORMAT_VERSION, __version__
from genstudio.checkpoint_checks import check_against_networks, check_finite, dtype_name
from genstudio.checkpoint_limits import MAX_HEADER_BYTES, MAX_TENSORS, check_header_size, utf8_path, zip_entry_count
from genstudio.config import IMAGE_SIZES, SCHEDULES
# how live modules and optimisers become tensors and back (re-exported: trainers and models import them here)
from genstudio.checkpoint_state import load_module, load_optimizer, module_tensors, optimizer_tensors  # noqa: F401

META_KEY = "genstudio"


class CheckpointError(Exception):
    """A checkpoint cannot be used; the message says why in one line a person understands."""


# ---------------------------------------------------------------------------- writing
def save_checkpoint(path: str | os.PathLike, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Path:
    """Save ``tensors`` with ``meta`` (JSON-able) as one safetensors file, atomically.

    ``meta`` gets ``format``, ``genstudio`` version and library versions added.
    """
    from safetensors.torch import save

    meta = dict(meta)
    meta.setdefault("format", FORMAT_VERSION)
    meta.setdefault("versions", library_versions())
    flat = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    data = save(flat, metadata={META_KEY: json.dumps(meta, sort_keys=True)})
    atomic_write_bytes(path, data)
    return Path(path)


def library_versions() -> dict[str, str]:
    import numpy

    return {"genstudio": __version__, "torch": torch.__version__, "numpy": numpy.__version__,
            "python": platform.python_version()}


# ---------------------------------------------------------------------------- reading
TORCH_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin")
MAX_ARG = 4096  # largest integer an architecture argument may be (widths, latent sizes, depths)
CHANNELS = (1, 3)
LATENT_CHANNELS = tuple(range(1, 17))  # the sample channels of a family that samples latents (Family.latent)
MAX_TIMESTEPS = 10000  # diffusion T, as RunConfig.validate allows
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format since PyTorch 1.6
_PICKLE_MAGIC = b"\x80"  # pickle protocol 2+ (raw pickles and PyTorch's legacy format)


def read_header(path: str | os.PathLike, *, kind: str | None = None) -> dict[str, Any]:
    """The validated metadata of a checkpoint, without reading its weights (fast).

    Runs the same checks as :func:`load_checkpoint` (header and weight shapes) but reads no weight
    (except from ``.pt`` files, which have to be read whole).
    """
    return _read(path, kind, weights=False)[1]


def load_checkpoint(path: str | os.PathLike, *, kind: str | None = None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Load ``(tensors, meta)`` from a GenStudio checkpoint, checking it first.

    The header is validated (format, kind, architectures, argument bounds) and the weights' shapes
    are compared with the architectures the header names before any weight is read. Anything
    unusable raises :class:`CheckpointError`; nothing in the file is ever run as code.

    Parameters
    ----------
    path : a ``.safetensors`` file (``.pt``/``.pth`` files are read with ``weights_only=True``).
    kind : if given (a registered family's name: "gan", "diffusion", …), refuse a checkpoint of another kind.
    """
    return _read(path, kind, weights=True)


def _read(path: str | os.PathLike, kind: str | None, weights: bool) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    path = _check_file(path)
    if path.suffix.lower() in TORCH_SUFFIXES:
        tensors, meta = _load_torch_file(path, kind)
        check_against_networks(path, meta, {k: (tuple(v.shape), dtype_name(v.dtype)) for k, v in tensors.items()})
        check_finite(path, tensors)
        return tensors, meta
    with _open_safetensors(path) as fh:
        meta = _parse_meta(path, fh.metadata() or {}, kind)
        try:
            names = list(fh.keys())
            entries = {k: (tuple(fh.get_slice(k).get_shape()), str(fh.get_slice(k).get_dtype())) for k in names}
        except Exception as exc:  # noqa: BLE001 - any failure of the reader means a damaged file
            raise CheckpointError(f"{path.name} is damaged ({_short(exc)})") from None
        check_against_networks(path, meta, entries)
        if not weights:
            return {}, meta
        try:
            tensors = {k: fh.get_tensor(k) for k in names}
        except Exception as exc:  # noqa: BLE001
            raise CheckpointError(f"{path.name} is damaged or truncated ({_short(exc)})") from None
    check_finite(path, tensors)
    return tensors, meta


@contextlib.contextmanager
def _open_safetensors(path: Path) -> Iterator[Any]:
    """``safe_open`` with one-line errors; a pickle under a ``.safetensors`` name is refused unread."""
    from safetensors import safe_open

    head = _head(path)
    if head.startswith(_ZIP_MAGIC) or (head.startswith(_PICKLE_MAGIC) and not _safetensors_layout(path)):
        raise CheckpointError(f"{path.name} is a pickle (PyTorch .pt) file, not safetensors: refused, "
                              "because unpickling a file can run code")
    check_header_size(path)
    with utf8_path(path) as name:
        try:
            fh = safe_open(name, framework="pt")
        except Exception as exc:  # noqa: BLE001 - safetensors validates lengths, JSON and offsets
            raise CheckpointError(f"{path.name} is not a readable checkpoint: truncated, damaged or not a "
                                  f"safetensors file ({_short(exc)})") from None
        with fh:
            yield fh


def _load_torch_file(path: Path, kind: str | None = None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """A ``.pt`` file saved by GenStudio's export: ``{"genstudio": json, "tensors": {...}}``.

    Only PyTorch's zip format is read, with ``weights_only=True``: PyTorch's restricted unpickler,
    which refuses any object that is not a tensor or plain container, so a crafted pickle cannot
    run code. Raw pickles and the pre-1.6 format are refused without being opened.
    """
    head = _head(path)
    if not head.startswith(_ZIP_MAGIC):
        if head.startswith(_PICKLE_MAGIC):
            raise CheckpointError(f"{path.name} is a raw pickle, not a weights file: refused, because "
                                  "unpickling it could run code (GenStudio reads .safetensors, and .pt "
                                  "files saved by torch.save)")
        raise CheckpointError(f"{path.name} is damaged or not a PyTorch weights file")
    _check_zip(path)
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols; the outcome is what counts
            warnings.simplefilter("ignore")
            obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - the restricted unpickler's refusals and any damage
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if found:
            raise CheckpointError(f"{path.name} was refused: unpickling it would call Python code "
                                  f"({found.group(1)}), and GenStudio never unpickles code") from None
        raise CheckpointError(f"{path.name} is damaged or not a plain weights file ({_short(exc)})") from None
    if not isinstance(obj, dict) or META_KEY not in obj or not isinstance(obj.get("tensors"), dict):
        raise CheckpointError(f"{path.name} is a PyTorch file without GenStudio metadata; "
                              "GenStudio opens checkpoints it wrote (.safetensors)")
    meta = _parse_meta(path, {META_KEY: obj[META_KEY]}, kind)
    tensors = obj["tensors"]
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) and v.layout == torch.strided
               for k, v in tensors.items()):
        raise CheckpointError(f"{path.name} holds something other than named dense tensors")
    return tensors, meta


def _check_zip(path: Path) -> None:
    """torch.save stores records uncompressed: refuse compressed records (a zip bomb) and bad zips."""
    entries = zip_entry_count(path)
    if entries is not None and entries > MAX_TENSORS + 16:  # one record per tensor, plus a few
        raise CheckpointError(f"{path.name} holds {entries:,} records, over the limit of {MAX_TENSORS:,} "
                              "tensors: refused unread")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except Exception as exc:  # noqa: BLE001 - BadZipFile, struct errors, OSError ...
        raise CheckpointError(f"{path.name} is damaged or truncated ({_short(exc)})") from None
    size = path.stat().st_size
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED or info.file_size > size:
            raise CheckpointError(f"{path.name} has a compressed or oversized record ({info.filename[:60]}); "
                                  "torch.save never writes one")


def _safetensors_layout(path: Path) -> bool:
    """True if the file starts as safetensors does: a little-endian u64 header length that fits the
    file, then ``{``. A header whose length ends in byte 0x80 (1 file in 256) starts like a pickle."""
    with open(path, "rb") as fh:
        head = fh.read(9)
    return len(head) == 9 and head[8:9] == b"{" and 8 + int.from_bytes(head[:8], "little") <= path.stat().st_size


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(8)


def _check_file(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no such file: {path}")
    if not path.is_file():
        raise CheckpointError(f"{path} is not a file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path.name} is empty (0 bytes)")
    return path


def _parse_meta(path: Path, raw: dict[str, str], kind: str | None = None) -> dict[str, Any]:
    """The GenStudio header, validated: format, kind (== ``kind`` if given), models and their args."""
    if META_KEY not in raw:
        raise CheckpointError(f"{path.name} is not a GenStudio checkpoint (no GenStudio metadata)")
    try:
        meta = json.loads(raw[META_KEY])
    except (TypeError, ValueError, RecursionError):
        raise CheckpointError(f"{path.name} has damaged GenStudio metadata (not JSON)") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path.name} has damaged GenStudio metadata (not a JSON object)")
    fmt = meta.get("format")
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt < 1:
        raise CheckpointError(f"{path.name} has no valid format version")
    if fmt > FORMAT_VERSION:
        raise CheckpointError(f"{path.name} was written by a newer GenStudio (format {fmt}; "
                              f"this version reads up to {FORMAT_VERSION}): please update GenStudio")
    from genstudio.families import FAMILIES

    if not isinstance(meta.get("kind"), str) or meta["kind"] not in FAMILIES:
        raise CheckpointError(f"{path.name} holds an unknown model kind {_brief(meta.get('kind'))}")
    family = FAMILIES[meta["kind"]]
    if kind is not None and meta["kind"] != kind:
        wanted = FAMILIES[kind].noun if kind in FAMILIES else kind
        raise CheckpointError(f"{path.name} holds a {family.noun} model, not a {wanted} model")
    models = meta.get("models")
    if not isinstance(models, dict) or not models:
        raise CheckpointError(f"{path.name} does not describe its models (no 'models' entry)")
    from genstudio.models import ARCHS

    for role, m in models.items():
        if not isinstance(m, dict) or not isinstance(m.get("arch"), str) or m["arch"] not in ARCHS:
            arch = m.get("arch") if isinstance(m, dict) else m
            raise CheckpointError(f"{path.name}: model {_brief(role)} has an unknown architecture {_brief(arch)}")
        if m["arch"] not in family.archs:  # the family says which architectures it builds
            raise CheckpointError(f"{path.name}: model {_brief(role)} ({m['arch']}) does not belong "
                                  f"in a {family.noun} checkpoint")
        if not isinstance(m.get("args"), dict):
            raise CheckpointError(f"{path.name}: model {_brief(role)} has no architecture arguments")
        for name, value in m["args"].items():
            problem = _arg_problem(name, value, LATENT_CHANNELS if family.latent else CHANNELS)
            if problem:
                raise CheckpointError(f"{path.name}: model {_brief(role)} argument {_brief(name)} = "
                                      f"{_brief(value)} {problem}")
    for name in ("step", "seed"):  # shown and formatted as numbers ("step 4,000")
        value = meta.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
            raise CheckpointError(f"{path.name} has an invalid {name} {_brief(value)} (a whole number from 0)")
    if not isinstance(meta.get("data", ""), str) or len(meta.get("data", "")) > 300:
        raise CheckpointError(f"{path.name} has an invalid data set name {_brief(meta['data'])}")
    if meta.get("data_kind", "images") not in ("images", "points"):
        raise CheckpointError(f"{path.name} has an unknown data_kind {_brief(meta['data_kind'])} (images or points)")
    for name in ("size", "channels"):  # the sample shape of image models
        allowed = {"size": (4, 8, *IMAGE_SIZES) if family.latent else IMAGE_SIZES,  # 8 × 8 × 4 latents, say
                   "channels": LATENT_CHANNELS if family.latent else CHANNELS}[name]
        if name in meta and meta[name] not in allowed:
            raise CheckpointError(f"{path.name} has an unsupported image {name} {_brief(meta[name])}")
    family.check_header(path, meta)  # what only this family's header holds (a noise schedule, …)
    return meta


def check_schedule_header(path: Path, meta: dict[str, Any]) -> None:
    """A diffusion header's own entries: a valid noise schedule, and the image size (``Family.header``)."""
    sched = meta.get("schedule")
    steps = sched.get("num_steps") if isinstance(sched, dict) else None
    if not isinstance(steps, int) or isinstance(steps, bool) or not 2 <= steps <= MAX_TIMESTEPS:
        raise CheckpointError(f"{path.name} has no valid noise schedule (T must be a whole number "
                              f"from 2 to {MAX_TIMESTEPS}, not {_brief(steps)})")
    if sched.get("kind") not in SCHEDULES:
        raise CheckpointError(f"{path.name} has an unknown noise schedule {_brief(sched.get('kind'))}")
    if meta.get("data_kind") != "points" and not ("size" in meta and "channels" in meta):
        raise CheckpointError(f"{path.name} does not say the size of its images")


def _arg_problem(name: str, value: Any, channels: tuple[int, ...] = CHANNELS) -> str:
    """Why an architecture argument is refused ("" if it is fine).

    Arguments are plain numbers within bounds, so a header can neither smuggle in text nor make
    :func:`genstudio.models.build` allocate absurd amounts of memory.
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,39}", name):
        return "has an invalid name"
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        if name == "size" and value not in IMAGE_SIZES:
            return f"is not an image size GenStudio supports {IMAGE_SIZES}"
        if name in ("nc", "channels") and value not in channels:
            return f"is not a channel count GenStudio supports {CHANNELS}"
        return "" if 1 <= value <= MAX_ARG else f"is out of range (1 to {MAX_ARG})"
    if isinstance(value, float):  # e.g. a dropout rate
        return "" if 0.0 <= value <= 1.0 else "is out of range (a rate must lie in [0, 1])"
    if isinstance(value, list) and len(value) <= 8 and all(
            isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_ARG for v in value):
        return ""  # e.g. channel multipliers per resolution
    return "is not a number within bounds"


def _brief(value: Any) -> str:
    """``repr`` cut to one short line (header values come from untrusted files)."""
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def export_for_sampling(src: str | os.PathLike, dst: str | os.PathLike, *, half: bool = False) -> int:
    """Copy a checkpoint with only what sampling uses, optionally in float16; the new file's size in bytes.

    Kept: the weights the family samples with (``Family.sampling_weights``, the first prefix the
    file has). Left out: optimiser state, RNG streams, a GAN's discriminator (a third to half of its
    weights) and a diffusion model's raw weights (the EMA weights sample). The result loads like any
    checkpoint; it cannot be resumed (it says so in its header). Exporting an export keeps the
    name of the original run's file in the header.
    """
    from genstudio.families import get_family

    tensors, meta = load_checkpoint(src)
    prefixes = get_family(meta["kind"]).sampling_weights
    keep = next((p for p in prefixes if any(k.startswith(p) for k in tensors)), prefixes[-1])
    keep_also = get_family(meta["kind"]).carries  # e.g. the autoencoder a latent diffusion model decodes with
    out = {}
    for k, v in tensors.items():
        if k.startswith(keep) or k.startswith(keep_also):
            out[k] = v.half() if half and v.is_floating_point() else v
    earlier = meta.get("exported") or {}
    meta = {k: v for k, v in meta.items() if k != "optim"}
    roles = {k.split("/")[1] for k in out if k.startswith(keep)}  # "model/G/…", "ema/eps/…"
    meta["models"] = {role: spec for role, spec in meta["models"].items() if role in roles}
    meta["exported"] = {"from": earlier.get("from", Path(src).name), "half": half or bool(earlier.get("half")),
                        "resumable": False}
    path = save_checkpoint(dst, out, meta)
    return path.stat().st_size
