"""A checkpoint checked against its networks: one check, after the header is parsed and before any
weight is used.

:func:`check_against_networks` is what every reader runs (``checkpoint.load_checkpoint`` and
``read_header``, so ``genstudio sample``, ``score``, ``info``, ``export`` and the app's loader):

* each weight's **shape** must be the one the named architecture has, and its **dtype** one the
  network can take (F16, BF16, F32 or F64 for weights, an integer for counters such as batch
  norm's ``num_batches_tracked``); the architecture is built on PyTorch's "meta" device, which
  records shapes and allocates nothing;
* the header's description of a sample must be what the networks make or take: ``data_kind``
  ("images" or "points") against the architecture, ``channels`` and ``size`` against the image
  networks' arguments (and so their first and last layers, whose shapes were just checked), a U-Net's
  depth against the image size (each level halves it), 2-D points against the point networks.

:func:`check_finite` then refuses NaN or infinite weights once they are read. Any mismatch raises
:class:`~genstudio.checkpoint.CheckpointError` with one line naming the field and both values.
"""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path
from typing import Any

import torch

# how the dtypes are called in a safetensors header (and here, for tensors read from a .pt file)
FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")
INT_DTYPES = ("I8", "I16", "I32", "I64", "U8")
_TORCH_NAMES = {torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64",
                torch.int8: "I8", torch.int16: "I16", torch.int32: "I32", torch.int64: "I64", torch.uint8: "U8",
                torch.bool: "BOOL"}
# the argument holding the sample's channels / image size / point dimension, per architecture
IMAGE_ARGS = {"dcgan_g": ("nc", "size"), "dcgan_d": ("nc", "size"), "unet": ("channels", None),
              "cond_unet": ("channels", None), "kl_vae": ("channels", None), "ldm_unet": ("channels", None),
              "srresnet": ("channels", None), "srgan_g": ("channels", None), "sr_d": ("channels", None),
              "sr_patch_d": ("channels", None),
              "stylegan_g": ("nc", "size"), "stylegan_d": ("nc", "size")}
POINT_ARGS = {"mlp_g": "out_dim", "mlp_d": "in_dim", "mlp_eps": "dim"}
POINT_DIM = 2  # every points data set (and the app's 2-D views) is two-dimensional


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float16`` → ``"F16"``, as a safetensors header names it."""
    return _TORCH_NAMES.get(dtype, str(dtype).replace("torch.", ""))


def check_against_networks(path: Path, meta: dict[str, Any], entries: dict[str, tuple[tuple[int, ...], str]]) -> None:
    """Refuse a checkpoint whose weights or header disagree with its networks (nothing is read).

    Parameters
    ----------
    path : the file (its name goes into the message).
    meta : the parsed, validated GenStudio header; a model the file holds no weights for is dropped
        from ``meta["models"]``, and a header without ``data_kind`` (or an image model's ``size`` and
        ``channels``) gets them from its networks.
    entries : ``{tensor name: (shape, dtype name)}`` of every tensor in the file.
    """
    _check_weights(path, meta, entries)
    _check_sample(path, meta)


def check_finite(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    """Refuse NaN or infinite network weights (optimiser state is not sampled and not checked)."""
    for k, v in tensors.items():
        if k.startswith(("model/", "ema/")) and v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise _error(f"{path.name}: {k} holds NaN or infinite weights")


# ---------------------------------------------------------------------------- weights
def _check_weights(path: Path, meta: dict[str, Any], entries: dict[str, tuple[tuple[int, ...], str]]) -> None:
    for role, spec in list(meta["models"].items()):
        needed: dict[str, tuple[tuple[int, ...], bool]] | None = None
        for prefix in (f"model/{role}/", f"ema/{role}/"):
            present = {k[len(prefix):]: e for k, e in entries.items() if k.startswith(prefix)}
            if not present:
                continue
            needed = needed or _needs(path, role, spec)
            for k, (shape, floating) in needed.items():  # the first problem in layer order
                if k not in present:
                    raise _error(f"{path.name}: weights for {prefix[:-1]} are missing ({k} …)")
                have, dtype = present[k]
                if have != shape:
                    raise _error(f"{path.name}: {prefix}{k} has shape {have}, but {spec['arch']} "
                                 f"{json.dumps(spec['args'], sort_keys=True)} needs {shape}")
                allowed = FLOAT_DTYPES if floating else INT_DTYPES
                if dtype not in allowed:
                    raise _error(f"{path.name}: {prefix}{k} holds {_brief(dtype)} values, but {spec['arch']} needs "
                                 f"{'floating-point' if floating else 'integer'} ones ({', '.join(allowed)})")
        if needed is None:  # a generator-only export has no D: never build what only the header vouches for
            del meta["models"][role]
    if not meta["models"]:
        raise _error(f"{path.name} holds no model weights")


def _needs(path: Path, role: str, spec: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], bool]]:
    """``{name: (shape, is floating point)}`` of a model's state, built without allocating."""
    from genstudio.models import build

    try:
        with torch.device("meta"):
            module = build(spec["arch"], spec["args"])
    except ImportError:
        raise _error(f"{path.name}: this GenStudio cannot build a {spec['arch']}") from None
    except Exception as exc:  # noqa: BLE001 - bad argument values (ValueError, TypeError, RuntimeError)
        raise _error(f"{path.name}: model {_brief(role)} cannot be built ({_short(exc)})") from None
    return {k: (tuple(v.shape), v.is_floating_point()) for k, v in module.state_dict().items()}


