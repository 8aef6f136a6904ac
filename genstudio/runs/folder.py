"""The run directory: the on-disk contract between a training run and anything that watches it.

::

    RUN/
      .lock                        held by the one process writing the run (see genstudio.runs.lock)
      config.json                  the RunConfig (JSON)
      metrics.jsonl                one JSON object per logged step: step, time, metrics; append-only
      changes.jsonl                settings changed mid-run: {"step", "time", "changes", "label"} per change
      checkpoints/step_000500.safetensors … and last.safetensors
      previews/step_000500.png     image previews (points previews: step_000500.npz)
      points.npy                   a run on a drawn data set: its own copy of the drawing

``metrics.jsonl`` is appended and flushed line by line, so another process (the app, a remote
viewer over a synced folder) can follow it with :class:`MetricsFollower` without re-reading it.
"""

from __future__ import annotations

import json
import math
import os
import stat
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genstudio.checkpoint import atomic_write_bytes, save_checkpoint
from genstudio.config import RunConfig


class RunDir:
    """Paths and writers of one run directory."""

    writable = True  # False for the non-zero ranks of a multi-process run (NoWriteRunDir)

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.config_path = self.path / "config.json"
        self.metrics_path = self.path / "metrics.jsonl"
        self.changes_path = self.path / "changes.jsonl"
        self.checkpoints = self.path / "checkpoints"
        self.previews = self.path / "previews"
        self.last_checkpoint = self.checkpoints / "last.safetensors"
        self.drawing = self.path / "points.npy"  # a drawn data set's copy (genstudio.data.drawn)

    def step_checkpoint(self, step: int) -> Path:
        """The file the checkpoint of ``step`` is kept in."""
        return self.checkpoints / f"step_{step:06d}.safetensors"

    def preview_file(self, step: int, suffix: str = ".png") -> Path:
        """The file the preview of ``step`` is kept in: ``.png`` for pictures, ``.npz`` for points."""
        return self.previews / f"step_{int(step):06d}{suffix}"

    def has_run(self) -> bool:
        return self.config_path.exists() or self.last_checkpoint.exists()

    def read_config(self) -> RunConfig:
        return RunConfig.from_json(self.config_path.read_text())

    def write_config(self, config: RunConfig) -> None:
        atomic_write_bytes(self.config_path, config.to_json().encode())

    # -- settings changed mid-run --------------------------------------------------------------
    def append_change(self, step: int, changes: dict[str, Any], label: str) -> None:
        """Record that ``changes`` took effect before step ``step + 1`` (config.json holds the result)."""
        self.path.mkdir(parents=True, exist_ok=True)
        record = {"step": step, "time": round(time.time(), 3), "changes": _json_safe(changes), "label": label}
        with open(self.changes_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, allow_nan=False) + "\n")
            fh.flush()

    def read_changes(self, until: int | None = None) -> list[dict[str, Any]]:
        """The recorded changes (oldest first), those at steps ≤ ``until`` if given; [] for none."""
        if not self.changes_path.exists():
            return []
        out = []
        for line in _complete_lines(self.changes_path.read_bytes()):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("step"), int) and (until is None or record["step"] <= until):
                out.append(record)
        return out

    # -- metrics ---------------------------------------------------------------------------
    def append_metrics(self, step: int, metrics: dict[str, Any]) -> None:
        """Append one line and flush it to disk (a killed process loses at most this line)."""
        self.path.mkdir(parents=True, exist_ok=True)
        record = {"step": step, "time": round(time.time(), 3), **_json_safe(metrics)}
        with open(self.metrics_path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, allow_nan=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def truncate_metrics(self, step: int) -> None:
        """Keep only complete lines with ``step <= step`` (after a kill, before resuming)."""
        if not self.metrics_path.exists():
            return
        keep = [line for line in _complete_lines(self.metrics_path.read_bytes())
                if _line_step(line) is not None and _line_step(line) <= step]
        atomic_write_bytes(self.metrics_path, b"".join(line + b"\n" for line in keep))

    def read_metrics(self) -> list[dict[str, Any]]:
        if not self.metrics_path.exists():
            return []
        return [json.loads(line) for line in _complete_lines(self.metrics_path.read_bytes())
                if _line_step(line) is not None]

    # -- previews and checkpoints ---------------------------------------------------------------
    def write_preview(self, step: int, preview: Any) -> Path:
        self.previews.mkdir(parents=True, exist_ok=True)
        if preview.kind == "images":
            from genstudio.imaging import save_png

            path = self.preview_file(step)
            prompts = preview.extra.get("prompts") if preview.extra else None
            text = {"step": str(step), **({"prompts": " | ".join(prompts)} if prompts else {})}
            save_png(path, preview_picture(preview), text)
            return path
        path = self.preview_file(step, ".npz")
        import io

        buf = io.BytesIO()
        np.savez_compressed(buf, points=preview.data, **{k: np.asarray(v) for k, v in preview.extra.items()})
        atomic_write_bytes(path, buf.getvalue())
        return path

    def latest_preview(self) -> Path | None:
        if not self.previews.exists():
            return None
        files = sorted(p for p in self.previews.iterdir() if p.suffix in (".png", ".npz") and p.name.startswith("step_"))
        return files[-1] if files else None

    def save_checkpoint(self, step: int, tensors: dict[str, torch.Tensor], meta: dict[str, Any],
                        keep: bool = True) -> Path:
        """Write ``step_N.safetensors`` (if ``keep``) and refresh ``last.safetensors``; return last."""
        if keep:
            save_checkpoint(self.step_checkpoint(step), tensors, meta)
        return save_checkpoint(self.last_checkpoint, tensors, meta)


class NoWriteRunDir(RunDir):
    """The run directory as a non-zero rank of a multi-process run sees it: every write is skipped
    (rank 0 alone writes), and the paths are what rank 0 writes."""

    writable = False

    def write_config(self, config: RunConfig) -> None:
        pass

    def append_change(self, step: int, changes: dict[str, Any], label: str) -> None:
        pass

    def append_metrics(self, step: int, metrics: dict[str, Any]) -> None:
        pass

    def truncate_metrics(self, step: int) -> None:
        pass

    def write_preview(self, step: int, preview: Any) -> Path:
        return self.preview_file(step)

    def save_checkpoint(self, step: int, tensors: dict[str, torch.Tensor], meta: dict[str, Any],
                        keep: bool = True) -> Path:
        return self.last_checkpoint


class MetricsFollower:
    """Reads only what was appended to a ``metrics.jsonl`` since the last call.

    Keeps a byte offset and a partial-line buffer, so a line being written is picked up once it
    is complete; if the file shrinks (a resumed run truncated it) it starts over.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.offset = 0
        self._partial = b""

    def poll(self) -> tuple[list[dict[str, Any]], bool]:
        """``(new records, reset)``: ``reset`` is True if the file was rewritten from the start."""
        reset = False
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return [], False
        if size < self.offset:
            self.offset, self._partial, reset = 0, b"", True
        if size == self.offset:
            return [], reset
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read(size - self.offset)
        self.offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()  # b"" when the chunk ended with a newline
        out = []
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("step"), int):
                out.append(rec)
        return out, reset


def describe_path(path: str | os.PathLike) -> str:
    """What is at ``path``, for a message: "a folder", "a file", "a FIFO (named pipe)", …, "nothing"."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "nothing"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    for test, what in ((stat.S_ISDIR, "a folder"), (stat.S_ISREG, "a file"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return what
    return "not a file or folder"


def _complete_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    lines.pop()  # the part after the last newline is incomplete (or empty)
    return [ln for ln in lines if ln.strip()]


def _line_step(line: bytes) -> int | None:
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    step = rec.get("step") if isinstance(rec, dict) else None
    return step if isinstance(step, int) else None


def _json_safe(metrics: dict[str, Any]) -> dict[str, Any]:
    """NaN/inf are not JSON: write them as strings "nan", "inf", "-inf"."""
    def fix(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return str(v)
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v

    return {k: fix(v) for k, v in metrics.items()}


def preview_picture(preview: Any) -> np.ndarray:
    """The uint8 (H, W, 3) picture an "images" preview is saved as: its grid, or (text to image)
    one labelled row a prompt."""
    from genstudio.imaging import labelled_rows, make_grid

    prompts = preview.extra.get("prompts") if preview.extra else None
    if prompts:
        return labelled_rows(preview.data, list(prompts), int(preview.extra["columns"]))
    return make_grid(preview.data)
