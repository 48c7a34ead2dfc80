from services.kit.migrations_env import run_env

run_env()
