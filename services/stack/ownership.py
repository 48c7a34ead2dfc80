"""Who runs the stack of a state folder: an exclusive lock plus an owner record (pid)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from services.stack.files import read_json, write_json_atomic
from services.stack.processes import is_running, process_start_ticks

LOCK_FILE = "stack.lock"
OWNER_FILE = "owner.json"


@dataclass(frozen=True, slots=True)
class Owner:
    pid: int
    start_ticks: int

    def running(self) -> bool:
        return is_running(self.pid, self.start_ticks)


class StateLock:
    """flock on <run>/stack.lock, held for as long as a stack runs from the folder."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / LOCK_FILE
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def held_elsewhere(self) -> bool:
        """True when another open file description holds the lock."""
        if self._fd is not None:
            return False
        if not self.try_acquire():
            return True
        self.release()
        return False


def write_owner(run_dir: Path) -> None:
    pid = os.getpid()
    write_json_atomic(
        run_dir / OWNER_FILE, {"pid": pid, "start_ticks": process_start_ticks(pid) or 0}
    )


def read_owner(run_dir: Path) -> Owner | None:
    data = read_json(run_dir / OWNER_FILE)
    if not isinstance(data, dict):
        return None
    try:
        return Owner(int(data["pid"]), int(data["start_ticks"]))
    except (KeyError, TypeError, ValueError):
        return None


def clear_owner(run_dir: Path) -> None:
    (run_dir / OWNER_FILE).unlink(missing_ok=True)
