"""One writer per run folder: an OS file lock on ``RUN/.lock`` (Qt-free).

The process that writes a run (a CLI run, the app's run, rank 0 of a torchrun job) holds an
exclusive lock on ``RUN/.lock`` from before it reads the folder until the run ends. A second writer,
fresh or ``--resume``, from the CLI or the app, is refused with one line naming the holder::

    runs/x is being written by pid 1234 on host lab-3 since 16:40:02; wait for it to finish or stop it

The lock is ``flock`` on POSIX and ``msvcrt.locking`` on Windows: the operating system owns it
and drops it when the holder's file is closed, which includes every way a process can end
(return, exception, SIGKILL, a crash, a power cut). So there is no stale lock to detect: a
``.lock`` file left behind by a dead process is just a file, the next writer locks it at once
and overwrites the holder record. Nothing guesses from pids, which would be wrong across hosts
and after pid reuse. The file holds the holder's pid, host and start time as JSON, only for the
message; it is never deleted (unlinking a lock file lets two processes lock two different files).

Limits: the lock works between processes on one machine, and across machines only on a file
system whose server honours ``flock`` (NFSv4 on Linux does). A folder synced by Dropbox and the
like has no shared lock: two machines can still write it at once. Readers (the app following a
run, ``genstudio info``) take no lock.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["LOCK_NAME", "RunLock", "RunLocked", "lock_run"]

LOCK_NAME = ".lock"
_WIN_OFFSET = 1 << 30  # Windows locks a byte range; lock one far past the JSON so it stays readable

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fh: BinaryIO) -> bool:
        fh.seek(_WIN_OFFSET)
        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fh: BinaryIO) -> None:
        fh.seek(_WIN_OFFSET)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fh: BinaryIO) -> bool:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fh: BinaryIO) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class RunLocked(Exception):
    """Another process is writing the run folder. ``holder`` is its record (pid, host, since)."""

    def __init__(self, path: Path, holder: dict[str, Any]) -> None:
        self.path, self.holder = path, holder
        super().__init__(f"{path} is being written by {describe_holder(holder)}; "
                         f"wait for it to finish or stop it")


def describe_holder(holder: dict[str, Any]) -> str:
    """``"pid 1234 on host H since 16:40:02"`` (``"another process"`` when the record is unreadable)."""
    if not isinstance(holder.get("pid"), int):
        return "another process"  # it has locked the file but not yet written its record
    text = f"pid {holder['pid']} on host {holder.get('host', '?')}"
    since = holder.get("since")
    if isinstance(since, (int, float)):
        text += " since " + time.strftime("%H:%M:%S" if time.time() - since < 86400 else "%Y-%m-%d %H:%M:%S",
                                          time.localtime(since))
    return text


class RunLock:
    """The held lock of one run folder; :meth:`release` (or the holder's exit) frees it."""

    def __init__(self, path: Path, fh: BinaryIO) -> None:
        self.path = path
        self._fh: BinaryIO | None = fh

    @property
    def held(self) -> bool:
        return self._fh is not None

    def release(self) -> None:
        """Unlock (idempotent). The file stays: see the module docstring."""
        fh, self._fh = self._fh, None
        if fh is not None:
            try:
                _unlock(fh)
            finally:
                fh.close()

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_run(run_dir: str | os.PathLike) -> RunLock:
    """Lock ``run_dir`` for writing (creating the folder), or raise :class:`RunLocked`.

    Raises
    ------
    RunLocked
        If another process (or another run in this one) holds the lock.
    OSError
        If the folder cannot be created or the lock file opened.
    """
    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # never truncate: the holder's record is in it
    fh = os.fdopen(fd, "r+b", buffering=0)
    try:
        if not _try_lock(fh):
            raise RunLocked(folder, _read_holder(path))
        record = {"pid": os.getpid(), "host": socket.gethostname(), "since": round(time.time(), 3)}
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps(record).encode())
        os.fsync(fh.fileno())
    except BaseException:
        fh.close()
        raise
    return RunLock(path, fh)


def _read_holder(path: Path) -> dict[str, Any]:
    """The holder's record; retried briefly, since a holder writes it just after taking the lock."""
    for _ in range(10):
        try:
            record = json.loads(path.read_bytes().decode("utf-8", "replace") or "null")
        except (OSError, ValueError):
            record = None
        if isinstance(record, dict) and isinstance(record.get("pid"), int):
            return record
        time.sleep(0.02)
    return {}
