"""Every overlay under k8s/overlays, rendered once per session by `kubectl kustomize`; the
image's /app tree, laid out once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.k8s.image import assemble_app
from tests.k8s.manifests import Rendered
from tools import k8s_validate


@pytest.fixture(scope="session")
def overlays() -> dict[str, Rendered]:
    paths = k8s_validate.overlays()
    assert {p.name for p in paths} >= {"dev", "prod"}
    return {p.name: Rendered(p.name, k8s_validate.render(p)) for p in paths}


@pytest.fixture(scope="session")
def dev(overlays: dict[str, Rendered]) -> Rendered:
    return overlays["dev"]


@pytest.fixture(scope="session")
def prod(overlays: dict[str, Rendered]) -> Rendered:
    return overlays["prod"]


@pytest.fixture(scope="session")
def image_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's /app, laid out from the build context by the Dockerfile's COPYs."""
    return assemble_app(tmp_path_factory.mktemp("image"))
