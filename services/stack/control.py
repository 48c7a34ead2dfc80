"""Control a stack from outside its process: `down` and `status`, from the state folder only."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass

from services.stack.files import read_json
from services.stack.ownership import StateLock, clear_owner, read_owner
from services.stack.paths import StatePaths
from services.stack.processes import DEFAULT_GRACE_SECONDS, recorded, stop_all
from services.stack.stack import ENDPOINTS_FILE, INFRA

OWNER_EXIT_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Status:
    owner_pid: int | None
    """The `inbetwin up` (or test) process running the stack, when alive."""
    processes: dict[str, tuple[int, bool]]
    """name -> (pid, alive) for every pid file."""
    endpoints: dict[str, str]
    """What the running stack published; empty when it is not (fully) up."""

    @property
    def running(self) -> bool:
        return any(alive for _, alive in self.processes.values())


def status(paths: StatePaths) -> Status:
    owner = read_owner(paths.run)
    processes = {
        name: (process.pid, process.alive())
        for name, process in recorded(paths.run, paths.logs).items()
    }
    data = read_json(paths.run / ENDPOINTS_FILE)
    endpoints = {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return Status(
        owner_pid=owner.pid if owner is not None and owner.running() else None,
        processes=processes,
        endpoints=endpoints if processes else {},
    )


def down(paths: StatePaths, grace: float = DEFAULT_GRACE_SECONDS) -> list[str]:
    """Stop the stack of a state folder. Returns the names of the processes that were running.

    The owner process (e.g. `inbetwin up`) gets SIGTERM and stops its children itself; whatever
    is still recorded afterwards (owner killed with SIGKILL, or not responding) is stopped here
    by pid, services and Envoy first, then the infrastructure.
    """
    before = status(paths)
    owner = read_owner(paths.run)
    if owner is not None and owner.running() and owner.pid != os.getpid():
        with contextlib.suppress(ProcessLookupError):
            os.kill(owner.pid, signal.SIGTERM)
        deadline = time.monotonic() + OWNER_EXIT_TIMEOUT_SECONDS
        while owner.running() and time.monotonic() < deadline:
            time.sleep(0.05)
    leftovers = recorded(paths.run, paths.logs)
    stop_all([p for name, p in leftovers.items() if name not in INFRA], grace)
    stop_all([p for name, p in leftovers.items() if name in INFRA], grace)
    lock = StateLock(paths.run)
    if lock.try_acquire():
        clear_owner(paths.run)
        (paths.run / ENDPOINTS_FILE).unlink(missing_ok=True)
        lock.release()
    return sorted(name for name, (_, alive) in before.processes.items() if alive)
