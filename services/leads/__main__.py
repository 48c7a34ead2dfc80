from pathlib import Path

from services.kit.server import service_main
from services.leads.server import SERVICE_NAMES, wire
from services.leads.settings import LeadsSettings

service_main(
    name="leads",
    settings_type=LeadsSettings,
    service_names=SERVICE_NAMES,
    wire=wire,
    migrations_dir=Path(__file__).parent / "migrations",
)
