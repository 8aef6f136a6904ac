"""What makes two run configs "the same run": the fields that define the model and its data.

Resuming a run keeps its model and data (``runs.start._continued`` takes them from the saved config)
and may change only its steps, learning rate, batch, device and cadence. Before resuming, the app
compares the folder's saved config with what the form describes, so a changed model kind or data
set is never silently ignored (the saved run would resume) or fatal (the checkpoint would not load).

Values that mean "the default" (``arch="auto"``, ``latent_dim=0``, ``width=0``) are resolved the way
the model builders (``gan/trainer.py``, ``diffusion/trainer.py``) resolve them, so an explicit value that
equals the default is not a difference.
"""

from __future__ import annotations

from genstudio.config import RunConfig
from genstudio.data import is_points

__all__ = ["defining_differences"]



def _label(kind: str) -> str:
    from genstudio.families import FAMILIES

    return FAMILIES[kind].label if kind in FAMILIES else kind


def _arch(c: RunConfig) -> str:
    if c.arch != "auto":
        return "mlp" if c.arch == "mlp_eps" else c.arch
    if is_points(c.data):
        return "mlp"
    return "dcgan" if c.kind == "gan" else "unet"


def _width(c: RunConfig) -> int:
    if c.width:
        return c.width
    return {("gan", "mlp"): 128, ("gan", "dcgan"): 64, ("diffusion", "mlp"): 256,
            ("diffusion", "unet"): 32}.get((c.kind, _arch(c)), 0)


def _latent_dim(c: RunConfig) -> int:
    return c.latent_dim or (2 if _arch(c) == "mlp" else 100)


def defining_differences(saved: RunConfig, wanted: RunConfig) -> list[str]:
    """How ``wanted`` differs from ``saved`` in what defines the model and its data.

    Parameters
    ----------
    saved : RunConfig
        The config a run folder holds.
    wanted : RunConfig
        What is asked for now (the run panel's form).

    Returns
    -------
    list of str
        One line per differing field, e.g. ``"model: GAN in the folder, Diffusion in the form"``;
        empty when resuming ``saved`` with ``wanted`` would train the model ``wanted`` describes.
    """
    rows: list[tuple[str, object, object]] = [
        ("model", _label(saved.kind), _label(wanted.kind)),
        ("data", saved.data, wanted.data),
    ]
    if saved.kind == wanted.kind and saved.data == wanted.data:  # the rest only compares like with like
        rows.append(("architecture", _arch(saved), _arch(wanted)))
        if not is_points(saved.data):
            rows.append(("resolution", f"{saved.size} px", f"{wanted.size} px"))
            if saved.channels and wanted.channels:  # 0 = the data's own
                rows.append(("channels", saved.channels, wanted.channels))
        rows.append(("width", _width(saved), _width(wanted)))
        if saved.kind == "gan":
            rows.append(("latent dimension", _latent_dim(saved), _latent_dim(wanted)))
        else:
            rows.append(("timesteps T", saved.timesteps, wanted.timesteps))
            rows.append(("noise schedule", saved.schedule, wanted.schedule))
    return [f"{name}: {a} in the folder, {b} in the form" for name, a, b in rows if a != b]
