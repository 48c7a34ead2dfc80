"""Long-lived child processes: spawned in their own session with a log file and a pid file,
stopped by pid (their stop signal, then SIGKILL to the whole process group after a grace)."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from services.stack.files import read_json, write_json_atomic

DEFAULT_GRACE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class ProcessRecord:
    """What a pid file holds. `start_ticks` (from /proc) tells a recycled pid from ours."""

    name: str
    pid: int
    start_ticks: int
    stop_signal: int
    argv: tuple[str, ...]


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks) of a process, or None when it does not exist."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def process_start_ticks(pid: int) -> int | None:
    stat = _proc_stat(pid)
    return None if stat is None else stat[1]


def is_running(pid: int, start_ticks: int) -> bool:
    """True when `pid` is alive (not a zombie) and is the process that was recorded."""
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != "Z" and stat[1] == start_ticks


def tail(path: Path, lines: int = 25) -> str:
    """The last lines of a log file, for error messages."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16384))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class ManagedProcess:
    """One server process, either our child (`popen` set) or found through its pid file."""

    def __init__(
        self,
        record: ProcessRecord,
        log_path: Path,
        pid_file: Path | None,
        popen: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self.record = record
        self.log_path = log_path
        self.pid_file = pid_file
        self._popen = popen

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def pid(self) -> int:
        return self.record.pid

    def alive(self) -> bool:
        if self._popen is not None:
            return self._popen.poll() is None
        return is_running(self.record.pid, self.record.start_ticks)

    def exit_code(self) -> int | None:
        return None if self._popen is None else self._popen.poll()

    def send_stop(self) -> None:
        """Ask the process to stop (its own stop signal; only the leader, as servers like
        Postgres signal their children themselves)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, self.record.stop_signal)

    def wait(self, deadline: float) -> bool:
        """Wait until the process has exited or the monotonic deadline passed."""
        while self.alive():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def kill(self) -> None:
        """SIGKILL the whole process group (the process is its session and group leader)."""
        if self.alive():
            _kill_group(self.pid)
        if self._popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(timeout=5)

    def forget(self, *, kill_stragglers: bool) -> None:
        """After the process is gone: remove its pid file, and with `kill_stragglers` (only
        right after we saw our own process exit, never for a stale pid) SIGKILL whatever is
        left of its process group."""
        if self.alive():
            return
        if kill_stragglers:
            _kill_group(self.pid)
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)

    def stop(self, grace: float = DEFAULT_GRACE_SECONDS) -> None:
        stop_all([self], grace)

    def describe(self) -> str:
        return f"{self.name} (pid {self.pid}, log {self.log_path})"


def stop_all(processes: Sequence[ManagedProcess], grace: float = DEFAULT_GRACE_SECONDS) -> None:
    """Stop several processes together: stop signals to all, one shared grace, then SIGKILL."""
    was_alive = [process.alive() for process in processes]
    for process, alive in zip(processes, was_alive, strict=True):
        if alive:
            process.send_stop()
    deadline = time.monotonic() + grace
    for process, alive in zip(processes, was_alive, strict=True):
        if alive and not process.wait(deadline):
            process.kill()
        process.forget(kill_stragglers=alive)


def _open_log(log_path: Path, argv: Sequence[str]) -> int:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    os.write(fd, f"\n===== {stamp} $ {shlex.join(argv)}\n".encode())
    return fd


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
    pid_dir: Path,
    stop_signal: int = signal.SIGTERM,
) -> ManagedProcess:
    """Start a server in its own session (so a terminal's Ctrl-C or the end of the launching
    script does not reach it), output appended to `log_path`, pid recorded in `pid_dir`."""
    log_fd = _open_log(log_path, argv)
    try:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    finally:
        os.close(log_fd)
    stat = _proc_stat(popen.pid)
    record = ProcessRecord(name, popen.pid, stat[1] if stat else 0, int(stop_signal), tuple(argv))
    pid_file = pid_dir / f"{name}.pid"
    write_json_atomic(pid_file, asdict(record))
    return ManagedProcess(record, log_path, pid_file, popen)


def run_to_completion(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
    timeout: float,
    cancel: threading.Event,
) -> int:
    """Run a one-shot command (e.g. migrations) in its own session, output to the log.

    Returns its exit code. Killed (and TimeoutError raised) after `timeout`, or when `cancel`
    is set (InterruptedError).
    """
    log_fd = _open_log(log_path, argv)
    try:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    finally:
        os.close(log_fd)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return popen.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            pass
        if cancel.is_set() or time.monotonic() >= deadline:
            _kill_group(popen.pid)
            popen.wait()
            if cancel.is_set():
                raise InterruptedError(f"{shlex.join(argv)} interrupted")
            raise TimeoutError(f"{shlex.join(argv)} did not finish within {timeout:.0f} s")


def read_record(pid_file: Path) -> ProcessRecord | None:
    data = read_json(pid_file)
    if not isinstance(data, dict):
        return None
    try:
        return ProcessRecord(
            name=str(data["name"]),
            pid=int(data["pid"]),
            start_ticks=int(data["start_ticks"]),
            stop_signal=int(data["stop_signal"]),
            argv=tuple(str(a) for a in data["argv"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def recorded(pid_dir: Path, logs_dir: Path) -> dict[str, ManagedProcess]:
    """The processes named by the pid files in `pid_dir` (alive or not), by name."""
    found: dict[str, ManagedProcess] = {}
    for pid_file in sorted(pid_dir.glob("*.pid")):
        record = read_record(pid_file)
        if record is None:
            pid_file.unlink(missing_ok=True)
            continue
        found[record.name] = ManagedProcess(record, logs_dir / f"{record.name}.log", pid_file)
    return found
