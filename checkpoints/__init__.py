"""Bundled checkpoints, installed as ``genstudio.bundled_models`` (see genstudio/bundled.py)."""
