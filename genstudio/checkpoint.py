"""Checkpoints as data, never code: one ``.safetensors`` file per checkpoint.

Tensors: model weights (``model/<role>/<param>``), and for resuming the optimiser state flattened
into tensors (``optim/<role>/<index>/<key>``) and RNG states (``rng/<name>``). The safetensors
header holds one metadata entry, ``genstudio``, a JSON object: format version, kind, each model's
architecture and arguments, the run config, step, seed, data set and library versions.

Files are written to a temporary file in the same folder, flushed, fsynced and renamed into
place, so a process killed at any moment leaves either the old or the new file, never half of one.
Loading validates the header (format, kind, architectures) before any weight is touched.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

import torch

from genstudio import FORMAT_VERSION, __version__

META_KEY = "genstudio"


class CheckpointError(Exception):
    """A checkpoint cannot be used; the message says why in one line a person understands."""


# ---------------------------------------------------------------------------- writing
def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file + fsync + rename (all-or-nothing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """Read and validate only the metadata of a checkpoint (fast; no weights are loaded)."""
    path = _check_file(path)
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as fh:
            raw = fh.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types for corrupt headers
        raise CheckpointError(f"{path.name} is not a readable checkpoint ({_short(exc)})") from None
    return _parse_meta(path, raw)


def load_checkpoint(path: str | os.PathLike, *, kind: str | None = None) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Load ``(tensors, meta)`` from a GenStudio checkpoint, checking it first.

    Parameters
    ----------
    path : a ``.safetensors`` file (``.pt``/``.pth`` files are read with ``weights_only=True``).
    kind : if given ("gan" or "diffusion"), refuse a checkpoint of another kind.
    """
    path = Path(path)
    if path.suffix in (".pt", ".pth", ".ckpt", ".bin"):
        tensors, meta = _load_torch_file(path)
    else:
        meta = read_header(path)
        from safetensors.torch import load_file

        try:
            tensors = load_file(str(path))
        except Exception as exc:
            raise CheckpointError(f"{path.name} is damaged or truncated ({_short(exc)})") from None
    if kind is not None and meta.get("kind") != kind:
        raise CheckpointError(f"{path.name} holds a {meta.get('kind')} model, not a {kind} model")
    return tensors, meta


def _load_torch_file(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """A ``.pt`` file saved by GenStudio's export: ``{"genstudio": json, "tensors": {...}}``.

    Read with ``weights_only=True``: PyTorch's restricted unpickler, which refuses any object
    that is not a tensor or plain container, so a crafted pickle cannot run code.
    """
    _check_file(path)
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path.name} was refused: it is not a plain weights file "
                              f"(GenStudio never unpickles code; {_short(exc)})") from None
    if not isinstance(obj, dict) or META_KEY not in obj or not isinstance(obj.get("tensors"), dict):
        raise CheckpointError(f"{path.name} is a PyTorch file without GenStudio metadata; "
                              "GenStudio opens checkpoints it wrote (.safetensors)")
    meta = _parse_meta(path, {META_KEY: obj[META_KEY]})
    tensors = obj["tensors"]
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in tensors.items()):
        raise CheckpointError(f"{path.name} holds something other than named tensors")
    return tensors, meta


def _check_file(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no such file: {path}")
    if not path.is_file():
        raise CheckpointError(f"{path} is not a file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path.name} is empty (0 bytes)")
    return path


def _parse_meta(path: Path, raw: dict[str, str]) -> dict[str, Any]:
    if META_KEY not in raw:
        raise CheckpointError(f"{path.name} is not a GenStudio checkpoint (no GenStudio metadata)")
    try:
        meta = json.loads(raw[META_KEY])
    except (TypeError, ValueError):
        raise CheckpointError(f"{path.name} has damaged GenStudio metadata") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path.name} has damaged GenStudio metadata")
    fmt = meta.get("format")
    if not isinstance(fmt, int):
        raise CheckpointError(f"{path.name} has no format version")
    if fmt > FORMAT_VERSION:
        raise CheckpointError(f"{path.name} was written by a newer GenStudio (format {fmt}; "
                              f"this version reads up to {FORMAT_VERSION}): please update GenStudio")
    if meta.get("kind") not in ("gan", "diffusion"):
        raise CheckpointError(f"{path.name} holds an unknown model kind {meta.get('kind')!r}")
    models = meta.get("models")
    if not isinstance(models, dict) or not models:
        raise CheckpointError(f"{path.name} does not describe its models")
    from genstudio.models import ARCHS

    for role, m in models.items():
        if not isinstance(m, dict) or m.get("arch") not in ARCHS or not isinstance(m.get("args"), dict):
            raise CheckpointError(f"{path.name}: model {role!r} has an unknown architecture "
                                  f"{m.get('arch') if isinstance(m, dict) else m!r}")
    return meta


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


# ---------------------------------------------------------------------------- state helpers
def module_tensors(prefix: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """``{prefix/name: tensor}`` for a module's parameters and buffers."""
    return {f"{prefix}/{k}": v for k, v in module.state_dict().items()}


def load_module(module: torch.nn.Module, prefix: str, tensors: dict[str, torch.Tensor], name: str = "") -> None:
    """Load ``prefix/*`` tensors into ``module``; CheckpointError on missing/mismatched weights."""
    sub = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + "/")}
    own = module.state_dict()
    missing = sorted(set(own) - set(sub))
    if missing:
        raise CheckpointError(f"{name or 'checkpoint'}: weights for {prefix} are missing ({missing[0]} …)")
    for k, v in own.items():
        if tuple(sub[k].shape) != tuple(v.shape):
            raise CheckpointError(f"{name or 'checkpoint'}: {prefix}/{k} has shape {tuple(sub[k].shape)}, "
                                  f"the architecture needs {tuple(v.shape)}")
    with torch.no_grad():
        for k, v in own.items():
            v.copy_(sub[k].to(dtype=v.dtype))


def optimizer_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Flatten an optimiser's state into tensors plus a JSON-able description (param groups)."""
    sd = opt.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, state in sd["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}/{idx}/{key}"] = value
            else:
                scalars.setdefault(str(idx), {})[key] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def load_optimizer(opt: torch.optim.Optimizer, prefix: str, tensors: dict[str, torch.Tensor], desc: dict[str, Any]) -> None:
    """Inverse of :func:`optimizer_tensors`."""
    state: dict[int, dict[str, Any]] = {}
    for k, v in tensors.items():
        if k.startswith(prefix + "/"):
            idx, key = k[len(prefix) + 1:].split("/", 1)
            state.setdefault(int(idx), {})[key] = v
    for idx, extra in desc.get("scalars", {}).items():
        state.setdefault(int(idx), {}).update(extra)
    opt.load_state_dict({"state": state, "param_groups": desc["param_groups"]})
