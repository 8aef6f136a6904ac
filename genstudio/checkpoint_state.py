"""A live model's and optimiser's state as flat tensors, and back: what a checkpoint's tensors are
made of (``model/<role>/<param>``, ``optim/<role>/<index>/<key>``). :mod:`genstudio.checkpoint`
writes and reads the files; this module only maps ``state_dict`` to named tensors, checking every
weight (shape, dtype, finite) before any is copied into a module."""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["module_tensors", "load_module", "optimizer_tensors", "load_optimizer"]


def module_tensors(prefix: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """``{prefix/name: tensor}`` for a module's parameters and buffers."""
    return {f"{prefix}/{k}": v for k, v in module.state_dict().items()}


def load_module(module: torch.nn.Module, prefix: str, tensors: dict[str, torch.Tensor], name: str = "") -> None:
    """Load ``prefix/*`` tensors into ``module``; CheckpointError on missing/mismatched weights."""
    from genstudio.checkpoint import CheckpointError  # (checkpoint imports this module)

    sub = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + "/")}
    own = module.state_dict()
    missing = sorted(set(own) - set(sub))
    if missing:
        raise CheckpointError(f"{name or 'checkpoint'}: weights for {prefix} are missing ({missing[0]} …)")
    for k, v in own.items():
        w = sub[k]
        if tuple(w.shape) != tuple(v.shape):
            raise CheckpointError(f"{name or 'checkpoint'}: {prefix}/{k} has shape {tuple(w.shape)}, "
                                  f"the architecture needs {tuple(v.shape)}")
        if w.dtype.is_complex or w.dtype == torch.bool or (v.is_floating_point() and not w.is_floating_point()):
            raise CheckpointError(f"{name or 'checkpoint'}: {prefix}/{k} holds {w.dtype} values, "
                                  f"the architecture needs {v.dtype}")
        if w.is_floating_point() and not bool(torch.isfinite(w).all()):
            raise CheckpointError(f"{name or 'checkpoint'}: {prefix}/{k} holds NaN or infinite weights")
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
