"""The latent explorer's state: the seed, z, truncation ψ, locked dimensions, direction offsets and
the A → B walk (Qt-free; :class:`~genstudio.gui.widgets.latent_panel.LatentView` renders it).

The latent shown is ``z = ψ · (z_dims + Σ_k α_k v_k)``: ``z_dims`` starts as the seed's draw and the
person moves it (a dimension slider, the 2-D pad, a paste); ``α`` are the offsets along the principal
directions ``v_k`` (GANSpace), ψ the truncation. Every change emits ``changed(what, index)``:

==============  ==============================================================================
``"model"``      a new model (or None): rows, directions and the walk start again
``"drawn"``      z_dims, α and ψ were set as a whole (a seed's draw, Reset, Paste): re-place every row
``"dim"``        dimension ``index`` moved (a slider)
``"point"``      dimensions 0 and 1 moved together (the 2-D pad)
``"alpha"``      direction ``index`` moved
``"psi"``        ψ changed
``"locks"``      a lock was set or cleared
``"directions"`` the principal directions arrived
``"walk"``       an endpoint, the method or the number of strip frames changed
``"t"``          the walk's position t changed
==============  ==============================================================================
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from genstudio.latent import decode_z, interpolate, truncate
from genstudio.views.events import Event

__all__ = ["LatentState", "METHODS", "ENDS"]

METHODS = ("linear", "slerp")  # interpolation between A and B
ENDS = ("A", "B")


def checked_psi(psi: float) -> float:
    """Truncation ψ as a float, refused outside [0, 1] (z's truncation here, w's in the style state)."""
    psi = float(psi)
    if not 0.0 <= psi <= 1.0:
        raise ValueError(f"ψ must be in [0, 1], not {psi:g}")
    return psi


class LatentState:
    """What the latent explorer shows: one model's latent, its edits and the walk between two latents.

    ``model`` needs ``latent_dim`` and ``noise(n, seed)`` (a (n, nz) tensor or array), as
    :class:`~genstudio.gan.model.GanModel` has.
    """

    def __init__(self) -> None:
        self.changed = Event()
        self.model: Any = None
        self.seed = 0
        self.psi = 1.0
        self.dims = np.zeros(0)  # z before directions and ψ, float64 (nz,)
        self.locked = np.zeros(0, bool)  # (nz,) a locked dimension keeps its value on a new seed
        self.directions: np.ndarray | None = None  # (K, nz) unit rows, once found
        self.variances: np.ndarray | None = None  # (K,)
        self.alpha = np.zeros(0)  # offsets along the directions, in prior σ, float64 (K,)
        self.ends: dict[str, np.ndarray | None] = {"A": None, "B": None}
        self.method = "linear"
        self.frames = 8  # frames of the A → B strip
        self.t = 0.0  # the walk's position, 0 = A, 1 = B
        self._draw_cache: tuple[int, np.ndarray] | None = None

    # ------------------------------------------------------------------ model
    def set_model(self, model: Any) -> bool:
        """Explore ``model`` (None: nothing). Returns whether the latent was kept: a model with the same
        latent size keeps the seed, z, locks and the walk's ends (successive snapshots of a run)."""
        old = self.model
        keep = model is not None and old is not None and old.latent_dim == model.latent_dim
        self.model, self._draw_cache = model, None
        self.directions = self.variances = None
        self.alpha = np.zeros(0)
        self.psi = 1.0
        if not keep:
            self.ends = {"A": None, "B": None}
            nz = 0 if model is None else int(model.latent_dim)
            self.locked = np.zeros(nz, bool)
            self.dims = self.draw(self.seed) if model is not None else np.zeros(0)
        self.changed.emit("model", None)
        return keep

    def draw(self, seed: int) -> np.ndarray:
        """The model's latent for ``seed``, float64 (nz,) (the values of float32 noise)."""
        if self._draw_cache is None or self._draw_cache[0] != int(seed):
            z = np.asarray(self.model.noise(1, int(seed))[0], np.float32)
            self._draw_cache = (int(seed), z.astype(np.float64))
        return self._draw_cache[1].copy()

    # ------------------------------------------------------------------ the latent
    def current_z(self) -> np.ndarray:
        """The latent shown: ``ψ · (z_dims + Σ α_k v_k)``, float32 (nz,)."""
        z = self.dims.astype(np.float32)
        if self.directions is not None and self.alpha.size and np.any(self.alpha):
            z = (z.astype(np.float64) + self.alpha @ self.directions.astype(np.float64)).astype(np.float32)
        return truncate(z, self.psi)

    def z_edited(self) -> bool:
        """Whether z (before ψ) is no longer the seed's draw: a slider, a direction, the pad or a paste
        moved it (the seed field then reads "seed 123 *")."""
        if self.model is None:
            return False
        if np.any(self.alpha):
            return True
        return not np.array_equal(self.dims.astype(np.float32), self.draw(self.seed).astype(np.float32))

    def set_seed(self, seed: int) -> None:
        """Draw z for ``seed``; locked dimensions keep their values (the same seed again redraws)."""
        self.seed = int(seed)
        if self.model is not None:
            self.dims = np.where(self.locked, self.dims, self.draw(self.seed))
        self.changed.emit("drawn", None)

    def random(self) -> int:
        """A fresh random seed and its draw (locked dimensions stay); returns the seed."""
        self.set_seed(random.randrange(2**31 - 1))
        return self.seed

    def reset(self) -> None:
        """Back to the seed's draw in every dimension (locks too), no direction offsets, ψ = 1."""
        if self.model is None:
            return
        self.dims = self.draw(self.seed)
        self.alpha = np.zeros_like(self.alpha)
        self.psi = 1.0
        self.changed.emit("drawn", None)

    def set_z(self, z: np.ndarray) -> None:
        """Make ``z`` (nz,) the latent: no direction offsets, ψ = 1 (as a paste does)."""
        z = np.asarray(z, np.float64).ravel()
        if z.shape != self.dims.shape:
            raise ValueError(f"z has {z.size} numbers; this model's latent has {self.dims.size}")
        self.dims = z.copy()
        self.alpha = np.zeros_like(self.alpha)
        self.psi = 1.0
        self.changed.emit("drawn", None)

    def paste(self, text: str) -> None:
        """Set z from text (a JSON list, ``{"z": [...]}`` or numbers); ValueError with a message to
        show the person, z unchanged."""
        if self.model is None:
            raise ValueError("no model to paste a latent into")
        self.set_z(decode_z(text, int(self.model.latent_dim)))

    def set_dim(self, index: int, value: float) -> None:
        """Move dimension ``index`` of z_dims to ``value``."""
        self.dims[index] = float(value)
        self.changed.emit("dim", index)

    def set_point(self, x: float, y: float) -> None:
        """The 2-D pad: dimensions 0 and 1 at once."""
        self.dims[0], self.dims[1] = float(x), float(y)
        self.changed.emit("point", None)

    def set_locked(self, index: int, locked: bool = True) -> None:
        """Lock dimension ``index`` (a new seed keeps its value) or unlock it."""
        self.locked[index] = bool(locked)
        self.changed.emit("locks", index)

    def set_psi(self, psi: float) -> None:
        """Truncation ψ in [0, 1]."""
        self.psi = checked_psi(psi)
        self.changed.emit("psi", None)

    # ------------------------------------------------------------------ directions
    def set_directions(self, directions: np.ndarray, variances: np.ndarray) -> None:
        """The principal directions (K, nz) and their variances (K,); every offset starts at 0."""
        self.directions, self.variances = np.asarray(directions), np.asarray(variances)
        self.alpha = np.zeros(self.directions.shape[0])
        self.changed.emit("directions", None)

    def set_alpha(self, index: int, value: float) -> None:
        """Offset ``value`` (prior σ) along direction ``index``."""
        self.alpha[index] = float(value)
        self.changed.emit("alpha", index)

    # ------------------------------------------------------------------ the walk
    def set_endpoint(self, which: str, z: np.ndarray | None = None) -> None:
        """Set end "A" or "B" to a copy of ``z`` (default: the current latent)."""
        if which not in ENDS:
            raise ValueError(f"endpoint must be 'A' or 'B', not {which!r}")
        if self.model is None:
            return
        self.ends[which] = np.array(self.current_z() if z is None else z, np.float32).ravel()
        self.changed.emit("walk", None)

    def endpoint(self, which: str) -> np.ndarray | None:
        """A copy of end "A" or "B" (None if unset)."""
        e = self.ends[which]
        return None if e is None else e.copy()

    def set_method(self, method: str) -> None:
        """ "linear" or "slerp" (spherical: |z| stays typical of the prior along the way)."""
        if method not in METHODS:
            raise ValueError(f"interpolation must be one of {', '.join(METHODS)}, not {method!r}")
        self.method = method
        self.changed.emit("walk", None)

    def set_frames(self, n: int) -> None:
        """Frames of the A → B strip (at least 2)."""
        self.frames = max(2, int(n))
        self.changed.emit("walk", None)

    def set_t(self, t: float) -> None:
        """The walk's position: 0 = A … 1 = B."""
        self.t = min(1.0, max(0.0, float(t)))
        self.changed.emit("t", None)

    def walk_ready(self) -> bool:
        """A model and both ends: there is a walk to show."""
        return self.model is not None and all(e is not None for e in self.ends.values()) \
            and all(e.shape[0] == self.model.latent_dim for e in self.ends.values())

    def walk(self, n: int) -> np.ndarray:
        """The latents of an n-frame walk from A to B: float32 (n, nz)."""
        if not self.walk_ready():
            raise ValueError("set both A and B first")
        return interpolate(self.ends["A"], self.ends["B"], np.linspace(0.0, 1.0, n), self.method).astype(np.float32)

    def walk_at(self, t: float | None = None) -> np.ndarray:
        """The latent at ``t`` of the walk (default: the current t), float32 (1, nz); exactly A / B at the ends."""
        return interpolate(self.ends["A"], self.ends["B"], [self.t if t is None else t],
                           self.method).astype(np.float32)
