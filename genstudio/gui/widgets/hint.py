"""A one-line "try this" hint above a view, with an optional action button and a close button.

Closing it is remembered (per hint key) in :class:`~genstudio.gui.settings.AppSettings`, so a
hint someone dismissed never comes back. The texts follow what each tab shows
(:func:`monitor_hint`, :func:`latent_hint`, :func:`scrubber_hint`): a diffusion run is not
described as a GAN, nor a ring of points as a face.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QToolButton, QVBoxLayout, QWidget,
)

from genstudio.families import FAMILIES
from genstudio.gui.settings import AppSettings

__all__ = ["HintBar", "with_hint", "monitor_hint", "latent_hint", "scrubber_hint", "RING8_BUTTON"]

RING8_BUTTON = "Train a GAN on ring8"  # the Monitor hint's one-click first run


class HintBar(QFrame):
    """The hint ``text`` (rich text allowed); ``action`` adds a button that runs ``on_action``."""

    def __init__(self, key: str, text: str, settings: AppSettings, *, action: str = "",
                 on_action: Callable[[], object] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("HintBar")
        self.key, self._settings = key, settings
        self.label = QLabel()
        self.set_text(text)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 4, 4)
        layout.addWidget(self.label, 1)
        self.button: QPushButton | None = None
        if action and on_action is not None:
            self.button = QPushButton(action)
            self.button.clicked.connect(on_action)
            layout.addWidget(self.button)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Hide this hint for good")
        close.setAutoRaise(True)
        close.clicked.connect(self.dismiss)
        layout.addWidget(close)
        self.setVisible(not settings.hint_dismissed(key))

    def set_text(self, text: str) -> None:
        """Show ``text`` after "Try this:" (rich text allowed)."""
        full = f"<b>Try this:</b> {text}"
        if self.label.text() != full:
            self.label.setText(full)

    def text(self) -> str:
        """The hint's text as set (with its "Try this:" prefix, as rich text)."""
        return self.label.text()

    def dismiss(self) -> None:
        """Hide the hint and remember that it was closed."""
        self.hide()
        self._settings.set_hint_dismissed(self.key)


def with_hint(view: QWidget, hint: HintBar) -> QWidget:
    """``view`` with ``hint`` above it; in a window narrower than the view needs, it scrolls."""
    scroll = QScrollArea()
    scroll.setWidget(view)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(hint)
    layout.addWidget(scroll, 1)
    return box


def _thing(data: str | None) -> str:
    """What one item of ``data`` is called: "face", "digit", "shape", or "picture"."""
    return {"faces": "face", "digits": "digit", "shapes": "shape"}.get(data or "", "picture")


def monitor_hint(kind: str | None, points: bool, data: str | None) -> str:
    """The Monitor's hint for a run of ``kind`` on ``data`` (None: no run shown yet): the family's own
    (``Family.monitor_hints``), or the ring8 GAN's to start with."""
    family = FAMILIES.get(kind or "")
    if family is None:  # no run yet: the first-run invitation, ring8's GAN
        family, points = FAMILIES["gan"], True
    text = family.monitor_hints[1 if points else 0]
    if not text:  # a family without hints of its own
        return f"watch the loss curves settle and the samples improve as the {family.label} model trains."
    # ring8 (or nothing yet: the first-run invitation) is the one-minute demo; other 2-D data is named
    points_name = "eight Gaussians in under a minute" if data in (None, "ring8") else f"the {data} points"
    return text.format(thing=_thing(data), data=data, points=points_name)


def latent_hint(points: bool, data: str | None) -> str:
    """The Latent tab's hint for a GAN on ``data`` (``points``: a 2-D GAN on the latent pad)."""
    if points:
        return ("drag the point on the latent pad and watch where G(z) lands among the data; the warped "
                "grid shows how the generator folds the plane. Set A and B to walk between two points.")
    thing = _thing(data)
    return (f"drag a slider and the {thing} follows; the <i>Directions</i> tab holds the principal "
            f"directions that change the picture most; set A and B to walk between two {thing}s.")


def scrubber_hint(points: bool, data: str | None, text: bool = False) -> str:
    """The Scrubber's hint for a diffusion model on ``data`` (``points``: 2-D data; ``text``: a
    text-to-image model, which samples a prompt)."""
    if text:
        return (f"on the <i>Reverse</i> tab type a prompt (the completions list the words the model knows) "
                f"and press Sample; scrub back to watch the {_thing(data)} form, with where the prompt pushes "
                "and each word's attention; <i>Branch here</i> with another prompt mid-way, or compare "
                "scales on <i>Guidance sweep</i>.")
    if points:
        return ("drag the timestep slider to dissolve the points into noise; on the <i>Reverse</i> tab "
                "press Sample and scrub back as they gather, ε̂ drawn as arrows.")
    return (f"drag the timestep slider to dissolve a {_thing(data)} into noise; on the <i>Reverse</i> tab "
            "press Sample and scrub back through the denoising, x̂₀ and ε̂ side by side.")
