"""What makes two run configs "the same run": the fields that define the model and its data.

Resuming a run keeps its model and data (``runs.start._continued`` takes them from the saved config)
and may change only its steps, learning rate, batch, device and cadence. Before resuming, the app
compares the folder's saved config with what the form describes, so a changed model kind or data
set is never silently ignored (the saved run would resume) or fatal (the checkpoint would not load).

Beyond kind, data, size and channels, what defines a run is its family's to say
(``Family.defining``: the GAN's architecture, width and latent size; diffusion's architecture, width, T
and schedule), with values that mean "the default" (``arch="auto"``, ``latent_dim=0``, ``width=0``)
resolved the way the family's model builder resolves them, so an explicit value that equals the
default is not a difference.
"""

from __future__ import annotations

from genstudio.config import RunConfig
from genstudio.data import is_points

__all__ = ["defining_differences"]


def _family(kind: str):
    from genstudio.families import FAMILIES

    return FAMILIES.get(kind)


def _label(kind: str) -> str:
    family = _family(kind)
    return family.label if family is not None else kind


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
        if not is_points(saved.data):
            rows.append(("resolution", f"{saved.size} px", f"{wanted.size} px"))
            if saved.channels and wanted.channels:  # 0 = the data's own
                rows.append(("channels", saved.channels, wanted.channels))
        family = _family(saved.kind)  # the rest is the family's (architecture, width, latent size, T, …)
        if family is not None:
            rows += [(name, a, b) for (name, a), (_, b) in zip(family.defining_values(saved),
                                                               family.defining_values(wanted))]
    return [f"{name}: {a} in the folder, {b} in the form" for name, a, b in rows if a != b]
