from pathlib import Path

from services.kit.server import service_main
from services.rag.server import SERVICE_NAMES, wire
from services.rag.settings import RagSettings

service_main(
    name="rag",
    settings_type=RagSettings,
    service_names=SERVICE_NAMES,
    wire=wire,
    migrations_dir=Path(__file__).parent / "migrations",
)
