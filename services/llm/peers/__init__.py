"""Clients of the services the reply pipeline calls. Each degrades explicitly: a peer that is
not deployed, down or not built yet (UNIMPLEMENTED) yields `None`, and the caller falls back."""
