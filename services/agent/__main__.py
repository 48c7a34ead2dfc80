from pathlib import Path

from services.agent.server import SERVICE_NAMES, wire
from services.agent.settings import AgentSettings
from services.kit.server import service_main

service_main(
    name="agent",
    settings_type=AgentSettings,
    service_names=SERVICE_NAMES,
    wire=wire,
    migrations_dir=Path(__file__).parent / "migrations",
)
