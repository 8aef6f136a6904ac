"""The core (every module outside genstudio/gui/, the view state in genstudio/views/ included) imports,
trains, samples and holds a view's state with PySide6 and pyqtgraph unimportable."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6"):
                raise ImportError(f"{name} is blocked for this test")
    sys.meta_path.insert(0, Block())
    import torch
    torch.set_num_threads(1)
    import importlib, pathlib
    import genstudio
    root = pathlib.Path(genstudio.__file__).parent
    core = sorted(".".join(("genstudio",) + p.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
                  for p in root.rglob("*.py") if "gui" not in p.relative_to(root).parts)
    assert len(core) > 40 and "genstudio.cli" in core and "genstudio.models.unet" in core, core
    for name in core:  # every module outside genstudio/gui/, not a hand-picked list
        importlib.import_module(name)
    from genstudio.config import RunConfig
    from genstudio.loading import load_model
    from genstudio.runs.loop import run_to_end
    fin = run_to_end(RunConfig(kind="gan", data="ring8", steps=6, batch=16, log_every=2,
                               preview_every=3, checkpoint_every=3, num_points=200), sys.argv[1])
    assert fin.reason == "done", fin
    model = load_model(sys.argv[1] + "/checkpoints/last.safetensors", "cpu")
    pts = model.sample(5, seed=1)
    assert pts.shape == (5, 2)
    from genstudio.views.latent import LatentState  # the view state works without Qt too
    from genstudio.views.run_form import RunForm
    latent = LatentState()
    latent.set_model(model)
    latent.set_seed(3)
    assert latent.current_z().shape == (model.latent_dim,)
    form = RunForm(sys.argv[1] + "/new runs")
    form.set("lr", "fast")
    assert not form.valid and "lr" in form.errors
    assert not any(m.split(".")[0] in ("PySide6", "pyqtgraph") for m in sys.modules)
    print("QT-FREE OK")
''')


def test_core_trains_and_samples_without_qt(tmp_path):
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "run")], capture_output=True,
                         text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "QT-FREE OK" in out.stdout
