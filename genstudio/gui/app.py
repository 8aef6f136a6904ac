"""The app entry point: ``run_app(argv)`` builds the ``QApplication`` and the main window.

``argv`` may hold one path: a checkpoint (``.safetensors`` / ``.pt``) to open, or a run folder
to show and follow. ``genstudio`` and ``genstudio app [PATH]`` call this.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from genstudio.gui.gui_gc import collect_on_gui_thread
from genstudio.gui.main_window import MainWindow
from genstudio.gui.settings import APP_NAME, organisation

__all__ = ["run_app", "create_main_window", "make_application", "open_path", "resource_path",
           "freeze_long_lived_objects", "warm_up_and_freeze"]


def resource_path(name: str) -> Path:
    """Path of a shipped file in ``genstudio.resources`` (the repo's ``resources/`` folder)."""
    return Path(str(resources.files("genstudio.resources").joinpath(name)))


def make_application(argv: list[str] | None = None) -> QApplication:
    """The process's ``QApplication`` (created once) with GenStudio's name, icon and style.

    The app's start-up: garbage collection moves to the GUI thread here, for the whole process
    (:mod:`genstudio.gui.gui_gc`), before any window or worker thread exists.
    """
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "genstudio", *(argv or [])])
    collect_on_gui_thread()  # never in a worker thread: Qt objects in the garbage would deadlock it
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(organisation())
    app.setDesktopFileName("genstudio")
    apply_style(app)
    return app


def dark_palette() -> QPalette:
    """The colours of the dark theme, for widgets the style sheet leaves to Fusion."""
    pal = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#1e2127", QPalette.ColorRole.WindowText: "#d6d9de",
        QPalette.ColorRole.Base: "#15171b", QPalette.ColorRole.AlternateBase: "#1b1d22",
        QPalette.ColorRole.Text: "#d6d9de", QPalette.ColorRole.Button: "#2a2e36",
        QPalette.ColorRole.ButtonText: "#d6d9de", QPalette.ColorRole.Highlight: "#2f5d92",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2a2e36",
        QPalette.ColorRole.ToolTipText: "#e8eaee", QPalette.ColorRole.PlaceholderText: "#6b707a",
        QPalette.ColorRole.Link: "#4c9bf5", QPalette.ColorRole.Light: "#3a3f4a",
        QPalette.ColorRole.Midlight: "#30343d", QPalette.ColorRole.Mid: "#262a31",
        QPalette.ColorRole.Dark: "#121317", QPalette.ColorRole.Shadow: "#0b0c0e",
    }
    for role, colour in colours.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b707a"))
    return pal


