"""The platform samples under tests/fixtures are verbatim copies of the shared ones."""

from __future__ import annotations

from tests.social.samples import FIXTURES, SHARED_FIXTURES


def test_the_copies_cover_and_equal_every_shared_sample() -> None:
    assert SHARED_FIXTURES.is_dir(), (
        f"{SHARED_FIXTURES} (the shared samples) must sit beside the clone"
    )
    shared = {p.name: p.read_bytes() for p in SHARED_FIXTURES.glob("*.json")}
    copies = {p.name: p.read_bytes() for p in FIXTURES.glob("*.json")}
    assert copies == shared
    assert {name.split("_")[0] for name in copies} == {"telegram", "vk", "x", "max"}
