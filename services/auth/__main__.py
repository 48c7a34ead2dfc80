from pathlib import Path

from services.auth.server import SERVICE_NAMES, wire
from services.auth.settings import AuthSettings
from services.kit.server import service_main

service_main(
    name="auth",
    settings_type=AuthSettings,
    service_names=SERVICE_NAMES,
    wire=wire,
    migrations_dir=Path(__file__).parent / "migrations",
)
