from pathlib import Path

from services.kit.server import service_main
from services.llm.server import SERVICE_NAMES, wire
from services.llm.settings import LlmSettings

service_main(
    name="llm",
    settings_type=LlmSettings,
    service_names=SERVICE_NAMES,
    wire=wire,
    migrations_dir=Path(__file__).parent / "migrations",
)
