"""GenStudio: train and explore GANs and diffusion models live, on your own machine.

The package is split in two: a Qt-free core (data, models, schedules, samplers, training runs,
checkpoints, CLI) and ``genstudio.gui``, the only subpackage that imports PySide6 or pyqtgraph.
"""

__version__ = "0.1.0"
FORMAT_VERSION = 1  # version of the checkpoint / run-directory format this build writes
