"""The platforms' sample payloads (verbatim copies, see fixtures/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "platforms"
SHARED_FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "platforms"


def sample_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sample_bytes(name))
    return data


def telegram_update(name: str, *, update_id: int | None = None) -> dict[str, Any]:
    """A sample as an Update; the photo sample is a bare Message, wrapped as INDEX.md says."""
    data = sample(name)
    if "update_id" not in data:
        data = {"update_id": 500_000_001, "message": data}
    if update_id is not None:
        data["update_id"] = update_id
    return data