# ---------------------------------------------------------------------------- what a sample is
def _check_sample(path: Path, meta: dict[str, Any]) -> None:
    for role, spec in meta["models"].items():
        arch, label = spec["arch"], f"model {_brief(role)} ({spec['arch']})"
        makes = "points" if arch in POINT_ARGS else "images" if arch in IMAGE_ARGS else None
        if makes is None:
            continue
        kind = meta.setdefault("data_kind", makes)
        if kind not in ("images", "points"):
            raise _error(f"{path.name} has an unknown data_kind {_brief(kind)} (images or points)")
        if kind != makes:
            raise _error(f"{path.name}: header data_kind = {kind!r}, but {label} works on {makes}")
        if makes == "points":
            dim = _arg(spec, POINT_ARGS[arch])
            if dim != POINT_DIM:
                raise _error(f"{path.name}: {label} {POINT_ARGS[arch]} = {dim}, but points "
                             f"(data_kind 'points') are {POINT_DIM}-D")
            continue
        c_arg, s_arg = IMAGE_ARGS[arch]
        channels = _arg(spec, c_arg)
        if not _same(meta.setdefault("channels", channels), channels):
            raise _error(f"{path.name}: header channels = {_brief(meta['channels'])}, but {label} has "
                         f"{c_arg} = {channels}")
        if s_arg is not None:
            size = _arg(spec, s_arg)
            if not _same(meta.setdefault("size", size), size):
                raise _error(f"{path.name}: header size = {_brief(meta['size'])}, but {label} has {s_arg} = {size}")
        if arch in ("unet", "cond_unet", "ldm_unet"):
            _check_unet_depth(path, meta, spec, label)


def _check_unet_depth(path: Path, meta: dict[str, Any], spec: dict[str, Any], label: str) -> None:
    """Each U-Net level after the first halves the image: the size must divide down to the last one."""
    size = meta.get("size")
    levels = len(_arg(spec, "mults"))
    step = 2 ** (levels - 1)
    if not isinstance(size, int) or size % step:
        raise _error(f"{path.name}: header size = {_brief(size)}, but {label} has {levels} levels "
                     f"(mults {list(_arg(spec, 'mults'))}), which need a size divisible by {step}")


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b  # True is not the channel count 1


def _arg(spec: dict[str, Any], name: str) -> Any:
    """An architecture argument: the header's value, else the architecture's default."""
    if name in spec["args"]:
        return spec["args"][name]
    from genstudio.models import ARCHS

    module_name, cls_name = ARCHS[spec["arch"]].split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    return inspect.signature(cls).parameters[name].default


# ---------------------------------------------------------------------------- messages
def _error(message: str) -> Exception:
    from genstudio.checkpoint import CheckpointError

    return CheckpointError(message)


def _brief(value: Any) -> str:
    from genstudio.checkpoint import _brief as brief

    return brief(value)


def _short(exc: BaseException) -> str:
    from genstudio.checkpoint import _short as short

    return short(exc)
