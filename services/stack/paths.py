"""Where things live: the repository, the venv's executables and the state folder layout."""

from __future__ import annotations

import os
import shutil
import sysconfig
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DESCRIPTOR_PATH = REPO_ROOT / "gen" / "descriptor" / "inbetwin.pb"
STATE_DIR_ENV = "INBETWIN_STATE_DIR"


def default_state_dir() -> Path:
    """`$INBETWIN_STATE_DIR`, else `<repo>/.state`."""
    configured = os.environ.get(STATE_DIR_ENV)
    return Path(configured).expanduser().resolve() if configured else REPO_ROOT / ".state"


def resolve_state_dir(state_dir: Path | str | None) -> Path:
    """An absolute state folder (children run with another working directory)."""
    return Path(state_dir).expanduser().resolve() if state_dir else default_state_dir()


def venv_executable(name: str) -> Path:
    """An executable shipped by a pip package: the running venv's bin first, then the repo's."""
    candidates = [Path(sysconfig.get_path("scripts")) / name, REPO_ROOT / ".venv" / "bin" / name]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise FileNotFoundError(f"{name} not found in {candidates[0].parent}: run `make venv`")


@dataclass(frozen=True, slots=True)
class StatePaths:
    """The layout of one state folder. Everything a stack writes lives under `root` (Postgres's
    data dir may be redirected elsewhere when running as root, see `postgres.py`)."""

    root: Path

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        """Pid files, the owner record, the lock and the published endpoints."""
        return self.root / "run"

    @property
    def ports_file(self) -> Path:
        return self.root / "ports.json"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.json"

    @property
    def postgres(self) -> Path:
        return self.root / "postgres"

    @property
    def redis(self) -> Path:
        return self.root / "redis"

    @property
    def nats(self) -> Path:
        return self.root / "nats"

    @property
    def envoy(self) -> Path:
        return self.root / "envoy"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def create(self) -> None:
        for folder in (self.root, self.logs, self.run, self.redis, self.nats, self.envoy):
            folder.mkdir(parents=True, exist_ok=True)