def apply_style(app: QApplication) -> None:
    """Fusion style with the dark palette, the style sheet and the window icon."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    icon = resource_path("icon.png")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    app.setStyleSheet(style_sheet())


def style_sheet(qss: Path | None = None) -> str:
    """The style sheet (the shipped ``style.qss`` by default), ``url(@RESOURCES@/…)`` pointing next to it.

    Returns "" when there is no such file.
    """
    qss = resource_path("style.qss") if qss is None else Path(qss)
    if not qss.exists():
        return ""
    return qss.read_text(encoding="utf-8").replace("@RESOURCES@", qss.parent.as_posix())


def run_app(argv: list[str] | None = None) -> int:
    """Open the app; return its exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments after the program name: at most one checkpoint file or run folder.
    """
    argv = list(argv or [])
    app = make_application([a for a in argv if a.startswith("-")])
    window = create_main_window(argv)
    if os.environ.get("GENSTUDIO_EXIT_AFTER_SHOW") == "1":  # benchmarks/b8_startup.py: time to a window
        QTimer.singleShot(0, app.quit)  # after the window's first paint and the start-up work queued above
    code = app.exec()
    if _warm_up is not None:  # quit within a second of starting: let its imports finish first
        _warm_up.join(timeout=30)
    # Tear the window down while Qt is fully alive, not in the interpreter's final collection
    # (pyqtgraph warns that plots destroyed during teardown can crash).
    window.close()
    del window
    gc.collect()
    return code


def create_main_window(argv: list[str] | None = None) -> MainWindow:
    """Show a main window; the bundled models and a path in ``argv`` open once the event loop runs."""
    paths = [a for a in (argv or []) if not a.startswith("-")]
    window = MainWindow()
    window.show()
    # once the window is on screen: the bundled models, then what the command line asked for
    QTimer.singleShot(0, window, window.load_bundled)
    # after the start-up work, not competing with it for the interpreter (benchmarks/b8_startup.py)
    QTimer.singleShot(WARM_UP_AFTER_MS, window, lambda: window.isVisible() and warm_up_and_freeze())
    # a training process, its torch imported by the time Start is pressed (RunController.prepare)
    QTimer.singleShot(WARM_UP_AFTER_MS, window, lambda: window.isVisible() and window.controller.prepare())
    if paths:
        QTimer.singleShot(0, window, lambda: open_path(window, paths[0]))
    return window


def freeze_long_lived_objects() -> None:
    """Move everything alive now (modules, the window, bundled models) out of the collector's sight.

    Otherwise a full (generation 2) collection walks all of torch, Qt and pyqtgraph: 150-250 ms with
    the GIL held, a visible freeze of the window while a run trains (benchmarks/soak_app.py).
    Frozen objects are never collected, which suits what lives as long as the app.
    """
    gc.collect()
    gc.freeze()


_warm_up: threading.Thread | None = None
_freezer: _Freezer | None = None
#: How long after the window is shown the warm-up starts.
WARM_UP_AFTER_MS = 1000


class _Freezer(QObject):
    """Freezes on the GUI thread once the warm-up thread reports its imports done.

    Not in that thread: a collection there could run the destructors of Qt objects (dropped
    windows, timers) off the thread that owns them.
    """

    imported = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.frozen = threading.Event()
        self.imported.connect(self._freeze, Qt.ConnectionType.QueuedConnection)

    @Slot()
    def _freeze(self) -> None:
        freeze_long_lived_objects()
        self.frozen.set()


def warm_up_and_freeze() -> threading.Event:
    """Import what a first run would import, in a background thread; then freeze what is alive.

    Building its first optimiser makes torch import its compiler stack (torch._dynamo, sympy and
    some 800 modules; 1.5 s on the 2-core box GenStudio is tested on). Left to the first run, that
    delayed the run's start and left ~120,000 unfrozen objects for every later full collection to
    walk with the GIL held: 75-90 ms freezes of the window, a few a minute
    (benchmarks/soak_app.py). Done here, a second after the window is up, the import overlaps the
    user's first look at it, and the freeze, back on the GUI thread, takes its objects in. Call
    on the GUI thread; returns an event set once frozen (the event loop must run for that). The
    app works the same before, and a run started earlier just imports the same itself.
    """
    global _warm_up, _freezer
    _freezer = _Freezer()
    _warm_up = threading.Thread(target=_import_what_a_run_imports, args=(_freezer.imported.emit,),
                                name="genstudio-warm-up", daemon=True)
    _warm_up.start()
    return _freezer.frozen


def _import_what_a_run_imports(then: Callable[[], None]) -> None:
    try:
        import torch

        import genstudio.runs.loop  # noqa: F401  (what Start imports)

        torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    except Exception:  # only a head start: the first run imports the same and reports any error
        pass
    then()


def open_path(window: MainWindow, path: str) -> bool:
    """Open ``path`` as a run folder, a checkpoint or a diffusers model folder, as fits."""
    p = Path(path).expanduser()
    if p.is_dir():
        return window.open_run_folder(p)
    if p.is_file():
        window.loader.load(p)  # on a thread: a dialog says if it cannot be opened
        return True
    from genstudio.runs.folder import describe_path

    what = describe_path(p)  # "nothing", or a FIFO, a socket, a device: none can be opened
    text = f"{p} does not exist." if what == "nothing" else f"{p} is {what}, not a run folder or a checkpoint."
    window.show_error("Cannot open", text, "")
    return False
