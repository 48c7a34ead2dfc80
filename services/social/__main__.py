"""`python -m services.social [serve|migrate]`."""

from __future__ import annotations

from pathlib import Path

from services.kit.server import service_main
from services.social.server import SERVICE_NAME, wire
from services.social.settings import SocialSettings


def main() -> None:
    service_main(
        name="social",
        settings_type=SocialSettings,
        service_names=[SERVICE_NAME],
        wire=wire,
        migrations_dir=Path(__file__).parent / "migrations",
    )


if __name__ == "__main__":
    main()
