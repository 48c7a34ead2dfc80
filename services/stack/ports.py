"""Free loopback ports, remembered in `ports.json` so a restart keeps its addresses when it can."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterable
from pathlib import Path

from services.stack.files import read_json, write_json_atomic

LOOPBACK = "127.0.0.1"


def _bind(port: int) -> socket.socket | None:
    """A socket bound to the port (SO_REUSEADDR, like the servers use), or None when taken.

    SO_REUSEADDR lets a port with only TIME_WAIT leftovers from a previous run count as free, so
    ports stay stable across restarts, while a port with a listener still counts as taken.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, port))
    except OSError:
        sock.close()
        return None
    return sock


def is_free(port: int) -> bool:
    sock = _bind(port)
    if sock is None:
        return False
    sock.close()
    return True


def allocate(names: Iterable[str], remembered: dict[str, int] | None = None) -> dict[str, int]:
    """One distinct free port per name, reusing the remembered one when it is still free.

    All probe sockets stay open until every name has a port, so the kernel cannot hand out the
    same port twice in one allocation. Another process can still take a port between this call
    and the server's bind: that is inherent to picking ports up front, and shows up as a
    start-up error naming the port.
    """
    remembered = remembered or {}
    held: list[socket.socket] = []
    ports: dict[str, int] = {}
    try:
        for name in names:
            sock = None
            wanted = remembered.get(name)
            if isinstance(wanted, int) and 0 < wanted < 65536 and wanted not in ports.values():
                sock = _bind(wanted)
            if sock is None:
                sock = _bind(0)
            if sock is None:  # pragma: no cover - the kernel ran out of ports
                raise OSError("no free loopback port")
            held.append(sock)
            ports[name] = sock.getsockname()[1]
    finally:
        for sock in held:
            with contextlib.suppress(OSError):
                sock.close()
    return ports


class PortBook:
    """The ports of one state folder, kept in a JSON file between runs."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def remembered(self) -> dict[str, int]:
        data = read_json(self.path)
        if not isinstance(data, dict):
            return {}
        return {str(k): v for k, v in data.items() if isinstance(v, int)}

    def allocate(self, names: Iterable[str]) -> dict[str, int]:
        previous = self.remembered()
        ports = allocate(names, previous)
        write_json_atomic(self.path, {**previous, **ports})
        return ports
