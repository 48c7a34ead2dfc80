"""The container image without a container engine: the Dockerfile read by BuildKit's own parser
(the `dockerfile` package), the build context filtered by .dockerignore, and the image's /app
tree laid out on disk exactly as the Dockerfile's COPY instructions would lay it out."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath

import dockerfile  # type: ignore[import-not-found]  # a compiled module without stubs

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
APP_DIR = PurePosixPath("/app")


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    base: str
    commands: tuple[dockerfile.Command, ...]

    def all(self, cmd: str) -> list[dockerfile.Command]:
        return [c for c in self.commands if c.cmd == cmd.upper()]


def stages() -> list[Stage]:
    """The Dockerfile's stages in order (ARGs before the first FROM substituted into FROM)."""
    commands = dockerfile.parse_file(str(DOCKERFILE))
    args: dict[str, str] = {}
    result: list[Stage] = []
    current: list[dockerfile.Command] = []
    name = base = ""
    for command in commands:
        if command.cmd == "ARG" and not result and not name:
            key, _, default = command.value[0].partition("=")
            args[key] = default
            continue
        if command.cmd == "FROM":
            if name:
                result.append(Stage(name, base, tuple(current)))
            value = command.value
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), value[0])
            name = value[2] if len(value) == 3 and value[1].upper() == "AS" else str(len(result))
            current = []
            continue
        current.append(command)
    if name:
        result.append(Stage(name, base, tuple(current)))
    return result


@cache
def _ignore_rules() -> tuple[tuple[bool, re.Pattern[str]], ...]:
    """(exclude?, pattern) in order; the last matching rule decides (Docker's semantics)."""
    rules: list[tuple[bool, re.Pattern[str]]] = []
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        if any(ch in pattern for ch in "?[\\"):
            raise ValueError(f"unsupported .dockerignore pattern {line!r}")
        rules.append((not negated, _compile(pattern)))
    return tuple(rules)


def _compile(pattern: str) -> re.Pattern[str]:
    """Matches a path equal to `pattern` or inside a folder it names; `*` stays within a name."""
    regex = ""
    for part in re.split(r"(\*\*/|\*\*|\*)", pattern):
        if part == "**/":
            regex += r"(?:.*/)?"
        elif part == "**":
            regex += r".*"
        elif part == "*":
            regex += r"[^/]*"
        else:
            regex += re.escape(part)
    return re.compile(regex + r"(?:/.*)?")


def in_context(relative: str) -> bool:
    """Whether a repo-relative file is sent to the builder."""
    included = True
    for exclude, pattern in _ignore_rules():
        if pattern.fullmatch(relative):
            included = not exclude
    return included


def context_files(source: str) -> Iterator[Path]:
    """Files of the build context under `source` (a file or a folder of the repo)."""
    root = REPO_ROOT / source
    if root.is_file():
        if in_context(source):
            yield root
        return
    for folder, _, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if in_context(path.relative_to(REPO_ROOT).as_posix()):
                yield path


@dataclass(frozen=True, slots=True)
class Copy:
    source: str
    target: PurePosixPath
    into_folder: bool  # the destination ends with `/`: the source keeps its name inside it


def copies_into_app(stage: Stage) -> list[Copy]:
    """A stage's COPYs from the build context whose destination is under /app."""
    workdir = PurePosixPath("/")
    result: list[Copy] = []
    for command in stage.commands:
        if command.cmd == "WORKDIR":
            workdir = workdir / command.value[0]
        elif command.cmd == "COPY" and not any(f.startswith("--from") for f in command.flags):
            *sources, dest = command.value
            target = workdir / dest
            if target == APP_DIR or APP_DIR in target.parents:
                into = dest.endswith("/") or len(sources) > 1
                result.extend(Copy(source, target, into) for source in sources)
    return result


def assemble_app(root: Path) -> Path:
    """Lay out the image's /app under `root` as the build stage does; returns that folder."""
    build = next(s for s in stages() if s.name == "build")
    app = root / "app"
    for copy in copies_into_app(build):
        destination = app / copy.target.relative_to(APP_DIR)
        source_root = REPO_ROOT / copy.source
        for path in context_files(copy.source.rstrip("/")):
            if source_root.is_dir():
                out = destination / path.relative_to(source_root)
            elif copy.into_folder:
                out = destination / path.name
            else:
                out = destination
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, out)
    return app


def image_env(app: Path) -> dict[str, str]:
    """The runtime stage's environment, with /app mapped to `app` and this venv's Python."""
    runtime = stages()[-1]
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for command in runtime.all("ENV"):
        values = list(command.value)
        for key, value in zip(values[::2], values[1::2], strict=True):
            if key != "PATH":
                env[key] = value.replace(str(APP_DIR), str(app))
    return env
