"""Local stand-ins for external APIs, speaking their real wire formats."""
