"""The README's picture of the collapse alarm and a mid-run settings change (drives the real app).

::

    xvfb-run -a -s "-screen 0 1600x1000x24" python docs/screenshot_collapse.py     # docs/monitor_collapse.png

A plain GAN on ring8 (the recipe, seed 0) trains in the window; at step 300 the Monitor's live row
lowers G's learning rate to 2e-4 and switches on R1 (γ 1); at step 900 the window is grabbed: the
change marked on both loss plots, and the alarm over the points (modes covered, share per mode).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import DOCS, WINDOW_SIZE, settle, wait_until  # noqa: E402

from genstudio.gui.app import make_application, style_sheet  # noqa: E402
from genstudio.gui.main_window import MainWindow  # noqa: E402
from genstudio.gui.settings import AppSettings  # noqa: E402


def main() -> int:
    app = make_application()
    app.setStyleSheet(style_sheet(DOCS.parent / "resources" / "style.qss"))
    with tempfile.TemporaryDirectory(prefix="genstudio-collapse-") as tmp:
        work = Path(tmp)
        window = MainWindow(AppSettings(QSettings(str(work / "s.ini"), QSettings.Format.IniFormat)))
        window.confirm_close = lambda: True
        window.resize(*WINDOW_SIZE)
        window.show()
        settle()
        try:
            window.panel.set_fields({"kind": "gan", "data": "ring8", "seed": 0, "steps": 5000, "preview_every": 100,
                                     "edited": []})
            window.panel.folder.setText(str(work / "ring8"))
            window.act_start.trigger()
            live = window.monitor.live
            wait_until(lambda: live.isEnabled() and window.run_status.step_value() >= 300, 900, "step 300")
            live.lr_g.setText("2e-4")
            live.r1.setValue(1.0)
            live.apply_button.click()
            wait_until(lambda: window.run_status.step_value() >= 900 and window.monitor.preview_step() == 900,
                       1800, "step 900")
            window.controller.pause()
            settle(1.0)
            path = DOCS / "monitor_collapse.png"
            window.grab().save(str(path))
            print(path, window.monitor.collapse.text())
        finally:
            window.close()
            window.deleteLater()
            settle(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
