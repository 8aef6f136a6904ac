"""Training runs (Qt-free): the run loop and what it stands on.

``loop`` (:func:`~genstudio.runs.loop.train`, the generator of events; ``run_to_end``) ·
``events`` (what a run yields) · ``control`` (``RunControl``: stop / pause / save / snapshot flags) ·
``start`` (the trainer a config asks for; a new or resumed run planned in its folder) ·
``folder`` (the run folder: config, metrics log, checkpoints, previews; the metrics follower) ·
``lock`` (one writer per run folder) · ``faults`` (divergence and out-of-memory recovery, the live
settings) · ``step_losses`` (metrics since the last log, judged) · ``identity`` (which config fields
define a run) · ``distributed`` (torchrun / DDP).
"""
