"""Readiness: poll a check until it passes, failing fast when the process died."""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from services.stack.processes import ManagedProcess, tail


class StartupError(RuntimeError):
    """A component did not become ready; the message names it and quotes its log."""


def wait_until(
    check: Callable[[], bool],
    *,
    what: str | Callable[[], str],
    timeout: float,
    cancel: threading.Event,
    process: ManagedProcess | None = None,
    interval: float = 0.05,
) -> None:
    """Call `check` until it returns True. A StartupError from `check` is final; any other
    exception counts as "not yet". `what` may be a callable, evaluated for the error message."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except StartupError:
            raise
        except Exception:  # noqa: S110 - not ready yet
            pass
        label = what if isinstance(what, str) else what()
        if process is not None and not process.alive():
            raise StartupError(
                f"{label}: {process.name} exited with code {process.exit_code()}; "
                f"last lines of {process.log_path}:\n{tail(process.log_path)}"
            )
        if time.monotonic() >= deadline:
            log = (
                f"; last lines of {process.log_path}:\n{tail(process.log_path)}" if process else ""
            )
            raise StartupError(f"{label}: not ready after {timeout:.0f} s{log}")
        if cancel.wait(interval):
            raise InterruptedError(f"{label}: start-up interrupted")


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True when a GET answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback URL
            return int(response.status) == 200
    except (OSError, urllib.error.URLError):
        return False


def tcp_request(host: str, port: int, payload: bytes, timeout: float = 1.0) -> bytes:
    """Send `payload` on a fresh TCP connection and return the first bytes of the answer."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(payload)
        return sock.recv(256)


def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
